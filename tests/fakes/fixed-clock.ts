import type { Clock } from '../../src/application/ports/clock.js';

/** A clock that moves only when told to. */
export class FixedClock implements Clock {
  constructor(private current: number = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.current;
  }

  advanceSeconds(seconds: number): void {
    this.current += seconds * 1000;
  }

  set(ms: number): void {
    this.current = ms;
  }
}
