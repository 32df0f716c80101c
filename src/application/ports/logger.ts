import { type ServiceToken, serviceToken } from './service-token.js';
/** Structured fields attached to a log line. Never put a password, a token or a hash in here. */
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
