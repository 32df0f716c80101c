import pg from 'pg';
import type { SeedUser, UserSource } from '../../application/ports/user-import.js';

const BATCH = 1000;

interface Row {
  readonly id: number;
  readonly username: string;
  readonly password: string;
  readonly roles: string | null;
  readonly is_active: boolean | null;
  readonly email?: string | null;
}

/**
 * A Flask seed's `users` table in another PostgreSQL database, read in id order, a batch at a time, on one connection
 * of its own (the source is read only).
 */
export class PostgresUserSource implements UserSource {
  private readonly client: pg.Client;
  private connected: Promise<void> | undefined;

  constructor(connectionUri: string, connectTimeoutMs: number) {
    this.client = new pg.Client({ connectionString: connectionUri, connectionTimeoutMillis: connectTimeoutMs });
    this.client.on('error', () => undefined);
  }

  async *users(): AsyncIterable<readonly SeedUser[]> {
    await (this.connected ??= this.client.connect().then(() => undefined));
    const { rows: columns } = await this.client.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name = 'users'`,
    );
    const names = new Set(columns.map((column) => column.column_name));
    if (names.size === 0) throw new Error('the source database has no users table');
    const email = names.has('email') ? ', email::text AS email' : '';
    for (let after = -1; ;) {
      const { rows } = await this.client.query<Row>(
        `SELECT id, username, password, roles, is_active${email} FROM users WHERE id > $1 ORDER BY id LIMIT $2`,
        [after, BATCH],
      );
      if (rows.length === 0) return;
      after = rows.at(-1)!.id;
      yield rows.map((row) => ({
        id: row.id,
        username: row.username,
        passwordHash: row.password,
        roles: row.roles,
        isActive: row.is_active,
        ...(email ? { email: row.email ?? null } : {}),
      }));
    }
  }

  async close(): Promise<void> {
    if (this.connected) await this.client.end().catch(() => undefined);
  }
}
