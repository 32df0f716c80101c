import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { MIN_SECRET_BYTES } from './dev-secret.js';
import { parseDurationSeconds } from './duration.js';
import { JWT_ALGORITHMS, type JwtAlgorithm } from '../security/key-ring.js';
import { MIN_KEY_ENCRYPTION_SECRET_BYTES } from '../security/key-protection.js';
import type { RateLimitSettings } from '../security/flexible-rate-limits.js';

const duration = (example: string) =>
  z.string().transform((text, context) => {
    const seconds = parseDurationSeconds(text);
    if (seconds === null) {
      context.addIssue({
        code: 'custom',
        message: `must be a duration like 900, 90s, 15m, 24h or 30d (e.g. ${example})`,
      });
      return z.NEVER;
    }
    return seconds;
  });

/** A replay window longer than this would let a stolen refresh token be used for too long before reuse is seen. */
const MAX_REUSE_GRACE_SECONDS = 3600;

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, `must be a whole number from ${min} to ${max}`)
        .max(max, `must be a whole number from ${min} to ${max}`),
    );

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

/** An http(s) URL for links in mails. */
const webUrl = z.string().refine((text) => {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}, 'must be an http(s) URL like https://app.example.com/finalize');

const schema = z.object({
  PORT: integer(0, 65535).default('8000'),
  HOST: z.string().min(1, 'must be a host name or address').default('0.0.0.0'),
  DATABASE_URL: optionalText.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  DATABASE_CONNECT_TIMEOUT: duration('3s').default('3s'),
  DATABASE_DIRECT_URL: optionalText.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  DATABASE_POOL_SIZE: integer(1, 100).default('10'),
  ACCESS_CACHE_SIZE: integer(0, 10_000_000).default('100000'),
  LISTEN_HEARTBEAT: duration('2s').default('2s'),
  DATA_DIR: z.string().min(1, 'must be a directory path').default('./.data'),
  JWT_SECRET: optionalText.pipe(
    z
      .string()
      .refine((secret) => Buffer.byteLength(secret, 'utf8') >= MIN_SECRET_BYTES, {
        message: `must be at least ${MIN_SECRET_BYTES} bytes`,
      })
      .optional(),
  ),
  JWT_ISSUER: z.string().min(1, 'must not be empty').default('jwt-login'),
  JWT_ALGORITHM: z
    .enum(JWT_ALGORITHMS, {
      errorMap: () => ({
        message: 'must be HS256, ES256 or RS256 (EdDSA is not offered: jsonwebtoken 9 cannot sign or verify it)',
      }),
    })
    .default('HS256'),
  JWT_PRIVATE_KEY_FILE: optionalText,
  JWT_PUBLIC_KEY_FILE: optionalText,
  KEY_ENCRYPTION_SECRET: optionalText.pipe(
    z
      .string()
      .refine((secret) => Buffer.byteLength(secret, 'utf8') >= MIN_KEY_ENCRYPTION_SECRET_BYTES, {
        message: `must be at least ${MIN_KEY_ENCRYPTION_SECRET_BYTES} bytes`,
      })
      .optional(),
  ),
  KEY_PUBLISH_DELAY: duration('10m').default('10m'),
  JWKS_MAX_AGE: duration('5m').default('5m'),
  INTROSPECTION_CLIENTS: optionalText.pipe(
    z
      .string()
      .regex(
        /^[A-Za-z0-9._~-]+:[^,\s]{16,}(\s*,\s*[A-Za-z0-9._~-]+:[^,\s]{16,})*$/,
        'must be a comma-separated list of id:secret, each id made of letters, digits and ._~- and each secret at least 16 characters without commas or spaces',
      )
      .optional(),
  ),
  JWT_ACCESS_LIFESPAN: duration('15m').default('15m'),
  JWT_REFRESH_LIFESPAN: duration('30d').default('30d'),
  REFRESH_REUSE_GRACE: z
    .string()
    .transform((text, context) => {
      // Zero is a grace like any other here: no replay is forgiven.
      const seconds = /^0+[smhd]?$/.test(text.trim()) ? 0 : parseDurationSeconds(text);
      if (seconds === null || seconds > MAX_REUSE_GRACE_SECONDS) {
        context.addIssue({ code: 'custom', message: 'must be a duration like 10s, 1m or 0, at most 1h' });
        return z.NEVER;
      }
      return seconds;
    })
    .default('10s'),
  ARGON2_MEMORY_KIB: integer(1024, 4 * 1024 * 1024).default('65536'),
  ARGON2_TIME_COST: integer(1, 100).default('3'),
  ARGON2_PARALLELISM: integer(1, 64).default('4'),
  HASH_CONCURRENCY: optionalText.pipe(integer(1, 1024).optional()),
  HASH_QUEUE_DEPTH: optionalText.pipe(integer(0, 100_000).optional()),
  HASH_QUEUE_MAX_WAIT: optionalText.pipe(duration('1s').optional()),
  WORKERS: z
    .string()
    .regex(/^(auto|[1-9]\d{0,2})$/, 'must be a number of processes from 1 to 999, or auto (one per core)')
    .default('1'),
  PURGE_AFTER: duration('7d').default('7d'),
  PURGE_INTERVAL: z
    .string()
    .transform((text, context) => {
      if (text.trim() === 'off') return undefined;
      const seconds = parseDurationSeconds(text);
      if (seconds === null) {
        context.addIssue({ code: 'custom', message: 'must be a duration like 10m or 1h, or off' });
        return z.NEVER;
      }
      return seconds;
    })
    .default('10m'),
  PURGE_BATCH_SIZE: integer(1, 100_000).default('1000'),
  LOGIN_MAX_FAILURES: integer(1, 1000).default('10'),
  LOGIN_LOCKOUT: duration('15m').default('15m'),
  LOGIN_MAX_FAILURES_PER_IP: integer(1, 100000).default('100'),
  REGISTRATION_RATE_LIMIT: integer(1, 100000).default('20'),
  REFRESH_RATE_LIMIT: integer(1, 100000).default('60'),
  TRUST_PROXY: z.enum(['true', 'false', '1', '0', '']).default('false'),
  HEADERS_TIMEOUT: duration('10s').default('10s'),
  MAX_CONNECTIONS: optionalText.pipe(integer(1, 1_000_000).optional()),
  MAX_CONNECTIONS_PER_CLIENT: integer(1, 1_000_000).default('100'),
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)?$/i, 'must be a size like 10kb or 1mb')
    .default('16kb'),
  METRICS_PORT: z
    .string()
    .regex(/^(off|\d{1,5})$/, 'must be a port number from 0 to 65535, or off')
    .refine((text) => text === 'off' || Number(text) <= 65535, 'must be a port number from 0 to 65535, or off')
    .default('9464'),
  METRICS_HOST: z.string().min(1, 'must be a host name or address').default('127.0.0.1'),
  LOG_LEVEL: z
    .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal'], {
      errorMap: () => ({ message: 'must be one of trace, debug, info, warn, error, fatal' }),
    })
    .default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty'], { errorMap: () => ({ message: 'must be json or pretty' }) }).default('json'),
  LOGSTASH_HOST: optionalText,
  LOGSTASH_PORT: integer(1, 65535).default('5000'),
  CORS_ORIGINS: z.string().default('*'),
  REGISTRATION: z.enum(['open', 'closed'], { errorMap: () => ({ message: 'must be open or closed' }) }).default('open'),
  EMAIL_CONFIRMATION: z
    .enum(['off', 'required'], { errorMap: () => ({ message: 'must be off or required' }) })
    .default('off'),
  CONFIRMATION_URL: webUrl.default('http://localhost:3000/finalize'),
  CONFIRMATION_LIFESPAN: duration('24h').default('24h'),
  RESET_URL: webUrl.default('http://localhost:3000/reset'),
  RESET_LIFESPAN: duration('1h').default('1h'),
  SMTP_URL: optionalText.pipe(
    z
      .string()
      .regex(/^smtps?:\/\/[^\s]+$/, 'must be a URL like smtp://host:1025 or smtps://user:password@host:465')
      .optional(),
  ),
  MAIL_FROM: z
    .string()
    .min(3, 'must be a sender like "jwt-login <no-reply@example.com>"')
    .default('jwt-login <no-reply@localhost>'),
  MAIL_RATE_LIMIT: integer(1, 100000).default('10'),
  MAIL_RATE_LIMIT_PER_ADDRESS: integer(1, 100000).default('3'),
  MAIL_MAX_ATTEMPTS: integer(1, 100).default('10'),
  MAIL_POLL_INTERVAL: duration('2s').default('2s'),
  LEGACY_TOKENS: z
    .enum(['off', 'praetorian', ''], { errorMap: () => ({ message: 'must be off or praetorian' }) })
    .default('off'),
});

