import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import pg from 'pg';
import { buildApp, buildContainer } from '../../src/composition-root.js';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { FixedClock } from '../fakes/fixed-clock.js';
import { MemoryLogger } from '../fakes/memory-logger.js';
import { type TestDatabase, createTestDatabase } from './database.js';

export const TEST_SECRET = 'test-secret-that-is-at-least-32-bytes-long!';

export interface TestApp {
  readonly baseUrl: string;
  readonly clock: FixedClock;
  readonly logger: MemoryLogger;
  readonly database: TestDatabase;
  /** fetch against the app; `path` starts with `/`. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** POST `body` as JSON (the content type the caller gives, else application/json). */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The real application (composition root, Koa, slonik, argon2 with cheap parameters) on a fresh database, listening on
 * an ephemeral port, with a clock the test moves. Pass `database` to share one between two app instances.
 */
export async function startTestApp(
  options: { env?: Record<string, string>; database?: TestDatabase; clock?: FixedClock } = {},
): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const config = loadConfig({
    DATABASE_URL: database.uri,
    JWT_SECRET: TEST_SECRET,
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_TIME_COST: '1',
    ARGON2_PARALLELISM: '1',
    // Suites make many requests from one address; the rate-limit suite sets its own, low, limits.
    LOGIN_MAX_FAILURES: '1000',
    LOGIN_MAX_FAILURES_PER_IP: '100000',
    REGISTRATION_RATE_LIMIT: '100000',
    REFRESH_RATE_LIMIT: '100000',
    ...options.env,
  });
  const clock = options.clock ?? new FixedClock(Date.now());
  const logger = new MemoryLogger();
  const rateLimitPool = new pg.Pool({ connectionString: database.uri, max: 3 });
  // As in main.ts: an idle client cut by the server (a dropped test database) must not become an uncaught error.
  rateLimitPool.on('error', (error) => logger.warn('rate-limit pool error', { err: error.message }));
  const container = buildContainer({
    config,
    pool: database.pool,
    logger,
    jwtSecret: TEST_SECRET,
    clock,
    rateLimitStore: rateLimitPool,
  });
  const app = buildApp(container, config);
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const request = (path: string, init?: RequestInit) => fetch(`${baseUrl}${path}`, init);
  return {
    baseUrl,
    clock,
    logger,
    database,
    request,
    post: (path, body, headers = {}) =>
      request(path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await rateLimitPool.end();
      if (!options.database) await database.drop();
    },
  };
}
