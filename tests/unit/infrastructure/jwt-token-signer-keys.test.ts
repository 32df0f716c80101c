import { type KeyObject, createHmac, createSign, generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import type { AccessClaims } from '../../../src/application/ports/token-signer.js';
import { JwtTokenSigner } from '../../../src/infrastructure/security/jwt-token-signer.js';
import {
  type JwtAlgorithm,
  KeyRing,
  type SigningKey,
  hmacSigningKey,
  jwkThumbprint,
} from '../../../src/infrastructure/security/key-ring.js';

const ISSUER = 'jwt-login';
const NOW = 1_800_000_000;
const MS = NOW * 1000;

const claims: AccessClaims = {
  tokenId: 'jti-1',
  sessionId: '00000000-0000-4000-8000-000000000001',
  userId: 7,
  roles: ['user'],
  issuedAt: NOW,
  expiresAt: NOW + 900,
  refreshableUntil: NOW + 86400,
};
const wire = {
  iat: NOW,
  exp: NOW + 900,
  jti: 'jti-1',
  sid: claims.sessionId,
  id: 7,
  rls: 'user',
  rf_exp: NOW + 86400,
  sub: '7',
  typ: 'access',
  iss: ISSUER,
};

function pairOf(algorithm: Exclude<JwtAlgorithm, 'HS256'>): { privateKey: KeyObject; publicKey: KeyObject } {
  return algorithm === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
}

function keyOf(
  algorithm: Exclude<JwtAlgorithm, 'HS256'>,
  times: { activatesAt?: number; retiresAt?: number | null } = {},
): SigningKey {
  const { privateKey, publicKey } = pairOf(algorithm);
  return {
    kid: jwkThumbprint(publicKey),
    algorithm,
    privateKey,
    publicKey,
    createdAt: times.activatesAt ?? 0,
    activatesAt: times.activatesAt ?? 0,
    retiresAt: times.retiresAt ?? null,
  };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token with exactly `header`, signed by `sign` over its signing input. */
function rawToken(header: Record<string, unknown>, sign: (input: string) => string): string {
  const input = `${b64(header)}.${b64(wire)}`;
  return `${input}.${sign(input)}`;
}

const es256 = (key: KeyObject) => (input: string) =>
  createSign('sha256').update(input).sign({ key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
const rs256 = (key: KeyObject) => (input: string) => createSign('sha256').update(input).sign(key).toString('base64url');
const hs256 = (secret: string | Buffer) => (input: string) =>
  createHmac('sha256', secret).update(input).digest('base64url');

for (const algorithm of ['ES256', 'RS256'] as const) {
  describe(`JwtTokenSigner with ${algorithm} keys`, () => {
    const key = keyOf(algorithm);
    const signer = new JwtTokenSigner({ keys: new KeyRing([key]), issuer: ISSUER });
    const signWith = algorithm === 'ES256' ? es256 : rs256;

    const expectRefused = (token: string, reason?: RegExp) => {
      const result = signer.verify(token, NOW);
      expect(result.status, JSON.stringify(result)).to.equal('invalid');
      if (reason && result.status === 'invalid') expect(result.reason).to.match(reason);
    };

    it(`signs with ${algorithm} and the key's kid, and verifies its own token`, () => {
      const token = signer.sign(claims);
      const { header } = jwt.decode(token, { complete: true })!;
      expect(header).to.deep.equal({ alg: algorithm, typ: 'JWT', kid: key.kid });
      expect(signer.verify(token, NOW)).to.deep.equal({ status: 'valid', claims });
    });

    it('accepts a token signed elsewhere with the same key, header and claims (sanity check of the forger)', () => {
      expect(signer.verify(rawToken({ alg: algorithm, kid: key.kid }, signWith(key.privateKey)), NOW).status).to.equal(
        'valid',
      );
    });

    it('refuses HS256 signed with the public key (PEM, DER or JWK text) as the HMAC secret', () => {
      const pem = key.publicKey.export({ format: 'pem', type: 'spki' }).toString();
      const der = key.publicKey.export({ format: 'der', type: 'spki' });
      const jwk = JSON.stringify(key.publicKey.export({ format: 'jwk' }));
      for (const secret of [pem, der, jwk]) {
        expectRefused(rawToken({ alg: 'HS256', kid: key.kid }, hs256(secret)), /alg "HS256" is not the algorithm/);
      }
    });

    it('refuses alg none, with or without the kid', () => {
      expectRefused(
        rawToken({ alg: 'none', kid: key.kid }, () => 'c2ln'),
        /alg "none"/,
      );
      expectRefused(`${b64({ alg: 'none', kid: key.kid })}.${b64(wire)}.`);
      expectRefused(`${b64({ alg: 'none' })}.${b64(wire)}.x`);
    });

    it('refuses a token without kid, or with a kid it does not hold, even if well signed by that foreign key', () => {
      expectRefused(rawToken({ alg: algorithm }, signWith(key.privateKey)), /no kid/);
      const foreign = keyOf(algorithm);
      expectRefused(rawToken({ alg: algorithm, kid: foreign.kid }, signWith(foreign.privateKey)), /unknown/);
      expectRefused(rawToken({ alg: algorithm, kid: 7 }, signWith(key.privateKey)));
    });

    it('refuses a token naming our kid but signed by another key', () => {
      const foreign = keyOf(algorithm);
      expectRefused(rawToken({ alg: algorithm, kid: key.kid }, signWith(foreign.privateKey)), /invalid signature/);
    });

    for (const name of ['jwk', 'jku', 'x5u', 'x5c']) {
      it(`refuses a ${name} header, even beside our kid and a good signature`, () => {
        const foreign = keyOf(algorithm);
        const value =
          name === 'jwk'
            ? foreign.publicKey.export({ format: 'jwk' })
            : name === 'x5c'
              ? ['MIIB']
              : 'https://attacker.example/keys';
        expectRefused(rawToken({ alg: algorithm, kid: key.kid, [name]: value }, signWith(key.privateKey)), /header/);
        expectRefused(rawToken({ alg: algorithm, [name]: value }, signWith(foreign.privateKey)));
      });
    }

    it('refuses the other asymmetric algorithm under our kid', () => {
      const other = keyOf(algorithm === 'ES256' ? 'RS256' : 'ES256');
      const otherSign = algorithm === 'ES256' ? rs256 : es256;
      expectRefused(rawToken({ alg: other.algorithm, kid: key.kid }, otherSign(other.privateKey)), /not the algorithm/);
    });
  });
}

describe('KeyRing: which key signs and which verify, by time', () => {
  const old = keyOf('ES256', { activatesAt: 0, retiresAt: MS + 2_000_000 });
  const next = keyOf('ES256', { activatesAt: MS + 600_000 });
  const ring = new KeyRing([old, next]);
  const signer = new JwtTokenSigner({ keys: ring, issuer: ISSUER });
  const kidOf = (token: string) => jwt.decode(token, { complete: true })!.header.kid;

  it('signs with the old key until the new one activates, then with the new one', () => {
    expect(kidOf(signer.sign(claims))).to.equal(old.kid);
    expect(kidOf(signer.sign({ ...claims, issuedAt: NOW + 599 }))).to.equal(old.kid);
    expect(kidOf(signer.sign({ ...claims, issuedAt: NOW + 600, expiresAt: NOW + 1500 }))).to.equal(next.kid);
  });

  it('publishes both keys, the new one before it signs; a retired key is neither published nor trusted', () => {
    expect(ring.jwks(NOW).keys.map((jwk) => jwk.kid)).to.deep.equal([old.kid, next.kid]);
    const token = signer.sign(claims);
    expect(signer.verify(token, NOW + 1999).status).to.equal('expired');
    expect(ring.jwks(NOW + 2000).keys.map((jwk) => jwk.kid)).to.deep.equal([next.kid]);
    const result = signer.verify(token, NOW + 2000);
    expect(result).to.deep.equal({ status: 'invalid', reason: 'unknown or retired kid' });
  });

  it('publishes public members only, with kid, alg and use', () => {
    const [jwk] = ring.jwks(NOW).keys;
    expect(Object.keys(jwk!).sort()).to.deep.equal(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(jwk).to.include({ kid: old.kid, alg: 'ES256', use: 'sig', kty: 'EC', crv: 'P-256' });
    const rsa = new KeyRing([keyOf('RS256')]).jwks(NOW).keys[0]!;
    expect(Object.keys(rsa).sort()).to.deep.equal(['alg', 'e', 'kid', 'kty', 'n', 'use']);
  });

  it('publishes nothing for an HS256 secret', () => {
    expect(new KeyRing([hmacSigningKey('s'.repeat(32))], true).jwks(NOW)).to.deep.equal({ keys: [] });
  });

  it('tells its listeners when its keys are replaced', () => {
    const heard: number[] = [];
    const watched = new KeyRing([old]);
    watched.onReplace(() => heard.push(watched.all().length));
    watched.replace([old, next]);
    expect(heard).to.deep.equal([2]);
  });
});

describe('JwtTokenSigner with the HS256 key of JWT_SECRET', () => {
  const secret = 'hs-secret-that-is-at-least-32-bytes-long';
  const signer = new JwtTokenSigner({ secret, issuer: ISSUER });

  it('writes a kid that is stable for the secret and differs between secrets', () => {
    const kid = jwt.decode(signer.sign(claims), { complete: true })!.header.kid;
    expect(kid)
      .to.equal(hmacSigningKey(secret).kid)
      .and.match(/^hs-[\w-]{16}$/);
    expect(hmacSigningKey(`${secret}!`).kid).to.not.equal(kid);
  });

  it('still accepts a token without kid (issued before tokens had one), but not one with a foreign kid', () => {
    const plain = jwt.sign(wire, secret, { algorithm: 'HS256' });
    expect(signer.verify(plain, NOW).status).to.equal('valid');
    const foreign = jwt.sign(wire, secret, { algorithm: 'HS256', keyid: 'someone-else' });
    expect(signer.verify(foreign, NOW)).to.deep.equal({ status: 'invalid', reason: 'unknown or retired kid' });
  });
});
