import { Writable } from 'node:stream';
import { expect } from 'chai';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { startService } from '../../src/service.js';
import { type BunyanLoggerHandle, createBunyanLogger } from '../../src/infrastructure/logging/bunyan-logger.js';
import type { LogstashStats } from '../../src/infrastructure/logging/logstash-stream.js';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { testEnvironment } from '../support/test-app.js';
import { FakeLogstash, unusedPort, waitFor as waitForCondition } from '../support/fake-logstash.js';

/**
 * Byte caps of the Logstash stream in these tests. The service runs with the 1 MiB defaults; they are lowered here so
 * that a few hundred requests overflow them (the kernel's socket buffers alone take a few hundred KB first).
 */
const CAP = 64 * 1024;
const REQUESTS = 500;
/** Requests to a path this long (404) inflate the log, as a client flooding it would: each line is about 8 KB. */
const LONG_PATH = `/api/${'x'.repeat(8000)}`;
/** Loopback's socket buffers take about 4 MB of a Logstash that never reads before the stream's caps apply. */
const FLOOD_REQUESTS = 1000;

/** These waits run under load, so they get longer than the default. */
const waitFor = (condition: () => boolean, what: string) => waitForCondition(condition, what, 8000);

const percentile = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

interface Service {
  readonly baseUrl: string;
  readonly logging: BunyanLoggerHandle;
  /** Bytes the logger wrote to its stdout (kept out of the test output). */
  readonly stdoutBytes: () => number;
  stats(): LogstashStats;
  close(): Promise<void>;
}

/** The service as production starts it ({@link startService}), its bunyan logger shipping to Logstash at `port`. */
async function startLoggingService(database: TestDatabase, port: number): Promise<Service> {
  const config = loadConfig(testEnvironment(database.uri, { LOGSTASH_HOST: '127.0.0.1', LOGSTASH_PORT: String(port) }));
  let written = 0;
  const stdout = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      written += chunk.length;
      done();
    },
  });
  const logging = createBunyanLogger({
    name: 'jwt-login',
    level: config.logLevel,
    stdout,
    logstash: { ...config.logstash!, maxQueuedBytes: CAP, maxBufferedBytes: CAP, maxRetryIntervalMs: 500 },
  });
  const service = await startService(config, { logger: logging.logger });
  return {
    baseUrl: service.url,
    logging,
    stdoutBytes: () => written,
    stats: () => logging.logstashStats()!,
    close: async () => {
      await service.stop({ drainMs: 0 });
      await logging.close();
    },
  };
}

interface Run {
  readonly statuses: Map<string, number[]>;
  readonly latencies: number[];
  readonly maxQueued: number;
  readonly maxBuffered: number;
  readonly rssGrowth: number;
}

