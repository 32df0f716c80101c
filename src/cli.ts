import { ConfigError, loadConfig } from './infrastructure/config/config.js';
import { CreateUser } from './application/use-cases/create-user.js';
import { UpdateUser } from './application/use-cases/update-user.js';
import { ListUsers } from './application/use-cases/list-users.js';
import { ManageUser } from './application/use-cases/own-account.js';
import { EXIT, USAGE, runUserCommand } from './interfaces/cli/user-command.js';
import { ImportUsers } from './application/use-cases/import-users.js';
import { PostgresUserSource } from './infrastructure/persistence/postgres-user-source.js';
import { readPassword } from './interfaces/cli/read-password.js';
import { createBunyanLogger } from './infrastructure/logging/bunyan-logger.js';
import { resolve } from './composition-root.js';
import { startCore } from './service.js';

/** `npm run user -- ...`: the admin CLI, on the same database the service uses (its embedded one included). */
async function cli(args: string[]): Promise<number> {
  // Help needs no configuration and no database.
  if (args.length === 0 || ['--help', '-h', 'help'].includes(args[0]!)) {
    (args.length === 0 ? process.stderr : process.stdout).write(`${USAGE}\n`);
    return args.length === 0 ? EXIT.usage : EXIT.ok;
  }
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
  const core = await startCore(config, { logger: logging.logger, embedded: 'attach', listen: false });
  try {
    return await runUserCommand(
      args,
      {
        readPassword: () => readPassword(process.stdin, process.stderr),
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
      },
      {
        createUser: resolve(core.container, CreateUser),
        updateUser: resolve(core.container, UpdateUser),
        listUsers: resolve(core.container, ListUsers),
        manageUser: resolve(core.container, ManageUser),
        importUsers: async (from, report) => {
          const source = new PostgresUserSource(from, config.databaseConnectTimeoutMs);
          try {
            return await resolve(core.container, ImportUsers).execute({ source, report });
          } finally {
            await source.close();
          }
        },
      },
    );
  } finally {
    await core.close();
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
