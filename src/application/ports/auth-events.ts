import { type ServiceToken, serviceToken } from './service-token.js';

/**
 * What happens to accounts and sessions, as counted for metrics (the log lines tell the same story in detail):
 * `password_reset` a reset link used; `mail_sent` a mail the server took; `mail_failed` a delivery attempt that failed
 * (retried later or given up).
 */
export const AUTH_EVENTS = [
  'login_success',
  'login_failure',
  'login_lockout',
  'registration',
  'refresh_rotated',
  'refresh_reused',
  'revocation',
  'password_reset',
  'mail_sent',
  'mail_failed',
] as const;

export type AuthEvent = (typeof AUTH_EVENTS)[number];

export const AuthEvents: ServiceToken<AuthEvents> = serviceToken('AuthEvents');
/** Counts auth events. Fire-and-forget: never throws, never waits. */
export interface AuthEvents {
  /** Counts `count` (default 1) occurrences of `event`; a revocation counts the sessions it ended. */
  record(event: AuthEvent, count?: number): void;
}
