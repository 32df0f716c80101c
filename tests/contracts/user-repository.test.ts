import { expect } from 'chai';
import { sql } from 'slonik';
import { z } from 'zod';
import { SlonikUserRepository } from '../../src/infrastructure/persistence/slonik-user-repository.js';
import { InMemoryUserRepository } from '../fakes/in-memory-user-repository.js';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { userRepositoryContract } from './user-repository.contract.js';

userRepositoryContract('InMemoryUserRepository', { fresh: async () => new InMemoryUserRepository() });

describe('SlonikUserRepository', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
  });

  userRepositoryContract('SlonikUserRepository', {
    fresh: async () => {
      await database.reset();
      return new SlonikUserRepository(database.pool);
    },
  });

  describe('on a database created with LC_CTYPE=C (lower() folds only ASCII there)', () => {
    let cDatabase: TestDatabase;
    before(async () => {
      cDatabase = await createTestDatabase({ cLocale: true });
      const ctype = await cDatabase.pool.oneFirst(
        sql.type(
          z.object({ ctype: z.string() }),
        )`SELECT datctype AS ctype FROM pg_database WHERE datname = current_database()`,
      );
      expect(ctype).to.equal('C');
    });
    after(async () => {
      await cDatabase?.drop();
    });
    userRepositoryContract('SlonikUserRepository, LC_CTYPE=C', {
      fresh: async () => {
        await cDatabase.reset();
        return new SlonikUserRepository(cDatabase.pool);
      },
    });
  });

  describe('PostgreSQL specifics', () => {
    let repository: SlonikUserRepository;
    beforeEach(async () => {
      await database.reset();
      repository = new SlonikUserRepository(database.pool);
    });

    const countUsers = () =>
      database.pool.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM users`);

    it('lets exactly one of 50 concurrent creates of one name (in several spellings) win', async () => {
      const spellings = ['race', 'RACE', 'Race', 'Ｒａｃｅ', 'rAcE'];
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          repository.create({
            username: spellings[i % spellings.length]!,
            passwordHash: `h${i}`,
            roles: ['user'],
            isActive: true,
          }),
        ),
      );
      const winners = results.filter((result) => result.ok);
      const losers = results.filter((result) => !result.ok);
      expect(winners).to.have.length(1);
      expect(losers.map((result) => !result.ok && result.error)).to.deep.equal(Array(49).fill('UserExists'));
      expect(await countUsers()).to.equal(1);
    });

    it('reads a seed row with NULL roles and NULL is_active as no roles and active', async () => {
      const id = await database.pool.oneFirst(sql.type(z.object({ id: z.number() }))`
        INSERT INTO users (username, password, roles, is_active) VALUES ('legacy', 'seed-hash', NULL, NULL) RETURNING id`);
      expect(await repository.findByUsername('LEGACY')).to.deep.equal({
        id,
        username: 'legacy',
        passwordHash: 'seed-hash',
        roles: [],
        isActive: true,
        email: null,
        emailVerified: false,
      });
    });

    it('reads padded praetorian roles with empty entries, and is_active false', async () => {
      const id = await database.pool.oneFirst(sql.type(z.object({ id: z.number() }))`
        INSERT INTO users (username, password, roles, is_active) VALUES ('padded', 'h', ' admin , user ,,', false) RETURNING id`);
      expect(await repository.findById(id)).to.deep.include({ roles: ['admin', 'user'], isActive: false });
    });

    it('stores roles comma-joined in the seed column, as praetorian did', async () => {
      const result = await repository.create({
        username: 'root',
        passwordHash: 'h',
        roles: ['admin', 'user'],
        isActive: true,
      });
      const row = await database.pool.one(sql.type(
        z.object({ roles: z.string().nullable(), is_active: z.boolean().nullable() }),
      )`
        SELECT roles, is_active FROM users WHERE id = ${result.ok ? result.value.id : -1}`);
      expect(row).to.deep.equal({ roles: 'admin,user', is_active: true });
    });

    it('is held to the folded-name rule by the database itself, for rows other tools write', async () => {
      await repository.create({ username: 'alice', passwordHash: 'h', roles: [], isActive: true });
      let error: unknown;
      try {
        await database.pool.query(sql.unsafe`INSERT INTO users (username, password) VALUES ('ＡＬＩＣＥ', 'x')`);
      } catch (caught) {
        error = caught;
      }
      expect((error as { constraint?: string } | undefined)?.constraint).to.equal('users_name_key_unique');
      expect(await countUsers()).to.equal(1);
    });
  });
});
