import http from 'node:http';
import { expect } from 'chai';
import { type TestApp, startTestApp } from '../support/test-app.js';
import {
  BODY_LIMIT_BYTES,
  type ErrorBody,
  type RawResponse,
  expectError,
  expectNo5xx,
  expectTokens,
  loginBodyOfSize,
  rawRequest,
  registerUser,
  strongPassword,
  uniqueName,
} from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

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

describe('HTTP: errors, body parsing and request ids', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });

  after(async () => {
    await app?.close();
  });

  describe('malformed and non-object bodies → 400 ValidationError', () => {
    it('answers 400 ValidationError (not BadRequest) to malformed JSON sent as application/json', async () => {
      await expectError(
        await app.post('/api/login', '{"username": "alice", "password":'),
        400,
        'ValidationError',
        /JSON/,
      );
    });

    it('answers 400 ValidationError (JSON) to malformed JSON sent as text/plain', async () => {
      await expectError(
        await app.post('/api/login', '{"username": "alice", "password":', {
          'Content-Type': 'text/plain;charset=UTF-8',
        }),
        400,
        'ValidationError',
        /JSON/,
      );
    });

    it('answers 400 ValidationError (not BadRequest) to malformed application/json at registration', async () => {
      await expectError(await app.post('/api/registration', "{username: 'alice'}"), 400, 'ValidationError');
    });

    for (const [name, text] of [
      ['a JSON array', '[{"username":"alice","password":"Some-Passw0rd!"}]'],
      ['a JSON number', '42'],
      ['JSON null', 'null'],
      ['a JSON string', '"alice"'],
    ] as const) {
      it(`answers 400 ValidationError to ${name} body (application/json and text/plain)`, async () => {
        await expectError(await app.post('/api/login', text), 400, 'ValidationError', /JSON object/);
        await expectError(
          await app.post('/api/registration', text, { 'Content-Type': 'text/plain' }),
          400,
          'ValidationError',
          /JSON object/,
        );
      });
    }

    it('answers 400 ValidationError to an empty body at login', async () => {
      await expectError(await app.post('/api/login', ''), 400, 'ValidationError', /JSON object/);
    });

    it('answers 400 ValidationError to a login with no body at all', async () => {
      await expectError(await app.request('/api/login', { method: 'POST' }), 400, 'ValidationError', /JSON object/);
    });

    it('answers 400 ValidationError (not BadRequest) to a __proto__ key in application/json, polluting no prototype', async () => {
      const response = await app.post('/api/login', '{"username":"a","password":"b","__proto__":{"isAdmin":true}}');
      await expectError(response, 400, 'ValidationError');
      expect(({} as Record<string, unknown>).isAdmin).to.equal(undefined);
    });
  });

  describe('size and media type', () => {
    it('answers 413 PayloadTooLarge (JSON) to a 10 MB body, and keeps serving', async () => {
      const huge = Buffer.alloc(10 * 1024 * 1024, 'a');
      const response = await rawRequest(app, {
        method: 'POST',
        path: '/api/login',
        headers: { 'Content-Type': 'application/json', 'Content-Length': huge.length },
        body: huge,
      });
      expect(response.status, response.text).to.equal(413);
      expect(response.headers['content-type']).to.match(/^application\/json/);
      const body = JSON.parse(response.text) as ErrorBody;
      expect(body.status_code).to.equal(413);
      expect(body.error).to.equal('PayloadTooLarge');
      expect(body.request_id).to.equal(response.headers['x-request-id']);

      const user = await registerUser(app);
      await expectTokens(await app.post('/api/login', { username: user.username, password: user.password }), 200);
    });

    it('answers 413 PayloadTooLarge to a large text/plain body too', async () => {
      const response = await app.post('/api/refresh', 'x'.repeat(1024 * 1024), { 'Content-Type': 'text/plain' });
      await expectError(response, 413, 'PayloadTooLarge');
    });

    for (const type of ['application/xml', 'multipart/form-data; boundary=x']) {
      it(`answers 415 UnsupportedMediaType to ${type.split(';')[0]}`, async () => {
        const body = type === 'application/xml' ? '<login><username>a</username></login>' : 'username=a&password=b';
        await expectError(await app.post('/api/login', body, { 'Content-Type': type }), 415, 'UnsupportedMediaType');
      });
    }

    it('reads JSON sent as application/x-www-form-urlencoded as JSON, as curl -d and Flask did (issue 8, point 8)', async () => {
      const username = uniqueName();
      const password = strongPassword();
      const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
      await expectTokens(await app.post('/api/registration', JSON.stringify({ username, password }), form), 201);
      await expectTokens(await app.post('/api/login', JSON.stringify({ username, password }), form), 200);
    });

    it('reads a real form body as a form', async () => {
      const username = uniqueName();
      const password = 'Some-Long-Passw0rd+x';
      const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
      const body = new URLSearchParams({ username, password }).toString();
      await expectTokens(await app.post('/api/registration', body, form), 201);
      await expectTokens(await app.post('/api/login', { username, password }), 200);
    });
  });

  describe('routing', () => {
    it('answers 404 NotFound (JSON) to an unknown route', async () => {
      await expectError(await app.request('/api/does-not-exist'), 404, 'NotFound');
      await expectError(await app.request('/nothing/here', { method: 'POST' }), 404, 'NotFound');
    });

    it('answers 405 MethodNotAllowed with an Allow header naming POST to DELETE /api/login', async () => {
      const response = await app.request('/api/login', { method: 'DELETE' });
      await expectError(response, 405, 'MethodNotAllowed');
      expect(response.headers.get('allow')).to.match(/\bPOST\b/);
    });

    it('answers 405 MethodNotAllowed to GET /api/registration and POST /api/protected', async () => {
      const get = await app.request('/api/registration');
      await expectError(get, 405, 'MethodNotAllowed');
      expect(get.headers.get('allow')).to.match(/\bPOST\b/);
      const post = await app.post('/api/protected', {});
      await expectError(post, 405, 'MethodNotAllowed');
      expect(post.headers.get('allow')).to.match(/\bGET\b/);
    });
  });

  describe('X-Request-Id', () => {
    it('carries X-Request-Id on success and error answers alike', async () => {
      const user = await registerUser(app);
      const answers = [
        await app.request('/api/'),
        await app.post('/api/login', { username: user.username, password: user.password }),
        await app.post('/api/login', { username: user.username, password: 'wrong-Passw0rd' }),
        await app.request('/api/nope'),
      ];
      for (const answer of answers) {
        await answer.arrayBuffer();
        expect(answer.headers.get('x-request-id'), String(answer.status)).to.match(UUID);
      }
    });

    it('echoes a sane incoming X-Request-Id and uses it as request_id in an error body', async () => {
      const id = `trace-${uniqueName()}.01:ab`;
      const response = await app.request('/api/protected', { headers: { 'X-Request-Id': id } });
      expect(response.headers.get('x-request-id')).to.equal(id);
      const body = await expectError(response, 401, 'MissingToken');
      expect(body.request_id).to.equal(id);
    });

    for (const [name, id] of [
      ['a 300-character id', 'a'.repeat(300)],
      ['an id with markup', '<script>alert(1)</script>'],
      ['an id with spaces', 'abc def'],
    ] as const) {
      it(`replaces ${name} with a generated one`, async () => {
        const response = await app.request('/api/protected', { headers: { 'X-Request-Id': id } });
        const body = await expectError(response, 401, 'MissingToken');
        expect(body.request_id).to.not.equal(id);
        expect(body.request_id).to.match(UUID);
        expect(response.headers.get('x-request-id')).to.equal(body.request_id);
      });
    }
  });

  describe('after every request above', () => {
    it('answered none with a 5xx', () => {
      expectNo5xx(app);
    });
  });
});

describe('HTTP: hostile bodies, content types and methods (issue 4, item 5)', () => {
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
      ['PUT', '/api/users/1', ['GET', 'PATCH', 'DELETE']],
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

  describe('after every request above', () => {
    it('answered none with a 5xx', () => {
      expectNo5xx(app);
    });
  });
});
