import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Container } from 'inversify';
import pg from 'pg';
import { AggregatorRegistry } from 'prom-client';
import type { Clock } from './application/ports/clock.js';
import { type Logger } from './application/ports/logger.js';
import { PasswordHasher } from './application/ports/password-hasher.js';
import { buildApp, buildContainer, mailDirectory, resolve } from './composition-root.js';
import type { Config, ServiceConfig } from './infrastructure/config/config.js';
import { settleSecret, warnOfDevSecret } from './infrastructure/config/dev-secret.js';
import { createBunyanLogger } from './infrastructure/logging/bunyan-logger.js';
import {
  type EmbeddedDatabase,
  openEmbeddedDatabase,
  startEmbeddedDatabase,
} from './infrastructure/persistence/embedded-database.js';
import { PostgresChangeFeed } from './infrastructure/persistence/change-feed.js';
import { SigningKeyReloader, openSigningKeys } from './infrastructure/persistence/signing-keys.js';
import { migrate } from './infrastructure/persistence/migrator.js';
import { rekeyUsernames } from './infrastructure/persistence/username-keys.js';
import { QUERY_TIMEOUT_MS, createDatabasePool, describeDatabaseUrl } from './infrastructure/persistence/pool.js';
import { createHttpServer } from './interfaces/http/server.js';
import { PurgeSchedule } from './interfaces/jobs/purge-schedule.js';
import { MailSchedule } from './interfaces/jobs/mail-schedule.js';
import { PurgeEndedRecords } from './application/use-cases/purge-ended-records.js';
import { AccessState } from './application/ports/access-state.js';
import { PrometheusMetrics } from './infrastructure/metrics/prometheus-metrics.js';
import { AdmittedPasswordHasher } from './infrastructure/security/hash-admission.js';
import { NotifiedAccessState } from './infrastructure/persistence/notified-access-state.js';
import { type MetricsServer, startMetricsServer } from './interfaces/metrics/metrics-server.js';
import { API_HEADERS, helmetHeaders } from './interfaces/http/middleware/security-headers.js';

/** What a caller may replace in the service it starts (tests, the bench, the CLI). */
export interface ServiceOverrides {
  /** Replaces the bunyan logger built from the configuration. */
  readonly logger?: Logger;
  /** Where the bunyan logger writes its JSON lines; default stdout. */
  readonly stdout?: NodeJS.WritableStream;
  /** Replaces the system clock. */
  readonly clock?: Clock;
  /**
   * With the embedded database: `start` runs it (the service); `attach` uses the one a running service owns and fails
   * with `NoRunningDatabase` when none runs; `attach-or-start` starts one then (the admin CLI, as asked). Default
   * `start`.
   */
  readonly embedded?: 'start' | 'attach' | 'attach-or-start';
  /** Listen for change notifications (guarded requests served from memory). Default true; the CLI needs none. */
  readonly listen?: boolean;
}

/** Everything but HTTP: logging, the database (embedded or not), migrations, the settled secret, the container. */
export interface Core {
  readonly config: ServiceConfig;
  readonly container: Container;
  readonly logger: Logger;
  /** Undefined when started with `listen: false`. */
  readonly changeFeed: PostgresChangeFeed | undefined;
  readonly metrics: PrometheusMetrics;
  /** Which database this is, for a person: an embedded one (whose, where) or the server of DATABASE_URL. */
  readonly database: string;
  /** Closes the pools, stops an embedded PostgreSQL this process started, closes logging. Never throws. */
  close(): Promise<void>;
}

type Step = readonly [name: string, run: () => Promise<unknown>];

/** Runs clean-up steps in order, each even if an earlier one failed, logging failures. */
async function runSteps(steps: readonly Step[], logger: Logger): Promise<void> {
  for (const [name, run] of steps) {
    await run().catch((error: unknown) => logger.warn(`closing ${name} failed`, { err: String(error) }));
  }
}

