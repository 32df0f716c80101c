import { z } from 'zod';
import { sql } from 'slonik';
import { SlonikSessionRepository } from '../../src/infrastructure/persistence/slonik-session-repository.js';
import { InMemorySessionRepository } from '../fakes/in-memory-session-repository.js';
import { InMemoryUserRepository } from '../fakes/in-memory-user-repository.js';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { describeSessionRepositoryContract } from './session-repository.contract.js';

describeSessionRepositoryContract('InMemorySessionRepository', {
  fresh: async () => {
    const users = new InMemoryUserRepository();
    const ids: number[] = [];
    for (const username of ['contract_alice', 'contract_bob']) {
      const created = await users.create({ username, passwordHash: 'not-a-hash', roles: ['user'], isActive: true });
      if (created.ok) ids.push(created.value.id);
    }
    return {
      repository: new InMemorySessionRepository(users),
      userIds: [ids[0]!, ids[1]!],
      passwordHash: {
        get: async (id) => (await users.findById(id))!.passwordHash,
        set: (id, passwordHash) => users.replace(id, { passwordHash }),
      },
    };
  },
});

let database: TestDatabase | undefined;

describeSessionRepositoryContract('SlonikSessionRepository (PostgreSQL)', {
  before: async () => {
    database = await createTestDatabase();
  },
  fresh: async () => {
    await database!.reset();
    const ids = await database!.pool.manyFirst(sql.type(z.object({ id: z.number() }))`
      INSERT INTO users (username, password, roles, is_active)
      VALUES ('contract_alice', 'not-a-hash', 'user', true), ('contract_bob', 'not-a-hash', 'user', true)
      RETURNING id`);
    const pool = database!.pool;
    return {
      repository: new SlonikSessionRepository(pool),
      userIds: [ids[0]!, ids[1]!],
      passwordHash: {
        get: (id) =>
          pool.oneFirst(sql.type(z.object({ password: z.string() }))`SELECT password FROM users WHERE id = ${id}`),
        set: async (id, passwordHash) => {
          await pool.query(sql.unsafe`UPDATE users SET password = ${passwordHash} WHERE id = ${id}`);
        },
      },
    };
  },
  after: async () => {
    await database?.drop();
  },
});
