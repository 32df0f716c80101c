import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { type TestApp, startTestApp } from '../support/test-app.js';
import {
  accountTokens,
  bearer,
  decodeJwt,
  expectError,
  expectNo5xx,
  registerAccount,
  setActive,
  setRoles,
} from './helpers.js';

const CLIENT = { id: 'billing', secret: 'billing-secret-0123456789' };
const basic = (id: string, secret: string) => ({
  Authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
});

describe('HTTP: POST /api/introspect (RFC 7662)', function () {
  this.timeout(30_000);
  let app: TestApp;

  before(async () => {
    app = await startTestApp({
      env: { INTROSPECTION_CLIENTS: `${CLIENT.id}:${CLIENT.secret},other:other-secret-0123456789` },
    });
  });
  after(() => app.close());

  const introspectForm = (token: string, headers: Record<string, string> = basic(CLIENT.id, CLIENT.secret)) =>
    app.request('/api/introspect', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
    });

  async function state(response: Response): Promise<Record<string, unknown>> {
    const text = await response.text();
    expect(response.status, text).to.equal(200);
    expect(response.headers.get('cache-control')).to.equal('no-store');
    return JSON.parse(text) as Record<string, unknown>;
  }

  it('answers a live token with its claims as they are now, to a client with HTTP Basic and a form body', async () => {
    const user = await registerAccount(app, 'intro');
    const claims = decodeJwt(user.access).payload;
    expect(await state(await introspectForm(user.access))).to.deep.equal({
      active: true,
      sub: String(user.id),
      username: user.username,
      exp: claims.exp,
      iat: claims.iat,
      roles: ['user'],
      sid: claims.sid,
      jti: claims.jti,
      token_type: 'Bearer',
    });
  });

  it('takes the token as JSON too', async () => {
    const user = await registerAccount(app, 'intro');
    const response = await app.post('/api/introspect', { token: user.access }, basic(CLIENT.id, CLIENT.secret));
    expect(await state(response)).to.include({ active: true, username: user.username });
  });

  it('reflects a logout at once: active, then inactive on the very next call', async () => {
    const user = await registerAccount(app, 'intro');
    expect((await state(await introspectForm(user.access))).active).to.equal(true);
    expect((await app.request('/api/logout', { method: 'POST', headers: bearer(user.access) })).status).to.equal(204);
    expect(await state(await introspectForm(user.access))).to.deep.equal({ active: false });
  });

  it('a deactivated user, an expired token, a forged token and garbage are all just {"active": false}', async () => {
    const deactivated = await registerAccount(app, 'intro');
    await setActive(app, deactivated.username, false);
    expect(await state(await introspectForm(deactivated.access))).to.deep.equal({ active: false });

    const live = await registerAccount(app, 'intro');
    const forged = jwt.sign(
      { ...decodeJwt(live.access).payload, rls: 'admin' },
      'another-secret-that-is-at-least-32-bytes',
      { algorithm: 'HS256', header: { alg: 'HS256', kid: decodeJwt(live.access).header.kid as string } },
    );
    expect(await state(await introspectForm(forged))).to.deep.equal({ active: false });
    expect(await state(await introspectForm('not.a.token'))).to.deep.equal({ active: false });

    app.clock.advanceSeconds(901);
    expect(await state(await introspectForm(live.access))).to.deep.equal({ active: false });
    app.clock.advanceSeconds(-901);
  });

  it('lets a user whose token has the introspect role call it with that bearer token', async () => {
    const caller = await registerAccount(app, 'svc');
    await setRoles(app, caller.username, 'user,introspect');
    const login = await accountTokens(
      await app.post('/api/login', { username: caller.username, password: caller.password }),
      200,
    );
    const target = await registerAccount(app, 'intro');
    expect(await state(await introspectForm(target.access, bearer(login.access)))).to.include({ active: true });
  });

  it('refuses a bearer without the introspect role (403), and a bad bearer (401)', async () => {
    const caller = await registerAccount(app, 'svc');
    await expectError(await introspectForm(caller.access, bearer(caller.access)), 403, 'MissingRoleError');
    await expectError(await introspectForm(caller.access, bearer('garbage')), 401, 'InvalidTokenHeader');
  });

  it('refuses a caller without credentials or with wrong ones: 401 with a Basic challenge', async () => {
    const user = await registerAccount(app, 'intro');
    const none = await introspectForm(user.access, {});
    await expectError(none, 401, 'MissingToken');
    expect(none.headers.get('www-authenticate')).to.match(/^Basic realm="jwt-login"/);
    for (const headers of [
      basic(CLIENT.id, `${CLIENT.secret}x`),
      basic(CLIENT.id, 'other-secret-0123456789'),
      basic('nobody', CLIENT.secret),
      basic(CLIENT.id, ''),
      { Authorization: 'Basic !!!' },
      { Authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` },
    ]) {
      const response = await introspectForm(user.access, headers);
      await expectError(response, 401, headers.Authorization === 'Basic !!!' ? 'InvalidTokenHeader' : 'InvalidClient');
    }
    const other = await introspectForm(user.access, basic('other', 'other-secret-0123456789'));
    expect((await state(other)).active).to.equal(true);
  });

  it('refuses a body without a token string with 400 naming it', async () => {
    const headers = basic(CLIENT.id, CLIENT.secret);
    await expectError(await app.post('/api/introspect', {}, headers), 400, 'ValidationError', 'token must be a string');
    await expectError(await app.post('/api/introspect', { token: '' }, headers), 400, 'ValidationError', /token/);
    await expectError(await app.post('/api/introspect', { token: 5 }, headers), 400, 'ValidationError', /token/);
  });

  it('answered every request without a 5xx', () => {
    expectNo5xx(app);
  });
});
