import { emailKey } from '../../domain/email.js';
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

/**
 * Counts one mail to `email` asked for by `client`, against the limits per client address and per address mailed.
 * Over either, the mail is not sent, and the caller answers as if it were (a limit must not reveal an account).
 * @returns true when over a limit (logged as a `rate_limited` security event).
 */
export async function overMailLimits(
  limits: RateLimits,
  logger: Logger,
  client: string,
  email: string,
): Promise<boolean> {
  const [byClient, byAddress] = await Promise.all([
    limits.hit('mail-client', client),
    limits.hit('mail-address', emailKey(email)),
  ]);
  if (byClient === 0 && byAddress === 0) return false;
  logger.warn('mail rate limited', { event: 'rate_limited', action: byClient > 0 ? 'mail-client' : 'mail-address' });
  return true;
}
