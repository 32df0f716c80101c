import type { Logger } from '../ports/logger.js';
import type { LimitedAction, RateLimits } from '../ports/rate-limits.js';
import { type TooManyRequests, tooManyRequests } from '../../domain/errors.js';

/**
 * Counts one `action` from `client` against its limit.
 * @returns the refusal (logged as a `rate_limited` security event) when over the limit, else null.
 */
export async function overClientLimit(
  limits: RateLimits,
  logger: Logger,
  action: LimitedAction,
  client: string,
): Promise<TooManyRequests | null> {
  const blockedFor = await limits.hit(action, client);
  if (blockedFor === 0) return null;
  logger.warn('rate limited', { event: 'rate_limited', action, retry_after: blockedFor });
  return tooManyRequests(blockedFor);
}
