import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { TEST_SECRET, type TestApp, startTestApp } from '../support/test-app.js';
import {
  bearer,
  decodeJwt,
  expectError,
  expectNo5xx,
  expectTokens,
  nowSeconds,
  rawRequest,
  registerUser,
  setActive,
  setRoles,
} from './helpers.js';

const EARLY = 'access permission for token has not expired. may not refresh';
const EXPIRED_REFRESH = 'refresh permission for token has expired';
const INVALID_USER = 'The user is not valid or has had access revoked';
const MISSING_TOKEN = "JWT token not found in headers under 'Authorization'";
const ACCESS_SECONDS = 900;

/** flask-praetorian's refresh: POST /api/refresh with the previous access token. */
describe('HTTP: POST /api/refresh with the previous access token (praetorian)', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });

  after(async () => {
    await app?.close();
  });

  /** The four ways a client may hand over the previous access token. */
  const ways: Record<string, (token: string) => Promise<Response>> = {
    'the raw token as a text/plain body (the seed client)': (token) =>
      app.post('/api/refresh', token, { 'Content-Type': 'text/plain;charset=UTF-8' }),
    'a JSON string body': (token) => app.post('/api/refresh', JSON.stringify(token)),
    'a JSON object {"access_token": ...}': (token) => app.post('/api/refresh', { access_token: token }),
    'Authorization: Bearer': (token) => app.request('/api/refresh', { method: 'POST', headers: bearer(token) }),
  };

  for (const [way, send] of Object.entries(ways)) {
    describe(`with ${way}`, () => {
      it('answers 425 EarlyRefreshError while the access token has not expired', async () => {
        const user = await registerUser(app);
        app.clock.advanceSeconds(ACCESS_SECONDS - 1);
        await expectError(await send(user.token), 425, 'EarlyRefreshError', EARLY);
      });

      it('answers 200 after exp with a new token that keeps jti, id and rf_exp and has a new iat and exp', async () => {
        const user = await registerUser(app);
        const old = decodeJwt(user.token).payload;
        app.clock.advanceSeconds(ACCESS_SECONDS + 1);
        const now = nowSeconds(app);
        const body = await expectTokens(await send(user.token), 200);
        expect(body.expires_in).to.equal(ACCESS_SECONDS);
        expect(body.access_token).to.not.equal(user.token);
        const fresh = decodeJwt(body.access_token).payload;
        expect(fresh.jti).to.equal(old.jti);
        expect(fresh.id).to.equal(old.id);
        expect(fresh.rf_exp).to.equal(old.rf_exp);
        expect(fresh.iat).to.equal(now);
        expect(fresh.exp).to.equal(now + ACCESS_SECONDS);
        expect(fresh.rls).to.equal('user');
        expect(fresh.typ).to.equal('access');
        expect(fresh.iss).to.equal('jwt-login');
        expect(fresh.sub).to.equal(String(user.id));
      });
    });
  }

  it('takes the raw token from a body sent with no content type at all', async () => {
    const user = await registerUser(app);
    app.clock.advanceSeconds(ACCESS_SECONDS + 1);
    const bytes = Buffer.from(user.token, 'utf8');
    const response = await rawRequest(app, {
      method: 'POST',
      path: '/api/refresh',
      headers: { 'Content-Length': bytes.length },
      body: bytes,
    });
    expect(response.sentHeaders).to.not.have.property('content-type');
    expect(response.status, response.text).to.equal(200);
    const fresh = decodeJwt((JSON.parse(response.text) as { access_token: string }).access_token).payload;
    expect(fresh.jti).to.equal(decodeJwt(user.token).payload.jti);
  });

  it('answers 425 at exactly exp - 1 and 200 at exp (the token is expired from exp on)', async () => {
    const user = await registerUser(app);
    const { exp } = decodeJwt(user.token).payload as { exp: number };
    app.clock.set((exp - 1) * 1000);
    await expectError(await ways['a JSON object {"access_token": ...}']!(user.token), 425, 'EarlyRefreshError', EARLY);
    app.clock.set(exp * 1000);
    await expectTokens(await ways['a JSON object {"access_token": ...}']!(user.token), 200);
  });

  it('never outlives rf_exp: within 100 s of rf_exp the new exp equals rf_exp', async () => {
    const user = await registerUser(app);
    const { rf_exp: rfExp } = decodeJwt(user.token).payload as { rf_exp: number };
    app.clock.set((rfExp - 60) * 1000);
    const body = await expectTokens(await app.post('/api/refresh', { access_token: user.token }), 200);
    const fresh = decodeJwt(body.access_token).payload;
    expect(fresh.exp).to.equal(rfExp);
    expect(fresh.rf_exp).to.equal(rfExp);
    expect(fresh.iat).to.equal(rfExp - 60);
    expect(body.expires_in).to.equal(60);
  });

  it('refreshes a refreshed token again once that one has expired, keeping the same jti and rf_exp', async () => {
    const user = await registerUser(app);
    const first = decodeJwt(user.token).payload;
    app.clock.advanceSeconds(ACCESS_SECONDS + 1);
    const second = await expectTokens(await app.post('/api/refresh', { access_token: user.token }), 200);
    app.clock.advanceSeconds(ACCESS_SECONDS + 1);
    const third = await expectTokens(await app.post('/api/refresh', { access_token: second.access_token }), 200);
    const last = decodeJwt(third.access_token).payload;
    expect(last.jti).to.equal(first.jti);
    expect(last.rf_exp).to.equal(first.rf_exp);
    expect(last.iat).to.equal(nowSeconds(app));
  });

  it('gives a refreshed token that /api/protected accepts', async () => {
    const user = await registerUser(app);
    app.clock.advanceSeconds(ACCESS_SECONDS + 1);
    const body = await expectTokens(await app.post('/api/refresh', { access_token: user.token }), 200);
    const response = await app.request('/api/protected', { headers: bearer(body.access_token) });
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ message: `protected endpoint (allowed usr ${user.username})` });
  });

  it('answers 401 ExpiredRefreshError after rf_exp', async () => {
    const user = await registerUser(app);
    const { rf_exp: rfExp } = decodeJwt(user.token).payload as { rf_exp: number };
    app.clock.set((rfExp + 1) * 1000);
    const response = await app.post('/api/refresh', { access_token: user.token });
    await expectError(response, 401, 'ExpiredRefreshError', EXPIRED_REFRESH);
    expect(response.headers.get('www-authenticate')).to.equal('Bearer realm="jwt-login", error="invalid_token"');
  });

  it('answers 403 InvalidUserError when the user was deactivated', async () => {
    const user = await registerUser(app);
    await setActive(app, user.username, false);
    app.clock.advanceSeconds(ACCESS_SECONDS + 1);
    await expectError(
      await app.post('/api/refresh', { access_token: user.token }),
      403,
      'InvalidUserError',
      INVALID_USER,
    );
  });

  it('re-reads the roles: a role added since login appears in rls', async () => {
    const user = await registerUser(app);
    expect(decodeJwt(user.token).payload.rls).to.equal('user');
    await setRoles(app, user.username, 'user,admin');
    app.clock.advanceSeconds(ACCESS_SECONDS + 1);
    const body = await expectTokens(await app.post('/api/refresh', { access_token: user.token }), 200);
    expect(decodeJwt(body.access_token).payload.rls).to.equal('user,admin');
  });

  describe('refusals', () => {
    it('answers 401 InvalidTokenHeader to a garbage token', async () => {
      const response = await app.post('/api/refresh', 'not-a-jwt-at-all', { 'Content-Type': 'text/plain' });
      await expectError(response, 401, 'InvalidTokenHeader');
      expect(response.headers.get('www-authenticate')).to.contain('error="invalid_token"');
    });

    it('answers 401 InvalidTokenHeader to an expired token signed with another secret', async () => {
      const user = await registerUser(app);
      const { iss, ...claims } = decodeJwt(user.token).payload;
      const forged = jwt.sign(claims, 'another-secret-that-is-also-32-bytes-long!!', {
        algorithm: 'HS256',
        issuer: iss as string,
      });
      app.clock.advanceSeconds(ACCESS_SECONDS + 1);
      await expectError(await app.post('/api/refresh', { access_token: forged }), 401, 'InvalidTokenHeader');
    });

    it('answers 401 InvalidTokenHeader to a token whose payload was altered (roles raised to admin)', async () => {
      const user = await registerUser(app);
      const [header, , signature] = user.token.split('.');
      const payload = { ...decodeJwt(user.token).payload, rls: 'user,admin' };
      const tampered = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
      app.clock.advanceSeconds(ACCESS_SECONDS + 1);
      await expectError(await app.post('/api/refresh', { access_token: tampered }), 401, 'InvalidTokenHeader');
    });

    it('answers 401 InvalidTokenHeader to a token of another typ signed with the right secret', async () => {
      const user = await registerUser(app);
      const { iss, ...claims } = decodeJwt(user.token).payload;
      const other = jwt.sign({ ...claims, typ: 'refresh' }, TEST_SECRET, { algorithm: 'HS256', issuer: iss as string });
      app.clock.advanceSeconds(ACCESS_SECONDS + 1);
      await expectError(await app.post('/api/refresh', { access_token: other }), 401, 'InvalidTokenHeader');
    });

    it('answers 401 MissingToken, without error=, when no token is given at all', async () => {
      const response = await app.request('/api/refresh', { method: 'POST' });
      await expectError(response, 401, 'MissingToken', MISSING_TOKEN);
      expect(response.headers.get('www-authenticate')).to.equal('Bearer realm="jwt-login"');
    });

    it('answers 401 MissingToken to an empty JSON object', async () => {
      await expectError(await app.post('/api/refresh', {}), 401, 'MissingToken', MISSING_TOKEN);
    });

    it('answers 400 ValidationError to {"access_token": 5}', async () => {
      await expectError(await app.post('/api/refresh', { access_token: 5 }), 400, 'ValidationError', /access_token/);
    });

    it('answers 400 ValidationError to a JSON array body', async () => {
      await expectError(await app.post('/api/refresh', ['a.b.c']), 400, 'ValidationError');
    });
  });

  describe('after every request above', () => {
    it('answered none with a 5xx', () => {
      expectNo5xx(app);
    });
  });
});
