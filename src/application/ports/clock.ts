export const Clock = Symbol.for('Clock');
export interface Clock {
  /** @returns the current time in milliseconds since the epoch. */
  now(): number;
}
