import { loadConfig } from '../../src/infrastructure/config/config.js';
import { type RunningService, startService } from '../../src/service.js';
import { FixedClock } from '../fakes/fixed-clock.js';
import { MemoryLogger } from '../fakes/memory-logger.js';
import { type TestDatabase, createTestDatabase } from './database.js';

export const TEST_SECRET = 'test-secret-that-is-at-least-32-bytes-long!';

/**
 * The environment of a test service: cheap argon2 parameters, and limits high enough for suites that make many
 * requests from one address (the rate-limit suites set their own, low, limits).
 */
export function testEnvironment(databaseUri: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUri,
    JWT_SECRET: TEST_SECRET,
    HOST: '127.0.0.1',
    PORT: '0',
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_TIME_COST: '1',
    ARGON2_PARALLELISM: '1',
    LOGIN_MAX_FAILURES: '1000',
    LOGIN_MAX_FAILURES_PER_IP: '100000',
    REGISTRATION_RATE_LIMIT: '100000',
    REFRESH_RATE_LIMIT: '100000',
    // Purging runs on a timer; the suites that test it turn it on.
    PURGE_INTERVAL: 'off',
    // Many instances run at once: the metrics suite serves them on a port of its own.
    METRICS_PORT: 'off',
    // A loaded machine hashes slowly: requests wait for a hashing slot rather than being shed with 503 (the suites
    // that test shedding set their own queue).
    HASH_QUEUE_DEPTH: '10000',
    HASH_QUEUE_MAX_WAIT: '60s',
    ...env,
  };
}

export interface TestApp {
  readonly baseUrl: string;
  readonly clock: FixedClock;
  readonly logger: MemoryLogger;
  readonly database: TestDatabase;
  readonly service: RunningService;
  /** fetch against the app; `path` starts with `/`. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** POST `body` as JSON (the content type the caller gives, else application/json). */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The service as production starts it ({@link startService}: migrations, pools, dummy hash, Koa), on a fresh database
 * and an ephemeral port, with a clock the test moves and a logger it reads. Pass `database` to share one between two
 * instances.
 */
export async function startTestApp(
  options: { env?: Record<string, string>; database?: TestDatabase; clock?: FixedClock } = {},
): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const clock = options.clock ?? new FixedClock(Date.now());
  const logger = new MemoryLogger();
  const service = await startService(loadConfig(testEnvironment(database.uri, options.env)), { clock, logger });
  const request = (path: string, init?: RequestInit) => fetch(`${service.url}${path}`, init);
  return {
    baseUrl: service.url,
    clock,
    logger,
    database,
    service,
    request,
    post: (path, body, headers = {}) =>
      request(path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    close: async () => {
      await service.stop({ drainMs: 0 });
      if (!options.database) await database.drop();
    },
  };
}
