import { expect } from 'chai';
import { Overloaded } from '../../../src/application/overloaded.js';
import type { PasswordHasher } from '../../../src/application/ports/password-hasher.js';
import { AdmittedPasswordHasher, admissionLimits } from '../../../src/infrastructure/security/hash-admission.js';

/** A hasher whose hashes finish only when the test says, on a clock the test moves. */
class GatedHasher implements PasswordHasher {
  now = 0;
  started = 0;
  private readonly gates: (() => void)[] = [];

  async hash(): Promise<string> {
    return this.gate('hash');
  }
  async verify(): Promise<boolean> {
    await this.gate('verify');
    return true;
  }
  recognizes(): boolean {
    return true;
  }
  needsRehash(): boolean {
    return false;
  }
  ensureCapacity(): void {}
  async dummyHash(): Promise<string> {
    this.now += 100;
    return 'dummy';
  }
  /** Finishes the oldest running hash after `ms` of the clock. */
  finish(ms = 100): void {
    this.now += ms;
    this.gates.shift()!();
  }
  private gate<T>(value: T): Promise<T> {
    this.started += 1;
    return new Promise((resolve) => this.gates.push(() => resolve(value)));
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

async function admitted(settings: { concurrency: number; maxQueued?: number; maxWaitMs?: number }) {
  const inner = new GatedHasher();
  const hasher = new AdmittedPasswordHasher(inner, settings, () => inner.now);
  await hasher.dummyHash(); // measures 100 ms
  return { inner, hasher };
}

describe('password hashing behind a bounded admission queue', () => {
  it('derives the queue from the hash time measured at start: what the slots clear within the longest wait', () => {
    expect(admissionLimits(100, { concurrency: 2 })).to.deep.equal({ concurrency: 2, maxQueued: 20, maxWaitMs: 1000 });
    expect(admissionLimits(250, { concurrency: 2, maxWaitMs: 500 })).to.deep.equal({
      concurrency: 2,
      maxQueued: 4,
      maxWaitMs: 500,
    });
    expect(admissionLimits(5000, { concurrency: 3 }).maxQueued, 'never fewer than the slots').to.equal(3);
    expect(admissionLimits(100, { concurrency: 2, maxQueued: 7 }).maxQueued, 'as configured').to.equal(7);
  });

  it('runs at most `concurrency` hashes at once and hands each freed slot to the oldest waiter', async () => {
    const { inner, hasher } = await admitted({ concurrency: 2, maxQueued: 10, maxWaitMs: 10_000 });
    const order: number[] = [];
    const all = [1, 2, 3, 4].map((n) => hasher.verify('h', 'p').then(() => order.push(n)));
    await settle();
    expect(inner.started).to.equal(2);
    expect(hasher.stats()).to.include({ running: 2, queued: 2 });
    inner.finish();
    await settle();
    expect(inner.started).to.equal(3);
    for (let i = 0; i < 3; i += 1) {
      inner.finish();
      await settle();
      expect(hasher.stats().running, 'never more than two at once').to.be.at.most(2);
    }
    await Promise.all(all);
    expect(order).to.deep.equal([1, 2, 3, 4]);
    expect(hasher.stats()).to.include({ running: 0, queued: 0, refused: 0 });
  });

  it('refuses at once with Overloaded and a Retry-After when the queue is full', async () => {
    const { inner, hasher } = await admitted({ concurrency: 1, maxQueued: 2, maxWaitMs: 10_000 });
    const running = [hasher.verify('h', 'p'), hasher.verify('h', 'p'), hasher.verify('h', 'p')];
    await settle();
    let refusal: unknown;
    await hasher.verify('h', 'p').catch((error: unknown) => (refusal = error));
    expect(refusal).to.be.instanceOf(Overloaded);
    expect((refusal as Overloaded).retryAfterSeconds).to.be.at.least(1);
    expect(() => hasher.ensureCapacity()).to.throw(Overloaded);
    expect(inner.started, 'the refused one never reached the hasher').to.equal(1);
    for (let i = 0; i < 3; i += 1) {
      inner.finish();
      await settle();
    }
    await Promise.all(running);
    expect(() => hasher.ensureCapacity(), 'free again').to.not.throw();
    expect(hasher.stats().refused).to.equal(2);
  });

  it('refuses at once a request the queue would not reach within the longest wait', async () => {
    const { hasher } = await admitted({ concurrency: 1, maxQueued: 100, maxWaitMs: 250 });
    const running = [hasher.verify('h', 'p'), hasher.verify('h', 'p'), hasher.verify('h', 'p')];
    await settle();
    // 1 running, 2 waiting at 100 ms a hash: a fourth would start after 300 ms.
    await hasher.verify('h', 'p').then(
      () => expect.fail('admitted'),
      (error: unknown) => expect(error).to.be.instanceOf(Overloaded),
    );
    void running;
  });

  it('refuses a waiter that has waited past the longest wait when its turn comes (hashes slower than measured)', async () => {
    const { inner, hasher } = await admitted({ concurrency: 1, maxQueued: 10, maxWaitMs: 500 });
    const first = hasher.verify('h', 'p');
    const second = hasher.verify('h', 'p').then(
      () => 'hashed',
      (error: unknown) => (error instanceof Overloaded ? 'refused' : 'other'),
    );
    await settle();
    inner.finish(900);
    await first;
    expect(await second).to.equal('refused');
    expect(inner.started).to.equal(1);
  });

  it('lets a new request wait behind the queue rather than jump it', async () => {
    const { inner, hasher } = await admitted({ concurrency: 1, maxQueued: 10, maxWaitMs: 10_000 });
    const order: string[] = [];
    const a = hasher.verify('h', 'p').then(() => order.push('a'));
    const b = hasher.verify('h', 'p').then(() => order.push('b'));
    await settle();
    inner.finish();
    const c = hasher.verify('h', 'p').then(() => order.push('c'));
    await settle();
    inner.finish();
    await settle();
    inner.finish();
    await Promise.all([a, b, c]);
    expect(order).to.deep.equal(['a', 'b', 'c']);
  });
});
