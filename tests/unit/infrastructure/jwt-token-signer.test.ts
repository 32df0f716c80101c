import { createHmac, generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import type { AccessClaims, TokenVerification } from '../../../src/application/ports/token-signer.js';
import { JwtTokenSigner } from '../../../src/infrastructure/security/jwt-token-signer.js';

const SECRET = 'jwt-signer-test-secret-of-32+-bytes!!';
const ISSUER = 'jwt-login';
const NOW = 1_800_000_000;

const signer = new JwtTokenSigner({ secret: SECRET, issuer: ISSUER });

const claims: AccessClaims = {
  tokenId: 'jti-1',
  sessionId: '00000000-0000-4000-8000-000000000001',
  userId: 7,
  roles: ['user', 'admin'],
  issuedAt: NOW,
  expiresAt: NOW + 900,
  refreshableUntil: NOW + 86400,
};

/** `claims` in flask-praetorian's wire names: roles comma-joined as `rls`, the refresh deadline as `rf_exp`. */
const wire = {
  iat: NOW,
  exp: NOW + 900,
  jti: 'jti-1',
  sid: '00000000-0000-4000-8000-000000000001',
  id: 7,
  rls: 'user,admin',
  rf_exp: NOW + 86400,
};

/** Everything our signer puts in a token, for forging tokens that differ in one way. */
const payload = (changes: Record<string, unknown> = {}): Record<string, unknown> => {
  const full: Record<string, unknown> = { ...wire, sub: String(wire.id), typ: 'access', iss: ISSUER, ...changes };
  for (const [key, value] of Object.entries(full)) if (value === undefined) delete full[key];
  return full;
};

/** A token signed by jsonwebtoken itself (our key and algorithm unless told), with exactly `body` as claims. */
const forge = (body: Record<string, unknown>, options: jwt.SignOptions = {}, key: jwt.Secret = SECRET): string =>
  jwt.sign(body, key, { algorithm: 'HS256', ...('iat' in body ? {} : { noTimestamp: true }), ...options });

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A correctly HS256-signed token with claims jsonwebtoken would refuse to sign (wrong types). */
const rawSign = (body: Record<string, unknown>): string => {
  const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(body)}`;
  return `${unsigned}.${createHmac('sha256', SECRET).update(unsigned).digest('base64url')}`;
};

/** Verifies and checks the signer did not throw. */
function verify(token: string, now = NOW): TokenVerification {
  let result: TokenVerification | undefined;
  expect(() => {
    result = signer.verify(token, now);
  }, 'verify never throws').to.not.throw();
  return result!;
}

function expectInvalid(token: string, now = NOW): string {
  const result = verify(token, now);
  expect(result.status, JSON.stringify(result)).to.equal('invalid');
  return result.status === 'invalid' ? result.reason : '';
}

describe('JwtTokenSigner', () => {
  describe('round trip', () => {
    it('verifies its own token as valid with exactly the claims it signed', () => {
      const token = signer.sign(claims);
      expect(verify(token)).to.deep.equal({ status: 'valid', claims });
    });

    it('writes HS256, sub, iss and typ=access into the token', () => {
      const decoded = jwt.decode(signer.sign(claims), { complete: true });
      expect(decoded?.header.alg).to.equal('HS256');
      expect(decoded?.payload).to.deep.equal(payload());
    });

    it('accepts a token made by jsonwebtoken with our key and all the claims (sanity check of the forgers)', () => {
      expect(verify(forge(payload()))).to.deep.equal({ status: 'valid', claims });
      expect(verify(rawSign(payload()))).to.deep.equal({ status: 'valid', claims });
    });

    it('accepts a token whose nbf has passed', () => {
      expect(verify(forge(payload({ nbf: NOW - 60 }))).status).to.equal('valid');
    });
  });

  describe("flask-praetorian's wire format", () => {
    it('names the claims jti, sid, id, rls, rf_exp, iat and exp, with the roles comma-joined in rls', () => {
      const written = jwt.decode(signer.sign(claims)) as Record<string, unknown>;
      expect(written).to.deep.include({
        jti: 'jti-1',
        sid: '00000000-0000-4000-8000-000000000001',
        id: 7,
        rls: 'user,admin',
        rf_exp: NOW + 86400,
        iat: NOW,
        exp: NOW + 900,
      });
      expect(written).to.not.have.any.keys(
        'tokenId',
        'sessionId',
        'userId',
        'roles',
        'issuedAt',
        'expiresAt',
        'refreshableUntil',
      );
    });

    it('writes no roles as an empty rls and reads it back as no roles', () => {
      const token = signer.sign({ ...claims, roles: [] });
      expect((jwt.decode(token) as Record<string, unknown>).rls).to.equal('');
      expect(verify(token)).to.deep.equal({ status: 'valid', claims: { ...claims, roles: [] } });
    });

    it('reads rls as praetorian stored it: padding and empty entries dropped', () => {
      const result = verify(forge(payload({ rls: ' user , ,admin,' })));
      expect(result).to.deep.equal({ status: 'valid', claims });
    });
  });

  describe('expiry', () => {
    it('classifies a token past its exp as expired, with its claims', () => {
      const token = signer.sign(claims);
      expect(verify(token, claims.expiresAt + 1)).to.deep.equal({ status: 'expired', claims });
    });

    it('treats exp == now as expired and exp == now + 1 as valid', () => {
      const token = signer.sign(claims);
      expect(verify(token, claims.expiresAt).status).to.equal('expired');
      expect(verify(token, claims.expiresAt - 1).status).to.equal('valid');
    });
  });

  describe('attacks and malformed tokens: all invalid, never a throw', () => {
    it('refuses alg "none", with an empty or a junk signature', () => {
      const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload())}`;
      expectInvalid(`${unsigned}.`);
      expectInvalid(`${unsigned}.${b64('junk')}`);
      expectInvalid(`${b64({ alg: 'None', typ: 'JWT' })}.${b64(payload())}.`);
    });

    it('refuses HS512 and HS384 signed with the same key', () => {
      expectInvalid(forge(payload(), { algorithm: 'HS512' }));
      expectInvalid(forge(payload(), { algorithm: 'HS384' }));
    });

    it('refuses RS256, and HS256 signed with the RSA public key (key confusion)', () => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      expectInvalid(forge(payload(), { algorithm: 'RS256' }, privateKey));
      const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      expectInvalid(forge(payload(), {}, pem));
    });

    it('refuses a token signed with another key', () => {
      expectInvalid(forge(payload(), {}, 'another-secret-that-is-also-32-bytes!'));
    });

    it('refuses a tampered payload under the original signature', () => {
      const [header, , signature] = signer.sign(claims).split('.');
      expectInvalid(`${header}.${b64(payload({ id: 1, sub: '1', rls: 'admin' }))}.${signature}`);
      expectInvalid(`${header}.${b64(payload({ exp: NOW + 10 * 365 * 86400 }))}.${signature}`);
    });

    it('refuses a tampered header under the original signature', () => {
      const [, body, signature] = signer.sign(claims).split('.');
      expectInvalid(`${b64({ alg: 'HS256', typ: 'JWT', kid: '../../etc/passwd' })}.${body}.${signature}`);
    });

    it('refuses a stripped signature', () => {
      const [header, body] = signer.sign(claims).split('.');
      expectInvalid(`${header}.${body}.`);
      expectInvalid(`${header}.${body}`);
    });

    for (const claim of ['exp', 'iat', 'jti', 'id', 'sid', 'rf_exp', 'rls', 'sub', 'typ']) {
      it(`refuses a well-signed token without ${claim}`, () => {
        expect(expectInvalid(forge(payload({ [claim]: undefined })))).to.include(claim);
      });
    }

    it('refuses claims of the wrong shape', () => {
      for (const changes of [
        { id: '7', sub: '7' },
        { id: -7, sub: '-7' },
        { id: 7.5, sub: '7.5' },
        { exp: NOW + 900.5 },
        { iat: 'yesterday' },
        { jti: '' },
        { rls: 'x'.repeat(5000) },
      ]) {
        expectInvalid(rawSign(payload(changes)));
      }
    });

    it('refuses a typ other than access', () => {
      for (const typ of ['refresh', 'ACCESS', 'id', '']) expectInvalid(forge(payload({ typ })));
    });

    it('refuses another issuer and a missing issuer', () => {
      expectInvalid(forge(payload({ iss: 'https://evil.example.com' })));
      expectInvalid(forge(payload({ iss: undefined })));
    });

    it('refuses a token whose nbf is in the future', () => {
      expectInvalid(forge(payload({ nbf: NOW + 60 })));
    });

    it('refuses 2 and 4 segments', () => {
      const [header, body, signature] = signer.sign(claims).split('.');
      expectInvalid(`${header}.${body}`);
      expectInvalid(`${header}.${body}.${signature}.${signature}`);
      expectInvalid(`${header}.${body}.${signature}.`);
    });

    it('refuses bad base64 and non-JSON segments', () => {
      const [header, body, signature] = signer.sign(claims).split('.');
      expectInvalid(`${header}!.${body}.${signature}`);
      expectInvalid(`${header}.${body}==.${signature}`);
      expectInvalid(`${header}.${b64('not json')}.${signature}`);
      expectInvalid(`${b64('not json')}.${body}.${signature}`);
      expectInvalid('abc.def.ghi');
      expectInvalid(`${header}.${b64('[1,2,3]')}.${signature}`);
    });

    it('refuses empty, blank and padded input', () => {
      const token = signer.sign(claims);
      for (const input of ['', ' ', '..', `Bearer ${token}`, ` ${token}`, `${token}\n`]) expectInvalid(input);
    });

    it('refuses a 16 KB token even when it is well signed', () => {
      const huge = forge(payload({ pad: 'x'.repeat(16 * 1024) }));
      expect(huge.length).to.be.greaterThan(16 * 1024);
      expectInvalid(huge);
    });

    it('refuses a sub that does not match id', () => {
      expect(expectInvalid(forge(payload({ sub: '8' })))).to.equal('sub does not match id');
    });

    it('refuses an expired forgery as invalid, not as expired', () => {
      const forged = forge(payload({ exp: NOW - 10 }), {}, 'another-secret-that-is-also-32-bytes!');
      expectInvalid(forged);
    });
  });
});
