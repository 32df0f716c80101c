import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { z } from 'zod';
import { sql } from 'slonik';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { TEST_SECRET } from '../support/test-app.js';
import { freePort } from '../support/free-port.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** argon2id m=16 MiB, t=30, p=1: about 300 ms a hash here, so a login is still running when SIGTERM arrives. */
const SLOW_ARGON2 = { ARGON2_MEMORY_KIB: '16384', ARGON2_TIME_COST: '30', ARGON2_PARALLELISM: '1' };
/** How long to wait for an exit before recording none: a bound against hanging, not a speed goal. */
const EXIT_BOUND_MS = 30_000;

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface Service {
  readonly child: ChildProcess;
  readonly port: number;
  readonly output: { stdout: string; stderr: string };
  readonly exited: Promise<Exit>;
}

interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

function spawnService(env: Record<string, string>): Service & { port: number } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', METRICS_PORT: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, output, exited, port: Number(env.PORT) };
}

async function waitHealthy(service: Service): Promise<void> {
  let exit: Exit | undefined;
  void service.exited.then((result) => (exit = result));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exit) throw new Error(`service exited with ${exit.code} before it was healthy:\n${service.output.stderr}`);
    if (Date.now() > deadline) throw new Error(`service not healthy in time:\n${service.output.stderr}`);
    try {
      if ((await fetch(`http://127.0.0.1:${service.port}/api/health`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function httpRequest(method: string, path: string, body?: unknown): string {
  const payload = body === undefined ? '' : JSON.stringify(body);
  const headers = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: keep-alive'];
  if (body !== undefined)
    headers.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(payload)}`);
  return `${headers.join('\r\n')}\r\n\r\n${payload}`;
}

/** Reads HTTP/1.1 answers with a Content-Length from `buffer`, in order. */
function parseAnswers(buffer: string): HttpAnswer[] {
  const answers: HttpAnswer[] = [];
  let rest = buffer;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return answers;
    const head = rest.slice(0, end);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    const body = rest.slice(end + 4, end + 4 + length);
    if (body.length < length) return answers;
    answers.push({ status, body });
    rest = rest.slice(end + 4 + length);
  }
}

/** A keep-alive connection of its own, written and read by hand so that requests can be sent at chosen moments. */
function connection(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  let error: string | undefined;
  socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
  socket.on('error', (failure: NodeJS.ErrnoException) => (error = failure.code ?? failure.message));
  const connected = once(socket, 'connect');
  return {
    socket,
    /** Resolves once every byte of `request` is on the wire. */
    send: async (request: string) => {
      await connected;
      await new Promise<void>((resolve, reject) =>
        socket.write(request, (failure) => (failure ? reject(failure) : resolve())),
      );
    },
    /** Resolves with the first `count` answers, or fewer if the connection closes first. */
    answered: async (count: number) => {
      while (parseAnswers(received).length < count && !socket.destroyed) await sleep(5);
      return { answers: parseAnswers(received).slice(0, count), ...(error ? { error } : {}) };
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 20 ms; fails naming `what` after 30 s (a bound against hanging, not a speed goal). */
async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

/** A GET on a new connection: the status, or the connection error code (ECONNREFUSED once the listener is closed). */
async function getOnNewConnection(port: number, path: string): Promise<number | string> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
    await response.text();
    return response.status;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return cause?.code ?? String(error);
  }
}

/** How many POST requests the service has started on (its debug `request started` lines). */
const started = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.message === 'request started' && record['http.request.method'] === 'POST').length;

const messages = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { message: string }).message);

describe('SIGTERM with requests in flight (node --import tsx src/main.ts, external PostgreSQL)', function () {
  this.timeout(60_000);

  let database: TestDatabase;
  const services: Service[] = [];
  const credentials = { username: 'shutdown_user', password: 'Tr0ub4dor&3-fault-shutdown' };
  const login = httpRequest('POST', '/api/login', credentials);

  const backends = () =>
    database.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
      SELECT count(*)::int AS count FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid()`);

  async function start(): Promise<Service> {
    const service = spawnService({
      PORT: String(await freePort()),
      DATABASE_URL: database.uri,
      JWT_SECRET: TEST_SECRET,
      // Debug adds a line when each request starts, which tells when every in-flight request has been read.
      LOG_LEVEL: 'debug',
      // Nothing is shed: this suite is about stopping, not about overload.
      HASH_QUEUE_MAX_WAIT: '60s',
      ...SLOW_ARGON2,
    });
    services.push(service);
    await waitHealthy(service);
    return service;
  }

  /** Resolves with the exit, or 'no exit' after `ms`. */
  const exitWithin = (service: Service, ms: number) =>
    Promise.race([
      service.exited,
      new Promise<'no exit'>((resolve) => setTimeout(() => resolve('no exit'), ms).unref()),
    ]);

  before(async () => {
    database = await createTestDatabase();
    const service = await start();
    const registered = await fetch(`http://127.0.0.1:${service.port}/api/registration`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(credentials),
    });
    expect(registered.status, await registered.text()).to.equal(201);
  });

  after(async function () {
    this.timeout(20_000);
    for (const service of services) {
      if (service.child.exitCode === null && service.child.signalCode === null) {
        service.child.kill('SIGKILL');
        await service.exited;
      }
    }
    await database?.drop();
  });

  it('finishes the in-flight logins and registrations, turns /api/ready 503, closes the pool and exits 0', async () => {
    const service = services[0]!;
    expect(await getOnNewConnection(service.port, '/api/ready'), 'ready before the signal').to.equal(200);
    // Six logins (about 300 ms of argon2 each, a few at a time) and two registrations, each on its own connection, all
    // read by the server before the signal.
    const startedBefore = started(service.output.stdout);
    const inFlight = [
      ...Array.from({ length: 6 }, () => login),
      ...['a', 'b'].map((suffix) =>
        httpRequest('POST', '/api/registration', {
          username: `shutdown_new_${suffix}`,
          password: credentials.password,
        }),
      ),
    ].map((request) => ({ request, connection: connection(service.port) }));
    await Promise.all(inFlight.map(({ request, connection }) => connection.send(request)));
    await until(
      async () => started(service.output.stdout) - startedBefore >= inFlight.length,
      'the service has read every in-flight request',
    );
    expect(await backends(), 'the service holds pooled connections').to.be.greaterThan(0);

    const signalledAt = performance.now();
    service.child.kill('SIGTERM');
    await until(async () => messages(service.output.stdout).includes('shutting down'), 'the service took the signal');
    // A request read after the signal on a connection opened before it (the first login's, still busy): the listener
    // is closed by then, so this is the only way a client can still reach the app.
    await inFlight[0]!.connection.send(httpRequest('GET', '/api/ready'));
    const readyOnNewConnection = await getOnNewConnection(service.port, '/api/ready');

    const answers = await Promise.all(
      inFlight.map(({ connection }, index) => connection.answered(index === 0 ? 2 : 1)),
    );
    const answeredAt = performance.now();
    // Done with them, as a client would be: the server is not kept waiting for keep-alive connections to time out.
    for (const { connection } of inFlight) connection.socket.end();
    const exit = await exitWithin(service, EXIT_BOUND_MS);
    const exitedAt = performance.now();
    // PostgreSQL ends a backend a moment after its client goes; a pool left open would keep them until then too.
    await until(async () => (await backends()) === 0, 'the backends are gone').catch(() => undefined);
    const backendsAfter = await backends();
    const logged = messages(service.output.stdout);
    const readyOnOpenConnection = answers[0]!.answers[1];

    console.log(
      `      [fault-shutdown] in-flight answered ${(answeredAt - signalledAt).toFixed(0)} ms after SIGTERM, exit ` +
        `${JSON.stringify(exit)} ${(exitedAt - signalledAt).toFixed(0)} ms after it; /api/ready while stopping: ` +
        `${readyOnOpenConnection?.status ?? answers[0]!.error ?? 'no answer'} on an open connection, ` +
        `${readyOnNewConnection} on a new one`,
    );

    expect(
      {
        inFlight: answers.map((result) => result.answers[0]?.status ?? result.error ?? 'closed without an answer'),
        exit,
        shuttingDownLogged: logged.includes('shutting down'),
        lastLine: logged.at(-1),
        backendsAfter,
      },
      service.output.stderr,
    ).to.deep.equal({
      inFlight: [200, 200, 200, 200, 200, 200, 201, 201],
      exit: { code: 0, signal: null },
      shuttingDownLogged: true,
      lastLine: 'stopped',
      backendsAfter: 0,
    });
    for (const result of answers.slice(0, 6)) {
      expect(JSON.parse(result.answers[0]!.body)).to.have.property('access_token').that.is.a('string');
    }
    expect(readyOnOpenConnection?.status, readyOnOpenConnection?.body).to.equal(503);
    expect(JSON.parse(readyOnOpenConnection!.body)).to.include({ status_code: 503, error: 'ServiceUnavailable' });
    // Once the listener is closed a new connection is refused; a server still accepting would have to answer 503. The
    // listening socket is the supervisor's (node:cluster hands connections to the server processes): one it accepted
    // in the moment its last server process stopped taking them is reset rather than refused, or closed unanswered
    // (undici's UND_ERR_SOCKET, "other side closed") when the stop had already begun closing new connections.
    expect([503, 'ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET'], '/api/ready on a new connection').to.include(
      readyOnNewConnection,
    );
  });

  it(
    'closes keep-alive connections while stopping, so a client that keeps sending cannot hold the shutdown open ' +
      'until the drain deadline',
    async function () {
      this.timeout(90_000);
      const service = await start();
      const client = connection(service.port);
      let sending = true;
      const statuses: number[] = [];
      const loop = (async () => {
        for (let sent = 1; sending && !client.socket.destroyed; sent += 1) {
          await client.send(login).catch(() => undefined);
          const { answers } = await client.answered(sent);
          if (answers.length < sent) return;
          statuses.push(answers[sent - 1]!.status);
          await sleep(20);
        }
      })();
      await until(async () => statuses.length >= 2, 'the client is being answered');
      const signalledAt = performance.now();
      service.child.kill('SIGTERM');
      const exit = await exitWithin(service, EXIT_BOUND_MS);
      const exitMs = performance.now() - signalledAt;
      sending = false;
      await loop;
      client.socket.destroy();
      const eventually = await exitWithin(service, EXIT_BOUND_MS);
      console.log(
        `      [fault-shutdown] keep-alive client: exit ${JSON.stringify(exit)} after ${exitMs.toFixed(0)} ms ` +
          `(${statuses.length} answers: ${[...new Set(statuses)].join(', ')}); after the client left: ${JSON.stringify(eventually)}`,
      );
      expect(exit, 'exit 0 while a keep-alive client keeps sending').to.deep.equal({ code: 0, signal: null });
      expect(messages(service.output.stdout), 'the drain deadline was not what ended it').to.not.include(
        'shutdown deadline passed: exiting',
      );
    },
  );

  it('is not held hostage by a half-sent request: SIGTERM closes it at once and exits 0', async () => {
    const service = await start();
    const halfSent = connection(service.port);
    await halfSent.send('POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500\r\n\r\n{"user');
    const idle = connection(service.port);
    await idle.send(httpRequest('GET', '/api/health'));
    await idle.answered(1);
    service.child.kill('SIGTERM');
    expect(await exitWithin(service, EXIT_BOUND_MS)).to.deep.equal({ code: 0, signal: null });
    const logged = messages(service.output.stdout);
    expect(logged, 'closed at once, not when the drain deadline passed').to.not.include(
      'drain deadline passed: cutting the connections left',
    );
    expect(logged).to.not.include('shutdown deadline passed: exiting');
    await until(async () => halfSent.socket.destroyed && idle.socket.destroyed, 'both connections are closed');
  });

  it('lets a repeated SIGTERM not cut the drain short: the in-flight logins are answered, and it exits 0', async () => {
    const service = await start();
    const startedBefore = started(service.output.stdout);
    const inFlight = Array.from({ length: 4 }, () => connection(service.port));
    await Promise.all(inFlight.map((client) => client.send(login)));
    await until(
      async () => started(service.output.stdout) - startedBefore >= inFlight.length,
      'the service has read every in-flight request',
    );
    service.child.kill('SIGTERM');
    await until(async () => messages(service.output.stdout).includes('shutting down'), 'the service took the signal');
    service.child.kill('SIGTERM');
    const answers = await Promise.all(inFlight.map((client) => client.answered(1)));
    expect(answers.map((result) => result.answers[0]?.status ?? result.error ?? 'no answer')).to.deep.equal([
      200, 200, 200, 200,
    ]);
    expect(await exitWithin(service, EXIT_BOUND_MS)).to.deep.equal({ code: 0, signal: null });
    expect(messages(service.output.stdout).some((message) => /^already shutting down/.test(message))).to.equal(true);
  });
});
