import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { TEST_SECRET } from '../support/test-app.js';
import { sampleValue, scrape } from '../support/prometheus.js';
import { freePort } from '../support/free-port.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The process ids of `pid`'s children (a supervisor's server processes). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function environOf(pid: number): Record<string, string> {
  return Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface LogRecord {
  readonly 'process.pid': number;
  readonly message: string;
  readonly 'event.action'?: string;
  readonly role?: string;
}

describe('WORKERS=2: a supervisor and two server processes on one port (node:cluster)', function () {
  this.timeout(90_000);
  let database: TestDatabase;
  let child: ChildProcess;
  let port: number;
  let metricsPort: number;
  let stdout = '';
  let stderr = '';
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  const records = () =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogRecord);
  const get = async (path: string) => {
    // A new connection each time, so that the supervisor hands them to both server processes in turn.
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { Connection: 'close' } });
    await response.arrayBuffer();
    return response.status;
  };

  before(async () => {
    database = await createTestDatabase();
    port = await freePort();
    metricsPort = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: PROJECT_ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_URL: database.uri,
        JWT_SECRET: TEST_SECRET,
        WORKERS: '2',
        METRICS_PORT: String(metricsPort),
        HASH_CONCURRENCY: '3',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    await until(
      () => records().filter((record) => record.message === 'listening').length === 2,
      `two server processes listen (stderr: ${stderr})`,
    );
  });

  after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await database?.drop();
  });

  it('runs two server processes, each with a threadpool sized for its hashing slots', () => {
    const workers = childrenOf(child.pid!);
    expect(workers).to.have.length(2);
    for (const worker of workers) expect(environOf(worker).UV_THREADPOOL_SIZE, 'HASH_CONCURRENCY 3 + 2').to.equal('5');
  });

  it('serves from both, each with its own listener on the change feed', async () => {
    for (let i = 0; i < 20; i += 1) expect(await get('/api/')).to.equal(200);
    await until(
      () =>
        new Set(
          records()
            .filter((record) => record['event.action'] === 'request')
            .map((record) => record['process.pid']),
        ).size === 2,
      'both server processes answered requests',
    );
    expect(records().filter((record) => record['event.action'] === 'change-feed-up')).to.have.length(2);
  });

  it('serves /metrics from the supervisor, summing what both server processes counted', async () => {
    const before = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
    const labels = { route: '/api/', method: 'GET', status: '200' };
    const counted = (samples: typeof before) =>
      sampleValue(samples, 'jwt_login_http_request_duration_seconds_count', labels) ?? 0;
    // A new connection each time: the supervisor hands them to both server processes in turn.
    for (let i = 0; i < 10; i += 1) expect(await get('/api/')).to.equal(200);
    const after = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(counted(after) - counted(before)).to.equal(10);
    expect(sampleValue(after, 'jwt_login_revocation_listener_up')).to.equal(1);
    expect(sampleValue(after, 'jwt_login_db_pool_total', { pool: 'main' })).to.be.a('number');
    expect(sampleValue(after, 'jwt_login_auth_events_total', { event: 'login_success' })).to.equal(0);
  });

  it('starts another server process when one dies', async () => {
    const [victim] = childrenOf(child.pid!);
    process.kill(victim!, 'SIGKILL');
    await until(
      () => childrenOf(child.pid!).length === 2 && !childrenOf(child.pid!).includes(victim!),
      'a replacement server process is running',
    );
    await until(() => records().filter((record) => record.message === 'listening').length === 3, 'it listens');
    expect(records().some((record) => record.message === 'a server process died; starting another')).to.equal(true);
    for (let i = 0; i < 6; i += 1) expect(await get('/api/health')).to.equal(200);
  });

  it('stops every server process on SIGTERM and exits 0, the supervisor last', async () => {
    const workers = childrenOf(child.pid!);
    child.kill('SIGTERM');
    expect(await exited).to.deep.equal({ code: 0, signal: null });
    for (const worker of workers) {
      let alive = true;
      try {
        process.kill(worker, 0);
      } catch {
        alive = false;
      }
      expect(alive, `server process ${worker} is gone`).to.equal(false);
    }
    const last = records().at(-1)!;
    expect([last.message, last.role]).to.deep.equal(['stopped', 'supervisor']);
  });
});
