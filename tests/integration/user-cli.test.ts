import { type Run, cliProcess } from '../support/run-process.js';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { sql } from 'slonik';
import { z } from 'zod';
import { type TestDatabase, createTestDatabase } from '../support/database.js';

describe('admin CLI: npm run user', function () {
  this.timeout(60_000);
  let database: TestDatabase;

  /** Runs src/cli.ts as the npm script does (from source here), with `input` piped as the password. */
  const run = (args: string[], input = '', env: Record<string, string | undefined> = {}): Promise<Run> =>
    cliProcess(
      args,
      {
        ...process.env,
        DATABASE_URL: database.uri,
        ...env,
        JWT_SECRET: 'cli-test-secret-that-is-at-least-32-bytes',
        ARGON2_MEMORY_KIB: '1024',
        ARGON2_TIME_COST: '1',
        ARGON2_PARALLELISM: '1',
      },
      input,
    );

  const userRow = (username: string) =>
    database.pool.maybeOne(
      sql.type(z.object({ roles: z.string().nullable(), is_active: z.boolean().nullable(), password: z.string() }))`
        SELECT roles, is_active, password FROM users WHERE username = ${username}`,
    );

  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database.drop());

  it('creates a first admin with the password read from stdin, stored as an argon2id hash', async () => {
    const result = await run(
      ['create', 'root', '--roles', 'admin,user', '--password-stdin'],
      'a long admin password\n',
    );
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/^created user \d+ "root" with roles admin,user\n$/);
    const row = await userRow('root');
    expect(row?.roles).to.equal('admin,user');
    expect(row?.is_active).to.equal(true);
    expect(row?.password).to.match(/^\$argon2id\$/);
    expect(row?.password).not.to.contain('a long admin password');
  });

  it('says which database it writes to, without its password', async () => {
    const result = await run(['set-roles', 'root', 'admin,user']);
    expect(result.code, result.stderr).to.equal(0);
    const url = new URL(database.uri);
    const line = result.stderr.split('\n')[0]!;
    expect(line).to.equal(
      `jwt-login: using PostgreSQL at postgres://${url.username}@${url.host}${url.pathname} (DATABASE_URL)`,
    );
  });

  it('with the embedded default, refuses to start a database of its own where no service runs, and touches nothing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'jwt-login-cli-'));
    try {
      const result = await run(['create', 'stray', '--password-stdin'], 'a long admin password', {
        DATABASE_URL: undefined,
        JWT_SECRET: undefined,
        DATA_DIR: dataDir,
      });
      expect(result.code).to.equal(1);
      expect(result.stderr.trim().split('\n')).to.deep.equal([
        `jwt-login: no jwt-login service is running on DATA_DIR ${dataDir}, so there is no database to write to there: ` +
          'start the service (npm start), set DATA_DIR to the directory it uses or DATABASE_URL to its database, ' +
          'or pass --start-database to start an embedded PostgreSQL on this DATA_DIR for this command',
      ]);
      expect(readdirSync(dataDir)).to.deep.equal([]);
      expect(existsSync(join(dataDir, 'pg'))).to.equal(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a password given as an argument, with a usage exit code', async () => {
    const result = await run(['create', 'eve', '--password', 'a long admin password']);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('refusing --password');
    expect(await userRow('eve')).to.equal(null);
  });

  it('refuses a weak password and a taken username with exit code 3 and a clear message', async () => {
    const weak = await run(['create', 'bob'], 'short');
    expect(weak.code).to.equal(3);
    expect(weak.stderr).to.contain('password must be at least 8 characters');
    const taken = await run(['create', 'ROOT'], 'another long password');
    expect(taken.code).to.equal(3);
    expect(taken.stderr).to.contain('the username is taken');
  });

  it('deactivates, reactivates and sets roles by username', async () => {
    expect((await run(['set-active', 'root', 'false'])).code).to.equal(0);
    expect((await userRow('root'))?.is_active).to.equal(false);
    expect((await run(['set-active', 'root', 'true'])).code).to.equal(0);
    expect((await userRow('root'))?.is_active).to.equal(true);
    const roles = await run(['set-roles', 'root', 'admin,auditor']);
    expect(roles.code).to.equal(0);
    expect(roles.stdout).to.contain('has roles admin,auditor');
    expect((await userRow('root'))?.roles).to.equal('admin,auditor');
  });

  it('answers usage errors with exit code 2 and unknown users with 3', async () => {
    expect((await run([])).code).to.equal(2);
    expect((await run(['frobnicate', 'root'])).code).to.equal(2);
    expect((await run(['set-active', 'root', 'maybe'])).code).to.equal(2);
    expect((await run(['set-roles', 'root', 'bad,role with space'])).code).to.equal(3);
    const missing = await run(['set-active', 'nobody', 'false']);
    expect(missing.code).to.equal(3);
    expect(missing.stderr).to.contain('no such user');
  });

  it('prints its help with exit code 0, without a database (issue 8, point 5)', async () => {
    const help = await run(['--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.contain('reset-password').and.to.contain('delete').and.to.contain('list');
    expect((await run([])).code).to.equal(2);
  });

  it('lists users, resets a password (ending every session) and deletes a user', async () => {
    const password = 'Another-Str0ng-Passw0rd!';
    expect((await run(['create', 'listed', '--email', 'listed@example.com'], password)).code).to.equal(0);
    const listed = await run(['list']);
    expect(listed.code).to.equal(0);
    expect(listed.stdout).to.match(/\t"listed"\tuser\tactive\tlisted@example.com\n/);
    expect(listed.stdout).to.match(/\d+ users? \(page 1 of 1\)/);
    expect((await run(['list', '--page', 'x'])).code).to.equal(2);

    const id = await database.pool.oneFirst(sql.type(z.object({ id: z.number() }))`
      SELECT id FROM users WHERE username = 'listed'`);
    await database.pool.query(sql.unsafe`
      INSERT INTO sessions (id, user_id, created_at, expires_at)
      VALUES (gen_random_uuid(), ${id}, now(), now() + interval '1 day')`);
    const before = (await userRow('listed'))!.password;
    const reset = await run(['reset-password', 'listed'], 'A-Brand-New-Passw0rd!');
    expect(reset.code, reset.stderr).to.equal(0);
    expect((await userRow('listed'))!.password).to.not.equal(before);
    const live = await database.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
      SELECT count(*)::int AS count FROM sessions WHERE user_id = ${id} AND revoked_at IS NULL`);
    expect(live).to.equal(0);
    expect((await run(['reset-password', 'listed'], 'short')).code).to.equal(3);
    expect((await run(['reset-password', 'nobody'], 'A-Brand-New-Passw0rd!')).code).to.equal(3);

    const deleted = await run(['delete', 'listed']);
    expect(deleted.code, deleted.stderr).to.equal(0);
    expect(await userRow('listed')).to.equal(null);
    const again = await run(['delete', 'listed']);
    expect(again.code).to.equal(3);
    expect(again.stderr).to.contain('no such user');
  });
});
