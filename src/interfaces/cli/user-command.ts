import type { CreateUser } from '../../application/use-cases/create-user.js';
import { type ListUsers, MAX_PAGE_SIZE } from '../../application/use-cases/list-users.js';
import type { ManageUser } from '../../application/use-cases/own-account.js';
import type { UpdateUser } from '../../application/use-cases/update-user.js';
import type { ImportUsersOutput } from '../../application/use-cases/import-users.js';
import type { DomainError } from '../../domain/errors.js';

export interface UserCommandDependencies {
  readonly createUser: CreateUser;
  readonly updateUser: UpdateUser;
  readonly listUsers: ListUsers;
  readonly manageUser: ManageUser;
  /** The operating-system account running the CLI: the actor of its changes in the audit trail. */
  readonly operator: string;
  /** Imports a seed's users from the PostgreSQL database at `from`, telling `report` each conflict. */
  readonly importUsers: (from: string, report: (line: string) => void) => Promise<ImportUsersOutput>;
}

export interface CommandIo {
  /** Reads the password: the whole of a piped stdin, or a hidden prompt on a terminal. */
  readPassword(): Promise<string>;
  out(line: string): void;
  err(line: string): void;
}

export const EXIT = { ok: 0, failure: 1, usage: 2, refused: 3 } as const;

export const USAGE = `usage:
  npm run user -- create <username> [--roles role1,role2] [--email address] [--password-stdin]
  npm run user -- list [--page N]
  npm run user -- set-active <username> <true|false>
  npm run user -- set-roles <username> <role1,role2>
  npm run user -- reset-password <username> [--password-stdin]   (revokes every session of the user)
  npm run user -- delete <username>                              (the user and their sessions)
  npm run user -- import --from <postgres url of the Flask seed's database>
  npm run user -- --help
Passwords are read from stdin (piped, or typed at a hidden prompt), never from the command line.
It writes to the database of the service: DATABASE_URL, or the embedded PostgreSQL of the service running on
DATA_DIR; add --start-database to start one there when no service runs.
Exit codes: 0 done, 1 failure, 2 usage error, 3 refused (rule broken, name taken, no such user).`;

function describe(error: DomainError): string {
  switch (error.code) {
    case 'InvalidInput':
      return error.message;
    case 'UserExists':
      return 'the username is taken';
    case 'UserNotFound':
      return 'no such user';
    case 'EmailTaken':
      return 'the email address is taken';
    default:
      return error.code;
  }
}

const splitRoles = (text: string) =>
  text
    .split(',')
    .map((role) => role.trim())
    .filter(Boolean);

/**
 * The admin CLI: create a user (a first admin needs no SQL), activate or deactivate one, set roles.
 * @returns the process exit code: 0 done, 2 usage error, 3 refused (validation, taken, not found).
 */
