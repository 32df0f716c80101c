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
import type { LimitedAction, RateLimits } from '../../application/ports/rate-limits.js';
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

/**
 * The rate-limit rules over rate-limiter-flexible: its PostgreSQL store (table `rate_limits`, created by migration)
 * so that limits hold across instances, or its memory store for a single process and tests.
 */
export class FlexibleRateLimits implements RateLimits {
  private readonly perUser: RateLimiterAbstract;
  private readonly perClient: RateLimiterAbstract;
  private readonly actions: Record<LimitedAction, RateLimiterAbstract>;

  constructor(
    private readonly settings: RateLimitSettings,
    store: { readonly pool: pg.Pool } | 'memory',
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
    this.perUser = limiter({
      keyPrefix: 'login-user',
      points: settings.loginFailuresPerUser,
      duration: FAILURE_MEMORY_SECONDS,
      blockDuration: settings.loginLockoutSeconds,
    });
    this.perClient = limiter({
      keyPrefix: 'login-client',
      points: settings.loginFailuresPerClientPerHour,
      duration: 3600,
      blockDuration: 3600,
    });
    this.actions = {
      registration: limiter({
        keyPrefix: 'registration',
        points: settings.registrationsPerClientPerHour,
        duration: 3600,
      }),
      refresh: limiter({ keyPrefix: 'refresh', points: settings.refreshesPerClientPerMinute, duration: 60 }),
    };
  }

  async loginAttempted(username: string, client: string): Promise<number> {
    const [user, all] = await Promise.all([
      consume(this.perUser, this.userKey(username, client)),
      consume(this.perClient, digest(clientLimitKey(client))),
    ]);
    return Math.max(user, all);
  }

  async loginSucceeded(username: string, client: string): Promise<void> {
    await Promise.all([
      this.perUser.delete(this.userKey(username, client)),
      this.perClient.reward(digest(clientLimitKey(client)), 1),
    ]);
  }

  hit(action: LimitedAction, client: string): Promise<number> {
    return consume(this.actions[action], digest(clientLimitKey(client)));
  }

  private userKey(username: string, client: string): string {
    return digest(usernameKey(username), clientLimitKey(client));
  }
}
