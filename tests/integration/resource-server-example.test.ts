import { createHmac, createPublicKey } from 'node:crypto';
import { expect } from 'chai';
import { startResourceServer } from '../../examples/resource-server/server.js';
import { RotateSigningKey } from '../../src/application/use-cases/rotate-signing-key.js';
import { resolve } from '../../src/composition-root.js';
import { FixedClock } from '../fakes/fixed-clock.js';
import { type TestApp, startTestApp } from '../support/test-app.js';
import { base64urlJson, bearer, decodeJwt, registerAccount } from '../http/helpers.js';

const CLIENT = { id: 'resource', secret: 'resource-introspection-secret' };
const PUBLISH_DELAY_SECONDS = 120;
const ACCESS_SECONDS = 900;

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('examples/resource-server against jwt-login in ES256 mode (issue 10, point 6)', function () {
  this.timeout(60_000);
  let app: TestApp;
  let example: { url: string; stop: () => Promise<void> };
  const clock = new FixedClock(Date.now());

  before(async () => {
    app = await startTestApp({
      clock,
      env: {
        JWT_ALGORITHM: 'ES256',
        KEY_ENCRYPTION_SECRET: 'example-test-key-encryption-secret-32b+',
        INTROSPECTION_CLIENTS: `${CLIENT.id}:${CLIENT.secret}`,
        KEY_PUBLISH_DELAY: `${PUBLISH_DELAY_SECONDS}s`,
        JWKS_MAX_AGE: '60s',
        JWT_ACCESS_LIFESPAN: `${ACCESS_SECONDS}s`,
      },
    });
    // No cooldown between key-set fetches: the test moves jwt-login's clock by minutes in real milliseconds.
    example = await startResourceServer({
      jwtLoginUrl: app.baseUrl,
      introspectionClient: CLIENT,
      now: () => clock.now(),
      jwksCooldownMs: 0,
    });
  });
  after(async () => {
    await example?.stop();
    await app?.close();
  });

  const get = (route: 'offline' | 'introspected', token: string) =>
    fetch(`${example.url}/${route}`, { headers: bearer(token) });
  const statuses = async (token: string) => [
    (await get('offline', token)).status,
    (await get('introspected', token)).status,
  ];
  const kids = async () =>
    ((await (await app.request('/.well-known/jwks.json')).json()) as { keys: { kid: string }[] }).keys.map(
      (k) => k.kid,
    );

  let oldToken: string;
  let newToken: string;

  it('accepts a fresh token on both routes', async () => {
    oldToken = (await registerAccount(app, 'res')).access;
    expect(decodeJwt(oldToken).header.alg).to.equal('ES256');
    const offline = await get('offline', oldToken);
    expect(offline.status).to.equal(200);
    expect(await offline.json()).to.deep.equal({ checked: 'offline', sub: decodeJwt(oldToken).payload.sub });
    const introspected = await get('introspected', oldToken);
    expect(introspected.status).to.equal(200);
    expect(await introspected.json()).to.include({ checked: 'introspection' });
  });

  it('after a key rotation, accepts tokens of the old key and of the new one on both routes', async () => {
    const rotated = await resolve(app.service.container, RotateSigningKey).execute();
    expect(rotated.ok).to.equal(true);
    await until(async () => (await kids()).length === 2, 'jwt-login publishes the new key');
    clock.advanceSeconds(PUBLISH_DELAY_SECONDS + 1);
    newToken = (await registerAccount(app, 'res')).access;
    expect(decodeJwt(newToken).header.kid).to.not.equal(decodeJwt(oldToken).header.kid);
    expect(await statuses(oldToken)).to.deep.equal([200, 200]);
    expect(await statuses(newToken)).to.deep.equal([200, 200]);
  });

  it('after logout, the introspecting route refuses at once; the offline route only at expiry', async () => {
    expect((await app.request('/api/logout', { method: 'POST', headers: bearer(newToken) })).status).to.equal(204);
    expect(await statuses(newToken)).to.deep.equal([200, 401]);
    clock.set((decodeJwt(newToken).payload.exp as number) * 1000);
    expect(await statuses(newToken)).to.deep.equal([401, 401]);
  });

  it('refuses a token signed with HS256 using the public key as the secret, on both routes', async () => {
    const live = (await registerAccount(app, 'res')).access;
    expect(await statuses(live)).to.deep.equal([200, 200]);
    const { header, payload } = decodeJwt(live);
    const jwks = (await (await app.request('/.well-known/jwks.json')).json()) as { keys: Record<string, string>[] };
    const jwk = jwks.keys.find((key) => key.kid === header.kid)!;
    const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'pem', type: 'spki' }).toString();
    for (const secret of [pem, JSON.stringify(jwk)]) {
      const input = `${base64urlJson({ alg: 'HS256', typ: 'JWT', kid: header.kid })}.${base64urlJson(payload)}`;
      const forged = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      expect(await statuses(forged)).to.deep.equal([401, 401]);
    }
  });
});
