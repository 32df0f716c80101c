import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
/** Any fixed number; two instances starting together serialize on it. */
const MIGRATION_LOCK_KEY = 7_251_001;

/** Data work that needs the schema's latest shape and the application's code, run after the migrations. */
export type MaintenanceStep = (client: pg.Client) => Promise<unknown>;

/**
 * Applies the `.sql` files in `migrations/` that have not been applied, in name order, each in its own transaction,
 * recording each in `schema_migrations`. Safe to run twice and from two processes at once (advisory lock).
 * Uses a plain pg client because a migration file holds several statements, which slonik refuses by design.
 * @param afterwards run in order once the migrations are applied, still under the lock (on every call, not only when
 *   a migration was applied: they are for rows that other tools may write at any time).
 * @returns the names of the migrations applied by this call.
 */
export async function migrate(
  connectionUri: string,
  directory: string = MIGRATIONS_DIR,
  afterwards: readonly MaintenanceStep[] = [],
): Promise<string[]> {
  const files = (await readdir(directory)).filter((name) => name.endsWith('.sql')).sort();
  const client = new pg.Client({ connectionString: connectionUri, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        name text PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const applied = new Set(
      (await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((row) => row.name),
    );
    const pending = files.filter((name) => !applied.has(name));
    for (const name of pending) {
      const text = await readFile(`${directory}/${name}`, 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(text);
        await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${name} failed: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      }
    }
    for (const step of afterwards) await step(client);
    return pending;
  } finally {
    await client.end();
  }
}
