import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { type DatabasePool, sql } from 'slonik';
import { z } from 'zod';
import { migrate } from '../../src/infrastructure/persistence/migrator.js';
import { SlonikUserRepository } from '../../src/infrastructure/persistence/slonik-user-repository.js';
import { type TestDatabase, createTestDatabase } from '../support/database.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../src/infrastructure/persistence/migrations/', import.meta.url));

async function allMigrations(): Promise<string[]> {
  return (await readdir(MIGRATIONS_DIR)).filter((name) => name.endsWith('.sql')).sort();
}

/** Turns a migrated test database back into an empty one: no tables at all, not even schema_migrations. */
async function wipe(pool: DatabasePool): Promise<void> {
  await pool.query(sql.unsafe`DROP SCHEMA public CASCADE`);
  await pool.query(sql.unsafe`CREATE SCHEMA public`);
}

const recorded = (pool: DatabasePool) =>
  pool.anyFirst(sql.type(z.object({ name: z.string() }))`SELECT name FROM schema_migrations ORDER BY name`);

const tables = (pool: DatabasePool) =>
  pool.anyFirst(sql.type(z.object({ tablename: z.string() }))`
    SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);

describe('migrator', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let scratch: string;

  beforeEach(async () => {
    database = await createTestDatabase();
    await wipe(database.pool);
    scratch = await mkdtemp(path.join(tmpdir(), 'jwt-login-migrations-'));
  });
  afterEach(async () => {
    await database?.drop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('starts from a database with no tables', async () => {
    expect(await tables(database.pool)).to.deep.equal([]);
  });

  it('applies every migration, in name order, to an empty database and records each', async () => {
    const expected = await allMigrations();
    expect(expected).to.include('001-users.sql');

    expect(await migrate(database.uri)).to.deep.equal(expected);

    expect(await recorded(database.pool)).to.deep.equal(expected);
    expect(await tables(database.pool)).to.include.members(['schema_migrations', 'users']);
    const indexes = await database.pool.anyFirst(sql.type(z.object({ indexname: z.string() }))`
      SELECT indexname FROM pg_indexes WHERE tablename = 'users'`);
    expect(indexes).to.include.members(['users_name_key_unique', 'users_name_skeleton_unique']);
    expect(indexes).to.not.include('users_username_folded_key');
  });

  it('applies nothing the second time', async () => {
    await migrate(database.uri);
    expect(await migrate(database.uri)).to.deep.equal([]);
    expect(await recorded(database.pool)).to.deep.equal(await allMigrations());
  });

  it('lets two processes migrate at once: both succeed and each migration is applied exactly once', async () => {
    const [first, second] = await Promise.all([migrate(database.uri), migrate(database.uri)]);
    expect([...first, ...second].sort()).to.deep.equal(await allMigrations());
    expect(await recorded(database.pool)).to.deep.equal(await allMigrations());
  });

  it('serializes concurrent runs of a slow, non-idempotent migration', async () => {
    await writeFile(path.join(scratch, '001-slow.sql'), 'SELECT pg_sleep(0.3);\nCREATE TABLE probe (n integer);');
    await writeFile(path.join(scratch, '002-row.sql'), 'INSERT INTO probe VALUES (1);');
    const runs = await Promise.all([
      migrate(database.uri, scratch),
      migrate(database.uri, scratch),
      migrate(database.uri, scratch),
    ]);
    expect(runs.flat().sort()).to.deep.equal(['001-slow.sql', '002-row.sql']);
    expect(
      await database.pool.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM probe`),
    ).to.equal(1);
  });

  it('applies files in name order and ignores files that are not .sql', async () => {
    await writeFile(path.join(scratch, '010-second.sql'), 'ALTER TABLE ordered ADD COLUMN b integer;');
    await writeFile(path.join(scratch, '002-first.sql'), 'CREATE TABLE ordered (a integer);');
    await writeFile(path.join(scratch, 'README.md'), 'DROP TABLE ordered;');
    expect(await migrate(database.uri, scratch)).to.deep.equal(['002-first.sql', '010-second.sql']);
  });

  it('rolls a failing migration back, keeps the ones before it, names it, and applies it once fixed', async () => {
    await writeFile(path.join(scratch, '001-ok.sql'), 'CREATE TABLE kept (a integer);');
    await writeFile(path.join(scratch, '002-bad.sql'), 'CREATE TABLE half (a integer);\nSELECT no_such_function();');
    let error: Error | undefined;
    try {
      await migrate(database.uri, scratch);
    } catch (caught) {
      error = caught as Error;
    }
    expect(error?.message).to.match(/^migration 002-bad\.sql failed: /);
    expect(await recorded(database.pool)).to.deep.equal(['001-ok.sql']);
    expect(await tables(database.pool)).to.deep.equal(['kept', 'schema_migrations']);

    await writeFile(path.join(scratch, '002-bad.sql'), 'CREATE TABLE half (a integer);');
    expect(await migrate(database.uri, scratch)).to.deep.equal(['002-bad.sql']);
  });

  describe('over the Flask seed database', () => {
    /** What flask-sqlalchemy created for flask-praetorian's example User model. */
    const createSeedTable = (pool: DatabasePool) =>
      pool.query(sql.unsafe`
        CREATE TABLE users (
          id SERIAL NOT NULL,
          username TEXT,
          password TEXT,
          roles TEXT,
          is_active BOOLEAN DEFAULT 'true',
          PRIMARY KEY (id),
          UNIQUE (username)
        )`);

    const seedRow = z.object({
      id: z.number(),
      username: z.string().nullable(),
      password: z.string().nullable(),
      roles: z.string().nullable(),
      is_active: z.boolean().nullable(),
    });
    const seedRows = (pool: DatabasePool) =>
      pool.any(sql.type(seedRow)`SELECT id, username, password, roles, is_active FROM users ORDER BY id`);

    it('keeps an existing users table and its rows, and the service reads them', async () => {
      await createSeedTable(database.pool);
      await database.pool.query(sql.unsafe`
        INSERT INTO users (username, password, roles, is_active) VALUES
          ('Alice', '$pbkdf2-sha512$25000$abc$def', 'admin, user', true),
          ('legacy', '$pbkdf2-sha512$25000$ghi$jkl', NULL, NULL)`);
      const before = await seedRows(database.pool);

      expect(await migrate(database.uri)).to.deep.equal(await allMigrations());

      expect(await seedRows(database.pool)).to.deep.equal(before);
      const users = new SlonikUserRepository(database.pool);
      expect(await users.findByUsername('alice')).to.deep.equal({
        id: before[0]!.id,
        username: 'Alice',
        passwordHash: '$pbkdf2-sha512$25000$abc$def',
        roles: ['admin', 'user'],
        isActive: true,
        email: null,
        emailVerified: false,
      });
      expect(await users.findByUsername('LEGACY')).to.deep.include({ roles: [], isActive: true });
      const added = await users.create({ username: 'newcomer', passwordHash: 'h', roles: ['user'], isActive: true });
      expect(added.ok && added.value.id).to.equal(3);
      expect(await users.create({ username: 'ALICE', passwordHash: 'h', roles: [], isActive: true })).to.deep.equal({
        ok: false,
        error: 'UserExists',
      });
    });

    it('refuses, changing nothing, a seed whose names collide once folded (Alice and alice)', async () => {
      await createSeedTable(database.pool);
      await database.pool.query(
        sql.unsafe`INSERT INTO users (username, password) VALUES ('Alice', 'a'), ('alice', 'b')`,
      );
      const before = await seedRows(database.pool);

      let error: Error | undefined;
      try {
        await migrate(database.uri);
      } catch (caught) {
        error = caught as Error;
      }

      expect(error?.message).to.match(/^migration 001-users\.sql failed: .*users_username_folded_key/);
      expect(await recorded(database.pool)).to.deep.equal([]);
      expect(await seedRows(database.pool)).to.deep.equal(before);
    });
  });
});
