import { expect } from 'chai';
import { NotifiedTokenBlacklist } from '../../../src/infrastructure/persistence/notified-token-blacklist.js';
import { InMemoryTokenBlacklist } from '../../fakes/in-memory-token-blacklist.js';

/**
 * The stored blacklist, with its reads counted and, on demand, held open after reading, so that a change and its notice
 * can arrive between the read and its answer.
 */
class Store extends InMemoryTokenBlacklist {
  reads = 0;
  gate: Promise<void> | undefined;
  open: (() => void) | undefined;

  override async isBlacklisted(tokenId: string): Promise<boolean> {
    this.reads += 1;
    const answer = await super.isBlacklisted(tokenId);
    if (this.gate) await this.gate;
    return answer;
  }

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
}

describe('NotifiedTokenBlacklist: memory trusted only while the change feed listens', () => {
  it('reads a jti once while listening, and again once a notice names it', async () => {
    const store = new Store();
    const blacklist = new NotifiedTokenBlacklist(store, 100);
    blacklist.onUp();
    expect([await blacklist.isBlacklisted('j1'), await blacklist.isBlacklisted('j1')]).to.deep.equal([false, false]);
    expect(store.reads).to.equal(1);
    // Another instance blacklists it: this one hears the notice.
    await store.blacklist('j1', 1e15);
    blacklist.onChange('j:j1');
    expect(await blacklist.isBlacklisted('j1')).to.equal(true);
    expect(store.reads).to.equal(2);
  });

  it('reads the store on every call while the feed is down, and keeps nothing from then', async () => {
    const store = new Store();
    const blacklist = new NotifiedTokenBlacklist(store, 100);
    blacklist.onUp();
    await blacklist.isBlacklisted('j1');
    blacklist.onDown();
    await store.blacklist('j1', 1e15);
    expect(await blacklist.isBlacklisted('j1')).to.equal(true);
    expect(await blacklist.isBlacklisted('j1')).to.equal(true);
    expect(store.reads).to.equal(3);
  });

  it('does not keep a read that a notice raced', async () => {
    const store = new Store();
    const blacklist = new NotifiedTokenBlacklist(store, 100);
    blacklist.onUp();
    store.hold();
    const racing = blacklist.isBlacklisted('j1');
    await store.blacklist('j1', 1e15);
    blacklist.onChange('j:j1');
    store.open!();
    store.gate = undefined;
    expect(await racing, 'the read saw the store before the change').to.equal(false);
    expect(await blacklist.isBlacklisted('j1')).to.equal(true);
    expect(store.reads).to.equal(2);
  });

  it('ignores notices about users and sessions', async () => {
    const store = new Store();
    const blacklist = new NotifiedTokenBlacklist(store, 100);
    blacklist.onUp();
    await blacklist.isBlacklisted('j1');
    blacklist.onChange('u:1');
    blacklist.onChange('s:00000000-0000-4000-8000-000000000001');
    await blacklist.isBlacklisted('j1');
    expect(store.reads).to.equal(1);
  });
});
