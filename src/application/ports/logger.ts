import { type ServiceToken, serviceToken } from './service-token.js';
/**
 * Structured fields attached to a log line. Never put a password, a token or a hash in here.
 *
 * The names the application uses (`event`, `outcome`, `request_id`, `client_ip`, `user_agent`, `user_id`, `username`,
 * `target_user_id`, `session_id`, `reason`, `err` ...) are written by the adapter under their Elastic
 * Common Schema names (`event.action`, `trace.id`, `client.ip`, `user.id` ...); see the adapter for the table.
 */
export type LogFields = Readonly<Record<string, unknown>>;

export const Logger: ServiceToken<Logger> = serviceToken('Logger');
/**
 * Structured, fire-and-forget logging. Calls never throw and never wait for a sink (stdout, Logstash).
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `bindings` to every line it writes. */
  child(bindings: LogFields): Logger;
}

/**
 * Who asked, as the delivery mechanism knows it (for HTTP: `request_id`, `client_ip`, `user_agent`): use cases add it to
 * the security events they log, so each names the request it came from.
 */
export type RequestContext = LogFields;
