import pg from 'pg';
import { type DatabasePool, type FragmentSqlToken, sql } from 'slonik';
import { z } from 'zod';
import type { Purgeable, RetentionStore } from '../../application/ports/retention-store.js';

/** Any fixed number, distinct from the migrator's; instances purging at once skip rather than wait. */
const PURGE_LOCK_KEY = 7_251_002;

const deletedRow = z.object({ deleted: z.number() });
const at = (ms: number) => sql.fragment`to_timestamp(${ms / 1000})`;

/**
 * Purges in PostgreSQL. Each batch is one statement on the main pool (it works through PgBouncer in transaction mode),
 * picking its rows with SKIP LOCKED so it never waits on a request's row lock. The lock that keeps it to one instance
 * is a session advisory lock, so it is taken on a connection of its own to the direct URL.
 */
export class PostgresRetentionStore implements RetentionStore {
  constructor(
    private readonly pool: DatabasePool,
    private readonly options: { readonly directUri: string; readonly connectTimeoutMs: number },
  ) {}

  async deleteEnded(kind: Purgeable, endedBefore: number, limit: number): Promise<number> {
    const cutoff = at(endedBefore);
    // Spent tokens first: a session's delete then cascades to its one unspent token at most.
    const purged: Record<Purgeable, { table: string; key: string; ended: FragmentSqlToken }> = {
      'spent refresh tokens': { table: 'refresh_tokens', key: 'token_hash', ended: sql.fragment`spent_at < ${cutoff}` },
      'ended sessions': {
        table: 'sessions',
        key: 'id',
        ended: sql.fragment`expires_at < ${cutoff} OR revoked_at < ${cutoff}`,
      },
      'ended account tokens': {
        table: 'account_tokens',
        key: 'token_hash',
        ended: sql.fragment`expires_at < ${cutoff} OR spent_at < ${cutoff}`,
      },
      'finished mails': {
        table: 'mail_outbox',
        key: 'id',
        ended: sql.fragment`coalesce(sent_at, failed_at) < ${cutoff}`,
      },
      'expired blacklist entries': {
        table: 'blacklisted_tokens',
        key: 'jti',
        ended: sql.fragment`expires_at < ${cutoff}`,
      },
    };
    const { ended } = purged[kind];
    const table = sql.identifier([purged[kind].table]);
    const column = sql.identifier([purged[kind].key]);
    const query = sql.type(deletedRow)`
      WITH doomed AS (
        SELECT ${column} AS key FROM ${table} WHERE ${ended}
        LIMIT ${limit} FOR UPDATE SKIP LOCKED
      ), gone AS (
        DELETE FROM ${table} t USING doomed WHERE t.${column} = doomed.key RETURNING 1
      )
      SELECT count(*)::float8 AS deleted FROM gone`;
    return await this.pool.oneFirst(query);
  }

  async exclusively<T>(work: () => Promise<T>): Promise<{ held: true; value: T } | { held: false }> {
    const client = new pg.Client({
      connectionString: this.options.directUri,
      connectionTimeoutMillis: this.options.connectTimeoutMs,
    });
    // A connection cut while purging releases the lock on the server; here it must only not be an uncaught error.
    client.on('error', () => undefined);
    await client.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
        PURGE_LOCK_KEY,
      ]);
      if (!rows[0]?.locked) return { held: false };
      return { held: true, value: await work() };
    } finally {
      // Closing the session releases the lock.
      await client.end().catch(() => undefined);
    }
  }
}
