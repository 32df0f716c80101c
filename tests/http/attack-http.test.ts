import http from 'node:http';
import { expect } from 'chai';
import { type TestApp, startTestApp } from '../support/test-app.js';
import {
  type RawResponse,
  bearer,
  expectError,
  expectNo5xx,
  expectTokens,
  rawRequest,
  registerUser,
  strongPassword,
  uniqueName,
} from './helpers.js';

const BODY_LIMIT_BYTES = 16 * 1024;

/** A JSON login body of exactly `size` bytes. */
function loginBodyOfSize(size: number): Buffer {
  const head = '{"username":"alice","password":"Some-Password-1","pad":"';
  const tail = '"}';
  return Buffer.from(`${head}${'a'.repeat(size - head.length - tail.length)}${tail}`, 'utf8');
}

interface Outcome {
  /** The HTTP status, or the client-side error code (ECONNRESET, TIMEOUT...) when no answer came. */
  readonly status: number | string;
  readonly text: string;
  readonly headers: http.IncomingHttpHeaders;
}

/** One request through node:http with the given agent, settled within `timeoutMs` (TIMEOUT when no answer came). */
function send(
  app: TestApp,
  options: {
    method: string;
    path: string;
    headers?: Record<string, string | number>;
    body?: Buffer;
    agent: http.Agent | false;
    timeoutMs?: number;
  },
): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const request = http.request(
      new URL(options.path, app.baseUrl),
      { method: options.method, headers: options.headers ?? {}, agent: options.agent },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          settle({
            status: response.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            headers: response.headers,
          }),
        );
        response.on('error', (error: NodeJS.ErrnoException) =>
          settle({ status: error.code ?? 'ERROR', text: '', headers: {} }),
        );
      },
    );
    const timer = setTimeout(() => {
      settle({ status: 'TIMEOUT', text: '', headers: {} });
      request.destroy();
    }, options.timeoutMs ?? 5000);
    request.on('error', (error: NodeJS.ErrnoException) =>
      settle({ status: error.code ?? 'ERROR', text: '', headers: {} }),
    );
    if (options.body !== undefined) request.write(options.body);
    request.end();
  });
}

function parsedError(response: RawResponse | Outcome) {
  expect(response.headers['content-type'], response.text).to.match(/^application\/json/);
  return JSON.parse(response.text) as { status_code: number; error: string; message: string; request_id: string };
}

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