/** Starts everything the use cases need. On failure, whatever was started is stopped again before the error is thrown. */
export async function startCore(given: Config, overrides: ServiceOverrides = {}): Promise<Core> {
  const logging =
    overrides.logger === undefined
      ? createBunyanLogger({
          name: 'jwt-login',
          level: given.logLevel,
          format: given.logFormat,
          logstash: given.logstash,
          ...(overrides.stdout === undefined ? {} : { stdout: overrides.stdout }),
        })
      : undefined;
  const logger: Logger = overrides.logger ?? logging!.logger;
  const cleanup: Step[] = [];
  const close = async () => {
    await runSteps([...cleanup].reverse(), logger);
    if (logging) {
      logger.info('stopped', { logstash: logging.logstashStats() ?? null });
      await logging.close();
    }
  };

  try {
    // The secret first: an unusable one stops the start before anything else is started.
    const { config, devSecret } = await settleSecret(given);
    if (devSecret) {
      warnOfDevSecret(logger, devSecret);
    }
    let connectionUri = given.databaseUrl;
    let database =
      connectionUri === undefined ? '' : `PostgreSQL at ${describeDatabaseUrl(connectionUri)} (DATABASE_URL)`;
    if (connectionUri === undefined) {
      const options = {
        directory: given.dataDir,
        onLog: (line: string) => logger.debug('embedded postgres', { line: line.trim() }),
        onRelocated: (what: string, where: string) =>
          logger.warn(`as root, PostgreSQL runs its ${what} from ${where}: the postgres user cannot reach them here`, {
            relocated: what,
            path: where,
          }),
      };
      const mode = overrides.embedded ?? 'start';
      const embedded: EmbeddedDatabase =
        mode === 'start'
          ? await startEmbeddedDatabase(options)
          : await openEmbeddedDatabase({ ...options, startIfNone: mode === 'attach-or-start' });
      cleanup.push(['embedded PostgreSQL', () => embedded.stop()]);
      connectionUri = embedded.connectionUri;
      const directory = path.resolve(given.dataDir);
      database = embedded.attached
        ? `the embedded PostgreSQL of the service running on DATA_DIR ${directory} (${describeDatabaseUrl(connectionUri)})`
        : `an embedded PostgreSQL started on DATA_DIR ${directory} (${describeDatabaseUrl(connectionUri)})`;
      if (!embedded.attached) logger.info('embedded PostgreSQL started', { data_dir: given.dataDir });
    }

    // Advisory locks and LISTEN need a session: the direct URL when the main one goes through a pooler.
    const directUri = config.databaseDirectUrl ?? connectionUri;
    const applied = await migrate(directUri, undefined, [(client) => rekeyUsernames(client, logger)]);
    if (applied.length > 0) logger.info('migrations applied', { migrations: applied });

    const pool = await createDatabasePool({
      connectionUri,
      connectionTimeoutMs: config.databaseConnectTimeoutMs,
      maximumPoolSize: config.databasePoolSize,
    });
    cleanup.push(['database pool', () => pool.end()]);
    // As large as the main pool: it serves two queries of every login, so a burst the main pool holds must fit here too.
    const rateLimitPool = new pg.Pool({
      connectionString: connectionUri,
      max: config.databasePoolSize,
      connectionTimeoutMillis: config.databaseConnectTimeoutMs,
      query_timeout: QUERY_TIMEOUT_MS,
    });
    // An idle client cut by the server (a restart, a dropped database) must not become an uncaught error.
    rateLimitPool.on('error', (error) => logger.warn('rate-limit pool error', { err: error.message }));
    cleanup.push(['rate-limit pool', () => rateLimitPool.end()]);

    const now = () => overrides.clock?.now() ?? Date.now();
    // A missing, short, mismatched or undecryptable key stops the start here, with one line.
    const signingKeys = await openSigningKeys(config, pool, now(), logger);

    let changeFeed: PostgresChangeFeed | undefined;
    if (overrides.listen !== false) {
      changeFeed = new PostgresChangeFeed({
        connectionUri: directUri,
        connectTimeoutMs: config.databaseConnectTimeoutMs,
        heartbeatMs: config.listenHeartbeatMs,
        logger,
      });
      cleanup.push(['change feed', () => changeFeed!.close()]);
      // Before it listens: its first `up` reloads what changed since the keys were read above.
      if (signingKeys.store) {
        changeFeed.subscribe(new SigningKeyReloader(signingKeys.ring, signingKeys.store, now, logger));
      }
      // Serving without it is correct (guarded requests read the database) but slower; it keeps trying.
      if (!(await changeFeed.start(config.databaseConnectTimeoutMs))) {
        logger.warn('not listening for changes yet: guarded requests read the database until it is', {
          event: 'change_feed_down',
        });
      }
    }

    const metrics = new PrometheusMetrics();
    const container = buildContainer({
      config,
      pool,
      directUri,
      rateLimitPool,
      logger,
      signingKeys,
      metrics,
      ...(changeFeed === undefined ? {} : { changeFeed }),
      ...(overrides.clock === undefined ? {} : { clock: overrides.clock }),
    });
    // The dummy hash that unknown-user logins verify against, made now with the current parameters, so the first such
    // login costs what any wrong password costs.
    const hasher = resolve(container, PasswordHasher);
    await hasher.dummyHash();
    const accessState = resolve(container, AccessState);
    metrics.watch({
      ...(hasher instanceof AdmittedPasswordHasher ? { hashing: () => hasher.stats() } : {}),
      pools: {
        main: () => {
          const state = pool.state();
          return {
            total: state.acquiredConnections + state.idleConnections,
            idle: state.idleConnections,
            waiting: state.waitingClients,
          };
        },
        rate_limit: () => ({
          total: rateLimitPool.totalCount,
          idle: rateLimitPool.idleCount,
          waiting: rateLimitPool.waitingCount,
        }),
      },
      ...(accessState instanceof NotifiedAccessState ? { accessCache: () => accessState.stats() } : {}),
      ...(changeFeed === undefined ? {} : { listening: () => changeFeed.listening }),
      ...(logging === undefined
        ? {}
        : {
            logging: () => ({
              ...(logging.logstashStats() === undefined ? {} : { logstash: logging.logstashStats()! }),
              stdoutDropped: logging.stdoutDropped(),
            }),
          }),
    });
    return { config, container, logger, changeFeed, metrics, database, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A running service: the HTTP API on `url` over a started {@link Core}. */
export interface RunningService {
  readonly url: string;
  readonly server: Server;
  readonly container: Container;
  readonly config: ServiceConfig;
  readonly logger: Logger;
  readonly changeFeed: PostgresChangeFeed | undefined;
  readonly metrics: PrometheusMetrics;
  /** The Prometheus endpoint of this process; undefined with `METRICS_PORT=off` or in a cluster worker. */
  readonly metricsUrl: string | undefined;
  /**
   * Stops taking requests: `/api/ready` turns 503 and the listener closes; answers given from then on close their
   * connection, so keep-alive clients cannot hold the stop open. In-flight requests get `drainMs` to finish, then every
   * connection is cut, and the core is closed. Calling it again returns the same promise.
   */
  stop(options?: { readonly drainMs?: number }): Promise<void>;
}

const DEFAULT_DRAIN_MS = 15_000;
/** A request not fully received by then is answered 408. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Descriptors kept for what is not a client connection: database pools, LISTEN, logs, files. */
const DESCRIPTOR_RESERVE = 64;

/**
 * Connections the process can hold without running out of file descriptors (EMFILE would then refuse its database
 * connections too): the soft limit on open files, less what its pools and the rest need.
 */
function defaultMaxConnections(config: ServiceConfig): number {
  let limit = 1024;
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (line && line[1] !== 'unlimited') limit = Number(line[1]);
    else if (line) limit = 1_000_000;
  } catch {
    // Not Linux: the common default.
  }
  return Math.max(16, limit - DESCRIPTOR_RESERVE - 3 * config.databasePoolSize);
}

/** The one boot path: {@link startCore}, then the HTTP API on `config.host:config.port`. */
export async function startService(given: Config, overrides: ServiceOverrides = {}): Promise<RunningService> {
  const core = await startCore(given, overrides);
  const { config, container, logger, changeFeed, metrics } = core;
  let stopping: Promise<void> | undefined;
  const app = buildApp(container, config, () => stopping === undefined, metrics);
  const handle = app.callback();
  // Koa answers its own errors; the promise it returns has nothing left to report.
  const http = createHttpServer((request, response) => void handle(request, response), {
    headersTimeoutMs: config.headersTimeoutMs,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    maxConnections: config.maxConnections ?? defaultMaxConnections(config),
    // Behind a trusted proxy every client comes from the proxy's address: the proxy limits its clients.
    maxConnectionsPerClient: config.trustProxy ? undefined : config.maxConnectionsPerClient,
    headers: helmetHeaders(API_HEADERS),
    logger,
  });
  let address: AddressInfo;
  try {
    address = await http.listen(config.port, config.host);
  } catch (error) {
    await core.close();
    throw error;
  }
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  let metricsServer: MetricsServer | undefined;
  if (config.metrics !== undefined) {
    if (cluster.isWorker) {
      // The supervisor serves /metrics for every worker, summing what each answers (prom-client's cluster protocol).
      AggregatorRegistry.setRegistries([metrics.registry]);
      new AggregatorRegistry();
    } else {
      try {
        metricsServer = await startMetricsServer(config.metrics.host, config.metrics.port, async () => ({
          contentType: metrics.registry.contentType,
          body: await metrics.registry.metrics(),
        }));
      } catch (error) {
        await http.stop(0);
        await core.close();
        throw new Error(
          `cannot serve metrics on ${config.metrics.host}:${config.metrics.port} (METRICS_PORT): ${String(error)}`,
          { cause: error },
        );
      }
    }
  }
  logger.info('listening', {
    host: config.host,
    port: address.port,
    ...(metricsServer === undefined ? {} : { metrics: metricsServer.url }),
  });
  const purge =
    config.purge.intervalMs === undefined
      ? undefined
      : new PurgeSchedule(resolve(container, PurgeEndedRecords), logger, config.purge.intervalMs);
  purge?.start();
  const mail = resolve(container, MailSchedule);
  mail.start();
  logger.info(
    config.mail.smtpUrl === undefined
      ? `mails are written as .eml files under ${mailDirectory(config)} (set SMTP_URL to send them)`
      : 'mails are sent over SMTP',
    { event: 'mail_transport', mail_directory: config.mail.smtpUrl === undefined ? mailDirectory(config) : null },
  );

  const stop = async (drainMs: number): Promise<void> => {
    await Promise.all([http.stop(drainMs), purge?.stop(), mail.stop(), metricsServer?.close()]);
    await core.close();
  };

  return {
    url,
    server: http.server,
    container,
    config,
    logger,
    changeFeed,
    metrics,
    metricsUrl: metricsServer?.url,
    stop: (options = {}) => (stopping ??= stop(options.drainMs ?? DEFAULT_DRAIN_MS)),
  };
}
