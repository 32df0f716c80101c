import { mkdtemp, readdir, copyFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { sql } from 'slonik';
import { z } from 'zod';
import { migrate } from '../../src/infrastructure/persistence/migrator.js';
import { rekeyUsernames } from '../../src/infrastructure/persistence/username-keys.js';
import { Argon2PasswordHasher } from '../../src/infrastructure/security/argon2-password-hasher.js';
import { MemoryLogger } from '../fakes/memory-logger.js';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { startTestApp } from '../support/test-app.js';
import { expectError } from '../http/helpers.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../src/infrastructure/persistence/migrations/', import.meta.url));
const hasher = new Argon2PasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
const keyRow = z.object({ username: z.string(), key: z.string(), skeleton: z.string().nullable() });

async function keys(database: TestDatabase) {
  return await database.pool.any(sql.type(keyRow)`
    SELECT username, username_key AS key, username_skeleton AS skeleton FROM users ORDER BY id`);
}

/** A database at the schema before the username keys (migrations 001 to 005), as a deployment upgrading has it. */
async function databaseBeforeKeys(
  options: { cLocale?: boolean } = {},
): Promise<{ database: TestDatabase; done: () => Promise<void> }> {
  const database = await createTestDatabase(options);
  await database.pool.query(sql.unsafe`DROP SCHEMA public CASCADE`);
  await database.pool.query(sql.unsafe`CREATE SCHEMA public`);
  const before = await mkdtemp(path.join(tmpdir(), 'jwt-login-migrations-'));
  for (const name of await readdir(MIGRATIONS_DIR)) {
    if (name.endsWith('.sql') && name < '006') await copyFile(path.join(MIGRATIONS_DIR, name), path.join(before, name));
  }
  await migrate(database.uri, before);
  return { database, done: () => rm(before, { recursive: true, force: true }) };
}

describe('username keys: existing rows are keyed by the migration and keep logging in (issue 9, points 2-3)', function () {
  this.timeout(60_000);

  it('keys rows from before the rules, lookalikes and names the rules now refuse included; each still logs in', async () => {
    const { database, done } = await databaseBeforeKeys();
    try {
      const rows = [
        ['Alice', 'alice-password-1'],
        ['\u0430lice', 'cyrillic-a-password-2'], // a lookalike of Alice, registered before the rules
        ['bob\u200d', 'invisible-joiner-password-3'], // a name the rules now refuse
        ['Zoë 😀', 'emoji-password-4'],
      ] as const;
      for (const [username, password] of rows) {
        await database.pool.query(sql.unsafe`
          INSERT INTO users (username, password, roles, is_active)
          VALUES (${username}, ${await hasher.hash(password)}, 'user', true)`);
      }

      const logger = new MemoryLogger();
      expect(await migrate(database.uri, undefined, [(client) => rekeyUsernames(client, logger)])).to.include(
        '006-username-keys.sql',
      );
      expect(await keys(database)).to.deep.equal([
        { username: 'Alice', key: 'alice', skeleton: 'alice' },
        { username: '\u0430lice', key: '\u0430lice', skeleton: null },
        { username: 'bob\u200d', key: 'bob\u200d', skeleton: 'bob' },
        { username: 'Zoë 😀', key: 'zoë 😀', skeleton: 'zoe\u0308 😀' },
      ]);
      expect(logger.events('username_rekey').map((line) => line.fields)).to.deep.equal([
        { event: 'username_rekey', rekeyed: 3, lookalikes: 1, clashes: 0 },
      ]);

      const app = await startTestApp({ database });
      try {
        for (const [username, password] of rows) {
          const response = await app.post('/api/login', { username, password });
          expect(response.status, username).to.equal(200);
        }
        // Lookalikes of the existing names are taken; the name the rules refuse is refused with its rule.
        for (const name of ['ALICE', 'al\u0456ce', 'bob', 'B\u03bfb']) {
          const response = await app.post('/api/registration', { username: name, password: 'Tr0ub4dor&3-lookalike' });
          expect(response.status, name).to.equal(409);
        }
        await expectError(
          await app.post('/api/registration', { username: 'carol\u200d', password: 'Tr0ub4dor&3-lookalike' }),
          400,
          'ValidationError',
          'username must not contain U+200D: an invisible joiner',
        );
      } finally {
        await app.close();
      }
    } finally {
      await done();
      await database.drop();
    }
  });

  it('on an LC_CTYPE=C database, reports seed rows that are one name under the rules, and keys the rest', async () => {
    const { database, done } = await databaseBeforeKeys({ cLocale: true });
    try {
      // lower() folds only ASCII here, so the seed's index let both in: the bug of issue 9, point 3.
      await database.pool.query(sql.unsafe`
        INSERT INTO users (username, password) VALUES ('Émile', 'h1'), ('émile', 'h2'), ('Δelta', 'h3')`);
      const ids = await database.pool.anyFirst(
        sql.type(z.object({ id: z.number() }))`SELECT id FROM users ORDER BY id`,
      );
      const logger = new MemoryLogger();
      await migrate(database.uri, undefined, [(client) => rekeyUsernames(client, logger)]);

      // One of the two cannot keep its name: the clash is reported, naming both, for an operator to rename one.
      const clashes = logger.events('username_clash').map((line) => [line.fields.user_id, line.fields.other_user_id]);
      expect(clashes).to.have.length(1);
      expect([...clashes[0]!].sort()).to.deep.equal([ids[0], ids[1]].sort());
      const keyed = await keys(database);
      expect(keyed.filter((row) => row.key === 'émile')).to.have.length(1);
      expect(keyed[2]).to.deep.equal({ username: 'Δelta', key: 'δelta', skeleton: 'ẟelta' });
      // Once one is renamed, the next start keys the other.
      await database.pool.query(
        sql.unsafe`UPDATE users SET username = 'Emile 2' WHERE id = ${clashes[0]![0] as number}`,
      );
      await migrate(database.uri, undefined, [(client) => rekeyUsernames(client, logger)]);
      expect((await keys(database)).map((row) => row.skeleton === null)).to.deep.equal([false, false, false]);
    } finally {
      await done();
      await database.drop();
    }
  });
});