export async function runUserCommand(
  args: readonly string[],
  io: CommandIo,
  deps: UserCommandDependencies,
): Promise<number> {
  const [command, username, ...rest] = args;
  if (command === '--help' || command === '-h' || command === 'help') {
    io.out(USAGE);
    return EXIT.ok;
  }
  if (command === 'list') return listCommand(args.slice(1), io, deps);
  if (command === 'import') return importCommand(args.slice(1), io, deps);
  if (!command || !username || username.startsWith('--')) {
    io.err(USAGE);
    return EXIT.usage;
  }
  const actor = { via: 'cli', username: deps.operator } as const;
  switch (command) {
    case 'reset-password': {
      if (rest.some((flag) => flag !== '--password-stdin')) {
        io.err(`reset-password takes a username and reads the password from stdin\n${USAGE}`);
        return EXIT.usage;
      }
      const result = await deps.manageUser.setPassword(username, await io.readPassword());
      if (!result.ok) {
        io.err(`cannot reset the password of ${JSON.stringify(username)}: ${describe(result.error)}`);
        return EXIT.refused;
      }
      io.out(
        `user ${result.value.id} ${JSON.stringify(result.value.username)} has a new password; every session ended`,
      );
      return EXIT.ok;
    }
    case 'delete': {
      if (rest.length !== 0) {
        io.err(`delete takes one username\n${USAGE}`);
        return EXIT.usage;
      }
      const found = await deps.manageUser.find(username);
      const deleted = found.ok ? await deps.manageUser.delete(found.value.id) : found;
      if (!deleted.ok) {
        io.err(`cannot delete ${JSON.stringify(username)}: ${describe(deleted.error)}`);
        return EXIT.refused;
      }
      io.out(`deleted user ${found.ok ? found.value.id : ''} ${JSON.stringify(username)} and their sessions`);
      return EXIT.ok;
    }
    case 'create': {
      let roles: string[] | undefined;
      let email: string | undefined;
      for (let i = 0; i < rest.length; i += 1) {
        const flag = rest[i];
        if (flag === '--password-stdin') continue;
        if (flag === '--roles' && rest[i + 1] !== undefined) {
          roles = splitRoles(rest[i + 1]!);
          i += 1;
          continue;
        }
        if (flag === '--email' && rest[i + 1] !== undefined) {
          email = rest[i + 1]!;
          i += 1;
          continue;
        }
        if (flag === '--password' || flag?.startsWith('--password=')) {
          io.err(
            'refusing --password: a password on the command line leaks into shell history and ps; pipe it on stdin',
          );
          return EXIT.usage;
        }
        io.err(`unknown argument ${JSON.stringify(flag)}\n${USAGE}`);
        return EXIT.usage;
      }
      const password = await io.readPassword();
      const result = await deps.createUser.execute({ username, password, roles, email, actor });
      if (!result.ok) {
        io.err(`cannot create ${JSON.stringify(username)}: ${describe(result.error)}`);
        return EXIT.refused;
      }
      io.out(
        `created user ${result.value.id} ${JSON.stringify(result.value.username)} with roles ${result.value.roles.join(',')}`,
      );
      return EXIT.ok;
    }
    case 'set-active': {
      const value = rest[0];
      if (rest.length !== 1 || (value !== 'true' && value !== 'false')) {
        io.err(`set-active takes true or false\n${USAGE}`);
        return EXIT.usage;
      }
      const result = await deps.updateUser.execute({ target: { username }, isActive: value === 'true', actor });
      if (!result.ok) {
        io.err(`cannot update ${JSON.stringify(username)}: ${describe(result.error)}`);
        return EXIT.refused;
      }
      io.out(
        `user ${result.value.id} ${JSON.stringify(result.value.username)} is ${result.value.isActive ? 'active' : 'inactive'}`,
      );
      return EXIT.ok;
    }
    case 'set-roles': {
      if (rest.length !== 1) {
        io.err(`set-roles takes one comma-separated list\n${USAGE}`);
        return EXIT.usage;
      }
      const result = await deps.updateUser.execute({ target: { username }, roles: splitRoles(rest[0]!), actor });
      if (!result.ok) {
        io.err(`cannot update ${JSON.stringify(username)}: ${describe(result.error)}`);
        return EXIT.refused;
      }
      io.out(
        `user ${result.value.id} ${JSON.stringify(result.value.username)} has roles ${result.value.roles.join(',')}`,
      );
      return EXIT.ok;
    }
    default:
      io.err(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
      return EXIT.usage;
  }
}

/** `list [--page N]`: one page of users, a line each, then the count. */
async function listCommand(args: readonly string[], io: CommandIo, deps: UserCommandDependencies): Promise<number> {
  let page = 1;
  if (args.length > 0) {
    if (args.length !== 2 || args[0] !== '--page' || !/^[1-9]\d{0,6}$/.test(args[1]!)) {
      io.err(`list takes --page N (a whole number from 1)\n${USAGE}`);
      return EXIT.usage;
    }
    page = Number(args[1]);
  }
  const listed = await deps.listUsers.execute({ page, perPage: MAX_PAGE_SIZE });
  for (const user of listed.users) {
    const flags = [user.isActive ? 'active' : 'inactive', user.email === null ? '' : user.email].filter(Boolean);
    io.out(`${user.id}\t${JSON.stringify(user.username)}\t${user.roles.join(',')}\t${flags.join('\t')}`);
  }
  const pages = Math.max(1, Math.ceil(listed.total / MAX_PAGE_SIZE));
  io.out(`${listed.total} user${listed.total === 1 ? '' : 's'} (page ${page} of ${pages})`);
  return EXIT.ok;
}

/**
 * `import --from <url>`: copies a Flask seed's users, keeping ids and hashes; one line per conflict on stderr, the
 * count on stdout. Exit 0 once every row was looked at (conflicts included), 1 when the source cannot be read.
 */
async function importCommand(args: readonly string[], io: CommandIo, deps: UserCommandDependencies): Promise<number> {
  const from = args[0] === '--from' ? args[1] : args[0]?.startsWith('--from=') ? args[0].slice(7) : undefined;
  const expected = args[0] === '--from' ? 2 : 1;
  if (from === undefined || args.length !== expected || !/^postgres(ql)?:\/\//.test(from)) {
    io.err(`import takes --from <postgres:// URL>\n${USAGE}`);
    return EXIT.usage;
  }
  let counts: ImportUsersOutput;
  try {
    counts = await deps.importUsers(from, (line) => io.err(line));
  } catch (error) {
    // The URL may hold a password: the message names the failure, not the URL.
    io.err(`cannot import: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.failure;
  }
  io.out(
    `imported ${counts.imported} of ${counts.read} users; ${counts.present} already there, ` +
      `${counts.skipped} skipped, ${counts.conflicts} conflicts reported`,
  );
  return EXIT.ok;
}
