import { expect } from 'chai';
import type { DatabasePool as SlonikPool } from 'slonik';
import { DatabasePool, resolve } from '../../src/composition-root.js';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { startService } from '../../src/service.js';
import { MemoryLogger } from '../fakes/memory-logger.js';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { testEnvironment } from '../support/test-app.js';

/** DATABASE_CONNECT_TIMEOUT of the app under test. */
const CONNECT_TIMEOUT_MS = 1000;
/**
 * How long a request may take before the client gives up and records it as hung (status 0). Far above any timeout of
 * the service, so only a request that would never be answered reaches it, however slow the machine.
 */
const CLIENT_GIVE_UP_MS = 60_000;
/** How long a wait on a condition may take before the test fails: a bound against hanging, not a speed goal. */
const CONDITION_TIMEOUT_MS = 30_000;

interface Sample {
  readonly kind: 'login' | 'protected' | 'ready' | 'health';
  readonly startedAt: number;
  readonly ms: number;
  /** 0 when the client gave up or the connection failed. */
  readonly status: number;
  readonly retryAfter: string | null;
  readonly body: Record<string, unknown> | string;
}

interface Service {
  readonly baseUrl: string;
  /** Whether the instance's change feed listens (guarded requests may then be answered from memory). */
  listening(): boolean;
  readonly logger: MemoryLogger;
  readonly pool: SlonikPool;
  close(): Promise<void>;
}