/** Every environment variable the service reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(schema.shape));

export interface Config {
  readonly port: number;
  readonly host: string;
  /** External PostgreSQL; undefined means start an embedded one under `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly databaseConnectTimeoutMs: number;
  readonly databasePoolSize: number;
  /**
   * A direct connection for what needs a session of its own (LISTEN, advisory locks), when `databaseUrl` goes through
   * a pooler such as PgBouncer in transaction mode; undefined means use `databaseUrl`.
   */
  readonly databaseDirectUrl: string | undefined;
  /** Users and sessions each held in memory for guarded requests (LRU); 0 turns the cache off. */
  readonly accessCacheSize: number;
  /** How often the LISTEN connection is checked; one silent for this long counts as lost. */
  readonly listenHeartbeatMs: number;
  readonly dataDir: string;
  /** Undefined only with the embedded database: a dev secret is then generated and kept in `dataDir`. */
  readonly jwtSecret: string | undefined;
  readonly jwtIssuer: string;
  /** How access tokens are signed, and where the keys come from. */
  readonly signing: {
    readonly algorithm: JwtAlgorithm;
    /** PEM files used as they are (ES256, RS256); no rotation by the service then. */
    readonly privateKeyFile: string | undefined;
    readonly publicKeyFile: string | undefined;
    /** Seals generated private keys in the database; unset (embedded only): files under `DATA_DIR/keys`. */
    readonly keyEncryptionSecret: string | undefined;
    /** How long a rotated-in key is published before it signs; longer than `jwksMaxAgeSeconds`. */
    readonly publishDelaySeconds: number;
    /** `Cache-Control: max-age` of the JWKS. */
    readonly jwksMaxAgeSeconds: number;
  };
  /** Services allowed to call the introspection endpoint with HTTP Basic. */
  readonly introspectionClients: readonly { readonly id: string; readonly secret: string }[];
  readonly accessLifespanSeconds: number;
  readonly refreshLifespanSeconds: number;
  /** How long a spent refresh token may be replayed for the same successor before replay revokes its session. */
  readonly refreshReuseGraceSeconds: number;
  readonly argon2: { readonly memoryCost: number; readonly timeCost: number; readonly parallelism: number };
  /**
   * The password-hashing admission queue of each process: hashes at once (default: the cores each process gets), and
   * the queue's depth and longest wait (default: derived from the hash time measured at start; 1 s).
   */
  readonly hashing: {
    readonly concurrency: number;
    readonly maxQueued: number | undefined;
    readonly maxWaitMs: number | undefined;
  };
  /** Server processes sharing the port (node:cluster), each with its own memory and LISTEN connection. */
  readonly workers: number;
  /**
   * Spent refresh tokens and ended (expired or revoked) sessions are deleted `retentionMs` after they end, every
   * `intervalMs` (undefined: never), `batchSize` rows per statement.
   */
  readonly purge: {
    readonly retentionMs: number;
    readonly intervalMs: number | undefined;
    readonly batchSize: number;
  };
  readonly rateLimits: RateLimitSettings;
  readonly registration: 'open' | 'closed';
  readonly emailConfirmation: 'off' | 'required';
  readonly mail: {
    readonly confirmationUrl: string;
    readonly confirmationSeconds: number;
    readonly resetUrl: string;
    readonly resetSeconds: number;
    /** Undefined: mails are written as .eml files under `dataDir/mail`. */
    readonly smtpUrl: string | undefined;
    readonly from: string;
    readonly maxAttempts: number;
    readonly pollMs: number;
  };
  /** Take the client address from X-Forwarded-For (only behind a proxy that sets it). */
  readonly trustProxy: boolean;
  readonly bodyLimit: string;
  /** How long a client may take to send a request's headers (408 after). */
  readonly headersTimeoutMs: number;
  /** Connections open at once; undefined: derived from the process's descriptor limit. */
  readonly maxConnections: number | undefined;
  /** Connections open at once from one client address (not applied behind a trusted proxy). */
  readonly maxConnectionsPerClient: number;
  /** Where Prometheus scrapes `/metrics`, apart from the API; undefined: not served. */
  readonly metrics: { readonly host: string; readonly port: number } | undefined;
  readonly logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  /** stdout: `json` (ECS JSON lines, for machines) or `pretty` (one readable line each, for a terminal). */
  readonly logFormat: 'json' | 'pretty';
  readonly logstash: { readonly host: string; readonly port: number } | undefined;
  /** `'*'` or an allow-list of exact origins. */
  readonly corsOrigins: '*' | readonly string[];
  /**
   * `praetorian`: flask-praetorian's access tokens (signed with `JWT_SECRET`, the Flask app's `SECRET_KEY`) open guarded
   * routes and refresh into jwt-login tokens, for the cutover from a Flask seed; undefined: refused.
   */
  readonly legacyTokens: 'praetorian' | undefined;
}

