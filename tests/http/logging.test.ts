import { expect } from 'chai';
import { type TestApp, startTestApp } from '../support/test-app.js';
import {
  bearer,
  expectNo5xx,
  expectTokens,
  registerUser,
  requestLines,
  strongPassword,
  uniqueName,
} from './helpers.js';

describe('HTTP: request and security logs', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });

  after(async () => {
    await app?.close();
  });

  /** The request log lines of the request that carried `id` as its X-Request-Id. */
  const linesFor = (id: string) => requestLines(app).filter((line) => line.fields.request_id === id);

  it('writes one request line per request with method, path, status, duration and request id', async () => {
    const id = `log-${uniqueName()}`;
    const response = await app.request('/api/health', { headers: { 'X-Request-Id': id } });
    expect(response.status).to.equal(200);
    const lines = linesFor(id);
    expect(lines).to.have.length(1);
    const { fields } = lines[0]!;
    expect(fields.method).to.equal('GET');
    expect(fields.path).to.equal('/api/health');
    expect(fields.status).to.equal(200);
    expect(fields.duration_ms).to.be.a('number').and.at.least(0).and.below(10_000);
    expect(fields.request_id).to.equal(id);
  });

  it('logs the final status of an error answer (401, 404, 405)', async () => {
    for (const [method, path, status] of [
      ['POST', '/api/login', 401],
      ['GET', '/api/missing', 404],
      ['DELETE', '/api/login', 405],
    ] as const) {
      const id = `log-${uniqueName()}`;
      const init: RequestInit = { method, headers: { 'X-Request-Id': id, 'Content-Type': 'application/json' } };
      if (method === 'POST')
        init.body = JSON.stringify({ username: uniqueName('ghost'), password: 'Whatever-Passw0rd!' });
      const response = await app.request(path, init);
      await response.arrayBuffer();
      expect(response.status).to.equal(status);
      const lines = linesFor(id);
      expect(lines, `${method} ${path}`).to.have.length(1);
      expect(lines[0]!.fields).to.include({ method, path, status });
    }
  });

  it('states the user id on /api/protected and none on anonymous requests', async () => {
    const user = await registerUser(app);
    const id = `log-${uniqueName()}`;
    const response = await app.request('/api/protected', { headers: { ...bearer(user.token), 'X-Request-Id': id } });
    expect(response.status).to.equal(200);
    const lines = linesFor(id);
    expect(lines).to.have.length(1);
    expect(lines[0]!.fields).to.include({ method: 'GET', path: '/api/protected', status: 200, user_id: user.id });

    const anonymous = `log-${uniqueName()}`;
    await (await app.request('/api/', { headers: { 'X-Request-Id': anonymous } })).arrayBuffer();
    expect(linesFor(anonymous)[0]!.fields.user_id ?? null).to.equal(null);
  });

  it('logs the path without its query string', async () => {
    const id = `log-${uniqueName()}`;
    const secret = `query-secret-${uniqueName()}`;
    await (
      await app.request(`/api/protected?access_token=${secret}`, { headers: { 'X-Request-Id': id } })
    ).arrayBuffer();
    expect(linesFor(id)[0]!.fields.path).to.equal('/api/protected');
    expect(JSON.stringify(app.logger.lines)).to.not.contain(secret);
  });

  it('writes a security line for a failed login', async () => {
    const before = app.logger.lines.length;
    const user = await registerUser(app);
    const response = await app.post('/api/login', { username: user.username, password: 'Wrong-Passw0rd!' });
    expect(response.status).to.equal(401);
    const security = app.logger.lines
      .slice(before)
      .filter((line) => line.fields.event !== 'request' && /login/i.test(String(line.fields.event)));
    expect(security.map((line) => line.level)).to.deep.equal(['warn']);
  });

  it('never logs a password or a token, across registration, login, refresh and protected calls', async () => {
    const username = uniqueName();
    const password = strongPassword();
    const wrongPassword = `${password}-but-wrong`;
    const registered = await expectTokens(await app.post('/api/registration', { username, password }), 201);
    const loggedIn = await expectTokens(await app.post('/api/login', { username, password }), 200);
    await (await app.post('/api/login', { username, password: wrongPassword })).arrayBuffer();
    await (await app.post('/api/registration', { username, password: wrongPassword })).arrayBuffer();
    await (await app.request('/api/protected', { headers: bearer(loggedIn.access_token) })).arrayBuffer();
    await (await app.post('/api/refresh', loggedIn.access_token, { 'Content-Type': 'text/plain' })).arrayBuffer();
    app.clock.advanceSeconds(901);
    await (await app.request('/api/protected', { headers: bearer(loggedIn.access_token) })).arrayBuffer();
    const refreshed = await expectTokens(
      await app.post('/api/refresh', loggedIn.access_token, { 'Content-Type': 'text/plain' }),
      200,
    );

    const everything = JSON.stringify(app.logger.lines);
    expect(everything).to.contain('"event":"request"');
    const refreshTokens = [registered, loggedIn]
      .map((body) => (body as unknown as { refresh_token?: unknown }).refresh_token)
      .filter((token): token is string => typeof token === 'string');
    const secrets = [password, wrongPassword, registered.access_token, loggedIn.access_token, refreshed.access_token];
    for (const secret of [...secrets, ...refreshTokens]) {
      expect(everything).to.not.contain(secret);
    }
    for (const token of [registered.access_token, loggedIn.access_token, refreshed.access_token]) {
      const signature = token.split('.')[2]!;
      expect(everything, 'a token signature').to.not.contain(signature);
    }
    expect(everything).to.not.match(/\$argon2id\$/);
  });

  describe('after every request above', () => {
    it('answered none with a 5xx', () => {
      expectNo5xx(app);
    });
  });
});