describe('Logstash faults at the app level (LOGSTASH_HOST/PORT, caps lowered to 64 KiB)', function () {
  this.timeout(60_000);

  let database: TestDatabase;
  let accessToken: string;
  const credentials = { username: 'fault_logstash_user', password: 'Tr0ub4dor&3-fault-logstash' };
  const cleanups: (() => Promise<void>)[] = [];
  const measurements: string[] = [];

  async function service(port: number): Promise<Service> {
    const started = await startLoggingService(database, port);
    cleanups.push(() => started.close());
    return started;
  }

  function logstash(reads: boolean): FakeLogstash {
    const fake = new FakeLogstash(reads ? undefined : (socket) => socket.pause());
    cleanups.push(() => fake.kill());
    return fake;
  }

  /**
   * `count` requests, 8 at a time: health, login, protected and a long-path 404 in turn; with `flood`, one in two
   * is a long-path one (about 4 MB of log lines for 1000 requests).
   */
  async function drive(target: Service, count = REQUESTS, flood = false): Promise<Run> {
    const statuses = new Map<string, number[]>();
    const latencies: number[] = [];
    let maxQueued = 0;
    let maxBuffered = 0;
    const rssBefore = process.memoryUsage().rss;
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < count; i = next++) {
        const kinds = flood
          ? ['health', 'long path', 'login', 'long path', 'protected', 'long path']
          : ['health', 'login', 'protected', 'long path'];
        const kind = kinds[i % kinds.length]!;
        const init: RequestInit =
          kind === 'login'
            ? { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(credentials) }
            : kind === 'protected'
              ? { headers: { Authorization: `Bearer ${accessToken}` } }
              : {};
        const path = { health: '/api/', login: '/api/login', protected: '/api/protected' }[kind] ?? LONG_PATH;
        const started = performance.now();
        // Only a request that would never be answered (a logger that blocks) reaches this.
        const response = await fetch(`${target.baseUrl}${path}`, { ...init, signal: AbortSignal.timeout(60_000) });
        await response.arrayBuffer();
        latencies.push(performance.now() - started);
        statuses.set(kind, [...(statuses.get(kind) ?? []), response.status]);
        const { queuedBytes, bufferedBytes } = target.stats();
        maxQueued = Math.max(maxQueued, queuedBytes);
        maxBuffered = Math.max(maxBuffered, bufferedBytes);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    return { statuses, latencies, maxQueued, maxBuffered, rssGrowth: process.memoryUsage().rss - rssBefore };
  }

  function expectAllAnswered(run: Run, count = REQUESTS): void {
    const expected = { health: 200, login: 200, protected: 200, 'long path': 404 } as Record<string, number>;
    let total = 0;
    for (const [kind, statuses] of run.statuses) {
      total += statuses.length;
      expect(
        statuses.filter((status) => status !== expected[kind]),
        `${kind} statuses`,
      ).to.deep.equal([]);
    }
    expect(total).to.equal(count);
  }

  /**
   * Records the run's latency beside the healthy run's. Only recorded: speed is `npm run bench`'s to judge, and a test
   * that bounded it would fail on a loaded machine. That logging never blocks a request is what every run here shows
   * by being answered in full while Logstash is down, gone or not reading.
   */
  function recordLatency(run: Run, what: string): void {
    const p50 = percentile(run.latencies, 50);
    const p99 = percentile(run.latencies, 99);
    measurements.push(
      `${what}: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms; max queued ${run.maxQueued} B, max buffered ` +
        `${run.maxBuffered} B (cap ${CAP}); RSS ${run.rssGrowth >= 0 ? '+' : ''}${(run.rssGrowth / 1048576).toFixed(1)} MiB`,
    );
  }

  /** A request with a known id, to find its line on the Logstash side. */
  async function marked(target: Service, id: string): Promise<void> {
    const response = await fetch(`${target.baseUrl}/api/`, { headers: { 'X-Request-Id': id } });
    expect(response.status).to.equal(200);
  }

  before(async () => {
    database = await createTestDatabase();
    const fake = logstash(true);
    const setup = await service(await fake.listen());
    const registered = await fetch(`${setup.baseUrl}/api/registration`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(credentials),
    });
    expect(registered.status).to.equal(201);
    accessToken = ((await registered.json()) as { access_token: string }).access_token;
    // Warm the code paths up, so that the healthy run's figures compare with the others'.
    await drive(setup);
  });

  after(async function () {
    this.timeout(20_000);
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await database?.drop();
    if (measurements.length > 0)
      console.log(`      [fault-logstash]\n${measurements.map((m) => `        ${m}`).join('\n')}`);
  });

  it('with Logstash reading: every line is shipped, none dropped (the baseline)', async () => {
    const fake = logstash(true);
    const app = await service(await fake.listen());
    await waitFor(() => app.stats().connected, 'the connection');
    const run = await drive(app);
    expectAllAnswered(run);
    await waitFor(() => app.stats().queuedBytes === 0 && app.stats().bufferedBytes === 0, 'the backlog to drain');
    await waitFor(() => fake.lines.length === app.stats().shipped, 'every shipped line to arrive');
    expect(app.stats()).to.include({ dropped: 0 });
    expect(fake.lines.filter((line) => line['event.action'] === 'request')).to.have.length.at.least(REQUESTS);
    recordLatency(run, 'healthy');
  });

  it('(a) down at start: requests answered as fast, drops counted, queue bounded; shipping resumes once it listens', async () => {
    const port = await unusedPort();
    const app = await service(port);
    const run = await drive(app);
    expectAllAnswered(run);
    recordLatency(run, '(a) nothing listening');
    const stats = app.stats();
    expect(stats.connected).to.equal(false);
    expect(stats.connectionErrors).to.be.greaterThan(0);
    expect(stats.dropped, 'lines over the queue cap are dropped and counted').to.be.greaterThan(0);
    expect(run.maxQueued).to.be.at.most(CAP);
    expect(stats.shipped).to.equal(0);

    const fake = logstash(true);
    await fake.listen(port);
    await waitFor(() => app.stats().connected, 'the reconnect');
    await marked(app, 'after-logstash-returned-a');
    await waitFor(() => fake.requestIds().has('after-logstash-returned-a'), 'a new line to arrive');
    await waitFor(() => app.stats().queuedBytes === 0, 'the queue to drain');
    expect(fake.lines.length, 'the queued lines arrived too').to.be.greaterThan(1);
    measurements.push(
      `(a) dropped ${stats.dropped} of ${stats.dropped + fake.lines.length - 1} lines; ` +
        `${fake.lines.length} shipped once Logstash listened`,
    );
  });

  it('going away mid-traffic: requests keep their latency; shipping resumes when it is back on the same port', async () => {
    const first = logstash(true);
    const port = await first.listen();
    const app = await service(port);
    await waitFor(() => app.stats().connected, 'the connection');
    const traffic = drive(app);
    await waitFor(() => first.lines.length >= 20, 'lines to arrive before the crash');
    await first.kill();
    const run = await traffic;
    expectAllAnswered(run);
    recordLatency(run, 'going away');
    expect(run.maxQueued).to.be.at.most(CAP);

    const second = logstash(true);
    await second.listen(port);
    await waitFor(() => app.stats().connected, 'the reconnect');
    await marked(app, 'after-logstash-returned-b');
    await waitFor(() => second.requestIds().has('after-logstash-returned-b'), 'a new line to arrive');
    measurements.push(
      `going away: ${first.lines.length} lines before the crash, ${second.lines.length} after; ` +
        `dropped ${app.stats().dropped}`,
    );
  });

  it('(b) accepting but never reading: requests answered as fast, buffered and queued bytes capped, drops counted; replaced by a reading one, shipping resumes', async () => {
    const silent = logstash(false);
    const port = await silent.listen();
    const app = await service(port);
    await waitFor(() => app.stats().connected && silent.connections === 1, 'the connection');
    const run = await drive(app, FLOOD_REQUESTS, true);
    expectAllAnswered(run, FLOOD_REQUESTS);
    recordLatency(run, '(b) never reading');
    const stats = app.stats();
    expect(stats.connected, 'the connection stays open').to.equal(true);
    expect(stats.dropped, 'lines over the caps are dropped and counted').to.be.greaterThan(0);
    expect(run.maxBuffered).to.be.at.most(CAP);
    expect(run.maxQueued).to.be.at.most(CAP);
    expect(app.stdoutBytes(), 'stdout still has every line').to.be.greaterThan(FLOOD_REQUESTS * 1000);

    await silent.kill();
    const reading = logstash(true);
    await reading.listen(port);
    await waitFor(() => app.stats().connected && reading.connections === 1, 'the reconnect');
    await marked(app, 'after-logstash-returned-c');
    await waitFor(() => reading.requestIds().has('after-logstash-returned-c'), 'a new line to arrive');
    measurements.push(
      `(b) dropped ${stats.dropped}, shipped into the kernel ${stats.shipped} before the reset; ` +
        `${reading.lines.length} arrived at the reading Logstash`,
    );
  });
});
