import { ConfigError, loadConfig } from './infrastructure/config/config.js';
import { loadOrCreateDevSecret } from './infrastructure/config/dev-secret.js';
import { createBunyanLogger } from './infrastructure/logging/bunyan-logger.js';
import { openEmbeddedDatabase } from './infrastructure/persistence/embedded-database.js';
import { migrate } from './infrastructure/persistence/migrator.js';
import { createDatabasePool } from './infrastructure/persistence/pool.js';
import { CreateUser } from './application/use-cases/create-user.js';
import { UpdateUser } from './application/use-cases/update-user.js';
import { EXIT, runUserCommand } from './interfaces/cli/user-command.js';
import { readPassword } from './interfaces/cli/read-password.js';
import { buildContainer } from './composition-root.js';

/** `npm run user -- ...`: the admin CLI, on the same database the service uses (its embedded one included). */
async function cli(args: string[]): Promise<number> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`jwt-login: invalid configuration: ${error.message}\n`);
      return EXIT.failure;
    }
    throw error;
  }
  const logging = createBunyanLogger({ name: 'jwt-login-cli', level: 'warn', stdout: process.stderr });
  const database = config.databaseUrl
    ? { connectionUri: config.databaseUrl, stop: async () => undefined }
    : await openEmbeddedDatabase({ directory: config.dataDir });
  const jwtSecret = config.jwtSecret ?? (await loadOrCreateDevSecret(config.dataDir)).secret;
  const pool = await createDatabasePool({
    connectionUri: database.connectionUri,
    connectionTimeoutMs: config.databaseConnectTimeoutMs,
    maximumPoolSize: 2,
  });
  try {
    await migrate(database.connectionUri);
    const container = buildContainer({ config, pool, logger: logging.logger, jwtSecret, rateLimitStore: 'memory' });
    return await runUserCommand(
      args,
      {
        readPassword: () => readPassword(process.stdin, process.stderr),
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
      },
      { createUser: container.get(CreateUser), updateUser: container.get(UpdateUser) },
    );
  } finally {
    await pool.end();
    await database.stop();
    await logging.close();
  }
}

cli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`jwt-login: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(EXIT.failure);
  },
);
