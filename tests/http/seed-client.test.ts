import { expect } from 'chai';
import { type TestApp, startTestApp } from '../support/test-app.js';
import {
  decodeJwt,
  expectError,
  expectNo5xx,
  expectTokens,
  rawRequest,
  registerUser,
  strongPassword,
  uniqueName,
} from './helpers.js';

/**
 * The seed's React client posts `JSON.stringify(...)` as fetch sends a string body: `text/plain;charset=UTF-8`, or,
 * from other clients, with no content type at all. Both are read as JSON.
 */
describe('HTTP: bodies from the seed client (text/plain and no content type)', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });

  after(async () => {
    await app?.close();
  });

  const TEXT_PLAIN = { 'Content-Type': 'text/plain;charset=UTF-8' };

  /** POSTs `body` with only a Content-Length header: no Content-Type at all. */
  async function postWithoutContentType(path: string, body: string) {
    const bytes = Buffer.from(body, 'utf8');
    const response = await rawRequest(app, {
      method: 'POST',
      path,
      headers: { 'Content-Length': bytes.length },
      body: bytes,
    });
    expect(response.sentHeaders).to.not.have.property('content-type');
    return response;
  }

  it('registers a user from a text/plain;charset=UTF-8 JSON body', async () => {
    const username = uniqueName();
    const password = strongPassword();
    const response = await app.post('/api/registration', JSON.stringify({ username, password }), TEXT_PLAIN);
    const body = await expectTokens(response, 201);
    expect(body.expires_in).to.equal(900);
    await expectTokens(await app.post('/api/login', { username, password }), 200);
  });

  it('logs in from a text/plain;charset=UTF-8 JSON body', async () => {
    const user = await registerUser(app);
    const response = await app.post(
      '/api/login',
      JSON.stringify({ username: user.username, password: user.password }),
      TEXT_PLAIN,
    );
    const body = await expectTokens(response, 200);
    expect(decodeJwt(body.access_token).payload.id).to.equal(user.id);
  });

  it('keeps the text/plain body as UTF-8 (a non-ASCII username and password)', async () => {
    const username = `Zoë_Ærøskøbing_${uniqueName()}`;
    const password = `pässwörd-ünïcode-${uniqueName()}`;
    await expectTokens(await app.post('/api/registration', JSON.stringify({ username, password }), TEXT_PLAIN), 201);
    await expectTokens(await app.post('/api/login', JSON.stringify({ username, password }), TEXT_PLAIN), 200);
  });

  it('registers a user from a JSON body sent with no content type', async () => {
    const username = uniqueName();
    const password = strongPassword();
    const response = await postWithoutContentType('/api/registration', JSON.stringify({ username, password }));
    expect(response.status, response.text).to.equal(201);
    expect(response.headers['cache-control']).to.equal('no-store');
    const body = JSON.parse(response.text) as Record<string, unknown>;
    expect(body.token_type).to.equal('Bearer');
    expect(decodeJwt(body.access_token as string).payload.rls).to.equal('user');
  });

  it('logs in from a JSON body sent with no content type', async () => {
    const user = await registerUser(app);
    const response = await postWithoutContentType(
      '/api/login',
      JSON.stringify({ username: user.username, password: user.password }),
    );
    expect(response.status, response.text).to.equal(200);
    const body = JSON.parse(response.text) as Record<string, unknown>;
    expect(body.token_type).to.equal('Bearer');
    expect(decodeJwt(body.access_token as string).payload.id).to.equal(user.id);
  });

  it('logs in from a fetch whose Uint8Array body carries no content type', async () => {
    const user = await registerUser(app);
    const bytes = new TextEncoder().encode(JSON.stringify({ username: user.username, password: user.password }));
    const response = await app.request('/api/login', { method: 'POST', body: bytes });
    await expectTokens(response, 200);
  });

  it('answers 401 AuthenticationError, not a parse error, to wrong credentials sent as text/plain', async () => {
    const user = await registerUser(app);
    await expectError(
      await app.post(
        '/api/login',
        JSON.stringify({ username: user.username, password: 'Not-The-Passw0rd' }),
        TEXT_PLAIN,
      ),
      401,
      'AuthenticationError',
      'The username and/or password are incorrect',
    );
  });

  describe('after every request above', () => {
    it('answered none with a 5xx', () => {
      expectNo5xx(app);
    });
  });
});
