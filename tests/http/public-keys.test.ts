import { createHmac, createPublicKey, createSign, createVerify, generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { type TestApp, startTestApp } from '../support/test-app.js';
import { base64urlJson, bearer, decodeJwt, expectError, registerUser } from './helpers.js';

export const KEY_ENCRYPTION_SECRET = 'http-test-key-encryption-secret-32-bytes+';

const INVALID = /not a valid access token/;

describe('public-key tokens over HTTP', function () {
  this.timeout(60_000);

  for (const algorithm of ['ES256', 'RS256'] as const) {
    describe(`JWT_ALGORITHM=${algorithm}`, () => {
      let app: TestApp;
      before(async () => {
        app = await startTestApp({
          env: { JWT_ALGORITHM: algorithm, KEY_ENCRYPTION_SECRET, JWKS_MAX_AGE: '5m', KEY_PUBLISH_DELAY: '10m' },
        });
      });
      after(() => app.close());

      it(`issues ${algorithm} tokens with a kid that the JWKS publishes, with alg and use`, async () => {
        const { token } = await registerUser(app);
        const { header } = decodeJwt(token);
        expect(header.alg).to.equal(algorithm);
        const response = await app.request('/.well-known/jwks.json');
        expect(response.status).to.equal(200);
        expect(response.headers.get('cache-control')).to.equal('public, max-age=300');
        expect(response.headers.get('content-type')).to.match(/^application\/jwk-set\+json/);
        const jwks = (await response.json()) as { keys: Record<string, string>[] };
        expect(jwks.keys).to.have.length(1);
        const [jwk] = jwks.keys;
        expect(jwk).to.include({
          kid: header.kid,
          alg: algorithm,
          use: 'sig',
          kty: algorithm === 'ES256' ? 'EC' : 'RSA',
        });
        expect(jwk).to.not.have.any.keys('d', 'p', 'q', 'dp', 'dq', 'qi');
        // The published key verifies the token: a verifier needs nothing else.
        const publicKey = createPublicKey({ key: jwk!, format: 'jwk' });
        const [head, body, signature] = token.split('.');
        const ok = createVerify('sha256')
          .update(`${head}.${body}`)
          .verify({ key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature!, 'base64url'));
        expect(ok).to.equal(true);
        const underApi = await app.request('/api/.well-known/jwks.json');
        expect(await underApi.json()).to.deep.equal(jwks);
        expect((await app.request('/api/protected', { headers: bearer(token) })).status).to.equal(200);
      });

      it('serves RFC 8414 metadata with the issuer, jwks_uri and introspection endpoint', async () => {
        const response = await app.request('/.well-known/oauth-authorization-server');
        expect(response.status).to.equal(200);
        const metadata = (await response.json()) as Record<string, unknown>;
        expect(metadata).to.include({
          issuer: 'jwt-login',
          jwks_uri: `${app.baseUrl}/.well-known/jwks.json`,
          introspection_endpoint: `${app.baseUrl}/api/introspect`,
        });
      });

      describe('algorithm confusion: every forged token is a 401', () => {
        let token: string;
        let kid: string;
        let jwk: Record<string, string>;
        before(async () => {
          token = (await registerUser(app)).token;
          kid = decodeJwt(token).header.kid as string;
          jwk = ((await (await app.request('/.well-known/jwks.json')).json()) as { keys: Record<string, string>[] })
            .keys[0]!;
        });

        const payloadOf = () => token.split('.')[1]!;
        const refused = async (forged: string) => {
          const response = await app.request('/api/protected', { headers: bearer(forged) });
          await expectError(response, 401, 'InvalidTokenHeader', INVALID);
          expect(response.headers.get('www-authenticate')).to.contain('error="invalid_token"');
        };
        const hmac = (header: Record<string, unknown>, secret: string | Buffer) => {
          const input = `${base64urlJson(header)}.${payloadOf()}`;
          return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
        };

        it('HS256 signed with the published public key as the secret (PEM and JWK text), with and without kid', async () => {
          const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
          const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
          for (const secret of [pem, JSON.stringify(jwk)]) {
            await refused(hmac({ alg: 'HS256', typ: 'JWT', kid }, secret));
            await refused(hmac({ alg: 'HS256', typ: 'JWT' }, secret));
          }
        });

        it('alg none', async () => {
          await refused(`${base64urlJson({ alg: 'none', typ: 'JWT', kid })}.${payloadOf()}.c2ln`);
          await refused(`${base64urlJson({ alg: 'none', typ: 'JWT' })}.${payloadOf()}.`);
        });

        it('a foreign kid, and a token well signed by a foreign key that it embeds (jwk) or points to (jku, x5u)', async () => {
          const foreign =
            algorithm === 'ES256'
              ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
              : generateKeyPairSync('rsa', { modulusLength: 2048 });
          const signed = (header: Record<string, unknown>) => {
            const input = `${base64urlJson(header)}.${payloadOf()}`;
            const signature = createSign('sha256')
              .update(input)
              .sign({ key: foreign.privateKey, dsaEncoding: 'ieee-p1363' })
              .toString('base64url');
            return `${input}.${signature}`;
          };
          const foreignJwk = foreign.publicKey.export({ format: 'jwk' });
          await refused(signed({ alg: algorithm, typ: 'JWT', kid: 'foreign' }));
          await refused(signed({ alg: algorithm, typ: 'JWT', jwk: foreignJwk }));
          await refused(signed({ alg: algorithm, typ: 'JWT', kid, jwk: foreignJwk }));
          await refused(signed({ alg: algorithm, typ: 'JWT', jku: 'https://attacker.example/jwks.json' }));
          await refused(signed({ alg: algorithm, typ: 'JWT', kid, jku: 'https://attacker.example/jwks.json' }));
          await refused(signed({ alg: algorithm, typ: 'JWT', x5u: 'https://attacker.example/cert.pem' }));
          await refused(signed({ alg: algorithm, typ: 'JWT', kid, x5u: 'https://attacker.example/cert.pem' }));
        });

        it('our own token with a jwk, jku or x5u header added (the signature no longer matches anyway)', async () => {
          const [, body, signature] = token.split('.');
          for (const extra of [{ jwk }, { jku: 'https://attacker.example/k' }, { x5u: 'https://attacker.example/c' }]) {
            await refused(`${base64urlJson({ alg: algorithm, typ: 'JWT', kid, ...extra })}.${body}.${signature}`);
          }
        });
      });
    });
  }

  describe('JWT_ALGORITHM=HS256 (the default)', () => {
    let app: TestApp;
    before(async () => {
      app = await startTestApp();
    });
    after(() => app.close());

    it('issues HS256 tokens with a kid, and publishes an empty key set', async () => {
      const { token } = await registerUser(app);
      expect(decodeJwt(token).header).to.include({ alg: 'HS256' });
      expect(decodeJwt(token).header.kid).to.be.a('string');
      const response = await app.request('/.well-known/jwks.json');
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({ keys: [] });
    });
  });
});
