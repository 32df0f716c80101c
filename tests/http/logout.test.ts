import { expect } from 'chai';
import { type TestApp, startTestApp } from '../support/test-app.js';
import { bearer, decodeJwt, expectError, expectNo5xx, accountTokens, registerAccount } from './helpers.js';

const ACCESS_SECONDS = 900;
const BLACKLISTED = 'Token has a blacklisted jti';
const INVALID_REFRESH = 'The refresh token is not valid, or has been used or revoked';
const MISSING_TOKEN = "JWT token not found in headers under 'Authorization'";

const logout = (app: TestApp, token?: string) =>
  app.request('/api/logout', { method: 'POST', headers: token === undefined ? {} : bearer(token) });
const getProtected = (app: TestApp, token: string) => app.request('/api/protected', { headers: bearer(token) });

describe('HTTP: POST /api/logout', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });

  after(async () => {
    await app?.close();
  });

  it('answers 204 with an empty body', async () => {
    const user = await registerAccount(app, 'logout');
    const response = await logout(app, user.access);
    expect(response.status).to.equal(204);
    expect(await response.text()).to.equal('');
    const revocations = app.logger.events('revocation').filter((line) => line.fields.reason === 'logout');
    expect(revocations.at(-1)!.fields.session_id).to.equal(decodeJwt(user.access).payload.sid);
  });

  it('revokes the access token at once: 403 BlacklistedError on /api/protected, and on a second logout', async () => {
    const user = await registerAccount(app, 'logout');
    expect((await getProtected(app, user.access)).status).to.equal(200);
    expect((await logout(app, user.access)).status).to.equal(204);
    await expectError(await getProtected(app, user.access), 403, 'BlacklistedError', BLACKLISTED);
    await expectError(await logout(app, user.access), 403, 'BlacklistedError', BLACKLISTED);
  });

  it('revokes the refresh-token family: the refresh token → 401, also a rotated successor', async () => {
    const user = await registerAccount(app, 'logout');
    const rotated = await accountTokens(await app.post('/api/refresh', { refresh_token: user.refresh }), 200);
    expect((await logout(app, rotated.access)).status).to.equal(204);
    await expectError(
      await app.post('/api/refresh', { refresh_token: rotated.refresh }),
      401,
      'InvalidRefreshToken',
      INVALID_REFRESH,
    );
    await expectError(
      await app.post('/api/refresh', { refresh_token: user.refresh }),
      401,
      'InvalidRefreshToken',
      INVALID_REFRESH,
    );
    // the login's own access token belongs to the same session
    await expectError(await getProtected(app, user.access), 403, 'BlacklistedError', BLACKLISTED);
  });

  it('refuses a praetorian refresh of the logged-out access token after it expired: 403 BlacklistedError', async () => {
    const user = await registerAccount(app, 'logout');
    expect((await logout(app, user.access)).status).to.equal(204);
    app.clock.advanceSeconds(ACCESS_SECONDS + 1);
    await expectError(
      await app.post('/api/refresh', { access_token: user.access }),
      403,
      'BlacklistedError',
      BLACKLISTED,
    );
    await expectError(
      await app.request('/api/refresh', { method: 'POST', headers: bearer(user.access) }),
      403,
      'BlacklistedError',
      BLACKLISTED,
    );
  });

  it('leaves another session of the same user working (second login)', async () => {
    const user = await registerAccount(app, 'logout');
    const second = await accountTokens(
      await app.post('/api/login', { username: user.username, password: user.password }),
      200,
    );
    expect((await logout(app, user.access)).status).to.equal(204);

    const response = await getProtected(app, second.access);
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ message: `protected endpoint (allowed usr ${user.username})` });
    const rotated = await accountTokens(await app.post('/api/refresh', { refresh_token: second.refresh }), 200);
    expect((await getProtected(app, rotated.access)).status).to.equal(200);
    await expectError(await getProtected(app, user.access), 403, 'BlacklistedError', BLACKLISTED);
  });

  it('answers 401 MissingToken without a token', async () => {
    const response = await logout(app);
    expect(response.headers.get('www-authenticate')).to.equal('Bearer realm="jwt-login"');
    await expectError(response, 401, 'MissingToken', MISSING_TOKEN);
  });

  describe('after every request above', () => {
    it('answered none with a 5xx', () => {
      expectNo5xx(app);
    });
  });
});
