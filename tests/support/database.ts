import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { z } from 'zod';
import { type DatabasePool, sql } from 'slonik';
import {
  type EmbeddedDatabase,
  startEmbeddedDatabase,
} from '../../src/infrastructure/persistence/embedded-database.js';
import { migrate } from '../../src/infrastructure/persistence/migrator.js';
import { rekeyUsernames } from '../../src/infrastructure/persistence/username-keys.js';
import { MemoryLogger } from '../fakes/memory-logger.js';
import { createDatabasePool } from '../../src/infrastructure/persistence/pool.js';

/**
 * A PostgreSQL server for the test run: the one at TEST_DATABASE_URL when set, else an embedded one in a temporary
 * directory. Each call to {@link createTestDatabase} makes a new, migrated database on it, so suites never share rows.
 */
interface TestServer {
  readonly adminUri: string;
  stop(): Promise<void>;
}

let server: Promise<TestServer> | undefined;
const created: string[] = [];

async function startServer(): Promise<TestServer> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) return { adminUri: external, stop: async () => undefined };
  const directory = await mkdtemp(path.join(tmpdir(), 'jwt-login-test-'));
  const embedded: EmbeddedDatabase = await startEmbeddedDatabase({ directory, databaseName: 'postgres' });
  return {
    adminUri: embedded.connectionUri,
    stop: async () => {
      await embedded.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

function withDatabase(uri: string, database: string): string {
  const url = new URL(uri);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const { adminUri } = await (server ??= startServer());
  const client = new pg.Client({ connectionString: adminUri });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  readonly uri: string;
  readonly pool: DatabasePool;
  /** Empties the project's tables (keeps the schema). */
  reset(): Promise<void>;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** A fresh database with every migration applied, and a pool on it. */
export async function createTestDatabase(
  options: { connectionTimeoutMs?: number; cLocale?: boolean } = {},
): Promise<TestDatabase> {
  const name = `jwt_login_test_${randomBytes(6).toString('hex')}`;
  const { adminUri } = await (server ??= startServer());
  // LC_CTYPE=C: lower() folds only ASCII there, the case the application's own folding is for (issue 9, point 3).
  const locale = options.cLocale ? " TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'" : '';
  await admin((client) => client.query(`CREATE DATABASE ${name}${locale}`));
  created.push(name);
  const uri = withDatabase(adminUri, name);
  await migrate(uri, undefined, [(client) => rekeyUsernames(client, new MemoryLogger())]);
  const pool = await createDatabasePool({
    connectionUri: uri,
    connectionTimeoutMs: options.connectionTimeoutMs ?? 5000,
    maximumPoolSize: 10,
  });
  return {
    uri,
    pool,
    reset: async () => {
      const tables = await pool.anyFirst(sql.type(z.object({ tablename: z.string() }))`
        SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'`);
      if (tables.length > 0) {
        const list = sql.join(
          tables.map((table) => sql.identifier([table])),
          sql.fragment`, `,
        );
        await pool.query(sql.unsafe`TRUNCATE ${list} RESTART IDENTITY CASCADE`);
      }
    },
    drop: async () => {
      await pool.end();
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      created.splice(created.indexOf(name), 1);
    },
  };
}

/** An empty database on the test server, with no migration applied (another service's, such as a Flask seed's). */
export async function createEmptyDatabase(): Promise<{ readonly uri: string; drop(): Promise<void> }> {
  const name = `jwt_login_test_${randomBytes(6).toString('hex')}`;
  const { adminUri } = await (server ??= startServer());
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  created.push(name);
  return {
    uri: withDatabase(adminUri, name),
    drop: async () => {
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      created.splice(created.indexOf(name), 1);
    },
  };
}

/** Root hook: drop what suites left and stop the embedded server once every suite is done. */
export async function stopTestServer(): Promise<void> {
  if (!server) return;
  const running = await server;
  for (const name of [...created]) {
    await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch(() => undefined);
  }
  await running.stop();
  server = undefined;
}
