/**
 * The benchmark (not a test): jwt-login as `npm start` runs it (dist/main.js, a supervisor and its server processes),
 * beside a bare Koa app of the same Koa version, loaded with wrk from separate processes over 127.0.0.1, on a fresh
 * database (embedded PostgreSQL, or TEST_DATABASE_URL). Prints tables with ratios against the targets of issue 7 and
 * exits 0; the speed targets live here, never in the tests.
 *
 *   npm run bench                      everything (about 4 minutes)
 *   BENCH_PROFILE=1 npm run bench      also a CPU profile of a server process under GET /api/protected load
 *   BENCH_ROUNDS=5 npm run bench       more interleaved rounds for the throughput table (default 3)
 *   BENCH_PARTS=throughput,logins      only some parts: verify, throughput, logins, overload, large, workers, legacy
 *   BENCH_PARTS=legacy                 only the first-login cost of each flask-praetorian hash scheme (about 1 minute)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../src/infrastructure/config/config.js';
import { verifyCosts } from './verify-cost.js';
import { threadpoolSize } from '../src/supervisor.js';
import { createTestDatabase, stopTestServer } from '../tests/support/database.js';
import { PRAETORIAN_SCHEMES, legacyHashes } from '../tests/support/passlib.js';
import { type Sample, openLoop } from './open-loop.js';
import { topSelfTime } from './profile.js';
import { type Server, startBareKoa, startJwtLogin } from './servers.js';
import { haveWrk, wrk } from './wrk.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PARTS = new Set((process.env.BENCH_PARTS ?? 'verify,throughput,logins,overload,large,workers,legacy').split(','));
const SECONDS = 5;
const startedAt = performance.now();

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const percentile = (values: readonly number[], p: number) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
};
const fmt = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MiB`;

interface Table {
  readonly title: string;
  readonly rows: string[][];
}
const tables: Table[] = [];
function table(title: string, header: string[]): string[][] {
  const rows = [header];
  tables.push({ title, rows });
  return rows;
}
function print(): void {
  console.log(
    `\njwt-login benchmark: node ${process.version}, ${availableParallelism()} cores, PostgreSQL ` +
      `${process.env.TEST_DATABASE_URL ? 'external' : 'embedded'}, load by ${haveWrk ? 'wrk' : 'the node generator (no wrk)'}`,
  );
  for (const { title, rows } of tables) {
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
    console.log(`\n${title}`);
    const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ');
    console.log(line(rows[0]!));
    console.log(line(widths.map((width) => '-'.repeat(width))));
    for (const row of rows.slice(1)) console.log(line(row));
  }
}
const target = (ratio: number, goal: number) =>
  `${fmt(ratio, 2)}x (target >= ${goal}x: ${ratio >= goal ? 'met' : 'NOT met'})`;

const database = await createTestDatabase();
const secret = randomBytes(48).toString('base64url');
const environment = {
  DATABASE_URL: database.uri,
  JWT_SECRET: secret,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  // The bench logs in as one user from one address, far more often than any limit allows a real client.
  LOGIN_MAX_FAILURES: '1000',
  LOGIN_MAX_FAILURES_PER_IP: '100000',
  REGISTRATION_RATE_LIMIT: '100000',
  REFRESH_RATE_LIMIT: '100000',
};
const credentials = { username: 'bench_user', password: 'Tr0ub4dor&3-benchmark' };

async function login(server: Server): Promise<string> {
  for (const path of ['/api/registration', '/api/login']) {
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(credentials),
    });
    if (response.ok) return ((await response.json()) as { access_token: string }).access_token;
  }
  throw new Error('cannot log in to the bench server');
}

// --- (0) Token verification per algorithm, in process (issue 10) ---------------------------------------------------
if (PARTS.has('verify')) {
  const costs = table('Access-token cost per algorithm, one process, jsonwebtoken with KeyObjects (median of 5 runs)', [
    'algorithm',
    'verify µs (signature + claims)',
    'verify µs, remembered token',
    'sign µs',
    'token bytes',
  ]);
  for (const cost of verifyCosts()) {
    costs.push([
      cost.algorithm,
      fmt(cost.verifyMicros, 1),
      fmt(cost.cachedMicros, 2),
      fmt(cost.signMicros, 1),
      String(cost.tokenBytes),
    ]);
  }
}

// --- (0) First logins of flask-praetorian users: a passlib hash verified, then upgraded to argon2id --------------------
if (PARTS.has('legacy')) {
  const LOGINS_PER_SCHEME = 5;
  const legacyServer = await startJwtLogin(environment);
  const made = legacyHashes();
  const seed = new pg.Client({ connectionString: database.uri });
  await seed.connect();
  const timedLogin = async (username: string, password: string): Promise<number> => {
    const started = performance.now();
    const response = await fetch(`${legacyServer.url}/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (response.status !== 200) throw new Error(`legacy login answered ${response.status}: ${await response.text()}`);
    return performance.now() - started;
  };
  const { memoryCost, timeCost, parallelism } = loadConfig({ ...environment }).argon2;
  const legacy = table(
    `First login of a flask-praetorian user (passlib 1.7.4 default cost, from ${made.source}), one at a time, ` +
      `${LOGINS_PER_SCHEME} users each; the upgrade is argon2id m=${memoryCost / 1024}MiB,t=${timeCost},p=${parallelism}`,
    ['scheme', 'hash', 'first login ms (median)', 'max', 'next login ms (argon2id)'],
  );
  for (const scheme of PRAETORIAN_SCHEMES) {
    const entry = made.hashes.find((candidate) => candidate.scheme === scheme && candidate.cost === 'default')!;
    const names = Array.from({ length: LOGINS_PER_SCHEME }, (_, index) => `legacy_${scheme}_${index}`);
    for (const name of names) {
      await seed.query(`INSERT INTO users (username, password, roles, is_active) VALUES ($1, $2, 'user', true)`, [
        name,
        entry.hash,
      ]);
    }
    const first: number[] = [];
    const next: number[] = [];
    for (const name of names) first.push(await timedLogin(name, entry.password));
    for (const name of names) next.push(await timedLogin(name, entry.password));
    legacy.push([
      scheme,
      entry.hash.slice(0, entry.hash.indexOf('$', 3) + 1) + '...',
      fmt(median(first)),
      fmt(Math.max(...first)),
      fmt(median(next)),
    ]);
  }
  await seed.end();
  await legacyServer.stop();
}
if ([...PARTS].every((part) => part === 'legacy' || part === 'verify')) {
  print();
  await database.drop();
  await stopTestServer();
  process.exit(0);
}

// --- (1) Throughput: bare Koa, GET /api/ and GET /api/protected, interleaved rounds -------------------------------
const bare = await startBareKoa();
let server = await startJwtLogin(environment);
let token = await login(server);
const bearer = () => ({ Authorization: `Bearer ${token}` });
const measured: Record<'bare' | 'root' | 'protected', number[]> = { bare: [], root: [], protected: [] };
for (const [url, headers] of [
  [`${bare.url}/api/`, {}],
  [`${server.url}/api/`, {}],
  [`${server.url}/api/protected`, bearer()],
] as const) {
  await wrk({ url, seconds: 2, headers }); // warm-up
}
for (let round = 0; round < ROUNDS; round += 1) {
  measured.bare.push((await wrk({ url: `${bare.url}/api/`, seconds: SECONDS })).requestsPerSecond);
  measured.root.push((await wrk({ url: `${server.url}/api/`, seconds: SECONDS })).requestsPerSecond);
  const guarded = await wrk({ url: `${server.url}/api/protected`, seconds: SECONDS, headers: bearer() });
  if (guarded.non2xx > 0) throw new Error(`${guarded.non2xx} non-2xx answers to GET /api/protected`);
  measured.protected.push(guarded.requestsPerSecond);
}
await bare.stop();
const bareRps = median(measured.bare);
const throughput = table(
  `Throughput, wrk -t2 -c50 -d${SECONDS}s, median of ${ROUNDS} interleaved rounds, LOG_LEVEL=${environment.LOG_LEVEL}`,
  ['', 'req/s', 'ratio to bare Koa', 'rounds'],
);
throughput.push(['bare Koa GET /api/', fmt(bareRps), '1', measured.bare.map((v) => fmt(v)).join(' ')]);
throughput.push([
  'jwt-login GET /api/',
  fmt(median(measured.root)),
  target(median(measured.root) / bareRps, 0.6),
  measured.root.map((v) => fmt(v)).join(' '),
]);
throughput.push([
  'jwt-login GET /api/protected',
  fmt(median(measured.protected)),
  target(median(measured.protected) / bareRps, 0.45),
  measured.protected.map((v) => fmt(v)).join(' '),
]);

// --- (2) CPU profile of a server process under protected load (BENCH_PROFILE=1) ------------------------------------
if (process.env.BENCH_PROFILE) {
  await server.stop();
  const directory = mkdtempSync(path.join(tmpdir(), 'jwt-login-profile-'));
  server = await startJwtLogin(environment, ['--cpu-prof', `--cpu-prof-dir=${directory}`]);
  token = await login(server);
  await wrk({ url: `${server.url}/api/protected`, seconds: 8, headers: bearer() });
  await server.stop();
  const profile = table('CPU profile of the server process under GET /api/protected (self time, idle excluded)', [
    'share  function (where)',
  ]);
  for (const line of topSelfTime(directory)) profile.push([line]);
  rmSync(directory, { recursive: true, force: true });
  server = await startJwtLogin(environment);
  token = await login(server);
}

const config = loadConfig({ ...environment });
const rawRates = new Map<number, number>();
let rawRate = NaN;
const smallRate = median(measured.protected);

// --- (3) Logins against raw argon2 ----------------------------------------------------------------------------------
if (PARTS.has('logins') || PARTS.has('overload')) {
  const RAW_ARGON2 = `
  const argon2 = require('argon2');
  const { memoryCost, timeCost, parallelism, concurrency, seconds } = JSON.parse(process.argv[1]);
  (async () => {
    const hash = await argon2.hash('bench-password', { type: argon2.argon2id, memoryCost, timeCost, parallelism });
    let done = 0;
    const end = performance.now() + seconds * 1000;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) { await argon2.verify(hash, 'bench-password'); done += 1; }
    }));
    process.stdout.write(String(done / seconds));
  })();
  `;
  async function rawArgon2Rate(concurrency: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['-e', RAW_ARGON2, JSON.stringify({ ...config.argon2, concurrency, seconds: 8 })],
        {
          cwd: path.resolve(import.meta.dirname, '..'),
          env: { ...process.env, UV_THREADPOOL_SIZE: String(threadpoolSize(config)) },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      child.once('error', reject);
      child.once('exit', () => resolve(Number(out)));
    });
  }
  for (let concurrency = 1; concurrency <= Math.max(2, availableParallelism()); concurrency += 1) {
    rawRates.set(concurrency, await rawArgon2Rate(concurrency));
  }
  const [bestConcurrency, bestRate] = [...rawRates].sort((a, b) => b[1] - a[1])[0]!;
  rawRate = bestRate;
  // A closed loop of twice as many connections as hashing slots keeps every slot busy, each finished hash replaced at
  // once, and the queue short: the argon2 bound. At 50 connections the queue overflows and the surplus is shed at once,
  // and the client (wrk does not honour Retry-After) sends it again at once: shedding then costs CPU that hashing lacks.
  const loginConnections = 2 * config.hashing.concurrency;
  const loginLoad = await wrk({
    url: `${server.url}/api/login`,
    seconds: 15,
    connections: loginConnections,
    postJson: credentials,
  });
  const loginFlood = await wrk({ url: `${server.url}/api/login`, seconds: 15, connections: 50, postJson: credentials });
  const { memoryCost, timeCost, parallelism } = config.argon2;
  const logins = table(`Logins, argon2id m=${memoryCost / 1024}MiB,t=${timeCost},p=${parallelism}`, [
    '',
    'per second',
    'notes',
  ]);
  logins.push([
    'raw argon2.verify, best concurrency',
    fmt(rawRate, 1),
    [...rawRates].map(([c, rate]) => `c${c}: ${fmt(rate, 1)}`).join(', ') + ` (best c${bestConcurrency})`,
  ]);
  logins.push([
    `POST /api/login answered 200, wrk -c${loginConnections} 15 s`,
    fmt(loginLoad.okPerSecond, 1),
    `${target(loginLoad.okPerSecond / rawRate, 0.9)}; ${loginLoad.non2xx} of ${loginLoad.requests} shed with 503 ` +
      `(hash concurrency ${config.hashing.concurrency}, libuv threadpool ${threadpoolSize(config)})`,
  ]);
  logins.push([
    'POST /api/login answered 200, wrk -c50 15 s',
    fmt(loginFlood.okPerSecond, 1),
    `${fmt(loginFlood.okPerSecond / rawRate, 2)}x; ${loginFlood.non2xx} of ${loginFlood.requests} shed with 503`,
  ]);
}
// --- (4) Overload: 4x login capacity for 30 s, open loop, with guarded requests alongside ----------------------------
if (PARTS.has('overload')) {
  const overloadRate = Math.max(4, Math.round(4 * rawRate));
  const rssSamples: number[] = [];
  const sampler = setInterval(() => rssSamples.push(server.rss().largest), 250);
  const overload = await openLoop(
    server.url,
    [
      { name: 'login', method: 'POST', path: '/api/login', rate: overloadRate, body: credentials },
      { name: 'protected', method: 'GET', path: '/api/protected', rate: 200, headers: bearer() },
    ],
    30,
  );
  clearInterval(sampler);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const sent = performance.now();
    const response = await fetch(`${server.url}/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(credentials),
    });
    await response.arrayBuffer();
    if (response.status === 200) after.push(performance.now() - sent);
  }
  const loginSamples = overload.login ?? [];
  const accepted = loginSamples.filter((s: Sample) => s.status === 200);
  const shed = loginSamples.filter((s: Sample) => s.status === 503);
  const other = loginSamples.filter((s: Sample) => s.status !== 200 && s.status !== 503);
  const guardedSamples = overload.protected ?? [];
  const overloadTable = table(
    `Overload: POST /api/login at ${overloadRate}/s (4x the raw argon2 rate) for 30 s, open loop, with GET ` +
      '/api/protected at 200/s alongside',
    ['', 'value'],
  );
  overloadTable.push(['logins sent', String(loginSamples.length)]);
  overloadTable.push([
    'accepted (200): p50 / p99 / max',
    `${accepted.length}: ${fmt(
      percentile(
        accepted.map((s) => s.ms),
        50,
      ),
    )} / ` +
      `${fmt(
        percentile(
          accepted.map((s) => s.ms),
          99,
        ),
      )} ms (target p99 <= 2000) / ${fmt(Math.max(...accepted.map((s) => s.ms)))} ms`,
  ]);
  overloadTable.push([
    'shed (503): share; time to the 503 p50 / p99',
    `${fmt((shed.length / loginSamples.length) * 100, 1)}%; ${fmt(
      percentile(
        shed.map((s) => s.ms),
        50,
      ),
      1,
    )} / ` +
      `${fmt(
        percentile(
          shed.map((s) => s.ms),
          99,
        ),
        1,
      )} ms (target <= 50)`,
  ]);
  overloadTable.push(['other answers (none expected)', other.map((s) => s.status).join(' ') || 'none']);
  overloadTable.push([
    'GET /api/protected meanwhile: p50 / p99; non-200',
    `${fmt(
      percentile(
        guardedSamples.map((s) => s.ms),
        50,
      ),
      1,
    )} / ${fmt(
      percentile(
        guardedSamples.map((s) => s.ms),
        99,
      ),
      1,
    )} ` + `ms (target p99 < 50); ${guardedSamples.filter((s) => s.status !== 200).length}`,
  ]);
  overloadTable.push([
    'largest server process RSS during the load',
    `${mib(Math.max(...rssSamples))} (target < 400 MiB)`,
  ]);
  overloadTable.push([
    'one login 1 s after the load, p50 of 5',
    `${fmt(median(after))} ms (one hash alone: ${fmt(1000 / (rawRates.get(1) ?? NaN))} ms)`,
  ]);
}
// --- (5) 1,000,000 users and sessions ----------------------------------------------------------------------------
if (PARTS.has('large')) {
  await server.stop();
  {
    const client = new pg.Client({ connectionString: database.uri });
    await client.connect();
    // A bulk load, not traffic: without the change-notification triggers (nobody listens while the server is stopped),
    // and so without the one that fills username_key: these ASCII names are their own keys.
    await client.query('SET session_replication_role = replica');
    await client.query(`
      INSERT INTO users (username, username_key, password, roles, is_active)
      SELECT 'bulk_' || n, 'bulk_' || n, 'x', 'user', true FROM generate_series(1, 1000000) AS n`);
    await client.query(`
      INSERT INTO sessions (id, user_id, created_at, expires_at)
      SELECT gen_random_uuid(), u.id, now(), now() + interval '30 days'
      FROM users u WHERE u.username LIKE 'bulk_%'`);
    await client.query('ANALYZE users; ANALYZE sessions');
    await client.query('CHECKPOINT');
    await client.end();
  }
  server = await startJwtLogin(environment);
  token = await login(server);
  await wrk({ url: `${server.url}/api/protected`, seconds: 2, headers: bearer() });
  const largeRates: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    largeRates.push(
      (await wrk({ url: `${server.url}/api/protected`, seconds: SECONDS, headers: bearer() })).requestsPerSecond,
    );
  }
  const large = table('GET /api/protected with 1,000,000 users and 1,000,000 sessions (after a CHECKPOINT)', [
    '',
    'req/s',
    'ratio',
  ]);
  large.push([
    'large tables vs the small-table run above',
    fmt(median(largeRates)),
    target(median(largeRates) / smallRate, 0.9),
  ]);
}
// --- (6) Two server processes (WORKERS=2) --------------------------------------------------------------------------
if (PARTS.has('workers')) {
  await server.stop();
  server = await startJwtLogin({ ...environment, WORKERS: '2' });
  token = await login(server);
  await wrk({ url: `${server.url}/api/protected`, seconds: 2, headers: bearer() });
  const twoWorkers: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    twoWorkers.push(
      (await wrk({ url: `${server.url}/api/protected`, seconds: SECONDS, headers: bearer() })).requestsPerSecond,
    );
  }
  const workersTable = table('GET /api/protected by number of server processes (WORKERS)', [
    '',
    'req/s',
    'ratio to bare Koa',
  ]);
  workersTable.push(['WORKERS=1', fmt(smallRate), fmt(smallRate / bareRps, 2)]);
  workersTable.push(['WORKERS=2', fmt(median(twoWorkers)), fmt(median(twoWorkers) / bareRps, 2)]);
  await server.stop();
}
print();
await database.drop();
await stopTestServer();
console.log(`\ndone in ${((performance.now() - startedAt) / 1000).toFixed(0)} s`);
process.exit(0);