/** The service as production starts it ({@link startService}), with every pool on `databaseUri`. */
async function startFaultService(databaseUri: string, env: Record<string, string> = {}): Promise<Service> {
  const logger = new MemoryLogger();
  const config = loadConfig(
    testEnvironment(databaseUri, { DATABASE_CONNECT_TIMEOUT: `${CONNECT_TIMEOUT_MS / 1000}s`, ...env }),
  );
  const service = await startService(config, { logger });
  return {
    baseUrl: service.url,
    listening: () => service.changeFeed?.listening ?? false,
    logger,
    pool: resolve(service.container, DatabasePool),
    close: () => service.stop({ drainMs: 0 }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` until it holds; fails the test naming `what` if it has not within {@link CONDITION_TIMEOUT_MS}. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + CONDITION_TIMEOUT_MS;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

const percentile = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

describe('PostgreSQL faults, cut with a TCP proxy (DATABASE_CONNECT_TIMEOUT=1s)', function () {
  this.timeout(60_000);

  let database: TestDatabase;
  let proxy: TcpProxy;
  let proxiedUri: string;
  let accessToken: string;
  const credentials = { username: 'fault_db_user', password: 'Tr0ub4dor&3-fault-database' };
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => void rejections.push(reason);
  const measurements: string[] = [];
  const services: Service[] = [];
  /** Requests made through `call` that got an answer. */
  let answeredCalls = 0;

  async function service(env?: Record<string, string>): Promise<Service> {
    const started = await startFaultService(proxiedUri, env);
    services.push(started);
    return started;
  }

  async function call(target: Service, kind: Sample['kind'], giveUpMs = CLIENT_GIVE_UP_MS): Promise<Sample> {
    const startedAt = performance.now();
    const init: RequestInit = { signal: AbortSignal.timeout(giveUpMs) };
    let path: string;
    switch (kind) {
      case 'login':
        path = '/api/login';
        init.method = 'POST';
        init.headers = { 'Content-Type': 'application/json' };
        init.body = JSON.stringify(credentials);
        break;
      case 'protected':
        path = '/api/protected';
        init.headers = { Authorization: `Bearer ${accessToken}` };
        break;
      default:
        path = `/api/${kind}`;
    }
    try {
      const response = await fetch(`${target.baseUrl}${path}`, init);
      const text = await response.text();
      answeredCalls += 1;
      let body: Sample['body'] = text;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // kept as text
      }
      return {
        kind,
        startedAt,
        ms: performance.now() - startedAt,
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        body,
      };
    } catch (error) {
      return { kind, startedAt, ms: performance.now() - startedAt, status: 0, retryAfter: null, body: String(error) };
    }
  }

  /** Workers sending logins and protected requests back to back until `stop()`. */
  function traffic(target: Service, workers = 4, giveUpMs = CLIENT_GIVE_UP_MS) {
    const samples: Sample[] = [];
    let running = true;
    const loops = Array.from({ length: workers }, async (_, worker) => {
      for (let i = 0; running; i += 1) {
        samples.push(await call(target, (i + worker) % 2 === 0 ? 'protected' : 'login', giveUpMs));
      }
    });
    return {
      samples,
      /** Resolves once `count` requests have been answered. */
      answered: (count: number) => until(() => samples.length >= count, `${count} requests were answered`),
      stop: async () => {
        running = false;
        await Promise.all(loops);
        return samples;
      },
    };
  }

  function expectUnavailable(sample: Sample, what: string): void {
    const shown = `${what}: ${sample.kind} ${sample.status} in ${sample.ms.toFixed(0)} ms ${JSON.stringify(sample.body)}`;
    expect(sample.status, shown).to.equal(503);
    expect(sample.retryAfter, `Retry-After of ${shown}`).to.match(/^[1-9]\d*$/);
    const body = sample.body as Record<string, unknown>;
    expect(Object.keys(body).sort(), shown).to.deep.equal(['error', 'message', 'request_id', 'status_code']);
    expect(body.status_code).to.equal(503);
    expect(body.error).to.equal('ServiceUnavailable');
  }

  /** Retries `kind` until it answers 200 or `timeoutMs` passes; returns the last sample and the time since `since`. */
  async function until200(
    target: Service,
    kind: Sample['kind'],
    since: number,
    timeoutMs = CONDITION_TIMEOUT_MS,
  ): Promise<{ sample: Sample; ms: number }> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const sample = await call(target, kind, Math.max(100, Math.ceil(deadline - performance.now())));
      if (sample.status === 200 || performance.now() > deadline) return { sample, ms: performance.now() - since };
      await sleep(50);
    }
  }

  const lastError = (target: Service) =>
    target.logger.lines.filter((line) => line.message === 'database unavailable').at(-1)?.fields;

  /** Requests while PostgreSQL is unreachable until they all fail fast: the pool then holds no open connection. */
  async function drainPool(target: Service): Promise<void> {
    for (let round = 0; round < 20; round += 1) {
      const samples = await Promise.all(Array.from({ length: 12 }, () => call(target, 'protected')));
      if (samples.every((s) => s.status === 503 && /ECONNREFUSED/.test(JSON.stringify(lastError(target))))) return;
    }
  }

  before(async () => {
    process.on('unhandledRejection', onRejection);
    database = await createTestDatabase();
    const direct = new URL(database.uri);
    proxy = new TcpProxy({ host: direct.hostname, port: Number(direct.port) });
    await proxy.start();
    proxiedUri = proxy.uriFor(database.uri);
    const registering = await service();
    const registered = await fetch(`${registering.baseUrl}/api/registration`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(credentials),
    });
    expect(registered.status).to.equal(201);
    accessToken = ((await registered.json()) as { access_token: string }).access_token;
  });

  afterEach(function () {
    expect(rejections.map(String), 'unhandled rejections').to.deep.equal([]);
  });

  /** Puts the proxy back to forwarding after a test that failed before restoring it. */
  async function restoreProxy(): Promise<void> {
    if (proxy.mode !== 'forward' || !proxy.listening) {
      await proxy.stop();
      await proxy.start('forward');
    }
  }

  after(async function () {
    this.timeout(30_000);
    process.off('unhandledRejection', onRejection);
    await proxy?.stop();
    for (const started of services) await started.close();
    await database?.drop();
    if (measurements.length > 0)
      console.log(`      [fault-database]\n${measurements.map((m) => `        ${m}`).join('\n')}`);
  });

  describe('PostgreSQL stopped mid-traffic, then started again', () => {
    let app: Service;

    before(async () => {
      app = await service();
    });

    after(restoreProxy);

    it('serves login, protected and ready through the proxy', async () => {
      for (const kind of ['login', 'protected', 'ready', 'health'] as const) {
        const sample = await call(app, kind);
        expect(sample.status, `${kind}: ${JSON.stringify(sample.body)}`).to.equal(200);
      }
    });

    it('answers 503 ServiceUnavailable with Retry-After, never a hang; /api/ready 503, /api/health 200', async () => {
      const load = traffic(app);
      await load.answered(20);
      const stoppedAt = performance.now();
      await proxy.stop();
      // Guarded requests are answered from memory while the change feed listens; once the instance learns its
      // listening connection is gone, it trusts memory no more. From then on, every request must be a 503.
      await until(() => !app.listening(), 'the instance noticed that PostgreSQL is gone');
      const cutAt = performance.now();
      await until(
        () =>
          load.samples.filter((s) => s.startedAt >= cutAt && s.kind === 'login').length >= 4 &&
          load.samples.filter((s) => s.startedAt >= cutAt && s.kind === 'protected').length >= 4,
        'logins and protected requests made during the outage were answered',
      );
      const [ready, health] = await Promise.all([call(app, 'ready'), call(app, 'health')]);
      const samples = await load.stop();

      const before = samples.filter((s) => s.startedAt + s.ms < stoppedAt);
      const after = samples.filter((s) => s.startedAt >= cutAt);
      const straddling = samples.filter((s) => s.startedAt < cutAt && s.startedAt + s.ms >= stoppedAt);
      expect(before.length, 'traffic was flowing before the cut').to.be.at.least(20);
      expect(before.filter((s) => s.status !== 200).map((s) => `${s.kind} ${s.status}`)).to.deep.equal([]);
      expect(after.length, 'requests were made during the outage').to.be.greaterThan(3);
      for (const sample of after) expectUnavailable(sample, 'started after the cut');
      for (const sample of straddling) {
        expect([200, 503], `in flight at the cut: ${sample.kind} ${JSON.stringify(sample.body)}`).to.include(
          sample.status,
        );
      }
      expect(new Set(after.map((s) => s.kind))).to.deep.equal(new Set(['login', 'protected']));

      expectUnavailable(ready, '/api/ready');
      expect(health.status, '/api/health needs no database').to.equal(200);
      expect(app.logger.lines.filter((line) => line.message === 'unhandled error')).to.deep.equal([]);

      const firstUnavailable = Math.min(...after.map((s) => s.startedAt + s.ms)) - cutAt;
      const latencies = after.map((s) => s.ms);
      measurements.push(
        `stopped (connection refused): first 503 ${firstUnavailable.toFixed(0)} ms after the cut; 503 latency ` +
          `p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, ` +
          `max ${Math.max(...latencies).toFixed(0)} ms over ${after.length} requests ` +
          `(${straddling.length} in flight at the cut); /api/ready 503 in ${ready.ms.toFixed(0)} ms`,
      );
    });

    it('succeeds again without a restart once PostgreSQL is back, and /api/ready turns 200', async () => {
      const restoredAt = performance.now();
      await proxy.start();
      const protectedBack = await until200(app, 'protected', restoredAt);
      expect(protectedBack.sample.status, JSON.stringify(protectedBack.sample.body)).to.equal(200);
      const loginBack = await until200(app, 'login', restoredAt);
      expect(loginBack.sample.status, JSON.stringify(loginBack.sample.body)).to.equal(200);
      const readyBack = await until200(app, 'ready', restoredAt);
      expect(readyBack.sample.status).to.equal(200);
      const after = await Promise.all(
        Array.from({ length: 8 }, (_, i) => call(app, i % 2 === 0 ? 'protected' : 'login')),
      );
      expect(after.map((s) => s.status)).to.deep.equal(Array(8).fill(200));
      measurements.push(
        `restored: protected 200 after ${protectedBack.ms.toFixed(0)} ms, login 200 after ${loginBack.ms.toFixed(0)} ms, ` +
          `/api/ready 200 after ${readyBack.ms.toFixed(0)} ms`,
      );
    });
  });

  describe('other faults', () => {
    afterEach(restoreProxy);

    it('PostgreSQL accepting connections but never answering (black hole): 503 after the connect timeout, then recovers', async () => {
      const app = await service();
      expect((await call(app, 'protected')).status).to.equal(200);
      await proxy.stop();
      await drainPool(app);
      await proxy.start('blackhole');
      const samples = await Promise.all([
        call(app, 'protected'),
        call(app, 'login'),
        call(app, 'ready'),
        call(app, 'protected'),
        call(app, 'login'),
      ]);
      const health = await call(app, 'health');
      measurements.push(`black hole: 503 in ${samples.map((s) => `${s.kind} ${s.ms.toFixed(0)} ms`).join(', ')}`);
      for (const sample of samples) {
        expectUnavailable(sample, 'black hole');
        expect(sample.ms, `${sample.kind} waited for the connect timeout`).to.be.at.least(CONNECT_TIMEOUT_MS * 0.9);
      }
      expect(health.status).to.equal(200);

      await proxy.stop();
      const restoredAt = performance.now();
      await proxy.start('forward');
      const back = await until200(app, 'protected', restoredAt);
      expect(back.sample.status, JSON.stringify(back.sample.body)).to.equal(200);
      expect((await until200(app, 'login', restoredAt)).sample.status).to.equal(200);
      expect((await until200(app, 'ready', restoredAt)).sample.status).to.equal(200);
      measurements.push(`black hole lifted: protected 200 after ${back.ms.toFixed(0)} ms`);
    });

    it(
      'frees the pool slot of a connection that dies mid-query or mid-release, so after outages under load ' +
        'requests succeed once PostgreSQL is back (slonik 47 leaked it; see patches/)',
      async function () {
        this.timeout(90_000);
        const app = await service({ DATABASE_POOL_SIZE: '4' });
        const states: string[] = [];
        for (let cycle = 0; cycle < 6; cycle += 1) {
          // A request still unanswered after this long is hung (the connect timeout is 1 s).
          const load = traffic(app, 8, 20_000);
          await load.answered(40);
          const cutAt = performance.now();
          await proxy.stop();
          await until(
            () => load.samples.some((sample) => sample.startedAt >= cutAt && sample.status === 503),
            'a request made during the outage was refused',
          );
          await proxy.start();
          const hung = (await load.stop()).filter((sample) => sample.status === 0);
          expect(
            hung.map((sample) => `${sample.kind}: ${JSON.stringify(sample.body)}`),
            `cycle ${cycle}: requests queued for a connection while others were being made`,
          ).to.deep.equal([]);
          const back = await until200(app, 'protected', performance.now());
          // A leaked slot stays pending destroy for good; a connection being torn down leaves that state by itself.
          await until(() => app.pool.state().pendingDestroyConnections === 0, 'no connection is pending destroy').catch(
            () => undefined,
          );
          const { pendingDestroyConnections, idleConnections, waitingClients } = app.pool.state();
          states.push(`${pendingDestroyConnections}/${idleConnections}/${waitingClients}`);
          if (back.sample.status !== 200) break;
        }
        const after = await Promise.all(Array.from({ length: 12 }, () => call(app, 'protected')));
        const slowest = Math.max(...after.map((s) => s.ms)).toFixed(0);
        measurements.push(
          `outages under load, pool of 4: pending-destroy/idle/waiting after each: ${states.join(', ')}; ` +
            `then 12 protected: ${after.map((s) => s.status || 'no answer').join(' ')} (slowest ${slowest} ms)`,
        );
        expect(
          after.map((s) => s.status),
          'requests after the outages',
        ).to.deep.equal(Array(12).fill(200));
        expect(states, 'connections stuck pending destroy after each outage').to.deep.equal(
          states.map((state) => state.replace(/^\d+/, '0')),
        );
      },
    );

    it(
      'PostgreSQL frozen with connections open (no reset, no answer): a 503 from the client-side read timeout, ' +
        'not a request that hangs',
      async function () {
        this.timeout(90_000);
        const app = await service();
        const warm = await Promise.all(Array.from({ length: 8 }, () => call(app, 'protected')));
        expect(warm.map((s) => s.status)).to.deep.equal(Array(8).fill(200));
        proxy.freeze();
        const pending = Promise.all([call(app, 'ready'), call(app, 'login')]);
        // The listening connection is frozen too; its heartbeat finds it silent, and memory is trusted no more.
        await until(() => !app.listening(), 'the heartbeat noticed the frozen listening connection');
        const samples = [...(await pending), ...(await Promise.all([call(app, 'protected'), call(app, 'protected')]))];
        const health = await call(app, 'health');
        measurements.push(
          `frozen: ${samples.map((s) => `${s.kind} ${s.status || 'no answer'} in ${s.ms.toFixed(0)} ms`).join(', ')}`,
        );
        await proxy.stop();
        await proxy.start('forward');
        expect(health.status).to.equal(200);
        for (const sample of samples) expectUnavailable(sample, 'frozen');
      },
    );
  });

  describe('after every fault above', () => {
    it('the process stayed up: no unhandled rejection, no 500 (only 503s), health 200', async () => {
      expect(rejections.map(String)).to.deep.equal([]);
      const app = services[0]!;
      expect((await call(app, 'health')).status).to.equal(200);
      const statuses = services.flatMap((s) => s.logger.events('request').map((line) => line.fields.status as number));
      expect(answeredCalls, 'the suites above made traffic').to.be.greaterThan(100);
      expect(statuses.length, 'every answered request was logged').to.be.at.least(answeredCalls);
      expect(statuses.filter((status) => status >= 500 && status !== 503)).to.deep.equal([]);
    });
  });
});
