import { type ServiceToken, serviceToken } from './service-token.js';
export const Clock: ServiceToken<Clock> = serviceToken('Clock');
export interface Clock {
  /** @returns the current time in milliseconds since the epoch. */
  now(): number;
}
