import { expect } from 'chai';
import { type TestApp, startTestApp } from '../support/test-app.js';
import {
  BODY_LIMIT_BYTES,
  type RawResponse,
  bearer,
  expectNo5xx,
  expectTokens,
  loginBodyOfSize,
  rawRequest,
  registerUser,
  strongPassword,
  uniqueName,
} from './helpers.js';

function expectSecurityHeaders(headers: Headers | RawResponse['headers'], what: string): void {
  const get = (name: string) =>
    headers instanceof Headers ? headers.get(name) : ((headers[name] as string | undefined) ?? null);
  expect(get('x-content-type-options'), `${what}: nosniff`).to.equal('nosniff');
  expect(get('x-frame-options'), `${what}: X-Frame-Options`).to.equal('DENY');
  expect(get('referrer-policy'), `${what}: Referrer-Policy`).to.equal('no-referrer');
  const csp = get('content-security-policy') ?? '';
  const directives = csp.split(';').map((directive) => directive.trim());
  expect(directives, `${what}: CSP ${csp}`).to.include("default-src 'none'").and.include("frame-ancestors 'none'");
  expect(get('x-powered-by'), `${what}: no X-Powered-By`).to.equal(null);
}

describe('HTTP: security headers, token caching and CORS (issue 4, item 5)', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });

  after(async () => {
    await app?.close();
  });

  describe('security headers', () => {
    it('sets nosniff, X-Frame-Options DENY, Referrer-Policy no-referrer, a CSP with default-src/frame-ancestors none, and no X-Powered-By on every kind of answer', async () => {
      const user = await registerUser(app);
      const big = loginBodyOfSize(BODY_LIMIT_BYTES + 100);
      const answers: [string, Response | RawResponse][] = [
        ['200 GET /api/', await app.request('/api/')],
        ['200 GET /api/health', await app.request('/api/health')],
        ['200 GET /api/protected', await app.request('/api/protected', { headers: bearer(user.token) })],
        ['200 POST /api/login', await app.post('/api/login', { username: user.username, password: user.password })],
        [
          '201 POST /api/registration',
          await app.post('/api/registration', { username: uniqueName(), password: strongPassword() }),
        ],
        ['400 malformed JSON', await app.post('/api/login', '{')],
        ['401 missing token', await app.request('/api/protected')],
        ['403 missing role', await app.request('/api/users', { headers: bearer(user.token) })],
        ['404 unknown path', await app.request('/api/nope')],
        ['404 outside /api', await app.request('/')],
        ['405 wrong method', await app.request('/api/login', { method: 'PUT' })],
        [
          '413 too large',
          await rawRequest(app, {
            method: 'POST',
            path: '/api/login',
            headers: { 'Content-Type': 'application/json', 'Content-Length': big.length },
            body: big,
          }),
        ],
        ['415 xml', await app.post('/api/login', '<x/>', { 'Content-Type': 'application/xml' })],
        [
          'OPTIONS preflight',
          await rawRequest(app, {
            method: 'OPTIONS',
            path: '/api/login',
            headers: { Origin: 'https://x.example', 'Access-Control-Request-Method': 'POST' },
          }),
        ],
        ['HEAD /api/health', await app.request('/api/health', { method: 'HEAD' })],
      ];
      for (const [what, response] of answers) {
        expectSecurityHeaders(response instanceof Response ? response.headers : response.headers, what);
      }
    });

    it("gives JSON answers HSTS and CORP same-origin, and none of helmet's document-only headers; the docs page gets those", async () => {
      const documentOnly = [
        'cross-origin-opener-policy',
        'origin-agent-cluster',
        'x-dns-prefetch-control',
        'x-download-options',
        'x-permitted-cross-domain-policies',
        'x-xss-protection',
      ];
      const api = await app.request('/api/');
      expect(api.headers.get('strict-transport-security')).to.match(/^max-age=\d+/);
      expect(api.headers.get('cross-origin-resource-policy')).to.equal('same-origin');
      for (const name of documentOnly) expect(api.headers.get(name), name).to.equal(null);
      const page = await app.request('/api/docs');
      expect(page.headers.get('content-type')).to.match(/^text\/html/);
      for (const name of documentOnly) expect(page.headers.get(name), `docs page: ${name}`).to.not.equal(null);
    });

    it('marks login, registration and refresh token answers Cache-Control: no-store', async () => {
      const username = uniqueName();
      const password = strongPassword();
      const registration = await app.post('/api/registration', { username, password });
      await expectTokens(registration, 201);
      const login = await app.post('/api/login', { username, password });
      const { refresh_token: refreshToken } = (await login.clone().json()) as { refresh_token: string };
      await expectTokens(login, 200);
      const refresh = await app.post('/api/refresh', { refresh_token: refreshToken });
      await expectTokens(refresh, 200);
      for (const response of [registration, login, refresh]) {
        expect(response.headers.get('cache-control')).to.equal('no-store');
        expect(response.headers.get('pragma')).to.equal('no-cache');
      }
    });
  });

  describe('CORS with CORS_ORIGINS unset', () => {
    it('answers any origin with Access-Control-Allow-Origin: * and never Allow-Credentials', async () => {
      for (const origin of ['https://app.example.com', 'https://evil.example', 'null']) {
        const response = await rawRequest(app, { method: 'GET', path: '/api/', headers: { Origin: origin } });
        expect(response.headers['access-control-allow-origin'], origin).to.equal('*');
        expect(response.headers).to.not.have.property('access-control-allow-credentials');
      }
    });
  });

  describe('after every request above', () => {
    it('answered none with a 5xx', () => {
      expectNo5xx(app);
    });
  });
});

