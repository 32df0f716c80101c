import { createHmac } from 'node:crypto';
import http from 'node:http';
import { expect } from 'chai';
import fc from 'fast-check';
import { TEST_SECRET, type TestApp, startTestApp } from '../support/test-app.js';
import {
  base64urlJson,
  decodeJwt,
  expectNo5xx,
  expectTokens,
  registerUser,
  setRoles,
  strongPassword,
  uniqueName,
} from './helpers.js';

/** Cases per endpoint; 11 properties, so a run fuzzes 11 × 1,500 = 16,500 requests (FUZZ_RUNS overrides). */
const RUNS_PER_ENDPOINT = Number(process.env.FUZZ_RUNS ?? 1500);
/** A random seed per run, logged so a failure can be replayed with FUZZ_SEED. */
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'] as const;

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=UTF-8',
  'application/json;charset="utf-8"',
  'application/json; charset=latin1',
  'application/json; charset=iso-8859-1',
  'application/json; charset=utf-16',
  'application/json; charset=bogus',
  'application/json; boundary=x; charset=utf-8',
  'application/vnd.api+json',
  'application/merge-patch+json',
  'text/plain',
  'text/plain;charset=UTF-8',
  'text/plain; charset=us-ascii',
  'text/plain; charset=nope',
  'text/html',
  'application/xml',
  'multipart/form-data; boundary=xyz',
  'multipart/form-data',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
  '*/*',
  'application/',
  '/',
  ';',
  ';;charset=utf-8',
  'json',
  'APPLICATION/JSON',
  '',
];

/** Header values node:http will send: tab, printable ASCII and Latin-1 only. */
const headerSafe = (text: string) => text.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');

/** Compact JWS over the given header and payload, signed with the app's real secret (so claim parsing is reached). */
function signed(header: unknown, payload: unknown): string {
  const input = `${base64urlJson(header)}.${base64urlJson(payload)}`;
  return `${input}.${createHmac('sha256', TEST_SECRET).update(input).digest('base64url')}`;
}

/**
 * Records every unhandled rejection and uncaught exception until `restore()`. The runner's own listeners are set aside
 * meanwhile, so an error thrown by the server outside any request (which would crash the real process) is counted here
 * instead of aborting the test half-way.
 */
function captureProcessErrors(): { readonly errors: string[]; restore(): void } {
  const errors: string[] = [];
  const text = (error: unknown) =>
    (error instanceof Error ? (error.stack ?? error.message) : String(error)).slice(0, 600);
  const savedRejection = process.listeners('unhandledRejection');
  const savedException = process.listeners('uncaughtException');
  const onRejection = (reason: unknown) => errors.push(`unhandledRejection: ${text(reason)}`);
  const onException = (error: Error) => errors.push(`uncaughtException: ${text(error)}`);
  process.removeAllListeners('unhandledRejection');
  process.removeAllListeners('uncaughtException');
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    errors,
    restore() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
      for (const listener of savedRejection) process.on('unhandledRejection', listener);
      for (const listener of savedException) process.on('uncaughtException', listener);
    },
  };
}

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly headers: http.IncomingHttpHeaders;
}

interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer | undefined;
}

