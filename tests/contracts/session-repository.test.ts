import { z } from 'zod';
import { sql } from 'slonik';
import { SlonikSessionRepository } from '../../src/infrastructure/persistence/slonik-session-repository.js';
import { InMemorySessionRepository } from '../fakes/in-memory-session-repository.js';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { describeSessionRepositoryContract } from './session-repository.contract.js';

describeSessionRepositoryContract('InMemorySessionRepository', {
  fresh: async () => ({ repository: new InMemorySessionRepository(), userIds: [1, 2] }),
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
    return { repository: new SlonikSessionRepository(database!.pool), userIds: [ids[0]!, ids[1]!] };
  },
  after: async () => {
    await database?.drop();
  },
});
