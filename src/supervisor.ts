import cluster, { type Address, type Worker } from 'node:cluster';
import path from 'node:path';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from './infrastructure/config/config.js';
import { settleSecret, warnOfDevSecret } from './infrastructure/config/dev-secret.js';
import { createBunyanLogger } from './infrastructure/logging/bunyan-logger.js';
import { type EmbeddedDatabase, startEmbeddedDatabase } from './infrastructure/persistence/embedded-database.js';
import { type MetricsServer, startMetricsServer } from './interfaces/metrics/metrics-server.js';
import { describeDatabaseUrl } from './infrastructure/persistence/pool.js';

/** Threads for work other than hashing (log writes, DNS, file reads), so that none of it waits behind a hash. */
const THREADPOOL_HEADROOM = 2;
/** A worker that dies more often than this within {@link CRASH_WINDOW_MS} is not restarted again: the service stops. */
const MAX_CRASHES = 5;
const CRASH_WINDOW_MS = 60_000;
const RESTART_DELAY_MS = 1000;

function aliveWorkers(): Worker[] {
  return Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => !!worker && !worker.isDead());
}

/**
 * libuv's threadpool must be sized before the process starts (it is created on first use, before any code of ours
 * runs), so the supervisor sizes it for the workers it forks: every concurrent hash holds one thread.
 */
export function threadpoolSize(config: Config): number {
  return Math.max(4, config.hashing.concurrency + THREADPOOL_HEADROOM);
}

/**
 * The one line `npm start` prints for a person once it serves (on stderr, so stdout stays log lines): where the API
 * is, where its data and its development secret live, where the metrics are.
 */
export function startLine(
  config: Config,
  address: Pick<Address, 'port'>,
  where: {
    readonly database: string | undefined;
    readonly devSecretFile: string | undefined;
    readonly metricsUrl: string | undefined;
  },
): string {
  const host = ['0.0.0.0', '::'].includes(config.host) ? 'localhost' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  const parts = [
    `jwt-login: serving ${url}/api/ (docs ${url}/api/docs)`,
    where.database === undefined
      ? `database ${config.databaseUrl === undefined ? 'unknown' : describeDatabaseUrl(config.databaseUrl)}`
      : `data in ${where.database} (embedded PostgreSQL)`,
    where.devSecretFile === undefined
      ? 'JWT_SECRET from the environment'
      : `development JWT secret in ${where.devSecretFile}`,
    where.metricsUrl === undefined ? 'metrics off' : `metrics ${where.metricsUrl}`,
  ];
  return parts.join('; ');
}

/**
 * The process `npm start` runs: it owns what there is one of (the embedded PostgreSQL and its data directory, the
 * development secret) and forks `config.workers` server processes sharing the port (node:cluster), each sized and
 * configured for its share of the machine. It restarts a worker that crashes, and on SIGTERM or SIGINT lets every
 * worker drain and stop, then stops PostgreSQL and exits 0. A repeated signal does not cut the drain short; a third
 * forces the exit.
 */
