import { z } from 'zod';
import { sql } from 'slonik';
import { PostgresRetentionStore } from '../../src/infrastructure/persistence/postgres-retention-store.js';
import { SlonikSessionRepository } from '../../src/infrastructure/persistence/slonik-session-repository.js';
import { InMemoryRetentionStore } from '../fakes/in-memory-retention-store.js';
import { InMemorySessionRepository } from '../fakes/in-memory-session-repository.js';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { describeRetentionStoreContract } from './retention-store.contract.js';

describeRetentionStoreContract('InMemoryRetentionStore', {
  fresh: async () => {
    const sessions = new InMemorySessionRepository();
    const lock = { held: false };
    return {
      sessions,
      retention: new InMemoryRetentionStore(sessions, lock),
      otherInstance: () => new InMemoryRetentionStore(sessions, lock),
      userId: 1,
    };
  },
});

let database: TestDatabase | undefined;

describeRetentionStoreContract('PostgresRetentionStore (PostgreSQL)', {
  before: async () => {
    database = await createTestDatabase();
  },
  fresh: async () => {
    await database!.reset();
    const userId = await database!.pool.oneFirst(sql.type(z.object({ id: z.number() }))`
      INSERT INTO users (username, password, roles, is_active)
      VALUES ('retention_alice', 'not-a-hash', 'user', true) RETURNING id`);
    const store = () =>
      new PostgresRetentionStore(database!.pool, { directUri: database!.uri, connectTimeoutMs: 5000 });
    return { sessions: new SlonikSessionRepository(database!.pool), retention: store(), otherInstance: store, userId };
  },
  after: async () => {
    await database?.drop();
  },
});
