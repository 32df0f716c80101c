import type { Server } from 'node:http';
import pg from 'pg';
import { ConfigError, type Config, loadConfig } from './infrastructure/config/config.js';
import { loadOrCreateDevSecret } from './infrastructure/config/dev-secret.js';
import { createBunyanLogger } from './infrastructure/logging/bunyan-logger.js';
import { type EmbeddedDatabase, startEmbeddedDatabase } from './infrastructure/persistence/embedded-database.js';
import { migrate } from './infrastructure/persistence/migrator.js';
import { createDatabasePool } from './infrastructure/persistence/pool.js';
import { buildApp, buildContainer } from './composition-root.js';
import { PasswordHasher } from './application/ports/password-hasher.js';

const SHUTDOWN_DEADLINE_MS = 15_000;

/** Boot: config -> logger -> database (embedded or external) -> migrations -> container -> HTTP; then signals. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`jwt-login: invalid configuration: ${error.message}\n`);
    process.exit(1);
  }

  const logging = createBunyanLogger({ name: 'jwt-login', level: config.logLevel, logstash: config.logstash });
  const logger = logging.logger;

  let embedded: EmbeddedDatabase | undefined;
  let connectionUri = config.databaseUrl;
  if (connectionUri === undefined) {
    embedded = await startEmbeddedDatabase({
      directory: config.dataDir,
      onLog: (line) => logger.debug('embedded postgres', { line: line.trim() }),
    });
    connectionUri = embedded.connectionUri;
    logger.info('embedded PostgreSQL started', { data_dir: config.dataDir });
  }

  let jwtSecret = config.jwtSecret;
  if (jwtSecret === undefined) {
    const dev = await loadOrCreateDevSecret(config.dataDir);
    jwtSecret = dev.secret;
    logger.warn(
      'JWT_SECRET is unset: using a generated development secret kept in DATA_DIR; set JWT_SECRET in production',
      {
        created: dev.created,
      },
    );
  }

  const pool = await createDatabasePool({
    connectionUri,
    connectionTimeoutMs: config.databaseConnectTimeoutMs,
    maximumPoolSize: config.databasePoolSize,
  });
  try {
    const applied = await migrate(connectionUri);
    if (applied.length > 0) logger.info('migrations applied', { migrations: applied });
  } catch (error) {
    await pool.end();
    await embedded?.stop();
    throw error;
  }

  const rateLimitPool = new pg.Pool({
    connectionString: connectionUri,
    max: 3,
    connectionTimeoutMillis: config.databaseConnectTimeoutMs,
  });
  rateLimitPool.on('error', (error) => logger.warn('rate-limit pool error', { err: error.message }));
  const container = buildContainer({ config, pool, logger, jwtSecret, rateLimitStore: rateLimitPool });
  // The dummy hash that unknown-user logins verify against, made now with the current parameters, so the first such
  // login costs what any wrong password costs.
  await container.get<PasswordHasher>(PasswordHasher).dummyHash();
  process.on('unhandledRejection', (reason) => {
    logger.error('unhandled rejection', { err: reason instanceof Error ? reason.message : String(reason) });
  });
  const lifecycle = { stopping: false };
  const app = buildApp(container, config, () => !lifecycle.stopping);
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const listening = app.listen(config.port, config.host, () => resolve(listening));
      listening.once('error', reject);
    });
  } catch (error) {
    await pool.end();
    await embedded?.stop();
    throw error;
  }
  logger.info('listening', { host: config.host, port: config.port });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  const shutdown = async (signal: string): Promise<void> => {
    if (lifecycle.stopping) return;
    lifecycle.stopping = true;
    logger.info('shutting down', { signal });
    // Past this, connections still open are cut and the process exits anyway.
    setTimeout(() => {
      logger.error('shutdown deadline passed: exiting', { signal });
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    // Answers given while stopping close their connection, so keep-alive clients cannot hold the shutdown open.
    server.on('request', (_request, response) => response.setHeader('Connection', 'close'));
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    const steps: [string, () => Promise<unknown>][] = [
      ['database pool', () => pool.end()],
      ['rate-limit pool', () => rateLimitPool.end()],
      ['embedded PostgreSQL', async () => embedded?.stop()],
    ];
    for (const [name, step] of steps) {
      await step().catch((error: unknown) => logger.warn(`closing ${name} failed`, { err: String(error) }));
    }
    logger.info('stopped', { logstash: logging.logstashStats() ?? null });
    await logging.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`jwt-login: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