describe('Attack: HTTP hardening (issue 4, item 5)', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });

  after(async () => {
    await app?.close();
  });

  describe('content types', () => {
    for (const type of [
      'text/html',
      'text/html; charset=utf-8',
      'application/xml',
      'text/xml',
      'multipart/form-data; boundary=xyz',
      'application/x-www-form-urlencoded',
    ]) {
      it(`answers 415 UnsupportedMediaType to ${type} at login, registration and refresh`, async () => {
        const body = type.startsWith('multipart')
          ? '--xyz\r\nContent-Disposition: form-data; name="username"\r\n\r\nalice\r\n--xyz--\r\n'
          : '{"username":"alice","password":"Some-Password-1"}';
        for (const path of ['/api/login', '/api/registration', '/api/refresh']) {
          await expectError(await app.post(path, body, { 'Content-Type': type }), 415, 'UnsupportedMediaType');
        }
      });
    }

    it('stores no user when registration is sent as application/xml', async () => {
      const username = uniqueName('xml');
      const body = `<user><username>${username}</username><password>${strongPassword()}</password></user>`;
      await expectError(
        await app.post('/api/registration', body, { 'Content-Type': 'application/xml' }),
        415,
        'UnsupportedMediaType',
      );
      const login = await app.post('/api/login', { username, password: 'whatever-1' });
      expect(login.status).to.equal(401);
    });
  });

  describe('body limit (BODY_LIMIT, default 16kb)', () => {
    it('accepts a body just under the limit (answered on its merits, 401)', async () => {
      const response = await rawRequest(app, {
        method: 'POST',
        path: '/api/login',
        headers: { 'Content-Type': 'application/json', 'Content-Length': BODY_LIMIT_BYTES - 100 },
        body: loginBodyOfSize(BODY_LIMIT_BYTES - 100),
      });
      expect(response.status, response.text).to.equal(401);
    });

    it('answers 413 PayloadTooLarge (JSON) to a body over the limit sent with Content-Length', async () => {
      const body = loginBodyOfSize(BODY_LIMIT_BYTES + 100);
      const response = await rawRequest(app, {
        method: 'POST',
        path: '/api/login',
        headers: { 'Content-Type': 'application/json', 'Content-Length': body.length },
        body,
      });
      expect(response.status, response.text).to.equal(413);
      expect(parsedError(response)).to.include({ status_code: 413, error: 'PayloadTooLarge' });
    });

    it('answers 413 PayloadTooLarge (JSON) to a body over the limit sent chunked, without Content-Length', async () => {
      const body = loginBodyOfSize(BODY_LIMIT_BYTES + 100);
      const response = await send(app, {
        method: 'POST',
        path: '/api/login',
        headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
        body,
        agent: false,
      });
      expect(response.status, response.text).to.equal(413);
      expect(parsedError(response)).to.include({ status_code: 413, error: 'PayloadTooLarge' });
    });

    it('answers 413 to an oversized text/plain and an oversized content-type-less body as well', async () => {
      const body = loginBodyOfSize(BODY_LIMIT_BYTES + 100);
      for (const headers of [{ 'Content-Type': 'text/plain' }, {}] as Record<string, string>[]) {
        const response = await send(app, {
          method: 'POST',
          path: '/api/refresh',
          headers: { ...headers, 'Transfer-Encoding': 'chunked' },
          body,
          agent: false,
        });
        expect(response.status, `${JSON.stringify(headers)}: ${response.text}`).to.equal(413);
        expect(parsedError(response).error).to.equal('PayloadTooLarge');
      }
    });

    it('keeps memory flat under 200 bodies of 1 MB (Content-Length and chunked, 4 at a time): every one 413, RSS grows < 50 MB', async function () {
      this.timeout(60_000);
      const megabyte = loginBodyOfSize(1024 * 1024);
      // A connection per request, so the keep-alive defect below does not stall this measurement.
      const attempt = (index: number) =>
        send(app, {
          method: 'POST',
          path: index % 4 === 0 ? '/api/registration' : '/api/login',
          headers:
            index % 2 === 0
              ? { 'Content-Type': 'application/json', 'Content-Length': megabyte.length }
              : { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
          body: megabyte,
          agent: false,
        });
      // Warm up so lazily allocated buffers do not count as growth.
      for (let i = 0; i < 8; i += 1) await attempt(i);
      const before = process.memoryUsage().rss;
      const statuses = new Map<number | string, number>();
      for (let batch = 0; batch < 50; batch += 1) {
        const answers = await Promise.all([0, 1, 2, 3].map((offset) => attempt(batch * 4 + offset)));
        for (const answer of answers) statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      }
      const grownMb = (process.memoryUsage().rss - before) / (1024 * 1024);
      console.log(
        `      200 x 1 MB bodies: statuses ${JSON.stringify(Object.fromEntries(statuses))}, RSS growth ${grownMb.toFixed(1)} MB`,
      );
      expect(Object.fromEntries(statuses)).to.deep.equal({ 413: 200 });
      expect(grownMb).to.be.below(50);
      const health = await app.request('/api/health');
      expect(health.status, 'still serving').to.equal(200);
    });

    it('keeps a keep-alive connection usable after a 413 to an oversized chunked body', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const megabyte = loginBodyOfSize(1024 * 1024);
        const oversized = await send(app, {
          method: 'POST',
          path: '/api/login',
          headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
          body: megabyte,
          agent,
        });
        expect(oversized.status).to.equal(413);
        // Either the server closed that connection (Connection: close) or it drained the body; the next request on the
        // same agent must be answered, not left hanging on a socket whose unread body blocks the parser.
        const next = await send(app, { method: 'GET', path: '/api/health', agent, timeoutMs: 3000 });
        expect(
          next.status,
          `next request on the same keep-alive agent (413 said Connection: ${String(oversized.headers.connection)})`,
        ).to.equal(200);
      } finally {
        agent.destroy();
      }
    });
  });

  describe('methods and malformed bodies', () => {
    for (const [method, path, allowed] of [
      ['PUT', '/api/login', ['POST']],
      ['DELETE', '/api/login', ['POST']],
      ['GET', '/api/registration', ['POST']],
      ['POST', '/api/protected', ['GET']],
      ['DELETE', '/api/users/1', ['PATCH']],
      ['PUT', '/api/', ['GET']],
    ] as const) {
      it(`answers ${method} ${path} with 405 MethodNotAllowed (JSON) and an Allow header naming ${allowed.join(', ')}`, async () => {
        const response = await app.request(path, { method });
        const allow = (response.headers.get('allow') ?? '').split(',').map((name) => name.trim());
        await expectError(response, 405, 'MethodNotAllowed');
        for (const name of allowed) expect(allow).to.include(name);
        expect(allow).to.not.include(method);
      });
    }

    for (const [name, body] of [
      ['a truncated object', '{"username": "alice", "password":'],
      ['single quotes', "{'username': 'alice'}"],
      ['a trailing comma', '{"username": "alice",}'],
      ['a bare word', 'undefined'],
      ['a byte-order mark and garbage', '\ufeff{{'],
    ] as const) {
      it(`answers 400 ValidationError (JSON) to malformed JSON: ${name}`, async () => {
        await expectError(await app.post('/api/login', body), 400, 'ValidationError', /JSON/);
        await expectError(await app.post('/api/registration', body), 400, 'ValidationError', /JSON/);
      });
    }
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

describe('Attack: CORS allow-list (CORS_ORIGINS=https://app.example.com)', () => {
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