describe('Fuzz: every endpoint, body, header and token (issue 4, item 6)', function () {
  this.timeout(120_000);
  let app: TestApp;
  let agent: http.Agent;
  let realTokens: string[];
  let adminTokens: string[];
  let logoutTokens: string[];
  let refreshTokens: string[];
  let realClaims: Record<string, unknown>;
  let cases = 0;
  let fivexx = 0;
  const statusCounts = new Map<number, number>();
  let processErrors: readonly string[] = [];

  before(async () => {
    app = await startTestApp();
    agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    // Filler users, so that small ids the fuzzer favours rarely hit the admin.
    for (let i = 0; i < 10; i += 1) await registerUser(app);
    const users = await Promise.all(Array.from({ length: 3 }, () => registerUser(app)));
    realTokens = users.map((user) => user.token);
    realClaims = decodeJwt(users[0]!.token).payload;
    const admin = await registerUser(app, { username: uniqueName('admin') });
    await setRoles(app, admin.username, 'admin,user');
    adminTokens = [];
    refreshTokens = [];
    for (let i = 0; i < 2; i += 1) {
      const login = await app.post('/api/login', { username: admin.username, password: admin.password });
      const body = (await login.clone().json()) as { refresh_token: string };
      adminTokens.push((await expectTokens(login, 200)).access_token);
      refreshTokens.push(body.refresh_token);
    }
    const logoutUsers = await Promise.all(Array.from({ length: 3 }, () => registerUser(app)));
    logoutTokens = logoutUsers.map((user) => user.token);
  });

  after(async () => {
    agent?.destroy();
    await app?.close();
  });

  function send(request: FuzzRequest): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...request.headers };
      if (request.body !== undefined) headers['Content-Length'] = request.body.length;
      const { hostname, port } = new URL(app.baseUrl);
      // host/port/path rather than a URL, so a path such as "//api/" is sent as it is.
      const outgoing = http.request(
        { hostname, port, path: request.path, method: request.method, headers, agent },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
              headers: response.headers,
            }),
          );
          response.on('error', reject);
        },
      );
      let answered = false;
      outgoing.on('response', () => (answered = true));
      outgoing.on('error', (error) => {
        if (!answered) reject(error);
      });
      const timer = setTimeout(() => outgoing.destroy(new Error('no answer within 10 s')), 10_000);
      outgoing.on('close', () => clearTimeout(timer));
      if (request.body !== undefined) outgoing.write(request.body);
      outgoing.end();
    });
  }

  /** The error the app logged for a request id (the latest, as fuzzed ids may repeat). */
  function serverError(requestId: unknown): string {
    const line = app.logger.lines.findLast(
      (candidate) =>
        candidate.level === 'error' && candidate.message !== 'request' && candidate.fields.request_id === requestId,
    );
    const err = line?.fields.err as { message?: string } | undefined;
    return (err?.message ?? 'nothing').slice(0, 80);
  }

  /** What is wrong with an answer, or undefined when it keeps the contract. */
  function violation(request: FuzzRequest, answer: Answer): string | undefined {
    if (answer.status >= 500) return `${answer.status} (logged: ${serverError(answer.headers['x-request-id'])})`;
    if (typeof answer.headers['x-request-id'] !== 'string' || answer.headers['x-request-id'] === '')
      return 'no X-Request-Id';
    if (answer.status >= 400 && request.method !== 'HEAD') {
      if (!/^application\/json/.test(answer.headers['content-type'] ?? '')) return `${answer.status} not JSON`;
      try {
        const body = JSON.parse(answer.text) as Record<string, unknown>;
        if (body.status_code !== answer.status) return `${answer.status} with status_code ${String(body.status_code)}`;
        if (typeof body.error !== 'string') return `${answer.status} without error name`;
        if (body.request_id !== answer.headers['x-request-id'])
          return `${answer.status} request_id differs from X-Request-Id`;
      } catch {
        return `${answer.status} body is not JSON`;
      }
    }
    return undefined;
  }

  /** Violations by kind, each with the smallest request that showed it (the run goes on, so every case counts). */
  const violations = new Map<string, { count: number; example: string }>();

  /** Sends one fuzzed request and records any break of the contract every answer keeps. */
  async function check(request: FuzzRequest): Promise<void> {
    cases += 1;
    let kind: string | undefined;
    let answerText = '';
    try {
      const answer = await send(request);
      statusCounts.set(answer.status, (statusCounts.get(answer.status) ?? 0) + 1);
      if (answer.status >= 500) fivexx += 1;
      kind = violation(request, answer);
      answerText = answer.text.slice(0, 200);
    } catch (error) {
      kind = `no answer: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (kind === undefined) return;
    const example = JSON.stringify({
      method: request.method,
      path: request.path,
      headers: request.headers,
      body: request.body === undefined ? undefined : request.body.toString('latin1').slice(0, 200),
      answer: answerText,
    });
    const seen = violations.get(kind);
    if (!seen) violations.set(kind, { count: 1, example });
    else
      violations.set(kind, {
        count: seen.count + 1,
        example: example.length < seen.example.length ? example : seen.example,
      });
  }

  // ---- arbitraries -------------------------------------------------------------------------------------------------

  /** Characters that break naive code: NUL, lone surrogates, BOM, line separators, combining marks, NFKC-unstable. */
  const nastyUnit = fc.constantFrom(
    '\u0000',
    '\ud800',
    '\udfff',
    '\ufeff',
    '\u2028',
    '\u0085',
    '\u202e',
    '\u0301',
    '\ufb01',
    '\u212a',
    'ｱ',
    'é',
    '%',
    '\\',
    '"',
    "'",
    ' ',
    '\t',
    'a',
    'Z',
    '0',
    '_',
  );
  const anyString = fc.oneof(
    { weight: 2, arbitrary: fc.string() },
    { weight: 1, arbitrary: fc.string({ unit: 'binary' }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme' }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii' }) },
    { weight: 3, arbitrary: fc.string({ unit: nastyUnit, maxLength: 70 }) },
  );
  const anyJson = fc.oneof(fc.jsonValue(), fc.jsonValue({ stringUnit: 'binary' }));

  const oversized = fc
    .tuple(fc.integer({ min: 16 * 1024 + 1, max: 48 * 1024 }), fc.constantFrom('a', '{', '"', '\u00e9'))
    .map(([size, char]) => Buffer.from(char.repeat(size)));

  /** Bodies shaped like what each endpoint reads, with arbitrary values in the fields. */
  const shapedBody = fc.oneof(
    fc.record(
      { username: fc.oneof(anyString, anyJson), password: fc.oneof(anyString, anyJson, fc.constant(strongPassword())) },
      { requiredKeys: [] },
    ),
    fc.record({
      username: fc.string({ unit: 'binary', maxLength: 80 }),
      password: fc.string({ unit: 'binary', minLength: 6, maxLength: 140 }),
    }),
    fc.record(
      {
        refresh_token: fc.oneof(
          anyString,
          anyJson,
          fc.nat().map((pick) => refreshTokens[pick % refreshTokens.length]!),
        ),
      },
      { requiredKeys: [] },
    ),
    fc.record({ access_token: fc.oneof(anyString, anyJson) }, { requiredKeys: [] }),
    fc.record(
      { roles: fc.oneof(fc.array(anyString, { maxLength: 5 }), anyJson), is_active: fc.oneof(fc.boolean(), anyJson) },
      { requiredKeys: [] },
    ),
    fc.dictionary(anyString, anyJson, { maxKeys: 5 }),
  );

  const body: fc.Arbitrary<Buffer | undefined> = fc.oneof(
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 6, arbitrary: shapedBody.map((value) => Buffer.from(JSON.stringify(value), 'utf8')) },
    { weight: 2, arbitrary: anyJson.map((value) => Buffer.from(JSON.stringify(value) ?? 'null', 'utf8')) },
    { weight: 2, arbitrary: anyString.map((text) => Buffer.from(text, 'utf8')) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary' }).map((text) => Buffer.from(text, 'latin1')) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 1, arbitrary: oversized },
  );

  const contentType = fc.oneof(
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 5, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }).map(headerSafe) },
  );

  const contentEncoding = fc.oneof(
    { weight: 20, arbitrary: fc.constant(undefined) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'compress', 'x-bogus', 'gzip, deflate', 'GZIP'),
    },
  );

  const base64urlSegment = fc.stringMatching(/^[A-Za-z0-9_-]{0,80}$/);

  const flippedToken = (tokens: () => string[]) =>
    fc
      .tuple(
        fc.nat(),
        fc.nat(),
        fc.oneof(
          fc.constantFrom(...'ABCxyz019-_.='.split('')),
          fc.integer({ min: 0x20, max: 0xff }).map((code) => String.fromCharCode(code)),
        ),
      )
      .map(([pick, position, replacement]) => {
        const list = tokens();
        const token = list[pick % list.length]!;
        const at = position % token.length;
        return `${token.slice(0, at)}${replacement}${token.slice(at + 1)}`;
      });

  const claimOverride = fc
    .tuple(
      fc.constantFrom('iat', 'exp', 'jti', 'sid', 'id', 'rls', 'rf_exp', 'sub', 'typ', 'iss', 'nbf', 'aud', 'x'),
      anyJson,
    )
    .map(([claim, value]) => signed({ alg: 'HS256', typ: 'JWT' }, { ...realClaims, [claim]: value }));

  const authorization = (tokens: () => string[]) =>
    fc.oneof(
      { weight: 2, arbitrary: fc.constant(undefined) },
      { weight: 2, arbitrary: anyString.map(headerSafe) },
      { weight: 2, arbitrary: anyString.map((text) => headerSafe(`Bearer ${text}`)) },
      {
        weight: 2,
        arbitrary: fc
          .array(base64urlSegment, { minLength: 1, maxLength: 5 })
          .map((parts) => `Bearer ${parts.join('.')}`),
      },
      { weight: 3, arbitrary: flippedToken(tokens).map((token) => headerSafe(`Bearer ${token}`)) },
      { weight: 2, arbitrary: claimOverride.map((token) => `Bearer ${token}`) },
      {
        weight: 1,
        arbitrary: fc.tuple(anyJson, anyJson).map(([header, payload]) => `Bearer ${signed(header, payload)}`),
      },
      { weight: 2, arbitrary: fc.nat().map((pick) => `Bearer ${tokens()[pick % tokens().length]!}`) },
      {
        weight: 1,
        arbitrary: fc.constantFrom('Basic YWxpY2U6c2VjcmV0', 'Bearer', 'Bearer ', 'bearer  x.y.z  ', 'Digest x', ''),
      },
    );

  const requestId = fc.oneof(
    fc.constant(undefined),
    fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/),
    fc.string({ unit: 'binary', maxLength: 300 }).map(headerSafe),
    fc.string({ minLength: 129, maxLength: 400 }),
  );

  const method = (usual: string) =>
    fc.oneof({ weight: 6, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) });

  const query = fc.oneof(
    { weight: 4, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: fc.string().map((text) => `?${encodeURIComponent(text)}`) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.constantFrom('page', 'per_page', 'access_token', 'x'),
          fc.oneof(fc.string(), fc.integer().map(String), fc.bigInt().map(String)),
        )
        .map(([key, value]) => `?${key}=${encodeURIComponent(value)}`),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '?page=1&page=2',
        '?per_page=%',
        '?%zz=1',
        '?page=-1',
        '?per_page=0',
        '?page=999999999',
        '?access_token=a.b.c',
      ),
    },
  );

  const userId = fc.oneof(
    fc.integer().map(String),
    fc.bigInt().map(String),
    fc.string().map(encodeURIComponent),
    fc.string({ unit: 'binary' }).map(encodeURIComponent),
    fc.stringMatching(/^[0-9A-Za-z%._~!$&'()*+,;=:@-]{0,24}$/),
    fc.constantFrom(
      '0',
      '-1',
      '01',
      '1e3',
      '0x10',
      '2147483647',
      '2147483648',
      '99999999999',
      '%00',
      '%zz',
      '..',
      '%2F',
      ' 1'.replace(' ', '%20'),
    ),
  );

  const requestOf = (
    usualMethod: string,
    path: fc.Arbitrary<string>,
    tokens: () => string[],
  ): fc.Arbitrary<FuzzRequest> =>
    fc
      .record({
        method: method(usualMethod),
        path,
        body,
        contentType,
        contentEncoding,
        authorization: authorization(tokens),
        requestId,
      })
      .map(
        ({
          method: verb,
          path: target,
          body: payload,
          contentType: type,
          contentEncoding: encoding,
          authorization: auth,
          requestId: id,
        }) => {
          const headers: Record<string, string> = {};
          if (type !== undefined) headers['Content-Type'] = type;
          if (encoding !== undefined) headers['Content-Encoding'] = encoding;
          if (auth !== undefined) headers.Authorization = auth;
          if (id !== undefined) headers['X-Request-Id'] = id;
          return {
            method: verb,
            path: target,
            headers,
            body: verb === 'GET' || verb === 'HEAD' ? (payload?.length ? payload : undefined) : payload,
          };
        },
      );

  const endpoints: [string, () => fc.Arbitrary<FuzzRequest>][] = [
    [
      'GET /api/',
      () =>
        requestOf(
          'GET',
          query.map((q) => `/api/${q}`),
          () => realTokens,
        ),
    ],
    [
      'GET /api/health',
      () =>
        requestOf(
          'GET',
          query.map((q) => `/api/health${q}`),
          () => realTokens,
        ),
    ],
    [
      'GET /api/ready',
      () =>
        requestOf(
          'GET',
          query.map((q) => `/api/ready${q}`),
          () => realTokens,
        ),
    ],
    ['POST /api/registration', () => requestOf('POST', fc.constant('/api/registration'), () => realTokens)],
    ['POST /api/login', () => requestOf('POST', fc.constant('/api/login'), () => realTokens)],
    [
      'POST /api/refresh',
      () => requestOf('POST', fc.constant('/api/refresh'), () => [...realTokens, ...refreshTokens]),
    ],
    [
      'GET /api/protected',
      () =>
        requestOf(
          'GET',
          query.map((q) => `/api/protected${q}`),
          () => realTokens,
        ),
    ],
    ['POST /api/logout', () => requestOf('POST', fc.constant('/api/logout'), () => logoutTokens)],
    [
      'GET /api/users',
      () =>
        requestOf(
          'GET',
          query.map((q) => `/api/users${q}`),
          () => [...adminTokens, ...realTokens],
        ),
    ],
    [
      'PATCH /api/users/:id',
      () =>
        requestOf(
          'PATCH',
          userId.map((id) => `/api/users/${id}`),
          () => [...adminTokens, ...realTokens],
        ),
    ],
    [
      'any method, any path',
      () =>
        requestOf(
          'GET',
          fc.oneof(
            fc.constantFrom(
              '/',
              '/api',
              '/api//login',
              '/api/login/',
              '/API/LOGIN',
              '/api/users/',
              '/api/users/1/2',
              '/api/../api/',
              '/api/%2e%2e/',
              '/%',
              '/api/%zz',
              '/api/protected;x',
              '//api/',
            ),
            fc.array(fc.string().map(encodeURIComponent), { maxLength: 4 }).map((parts) => `/api/${parts.join('/')}`),
          ),
          () => [...adminTokens, ...realTokens],
        ),
    ],
  ];

  it(`answers ${endpoints.length} × ${RUNS_PER_ENDPOINT} fuzzed requests with no 5xx, a JSON error for every 4xx, and no unhandled rejection`, async () => {
    const started = Date.now();
    console.log(`      fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED} npx mocha tests/http/fuzz.test.ts)`);
    // Endpoints run side by side (each property in order), which keeps the run short and adds modest concurrency.
    // The property records violations rather than throwing, so every case runs and the 5xx count is the run's.
    const capture = captureProcessErrors();
    try {
      await Promise.all(
        endpoints.map(([, arbitrary], index) =>
          fc.assert(
            fc.asyncProperty(arbitrary(), (request) => check(request)),
            { numRuns: RUNS_PER_ENDPOINT, seed: SEED + index },
          ),
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      capture.restore();
    }
    processErrors = capture.errors;
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `      fuzzed ${cases} requests in ${seconds.toFixed(1)} s; 5xx seen: ${fivexx}; ` +
        `statuses ${JSON.stringify(Object.fromEntries([...statusCounts].sort(([a], [b]) => a - b)))}; ` +
        `process errors: ${processErrors.length}`,
    );
    const report = [...violations].map(([kind, { count, example }]) => `${count} × ${kind}\n    smallest: ${example}`);
    if (report.length > 0) console.log(`      violations:\n${report.map((line) => `        ${line}`).join('\n')}`);
    expect(cases).to.be.at.least(10_000);
    expect(report, report.join('\n')).to.deep.equal([]);
    expect(fivexx).to.equal(0);
    const distinct = [...new Set(processErrors.map((error) => error.split('\n')[0]))];
    expect(distinct, `${processErrors.length} process errors`).to.deep.equal([]);
  });

  it('logged no 5xx and no error line while fuzzed, and still serves', async () => {
    const errors = new Map<string, number>();
    for (const line of app.logger.lines.filter(
      (candidate) => candidate.level === 'error' && candidate.message !== 'request',
    )) {
      const err = line.fields.err as { name?: string; message?: string } | undefined;
      const key = `${line.message}: ${err?.name ?? ''} ${err?.message ?? JSON.stringify(line.fields.err ?? '')}`.slice(
        0,
        200,
      );
      errors.set(key, (errors.get(key) ?? 0) + 1);
    }
    if (errors.size > 0)
      console.log(
        `      distinct server errors logged:\n${[...errors].map(([key, count]) => `        ${count} × ${key}`).join('\n')}`,
      );
    expect((await app.request('/api/ready')).status).to.equal(200);
    expectNo5xx(app);
  });
});

describe('Fuzz findings, pinned as regression tests', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });

  after(async () => {
    await app?.close();
  });

  function post(path: string, headers: Record<string, string>, body?: Buffer): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const outgoing = http.request(
        new URL(path, app.baseUrl),
        {
          method: 'POST',
          agent: false,
          headers: body === undefined ? headers : { ...headers, 'Content-Length': String(body.length) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
              headers: response.headers,
            }),
          );
        },
      );
      let answered = false;
      outgoing.on('response', () => (answered = true));
      outgoing.on('error', (error) => {
        if (!answered) reject(error);
      });
      if (body !== undefined) outgoing.write(body);
      outgoing.end();
    });
  }

  it('answers a login whose username contains NUL like any unknown user: 401, not 500', async () => {
    const user = await registerUser(app);
    for (const username of ['a\u0000b', '\u0000', `${user.username}\u0000`]) {
      const response = await app.post(
        '/api/login',
        { username, password: user.password },
        { 'X-Request-Id': 'nul-probe' },
      );
      const text = await response.text();
      expect(response.status, `${JSON.stringify(username)}: ${text}`).to.equal(401);
      expect(JSON.parse(text)).to.deep.equal({
        status_code: 401,
        error: 'AuthenticationError',
        message: 'The username and/or password are incorrect',
        request_id: 'nul-probe',
      });
    }
  });

  for (const encoding of ['gzip', 'deflate', 'br']) {
    it(`answers a body that does not decode as Content-Encoding: ${encoding} with 415, never decoding it`, async () => {
      const failures: string[] = [];
      for (const [name, body] of [
        ['plain JSON', Buffer.from('{"username":"alice","password":"Some-Password-1"}')],
        ['one byte', Buffer.from([0xb0])],
        ['no body at all', undefined],
      ] as const) {
        const answer = await post(
          '/api/login',
          { 'Content-Type': 'application/json', 'Content-Encoding': encoding },
          body,
        );
        const parsed = JSON.parse(answer.text) as { status_code?: number; error?: string };
        if (answer.status !== 415 || parsed.status_code !== 415 || parsed.error !== 'UnsupportedMediaType')
          failures.push(`${name}: ${answer.status} ${answer.text}`);
      }
      expect(failures).to.deep.equal([]);
    });
  }

  it('survives an oversized body sent as Content-Encoding: br without an uncaught exception', async () => {
    const capture = captureProcessErrors();
    let answer: Answer;
    try {
      answer = await post(
        '/api/login',
        { 'Content-Type': 'application/json', 'Content-Encoding': 'br' },
        Buffer.alloc(20_000, 'a'),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      capture.restore();
    }
    expect(
      capture.errors,
      'uncaught errors (the real process has no uncaughtException handler, so it would exit)',
    ).to.deep.equal([]);
    expect(answer.status, answer.text).to.equal(415);
  });

  it('refuses a gzip body, a well-formed one and a gzip bomb alike, with 415 UnsupportedMediaType, never inflating it', async () => {
    const { gzipSync } = await import('node:zlib');
    const expectCompressionRefused = (answer: Answer) => {
      expect(answer.status, answer.text).to.equal(415);
      expect(answer.headers['content-type']).to.match(/^application\/json/);
      expect(JSON.parse(answer.text)).to.deep.include({
        status_code: 415,
        error: 'UnsupportedMediaType',
        message: 'Compressed request bodies (Content-Encoding) are not accepted',
      });
    };
    const valid = await post(
      '/api/login',
      { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      gzipSync(Buffer.from('{"username":"nobody_here","password":"Some-Password-1"}')),
    );
    expectCompressionRefused(valid);
    const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024, 0x20));
    expect(bomb.length, 'compressed size is under the 16 KB limit').to.be.below(16 * 1024 + 1024);
    const before = process.memoryUsage().rss;
    const refused = await post('/api/login', { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, bomb);
    expectCompressionRefused(refused);
    expect((process.memoryUsage().rss - before) / (1024 * 1024)).to.be.below(50);
  });
});
