import type { AuthEvent, AuthEvents } from '../../src/application/ports/auth-events.js';

/** Counts every event in memory, for tests to read. */
export class CountingAuthEvents implements AuthEvents {
  readonly counts = new Map<AuthEvent, number>();

  record(event: AuthEvent, count = 1): void {
    this.counts.set(event, (this.counts.get(event) ?? 0) + count);
  }

  count(event: AuthEvent): number {
    return this.counts.get(event) ?? 0;
  }
}
