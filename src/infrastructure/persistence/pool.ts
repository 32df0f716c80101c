import {
  type ClientConfigurationInput,
  type DatabasePool,
  type Interceptor,
  type QueryResultRow,
  BackendTerminatedError,
  ConnectionError,
  SchemaValidationError,
  StatementTimeoutError,
  createPool,
  sql,
} from 'slonik';

/** Validates rows of `sql.type(schema)` queries against their zod schema, as slonik expects an interceptor to. */
export const resultParser: Interceptor = {
  name: 'result-parser',
  transformRowAsync: async (context, query, row) => {
    const { resultParser: schema } = context;
    if (!schema) return row;
    const parsed = await schema.safeParseAsync(row);
    if (!parsed.success) throw new SchemaValidationError(query, row, parsed.error.issues);
    return parsed.data as QueryResultRow;
  },
};

const STATEMENT_TIMEOUT_MS = 10_000;
/** The longest a query may wait for an answer on the client side: the server's statement timeout, plus a margin. */
export const QUERY_TIMEOUT_MS = STATEMENT_TIMEOUT_MS + 1000;

export interface PoolOptions {
  readonly connectionUri: string;
  readonly connectionTimeoutMs: number;
  readonly maximumPoolSize: number;
}

/**
 * A slonik pool tuned to fail fast when PostgreSQL is unreachable (so requests get a 503 quickly) and to recover by
 * itself when it returns: no connection is pinned, every request asks the pool anew.
 */
export function createDatabasePool(options: PoolOptions): Promise<DatabasePool> {
  const configuration: ClientConfigurationInput & { readonly queryTimeout: number } = {
    connectionTimeout: options.connectionTimeoutMs,
    connectionRetryLimit: 0,
    queryRetryLimit: 0,
    maximumPoolSize: options.maximumPoolSize,
    idleTimeout: 10_000,
    statementTimeout: STATEMENT_TIMEOUT_MS,
    idleInTransactionSessionTimeout: 10_000,
    captureStackTrace: false,
    interceptors: [resultParser],
    // slonik's default sends DISCARD ALL on every release: a round trip per query that costs a fifth of a request's
    // time. Nothing here leaves session state behind (no SET, temporary table, LISTEN or session advisory lock on a
    // pooled connection; those use connections of their own), so there is nothing to discard.
    resetConnection: async () => undefined,
    // pg's client-side read timeout (passed through by the patch in patches/): statement_timeout is enforced by the
    // server, so a server that stops answering on an open connection would otherwise hold a request forever.
    queryTimeout: QUERY_TIMEOUT_MS,
  };
  return createPool(options.connectionUri, configuration);
}

/** Errors of the network or the process that mean no connection can be had or kept now. */
const UNAVAILABLE_SYSTEM_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EMFILE', // no file descriptor left for a connection
  'ENFILE',
]);

/**
 * SQLSTATEs that mean "the database cannot serve this now", as opposed to a bug or bad data:
 * - class 08, connection exception;
 * - class 53, insufficient resources: 53000, 53100 disk_full, 53200 out_of_memory, 53300 too_many_connections,
 *   53400 configuration_limit_exceeded;
 * - class 57P, operator intervention: 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting
 *   up, shutting down, or a standby not yet accepting), 57P04 database_dropped, 57P05 idle session timeout;
 * - 25006 read_only_sql_transaction: the server refuses writes (a standby after a failover, a read-only database);
 * - 40001 serialization_failure and 40P01 deadlock_detected: transient, a retry may succeed.
 */
function isUnavailableSqlState(code: string): boolean {
  return (
    code.startsWith('08') ||
    code.startsWith('53') ||
    code.startsWith('57P') ||
    code === '25006' ||
    code === '40001' ||
    code === '40P01'
  );
}

const UNAVAILABLE_MESSAGE =
  /timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED|Query read timeout/i;

/**
 * True when an error means "the database cannot serve this now" (answered 503 with Retry-After), as opposed to a bug
 * or bad data (500). Looks through wrapped errors' causes.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    if (
      current instanceof ConnectionError ||
      current instanceof BackendTerminatedError ||
      current instanceof StatementTimeoutError
    ) {
      return true;
    }
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (UNAVAILABLE_SYSTEM_CODES.has(code) || isUnavailableSqlState(code))) return true;
    if (UNAVAILABLE_MESSAGE.test(current.message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** @returns true when the database answers a trivial query. Never throws. */
export async function pingDatabase(pool: DatabasePool): Promise<boolean> {
  try {
    await pool.oneFirst(sql.unsafe`SELECT 1`);
    return true;
  } catch {
    return false;
  }
}

/** A postgres:// URL without its password, for a person to read. */
export function describeDatabaseUrl(uri: string): string {
  try {
    const url = new URL(uri);
    return `${url.protocol}//${url.username === '' ? '' : `${decodeURIComponent(url.username)}@`}${url.host}${url.pathname}`;
  } catch {
    return 'an unparsable URL';
  }
}
