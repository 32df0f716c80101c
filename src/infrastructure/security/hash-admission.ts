import type { PasswordHasher } from '../../application/ports/password-hasher.js';
import { Overloaded } from '../../application/overloaded.js';

export interface AdmissionLimits {
  /** Hashes run at once: more than the cores only lengthens each one. */
  readonly concurrency: number;
  /** Requests that may wait for a slot; one more is refused at once. */
  readonly maxQueued: number;
  /** A request that waited this long is refused rather than hashed, since its client has waited long enough. */
  readonly maxWaitMs: number;
}

/** How long a hash took, smoothed. */
class RunningAverage {
  constructor(private value: number) {}
  add(sample: number): void {
    this.value += (sample - this.value) / 8;
  }
  get(): number {
    return this.value;
  }
}

interface Waiter {
  readonly since: number;
  readonly admit: () => void;
  readonly refuse: (error: Overloaded) => void;
}

/** The limits as configured: the queue's depth and longest wait may be left to be derived from the hash time. */
export interface AdmissionSettings {
  readonly concurrency: number;
  readonly maxQueued?: number | undefined;
  readonly maxWaitMs?: number | undefined;
}

/** The wait allowed when none is configured. */
export const DEFAULT_MAX_WAIT_MS = 1000;

/**
 * Queue limits derived from what a hash costs here: wait at most `maxWaitMs` (1 s unless given), and queue only as many
 * requests as `concurrency` slots can take in that time. So an accepted login is answered within about `maxWaitMs` plus
 * a hash, and the rest are refused at once instead of piling up.
 */
export function admissionLimits(hashMs: number, settings: AdmissionSettings): AdmissionLimits {
  const { concurrency } = settings;
  const maxWaitMs = settings.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const derived = Math.floor((maxWaitMs / Math.max(hashMs, 1)) * concurrency);
  return { concurrency, maxQueued: settings.maxQueued ?? Math.max(concurrency, derived), maxWaitMs };
}

export interface AdmissionStats {
  readonly limits: AdmissionLimits;
  readonly running: number;
  readonly queued: number;
  /** Requests refused since start: the queue was full, or they waited too long. */
  readonly refused: number;
  readonly averageHashMs: number;
}

/**
 * A {@link PasswordHasher} behind a bounded admission queue: at most `concurrency` hashes at once, at most `maxQueued`
 * waiting. Past that, or after `maxWaitMs` in the queue, a request gets {@link Overloaded} (503 with Retry-After) at
 * once, so overload is shed instead of queued until every answer is late; guarded requests, which never hash, keep
 * their speed meanwhile.
 */
export class AdmittedPasswordHasher implements PasswordHasher {
  private running = 0;
  private readonly queue: Waiter[] = [];
  private refused = 0;
  private hashTime: RunningAverage;
  private limits: AdmissionLimits;
  private calibrated: Promise<string> | undefined;

  /**
   * @param assumedHashMs what a hash is taken to cost until {@link dummyHash} (called at start) has measured one.
   */
  constructor(
    private readonly inner: PasswordHasher,
    private readonly settings: AdmissionSettings,
    private readonly now: () => number = () => performance.now(),
    assumedHashMs = 100,
  ) {
    this.hashTime = new RunningAverage(assumedHashMs);
    this.limits = admissionLimits(assumedHashMs, settings);
  }

  hash(password: string): Promise<string> {
    return this.admitted(() => this.inner.hash(password));
  }

  verify(hash: string, password: string, asTyped?: string): Promise<boolean> {
    return this.admitted(() => this.inner.verify(hash, password, asTyped));
  }

  recognizes(hash: string): boolean {
    return this.inner.recognizes(hash);
  }

  needsRehash(hash: string): boolean {
    return this.inner.needsRehash(hash);
  }

  /** The first call makes the dummy hash, and measures it to derive the queue's limits. */
  dummyHash(): Promise<string> {
    this.calibrated ??= this.calibrate();
    return this.calibrated;
  }

  stats(): AdmissionStats {
    return {
      limits: this.limits,
      running: this.running,
      queued: this.queue.length,
      refused: this.refused,
      averageHashMs: this.hashTime.get(),
    };
  }

  private async calibrate(): Promise<string> {
    const started = this.now();
    const dummy = await this.inner.dummyHash();
    const hashMs = this.now() - started;
    this.hashTime = new RunningAverage(hashMs);
    this.limits = admissionLimits(hashMs, this.settings);
    return dummy;
  }

  private async admitted<T>(work: () => Promise<T>): Promise<T> {
    // A free slot is taken at once, unless others are waiting for one; a waiter is handed its slot by next().
    if (this.running < this.limits.concurrency && this.queue.length === 0) this.running += 1;
    else await this.waitForSlot();
    const started = this.now();
    try {
      return await work();
    } finally {
      this.hashTime.add(this.now() - started);
      this.running -= 1;
      this.next();
    }
  }

  /** Refuses now what the queue could not serve in time: the queue is full, or its wait would exceed the limit. */
  ensureCapacity(): void {
    if (this.running < this.limits.concurrency && this.queue.length === 0) return;
    if (this.queue.length >= this.limits.maxQueued) throw this.overloaded('the password-hashing queue is full');
    // The waiter joining now is served once the hashes ahead of it have run, `concurrency` at a time.
    const rounds = Math.ceil((this.queue.length + 1) / this.limits.concurrency);
    if (rounds * this.hashTime.get() > this.limits.maxWaitMs) {
      throw this.overloaded('the password-hashing queue would not reach this request in time');
    }
  }

  private waitForSlot(): Promise<void> {
    this.ensureCapacity();
    return new Promise<void>((admit, refuse) => this.queue.push({ since: this.now(), admit, refuse }));
  }

  /** Hands the free slot to the oldest waiter still worth serving; the ones that waited too long are refused. */
  private next(): void {
    while (this.running < this.limits.concurrency) {
      const waiter = this.queue.shift();
      if (!waiter) return;
      if (this.now() - waiter.since > this.limits.maxWaitMs) {
        waiter.refuse(this.overloaded('waited too long for password hashing'));
        continue;
      }
      this.running += 1;
      waiter.admit();
    }
  }

  private overloaded(reason: string): Overloaded {
    this.refused += 1;
    // What the queue ahead will take to clear, at the rate hashes finish now.
    const clearMs = ((this.queue.length + this.running) / this.limits.concurrency) * this.hashTime.get();
    return new Overloaded(reason, Math.max(1, Math.ceil(clearMs / 1000)));
  }
}
