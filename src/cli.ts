import { ConfigError, loadConfig, loadEnvFile } from './infrastructure/config/config.js';
import { CreateUser } from './application/use-cases/create-user.js';
import { UpdateUser } from './application/use-cases/update-user.js';
import { ListUsers } from './application/use-cases/list-users.js';
import { ManageUser } from './application/use-cases/own-account.js';
import { EXIT, USAGE, runUserCommand } from './interfaces/cli/user-command.js';
import { ImportUsers } from './application/use-cases/import-users.js';
import { PostgresUserSource } from './infrastructure/persistence/postgres-user-source.js';
import { KEYS_USAGE, runKeysCommand } from './interfaces/cli/keys-command.js';
import { ListSigningKeys, RotateSigningKey } from './application/use-cases/rotate-signing-key.js';
import { readPassword } from './interfaces/cli/read-password.js';
import { createBunyanLogger } from './infrastructure/logging/bunyan-logger.js';
import { resolve } from './composition-root.js';
import { userInfo } from 'node:os';
import { startCore } from './service.js';
import { NoRunningDatabase, hasRunningOwner } from './infrastructure/persistence/embedded-database.js';
import path from 'node:path';

/** Starts an embedded PostgreSQL on DATA_DIR when no service runs one there (otherwise the CLI refuses). */
const START_DATABASE = '--start-database';

/**
 * `npm run user -- ...` and `npm run keys -- ...` (`cli.js keys ...`): the admin CLI, on the same database the service
 * uses (its embedded one included), which it names before anything else.
 */
async function cli(args: string[]): Promise<number> {
  // Help needs no configuration and no database.
  const help = (arg: string | undefined) => arg === undefined || ['--help', '-h', 'help'].includes(arg);
  if (args[0] === 'keys' && help(args[1])) {
    (args.length === 1 ? process.stderr : process.stdout).write(`${KEYS_USAGE}\n`);
    return args.length === 1 ? EXIT.usage : EXIT.ok;
  }
  if (help(args[0])) {
    (args.length === 0 ? process.stderr : process.stdout).write(`${USAGE}\n`);
    return args.length === 0 ? EXIT.usage : EXIT.ok;
  }
  let config;
  try {
    loadEnvFile();
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`jwt-login: invalid configuration: ${error.message}\n`);
      return EXIT.failure;
    }
    throw error;
  }
  const startDatabase = args.includes(START_DATABASE);
  const commandArgs = args.filter((arg) => arg !== START_DATABASE);
  // Before anything is written to DATA_DIR (a development secret): a wrong directory must stay untouched.
  if (config.databaseUrl === undefined && !startDatabase && !hasRunningOwner(config.dataDir)) {
    process.stderr.write(`jwt-login: ${new NoRunningDatabase(path.resolve(config.dataDir)).message}\n`);
    return EXIT.failure;
  }
  const logging = createBunyanLogger({ name: 'jwt-login-cli', level: 'warn', stdout: process.stderr });
  let core;
  try {
    core = await startCore(config, {
      logger: logging.logger,
      embedded: startDatabase ? 'attach-or-start' : 'attach',
      listen: false,
    });
  } catch (error) {
    await logging.close();
    if (!(error instanceof NoRunningDatabase)) throw error;
    process.stderr.write(`jwt-login: ${error.message}\n`);
    return EXIT.failure;
  }
  process.stderr.write(`jwt-login: using ${core.database}\n`);
  try {
    const io = {
      out: (line: string) => process.stdout.write(`${line}\n`),
      err: (line: string) => process.stderr.write(`${line}\n`),
    };
    if (args[0] === 'keys') {
      return await runKeysCommand(args.slice(1), io, {
        rotateSigningKey: resolve(core.container, RotateSigningKey),
        listSigningKeys: resolve(core.container, ListSigningKeys),
      });
    }
    return await runUserCommand(
      commandArgs,
      {
        readPassword: () => readPassword(process.stdin, process.stderr),
        ...io,
      },
      {
        createUser: resolve(core.container, CreateUser),
        updateUser: resolve(core.container, UpdateUser),
        operator: operatingSystemUser(),
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

/** Who runs the CLI, for the audit trail: the account's name, or its uid where it has no name. */
function operatingSystemUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? 'unknown'}`;
  }
}

cli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`jwt-login: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(EXIT.failure);
  },
);