/** The configuration once the signing secret is settled: given, or generated for a development run. */
export type ServiceConfig = Omit<Config, 'jwtSecret'> & { readonly jwtSecret: string };

/**
 * Reads `file` (default `.env` in the working directory) into `process.env` when it exists, with Node's own parser
 * (`process.loadEnvFile`): a variable already set in the real environment wins over the file.
 * @returns whether a file was read.
 * @throws ConfigError when the file exists but cannot be read.
 */
export function loadEnvFile(file = '.env'): boolean {
  if (!existsSync(file)) return false;
  try {
    process.loadEnvFile(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    throw new ConfigError(`${file} cannot be read (${reason})`, { cause: error });
  }
  return true;
}

/** A configuration value that cannot be used; `message` is one line naming the variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Reads the configuration from an environment once, at start.
 * @throws ConfigError naming the first bad variable and what it expects.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  cores: number = availableParallelism(),
): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0]);
    const value = env[variable];
    const secret = [
      'JWT_SECRET',
      'DATABASE_URL',
      'DATABASE_DIRECT_URL',
      'SMTP_URL',
      'KEY_ENCRYPTION_SECRET',
      'INTROSPECTION_CLIENTS',
    ].includes(variable);
    const shown = secret ? '' : ` (got ${JSON.stringify(value)})`;
    throw new ConfigError(`${variable} ${issue.message}${shown}`.replace(/[\r\n]+/g, ' '));
  }
  const c = parsed.data;
  if (c.JWT_SECRET === undefined && c.DATABASE_URL !== undefined) {
    throw new ConfigError(`JWT_SECRET must be set (at least ${MIN_SECRET_BYTES} bytes) when DATABASE_URL is set`);
  }
  if (c.JWT_ALGORITHM === 'HS256' && (c.JWT_PRIVATE_KEY_FILE ?? c.JWT_PUBLIC_KEY_FILE) !== undefined) {
    throw new ConfigError('JWT_PRIVATE_KEY_FILE and JWT_PUBLIC_KEY_FILE need JWT_ALGORITHM ES256 or RS256');
  }
  if (c.JWT_PUBLIC_KEY_FILE !== undefined && c.JWT_PRIVATE_KEY_FILE === undefined) {
    throw new ConfigError('JWT_PUBLIC_KEY_FILE needs JWT_PRIVATE_KEY_FILE (the public key is checked against it)');
  }
  if (
    c.JWT_ALGORITHM !== 'HS256' &&
    c.JWT_PRIVATE_KEY_FILE === undefined &&
    c.KEY_ENCRYPTION_SECRET === undefined &&
    c.DATABASE_URL !== undefined
  ) {
    throw new ConfigError(
      `KEY_ENCRYPTION_SECRET must be set (at least ${MIN_KEY_ENCRYPTION_SECRET_BYTES} bytes) to keep ${c.JWT_ALGORITHM} keys in DATABASE_URL, or give JWT_PRIVATE_KEY_FILE`,
    );
  }
  if (c.KEY_PUBLISH_DELAY <= c.JWKS_MAX_AGE) {
    throw new ConfigError(
      'KEY_PUBLISH_DELAY must be longer than JWKS_MAX_AGE (verifiers must have fetched a new key before it signs)',
    );
  }
  if (c.JWT_ACCESS_LIFESPAN > c.JWT_REFRESH_LIFESPAN) {
    throw new ConfigError('JWT_ACCESS_LIFESPAN must not be longer than JWT_REFRESH_LIFESPAN');
  }
  const origins = (c.CORS_ORIGINS.trim() === '' ? '*' : c.CORS_ORIGINS)
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  const badOrigin = origins.find((origin) => origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin));
  if (badOrigin !== undefined || origins.length === 0) {
    throw new ConfigError(
      `CORS_ORIGINS must be * or a comma-separated list of origins like https://app.example.com (got ${JSON.stringify(c.CORS_ORIGINS)})`,
    );
  }
  const workers = c.WORKERS === 'auto' ? cores : Number(c.WORKERS);
  return Object.freeze({
    port: c.PORT,
    host: c.HOST,
    databaseUrl: c.DATABASE_URL,
    databaseConnectTimeoutMs: c.DATABASE_CONNECT_TIMEOUT * 1000,
    databasePoolSize: c.DATABASE_POOL_SIZE,
    databaseDirectUrl: c.DATABASE_DIRECT_URL,
    accessCacheSize: c.ACCESS_CACHE_SIZE,
    listenHeartbeatMs: c.LISTEN_HEARTBEAT * 1000,
    dataDir: c.DATA_DIR,
    jwtSecret: c.JWT_SECRET,
    jwtIssuer: c.JWT_ISSUER,
    signing: Object.freeze({
      algorithm: c.JWT_ALGORITHM,
      privateKeyFile: c.JWT_PRIVATE_KEY_FILE,
      publicKeyFile: c.JWT_PUBLIC_KEY_FILE,
      keyEncryptionSecret: c.KEY_ENCRYPTION_SECRET,
      publishDelaySeconds: c.KEY_PUBLISH_DELAY,
      jwksMaxAgeSeconds: c.JWKS_MAX_AGE,
    }),
    introspectionClients: Object.freeze(
      (c.INTROSPECTION_CLIENTS ?? '')
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean)
        .map((entry) => {
          const at = entry.indexOf(':');
          return Object.freeze({ id: entry.slice(0, at), secret: entry.slice(at + 1) });
        }),
    ),
    accessLifespanSeconds: c.JWT_ACCESS_LIFESPAN,
    refreshLifespanSeconds: c.JWT_REFRESH_LIFESPAN,
    refreshReuseGraceSeconds: c.REFRESH_REUSE_GRACE,
    hashing: Object.freeze({
      concurrency: c.HASH_CONCURRENCY ?? Math.max(1, Math.floor(cores / workers)),
      maxQueued: c.HASH_QUEUE_DEPTH,
      maxWaitMs: c.HASH_QUEUE_MAX_WAIT === undefined ? undefined : c.HASH_QUEUE_MAX_WAIT * 1000,
    }),
    workers,
    argon2: Object.freeze({
      memoryCost: c.ARGON2_MEMORY_KIB,
      timeCost: c.ARGON2_TIME_COST,
      parallelism: c.ARGON2_PARALLELISM,
    }),
    purge: Object.freeze({
      retentionMs: c.PURGE_AFTER * 1000,
      intervalMs: c.PURGE_INTERVAL === undefined ? undefined : c.PURGE_INTERVAL * 1000,
      batchSize: c.PURGE_BATCH_SIZE,
    }),
    rateLimits: Object.freeze({
      loginFailuresPerUser: c.LOGIN_MAX_FAILURES,
      loginLockoutSeconds: c.LOGIN_LOCKOUT,
      loginFailuresPerClientPerHour: c.LOGIN_MAX_FAILURES_PER_IP,
      registrationsPerClientPerHour: c.REGISTRATION_RATE_LIMIT,
      refreshesPerClientPerMinute: c.REFRESH_RATE_LIMIT,
      mailsPerClientPerHour: c.MAIL_RATE_LIMIT,
      mailsPerAddressPerHour: c.MAIL_RATE_LIMIT_PER_ADDRESS,
    }),
    registration: c.REGISTRATION,
    emailConfirmation: c.EMAIL_CONFIRMATION,
    mail: Object.freeze({
      confirmationUrl: c.CONFIRMATION_URL,
      confirmationSeconds: c.CONFIRMATION_LIFESPAN,
      resetUrl: c.RESET_URL,
      resetSeconds: c.RESET_LIFESPAN,
      smtpUrl: c.SMTP_URL,
      from: c.MAIL_FROM,
      maxAttempts: c.MAIL_MAX_ATTEMPTS,
      pollMs: c.MAIL_POLL_INTERVAL * 1000,
    }),
    trustProxy: c.TRUST_PROXY === 'true' || c.TRUST_PROXY === '1',
    bodyLimit: c.BODY_LIMIT,
    headersTimeoutMs: c.HEADERS_TIMEOUT * 1000,
    maxConnections: c.MAX_CONNECTIONS,
    maxConnectionsPerClient: c.MAX_CONNECTIONS_PER_CLIENT,
    metrics:
      c.METRICS_PORT === 'off' ? undefined : Object.freeze({ host: c.METRICS_HOST, port: Number(c.METRICS_PORT) }),
    logLevel: c.LOG_LEVEL,
    logFormat: c.LOG_FORMAT,
    logstash:
      c.LOGSTASH_HOST === undefined ? undefined : Object.freeze({ host: c.LOGSTASH_HOST, port: c.LOGSTASH_PORT }),
    corsOrigins: origins.includes('*') ? '*' : Object.freeze(origins),
    legacyTokens: c.LEGACY_TOKENS === 'praetorian' ? 'praetorian' : undefined,
  });
}