describe('HTTP: CORS allow-list (CORS_ORIGINS=https://app.example.com)', () => {
  const ALLOWED = 'https://app.example.com';
  let app: TestApp;

  before(async () => {
    app = await startTestApp({ env: { CORS_ORIGINS: ALLOWED } });
  });

  after(async () => {
    await app?.close();
  });

  const get = (origin: string) => rawRequest(app, { method: 'GET', path: '/api/', headers: { Origin: origin } });
  const preflight = (origin: string) =>
    rawRequest(app, {
      method: 'OPTIONS',
      path: '/api/protected',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'authorization',
      },
    });

  it('echoes the allowed origin, with Vary: Origin, and no Allow-Credentials', async () => {
    const response = await get(ALLOWED);
    expect(response.headers['access-control-allow-origin']).to.equal(ALLOWED);
    expect(String(response.headers.vary)).to.match(/origin/i);
    expect(response.headers).to.not.have.property('access-control-allow-credentials');
  });

  for (const origin of [
    'null',
    'https://evil.example',
    'https://app.example.com.evil.example',
    'http://app.example.com',
    'https://APP.example.com',
    `${ALLOWED}/`,
  ]) {
    it(`gives Origin: ${origin} no Access-Control-Allow-Origin (simple request and preflight)`, async () => {
      for (const response of [await get(origin), await preflight(origin)]) {
        expect(response.headers, response.text).to.not.have.property('access-control-allow-origin');
        expect(response.headers).to.not.have.property('access-control-allow-credentials');
      }
    });
  }

  it('answers a preflight from the allowed origin listing Authorization in Access-Control-Allow-Headers', async () => {
    const response = await preflight(ALLOWED);
    expect(response.status).to.equal(204);
    expect(response.headers['access-control-allow-origin']).to.equal(ALLOWED);
    const allowHeaders = String(response.headers['access-control-allow-headers'])
      .split(',')
      .map((name) => name.trim().toLowerCase());
    expect(allowHeaders).to.include('authorization');
    expect(String(response.headers['access-control-allow-methods'])).to.include('GET');
    expect(response.headers).to.not.have.property('access-control-allow-credentials');
  });

  it('never sends Access-Control-Allow-Credentials, even when the request asks with credentials headers', async () => {
    const response = await rawRequest(app, {
      method: 'POST',
      path: '/api/login',
      headers: { Origin: ALLOWED, 'Content-Type': 'application/json', Cookie: 'session=1' },
      body: JSON.stringify({ username: 'alice', password: 'Some-Password-1' }),
    });
    expect(response.status).to.equal(401);
    expect(response.headers['access-control-allow-origin']).to.equal(ALLOWED);
    expect(response.headers).to.not.have.property('access-control-allow-credentials');
  });
});
