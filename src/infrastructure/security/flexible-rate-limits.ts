import { createHash } from 'node:crypto';
import {
  type IRateLimiterOptions,
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import ipaddr from 'ipaddr.js';
import type pg from 'pg';
import type { LimitedAction, LoginAttempt, RateLimits } from '../../application/ports/rate-limits.js';
import { usernameKey } from '../../domain/username.js';

export interface RateLimitSettings {
  /** Consecutive failed logins per username + client before a lockout. */
  readonly loginFailuresPerUser: number;
  /** How long that lockout lasts, seconds. */
  readonly loginLockoutSeconds: number;
  /** Failed logins per client per hour, whatever the usernames. */
  readonly loginFailuresPerClientPerHour: number;
  /** Registrations per client per hour. */
  readonly registrationsPerClientPerHour: number;
  /** Refreshes per client per minute. */
  readonly refreshesPerClientPerMinute: number;
  /** Reset and notice mails asked for per client per hour. */
  readonly mailsPerClientPerHour: number;
  /** Reset and notice mails per address mailed per hour. */
  readonly mailsPerAddressPerHour: number;
}

/** How long consecutive failures are remembered when no success clears them. */
const FAILURE_MEMORY_SECONDS = 24 * 3600;

const digest = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex');

/**
 * Whose limit a client address counts against: an IPv4 address, or an IPv6 address's /64 (one subscriber's prefix,
 * which hands its hosts any number of addresses: per address, an IPv6 client would have no limit at all).
 */
export function clientLimitKey(client: string): string {
  if (!ipaddr.isValid(client)) return client;
  const address = ipaddr.process(client);
  if (address.kind() === 'ipv4') return address.toString();
  const prefix = address.toByteArray().map((byte, index) => (index < 8 ? byte : 0));
  return `${ipaddr.fromByteArray(prefix).toString()}/64`;
}

/** Takes one point atomically. @returns 0 when within the limit, else the seconds until the key frees up. */
async function consume(limiter: RateLimiterAbstract, key: string): Promise<number> {
  try {
    await limiter.consume(key);
    return 0;
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
    throw rejection;
  }
}

/** How long an attempt waits for a place held by running attempts before it gives up (429). */
const WAIT_FOR_PLACE_MS = 5000;

/**
 * One login limit over two counters per key: `failures`, the failed attempts (a lockout once they reach the limit), and
 * `places`, the failures plus the attempts running now, capped at the limit. An attempt takes a place before its
 * password is checked, so parallel guesses cannot be evaluated past the limit; a right password gives its place
 * back, a wrong one keeps it as the failure it is.
 */
class LoginLimit {
  constructor(
    private readonly failures: RateLimiterAbstract,
    private readonly places: RateLimiterAbstract,
    private readonly limit: number,
    private readonly lockoutSeconds: number,
  ) {}

  /** @returns 0 with a place taken; the seconds left when locked out; `busy` when running attempts hold every place. */
  async take(key: string): Promise<number | 'busy'> {
    const lockedFor = await this.lockedFor(key);
    if (lockedFor > 0) return lockedFor;
    try {
      await this.places.consume(key);
      return 0;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      // A refused consume has still counted: give that back, so that waiting costs nothing.
      await this.places.reward(key, 1);
      return 'busy';
    }
  }

  async release(key: string): Promise<void> {
    await this.places.reward(key, 1);
  }

  /** Counts a failure; at the limit, locks the key out and frees its places for when the lockout ends. */
  async fail(key: string): Promise<void> {
    const counted = await this.failures.penalty(key, 1);
    if (counted.consumedPoints >= this.limit) {
      await this.failures.block(key, this.lockoutSeconds);
      await this.places.delete(key);
    }
  }

  async clear(key: string): Promise<void> {
    await Promise.all([this.failures.delete(key), this.places.delete(key)]);
  }

  private async lockedFor(key: string): Promise<number> {
    const counted = await this.failures.get(key);
    if (!counted || counted.consumedPoints < this.limit) return 0;
    return Math.max(1, Math.ceil(counted.msBeforeNext / 1000));
  }
}

/**
 * The rate-limit rules over rate-limiter-flexible: its PostgreSQL store (table `rate_limits`, created by migration)
 * so that limits hold across instances, or its memory store for a single process and tests.
 */
export class FlexibleRateLimits implements RateLimits {
  private readonly perUser: LoginLimit;
  private readonly perClient: LoginLimit;
  private readonly actions: Record<LimitedAction, RateLimiterAbstract>;

  constructor(
    settings: RateLimitSettings,
    store: { readonly pool: pg.Pool } | 'memory',
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    const limiter = (options: IRateLimiterOptions): RateLimiterAbstract =>
      store === 'memory'
        ? new RateLimiterMemory(options)
        : new RateLimiterPostgres({
            ...options,
            storeClient: store.pool,
            storeType: 'pool',
            tableName: 'rate_limits',
            tableCreated: true,
            // Deletes rows expired over an hour ago every 5 minutes (an unref'd timer), so the table stays small.
            clearExpiredByTimeout: true,
          });
    const { loginFailuresPerUser, loginLockoutSeconds, loginFailuresPerClientPerHour } = settings;
    this.perUser = new LoginLimit(
      limiter({ keyPrefix: 'login-user', points: loginFailuresPerUser, duration: FAILURE_MEMORY_SECONDS }),
      limiter({ keyPrefix: 'login-user-places', points: loginFailuresPerUser, duration: FAILURE_MEMORY_SECONDS }),
      loginFailuresPerUser,
      loginLockoutSeconds,
    );
    this.perClient = new LoginLimit(
      limiter({ keyPrefix: 'login-client', points: loginFailuresPerClientPerHour, duration: 3600 }),
      limiter({ keyPrefix: 'login-client-places', points: loginFailuresPerClientPerHour, duration: 3600 }),
      loginFailuresPerClientPerHour,
      3600,
    );
    this.actions = {
      registration: limiter({
        keyPrefix: 'registration',
        points: settings.registrationsPerClientPerHour,
        duration: 3600,
      }),
      refresh: limiter({ keyPrefix: 'refresh', points: settings.refreshesPerClientPerMinute, duration: 60 }),
      'mail-client': limiter({ keyPrefix: 'mail-client', points: settings.mailsPerClientPerHour, duration: 3600 }),
      'mail-address': limiter({ keyPrefix: 'mail-address', points: settings.mailsPerAddressPerHour, duration: 3600 }),
    };
  }

  async beginLogin(username: string, client: string): Promise<LoginAttempt | { readonly retryAfterSeconds: number }> {
    const userKey = digest(usernameKey(username), clientLimitKey(client));
    const clientKey = digest(clientLimitKey(client));
    const deadline = Date.now() + WAIT_FOR_PLACE_MS;
    for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
      const [user, all] = await Promise.all([this.perUser.take(userKey), this.perClient.take(clientKey)]);
      if (user === 0 && all === 0) {
        return {
          succeeded: async () => {
            await Promise.all([this.perUser.clear(userKey), this.perClient.release(clientKey)]);
          },
          failed: async () => {
            await Promise.all([this.perUser.fail(userKey), this.perClient.fail(clientKey)]);
          },
          abandoned: async () => {
            await Promise.all([this.perUser.release(userKey), this.perClient.release(clientKey)]);
          },
        };
      }
      await Promise.all([
        user === 0 ? this.perUser.release(userKey) : undefined,
        all === 0 ? this.perClient.release(clientKey) : undefined,
      ]);
      const lockedFor = Math.max(typeof user === 'number' ? user : 0, typeof all === 'number' ? all : 0);
      if (lockedFor > 0) return { retryAfterSeconds: lockedFor };
      if (Date.now() > deadline) return { retryAfterSeconds: 1 };
      await this.sleep(delay + Math.random() * delay);
    }
  }

  hit(action: LimitedAction, key: string): Promise<number> {
    return consume(this.actions[action], digest(action === 'mail-address' ? key : clientLimitKey(key)));
  }
}