export async function supervise(given: Config, environment: NodeJS.ProcessEnv): Promise<void> {
  const logging = createBunyanLogger({
    name: 'jwt-login',
    level: given.logLevel,
    format: given.logFormat,
    logstash: given.logstash,
  });
  const logger = logging.logger.child({ role: 'supervisor' });
  let embedded: EmbeddedDatabase | undefined;
  let metricsServer: MetricsServer | undefined;
  let devSecretFile: string | undefined;
  const workerEnv: Record<string, string> = {
    UV_THREADPOOL_SIZE: environment.UV_THREADPOOL_SIZE ?? String(threadpoolSize(given)),
  };
  try {
    // The secret first: an unusable one stops the start before PostgreSQL is started for nothing.
    const { config, devSecret } = await settleSecret(given);
    if (devSecret) {
      warnOfDevSecret(logger, devSecret);
      workerEnv.JWT_SECRET = config.jwtSecret;
      devSecretFile = path.resolve(given.dataDir, 'jwt-secret');
    }
    if (given.databaseUrl === undefined) {
      embedded = await startEmbeddedDatabase({
        directory: given.dataDir,
        onLog: (line) => logger.debug('embedded postgres', { line: line.trim() }),
        onRelocated: (what, where) =>
          logger.warn(`as root, PostgreSQL runs its ${what} from ${where}: the postgres user cannot reach them here`, {
            relocated: what,
            path: where,
          }),
      });
      logger.info('embedded PostgreSQL started', { data_dir: given.dataDir });
      workerEnv.DATABASE_URL = embedded.connectionUri;
      // However this process ends (a crash, a forced exit), its PostgreSQL is not left running.
      const started = embedded;
      process.once('exit', () => started.stopNow());
    }
    if (given.metrics !== undefined) {
      // Each worker keeps its own metrics; a scrape here asks every worker and sums what they answer.
      const aggregator = new AggregatorRegistry();
      const { host, port } = given.metrics;
      metricsServer = await startMetricsServer(host, port, async () => ({
        contentType: aggregator.contentType,
        body: await aggregator.clusterMetrics(),
      })).catch((error: unknown) => {
        throw new Error(`cannot serve metrics on ${host}:${port} (METRICS_PORT): ${String(error)}`, { cause: error });
      });
      logger.info('metrics served', { url: metricsServer.url, workers: given.workers });
    }
  } catch (error) {
    await embedded?.stop().catch(() => undefined);
    await logging.close();
    throw error;
  }

  let stopping = false;
  let signals = 0;
  const crashes: number[] = [];
  const everListened = new WeakSet<Worker>();

  const stopEverything = async (code: number): Promise<never> => {
    await metricsServer?.close();
    await embedded?.stop().catch((error: unknown) => logger.warn('stopping PostgreSQL failed', { err: String(error) }));
    logger.info('stopped', { exit_code: code });
    await logging.close();
    process.exit(code);
  };

  let announced = false;
  const announce = (address: Address): void => {
    if (announced) return;
    announced = true;
    process.stderr.write(
      `${startLine(given, address, {
        database: embedded === undefined ? undefined : embedded.clusterDirectory,
        devSecretFile,
        metricsUrl: metricsServer?.url,
      })}\n`,
    );
  };

  const fork = (): void => {
    const worker = cluster.fork({ ...workerEnv, JWT_LOGIN_WORKER: '1' });
    worker.once('listening', (address) => {
      everListened.add(worker);
      announce(address);
    });
    worker.once('exit', (code, signal) => void exited(worker, code, signal));
  };

  const exited = async (worker: Worker, code: number | null, signal: string | null): Promise<void> => {
    const alive = aliveWorkers();
    if (stopping) {
      if (alive.length === 0) await stopEverything(0);
      return;
    }
    if (!everListened.has(worker)) {
      // It never served: its configuration or database is wrong, and another try would fail the same way.
      logger.error('a server process failed to start; stopping', { exit_code: code, signal });
      stopping = true;
      for (const other of alive) other.process.kill('SIGTERM');
      if (alive.length === 0) await stopEverything(1);
      return;
    }
    const now = Date.now();
    crashes.push(now);
    while (crashes.length > 0 && now - crashes[0]! > CRASH_WINDOW_MS) crashes.shift();
    if (crashes.length > MAX_CRASHES) {
      logger.error('server processes keep crashing; stopping', { crashes: crashes.length });
      stopping = true;
      for (const other of alive) other.process.kill('SIGTERM');
      if (alive.length === 0) await stopEverything(1);
      return;
    }
    logger.error('a server process died; starting another', { exit_code: code, signal });
    setTimeout(() => {
      if (!stopping) fork();
    }, RESTART_DELAY_MS).unref();
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals === 1) {
      stopping = true;
      logger.info('shutting down', { signal });
      const alive = aliveWorkers();
      for (const worker of alive) worker.process.kill('SIGTERM');
      if (alive.length === 0) void stopEverything(0);
    } else if (signals === 2) {
      logger.warn('already shutting down: in-flight requests are finishing; a third signal forces the exit', {
        signal,
      });
    } else {
      logger.error('forced exit', { signal });
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      void stopEverything(1);
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', (error) => {
    logger.error('supervisor failed', { err: error.message });
    for (const worker of aliveWorkers()) worker.process.kill('SIGTERM');
    process.exit(1);
  });

  for (let index = 0; index < given.workers; index += 1) fork();
}
