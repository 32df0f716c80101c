import { expect } from 'chai';
import { NotifiedAccessState } from '../../../src/infrastructure/persistence/notified-access-state.js';
import type { Session } from '../../../src/domain/session.js';
import type { User } from '../../../src/domain/user.js';
import { InMemorySessionRepository } from '../../fakes/in-memory-session-repository.js';
import { InMemoryUserRepository } from '../../fakes/in-memory-user-repository.js';

const SESSION = '00000000-0000-4000-8000-000000000001';

/** Repositories whose reads are counted, and can be held open to let a notification arrive mid-read. */
class Store {
  readonly users = new InMemoryUserRepository();
  readonly sessions = new InMemorySessionRepository();
  reads = 0;
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;

  constructor() {
    const findUser = this.users.findById.bind(this.users);
    const findSession = this.sessions.findById.bind(this.sessions);
    this.users.findById = async (id) => this.after(() => findUser(id));
    this.sessions.findById = async (id) => this.after(() => findSession(id));
  }

  /** Reads from now on wait until {@link release}; they read the store as it is then. */
  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
  }

  private async after<T>(read: () => Promise<T>): Promise<T> {
    this.reads += 1;
    if (this.gate) await this.gate;
    return read();
  }
}

async function seeded(): Promise<{ store: Store; user: User; session: Session }> {
  const store = new Store();
  const created = await store.users.create({ username: 'alice', passwordHash: 'h', roles: ['user'], isActive: true });
  if (!created.ok) throw new Error('seed');
  const session: Session = { id: SESSION, userId: created.value.id, createdAt: 0, expiresAt: 1e15, revokedAt: null };
  await store.sessions.start(session, 'a'.repeat(64));
  return { store, user: created.value, session };
}

describe('NotifiedAccessState: memory trusted only while the change feed listens', () => {
  it('reads each user and session once while listening, then answers from memory', async () => {
    const { store, user } = await seeded();
    const state = new NotifiedAccessState(store.users, store.sessions, 100);
    state.onUp();
    const first = await state.lookup(user.id, SESSION);
    expect(first.user).to.deep.equal({ id: user.id, username: 'alice', roles: ['user'], isActive: true });
    expect(first.session).to.deep.equal({ userId: user.id, revokedAt: null });
    expect(store.reads).to.equal(2);
    for (let i = 0; i < 10; i += 1) expect(await state.lookup(user.id, SESSION)).to.deep.equal(first);
    expect(store.reads).to.equal(2);
    expect(state.stats()).to.include({ hits: 10, misses: 1, users: 1, sessions: 1, listening: true });
  });

  it('holds no password hash', async () => {
    const { store, user } = await seeded();
    const state = new NotifiedAccessState(store.users, store.sessions, 100);
    state.onUp();
    expect(JSON.stringify(await state.lookup(user.id, SESSION))).to.not.include('"h"');
  });

  it('reads the database every time, keeping nothing, before it first listens and after it stops', async () => {
    const { store, user } = await seeded();
    const state = new NotifiedAccessState(store.users, store.sessions, 100);
    await state.lookup(user.id, SESSION);
    await state.lookup(user.id, SESSION);
    expect(store.reads).to.equal(4);
    state.onUp();
    await state.lookup(user.id, SESSION);
    state.onDown();
    expect(state.stats()).to.include({ users: 0, sessions: 0, listening: false });
    await store.sessions.revoke(SESSION, 5, 'logout');
    expect((await state.lookup(user.id, SESSION)).session?.revokedAt, 'no notification needed').to.equal(5);
  });

  it('forgets an entry when a notification names it, and reads it anew', async () => {
    const { store, user } = await seeded();
    const state = new NotifiedAccessState(store.users, store.sessions, 100);
    state.onUp();
    await state.lookup(user.id, SESSION);
    await store.sessions.revoke(SESSION, 7, 'logout');
    expect((await state.lookup(user.id, SESSION)).session?.revokedAt, 'not yet announced').to.equal(null);
    state.onChange(`s:${SESSION}`);
    expect((await state.lookup(user.id, SESSION)).session?.revokedAt).to.equal(7);
    await store.users.replace(user.id, { isActive: false });
    state.onChange(`u:${user.id}`);
    expect((await state.lookup(user.id, SESSION)).user?.isActive).to.equal(false);
  });

  it('does not keep a read that a notification for the same key overtook (it may predate the change)', async () => {
    const { store, user } = await seeded();
    const state = new NotifiedAccessState(store.users, store.sessions, 100);
    state.onUp();
    store.hold();
    const racing = state.lookup(user.id, SESSION);
    // The read started before the revocation committed; its notice arrives while the read is in flight.
    state.onChange(`s:${SESSION}`);
    store.release();
    await racing;
    await store.sessions.revoke(SESSION, 9, 'logout');
    expect((await state.lookup(user.id, SESSION)).session?.revokedAt, 'read again, not the racing answer').to.equal(9);
  });

  it('keeps a read that only notifications for other keys overtook', async () => {
    const { store, user } = await seeded();
    const state = new NotifiedAccessState(store.users, store.sessions, 100);
    state.onUp();
    store.hold();
    const racing = state.lookup(user.id, SESSION);
    state.onChange('s:00000000-0000-4000-8000-00000000ffff');
    state.onChange('u:999');
    store.release();
    await racing;
    const reads = store.reads;
    await state.lookup(user.id, SESSION);
    expect(store.reads, 'answered from memory').to.equal(reads);
  });

  it('does not keep a read that overlapped the feed going down and up again', async () => {
    const { store, user } = await seeded();
    const state = new NotifiedAccessState(store.users, store.sessions, 100);
    state.onUp();
    store.hold();
    const racing = state.lookup(user.id, SESSION);
    state.onDown();
    state.onUp();
    store.release();
    await racing;
    expect(state.stats()).to.include({ users: 0, sessions: 0 });
  });

  it('does not keep a read when more notifications arrived than it remembers', async () => {
    const { store, user } = await seeded();
    const state = new NotifiedAccessState(store.users, store.sessions, 100);
    state.onUp();
    store.hold();
    const racing = state.lookup(user.id, SESSION);
    for (let i = 0; i < 2000; i += 1) state.onChange(`u:${100_000 + i}`);
    store.release();
    await racing;
    expect(state.stats()).to.include({ users: 0, sessions: 0 });
  });

  it('holds at most its size, dropping the least recently used', async () => {
    const store = new Store();
    const state = new NotifiedAccessState(store.users, store.sessions, 3);
    state.onUp();
    for (let id = 1; id <= 10; id += 1)
      await state.lookup(id, `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`);
    expect(state.stats()).to.include({ users: 3, sessions: 3 });
  });

  it('remembers "no such user" and "no such session", until told otherwise', async () => {
    const store = new Store();
    const state = new NotifiedAccessState(store.users, store.sessions, 100);
    state.onUp();
    expect(await state.lookup(42, SESSION)).to.deep.equal({ user: null, session: null });
    await state.lookup(42, SESSION);
    expect(store.reads).to.equal(2);
    state.onChange('u:42');
    await state.lookup(42, SESSION);
    expect(store.reads).to.equal(3);
  });
});
