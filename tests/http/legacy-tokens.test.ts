import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { sql } from 'slonik';
import { TEST_SECRET, type TestApp, startTestApp } from '../support/test-app.js';
import { mintedBy, praetorianToken } from '../support/pyjwt.js';
import {
  bearer,
  decodeJwt,
  expectError,
  expectNo5xx,
  expectTokens,
  nowSeconds,
  registerUser,
  setActive,
  untilHeard,
} from './helpers.js';

const BLACKLISTED = 'Token has a blacklisted jti';
const INVALID_USER = 'The user is not valid or has had access revoked';
const EARLY = 'access permission for token has not expired. may not refresh';
const EXPIRED_REFRESH = 'refresh permission for token has expired';
const LEGACY = { LEGACY_TOKENS: 'praetorian' };

/** Issue 13, point 3: users logged in on the Flask service stay logged in across the cutover. */
describe('HTTP: flask-praetorian access tokens (LEGACY_TOKENS=praetorian)', () => {
  let app: TestApp;
  /** A second instance on the same database, to see that a blacklisting holds everywhere. */
  let other: TestApp;

  before(async () => {
    if (mintedBy() !== 'PyJWT') {
      console.log('    PyJWT (Debian python3-jwt) is missing: the praetorian tokens are minted by jsonwebtoken');
    }
    app = await startTestApp({ env: LEGACY });
    other = await startTestApp({ env: LEGACY, database: app.database, clock: app.clock });
  });

  after(async () => {
    await other?.close();
    await app?.close();
  });

  /** A token of the Flask service for `user`, issued now by the app's clock, with praetorian's claims. */
  const flaskToken = (user: { id: number }, claims: Record<string, unknown> = {}) =>
    praetorianToken(TEST_SECRET, nowSeconds(app), { id: user.id, ...claims });
  const protectedWith = (target: TestApp, token: string) =>
    target.request('/api/protected', { headers: bearer(token) });

  it('mints tokens with exactly praetorian claims: iat, exp, jti, id, rls, rf_exp', async () => {
    const user = await registerUser(app);
    const token = flaskToken(user);
    expect(decodeJwt(token).header).to.deep.equal({ alg: 'HS256', typ: 'JWT' });
    expect(Object.keys(decodeJwt(token).payload).sort()).to.deep.equal(['exp', 'iat', 'id', 'jti', 'rf_exp', 'rls']);
  });

  it('opens guarded routes until exp, and not from exp on', async () => {
    const user = await registerUser(app);
    const token = flaskToken(user);
    const response = await protectedWith(app, token);
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ message: `protected endpoint (allowed usr ${user.username})` });
    app.clock.advanceSeconds(15 * 60);
    await expectError(await protectedWith(app, token), 401, 'ExpiredAccessError');
  });

  it('looks the user up: a deactivated or unknown user is refused', async () => {
    const user = await registerUser(app);
    const token = flaskToken(user);
    await setActive(app, user.username, false);
    await expectError(await protectedWith(app, token), 403, 'InvalidUserError', INVALID_USER);
    await expectError(await protectedWith(app, flaskToken({ id: 999_999 })), 403, 'InvalidUserError', INVALID_USER);
  });

  it('logout blacklists the jti, on this instance at once and on every other once it hears', async () => {
    const user = await registerUser(app);
    const token = flaskToken(user);
    const { jti } = decodeJwt(token).payload as { jti: string };
    expect((await protectedWith(other, token)).status, 'the other instance remembers it as good').to.equal(200);
    await untilHeard(other, `j:${jti}`, async () => {
      const logout = await app.request('/api/logout', { method: 'POST', headers: bearer(token) });
      expect(logout.status).to.equal(204);
    });
    await expectError(await protectedWith(app, token), 403, 'BlacklistedError', BLACKLISTED);
    await expectError(await protectedWith(other, token), 403, 'BlacklistedError', BLACKLISTED);
    // Refreshing it later is refused too: the entry lasts until its rf_exp.
    app.clock.advanceSeconds(15 * 60 + 1);
    await expectError(await app.post('/api/refresh', { access_token: token }), 403, 'BlacklistedError', BLACKLISTED);
  });

  it('refreshes an expired praetorian token, sent as the raw body, into a jwt-login token of a new session', async () => {
    const user = await registerUser(app);
    const token = flaskToken(user);
    const old = decodeJwt(token).payload as { jti: string; rf_exp: number };
    await expectError(
      await app.post('/api/refresh', token, { 'Content-Type': 'text/plain' }),
      425,
      'EarlyRefreshError',
      EARLY,
    );
    app.clock.advanceSeconds(15 * 60 + 1);
    const body = await expectTokens(await app.post('/api/refresh', token, { 'Content-Type': 'text/plain' }), 200);
    const fresh = decodeJwt(body.access_token).payload;
    expect(fresh).to.include({ typ: 'access', iss: 'jwt-login', id: user.id, jti: old.jti, rf_exp: old.rf_exp });
    expect(fresh.sid).to.be.a('string').and.not.equal('');
    expect((await protectedWith(app, body.access_token)).status).to.equal(200);

    // The same old token again (a client retrying) lands in the same session...
    const again = await expectTokens(await app.post('/api/refresh', { access_token: token }), 200);
    expect(decodeJwt(again.access_token).payload.sid).to.equal(fresh.sid);
    // ...so logging out of it ends the old token's refreshes as well.
    await untilHeard(app, `s:${String(fresh.sid)}`, async () => {
      expect(
        (await app.request('/api/logout', { method: 'POST', headers: bearer(body.access_token) })).status,
      ).to.equal(204);
    });
    await expectError(await protectedWith(app, again.access_token), 403, 'BlacklistedError', BLACKLISTED);
    await expectError(await app.post('/api/refresh', { access_token: token }), 403, 'BlacklistedError', BLACKLISTED);
  });

  it('refuses to refresh after rf_exp, and for a deactivated user', async () => {
    const user = await registerUser(app);
    const late = flaskToken(user, { rf_exp: nowSeconds(app) + 20 * 60 });
    const token = flaskToken(user);
    app.clock.advanceSeconds(20 * 60);
    await expectError(
      await app.post('/api/refresh', { access_token: late }),
      401,
      'ExpiredRefreshError',
      EXPIRED_REFRESH,
    );
    await setActive(app, user.username, false);
    await expectError(await app.post('/api/refresh', { access_token: token }), 403, 'InvalidUserError', INVALID_USER);
  });

  it('refuses a token with jwt-login claims, another secret, another algorithm or a changed payload', async () => {
    const user = await registerUser(app);
    const now = nowSeconds(app);
    const claims = { iat: now, exp: now + 900, rf_exp: now + 86400, jti: 'j-forged', id: user.id, rls: 'user' };
    const forged = [
      praetorianToken(TEST_SECRET, now, { ...claims, typ: 'access' }),
      praetorianToken(TEST_SECRET, now, { ...claims, iss: 'jwt-login' }),
      praetorianToken('another-secret-that-is-also-32-bytes-long!!', now, claims),
      jwt.sign(claims, TEST_SECRET, { algorithm: 'HS512' }),
      `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`,
    ];
    const [header, , signature] = praetorianToken(TEST_SECRET, now, claims).split('.');
    forged.push(
      `${header}.${Buffer.from(JSON.stringify({ ...claims, rls: 'admin' })).toString('base64url')}.${signature}`,
    );
    for (const token of forged) await expectError(await protectedWith(app, token), 401, 'InvalidTokenHeader');
  });

  it('is off by default: without LEGACY_TOKENS a praetorian token is an invalid token', async () => {
    const plain = await startTestApp({ database: app.database, clock: app.clock });
    try {
      const user = await registerUser(plain);
      const token = flaskToken(user);
      await expectError(await protectedWith(plain, token), 401, 'InvalidTokenHeader');
      app.clock.advanceSeconds(15 * 60 + 1);
      await expectError(await plain.post('/api/refresh', { access_token: token }), 401, 'InvalidTokenHeader');
    } finally {
      await plain.close();
    }
  });

  it('purges blacklist entries once past their rf_exp and PURGE_AFTER', async () => {
    await app.database.pool.query(sql.unsafe`INSERT INTO blacklisted_tokens (jti, expires_at)
      VALUES ('j-long-gone', now() - interval '30 days'), ('j-still-live', now() + interval '1 day')`);
    const { PostgresRetentionStore } = await import('../../src/infrastructure/persistence/postgres-retention-store.js');
    const store = new PostgresRetentionStore(app.database.pool, {
      directUri: app.database.uri,
      connectTimeoutMs: 5000,
    });
    expect(await store.deleteEnded('expired blacklist entries', Date.now() - 7 * 86400_000, 100)).to.equal(1);
    const left = await app.database.pool.anyFirst(sql.unsafe`SELECT jti FROM blacklisted_tokens WHERE jti LIKE 'j-%'`);
    expect(left).to.include('j-still-live').and.not.include('j-long-gone');
  });

  describe('after every request above', () => {
    it('answered none with a 5xx', () => {
      expectNo5xx(app);
      expectNo5xx(other);
    });
  });
});
