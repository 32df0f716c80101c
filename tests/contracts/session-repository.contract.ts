import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type {
  RotationOutcome,
  RotationRequest,
  SessionRepository,
} from '../../src/application/ports/session-repository.js';
import type { Session } from '../../src/domain/session.js';

/** What one contract test starts from: an empty store and two users that sessions may belong to. */
export interface SessionRepositoryFixture {
  readonly repository: SessionRepository;
  readonly userIds: readonly [number, number];
  /** The user's stored password hash, and a way to set it (the users table, or the fake's user store). */
  readonly passwordHash: {
    get(userId: number): Promise<string>;
    set(userId: number, hash: string): Promise<void>;
  };
}

export interface SessionRepositoryContractHooks {
  /** Once before the suite (start a database...). */
  readonly before?: () => Promise<void>;
  /** Before each test: an empty store with two users. */
  readonly fresh: () => Promise<SessionRepositoryFixture>;
  readonly after?: () => Promise<void>;
}

/** A moment with a millisecond part, so that a store rounding to seconds is caught. */
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0) + 123;
const HOUR = 3_600_000;
const GRACE = 10_000;

const hash = () => createHash('sha256').update(randomBytes(32)).digest('hex');

/** Only the port's fields: a store may keep more (a revocation reason), but a Session is these five. */
function sessionFields(session: Session): Session {
  const { id, userId, createdAt, expiresAt, revokedAt } = session;
  return { id, userId, createdAt, expiresAt, revokedAt };
}

function outcomeFields(outcome: RotationOutcome): RotationOutcome {
  return 'session' in outcome ? { kind: outcome.kind, session: sessionFields(outcome.session) } : outcome;
}

function newSession(userId: number, overrides: Partial<Session> = {}): Session {
  return { id: randomUUID(), userId, createdAt: T0, expiresAt: T0 + HOUR, revokedAt: null, ...overrides };
}

/** The port's rules for sessions and refresh-token rotation; every SessionRepository must pass it. */
export function describeSessionRepositoryContract(name: string, hooks: SessionRepositoryContractHooks): void {
  describe(`SessionRepository contract: ${name}`, () => {
    let repository: SessionRepository;
    let alice: number;
    let bob: number;
    let passwordHash: SessionRepositoryFixture['passwordHash'];

    if (hooks.before) before(hooks.before);
    if (hooks.after) after(hooks.after);

    beforeEach(async () => {
      const fixture = await hooks.fresh();
      repository = fixture.repository;
      [alice, bob] = fixture.userIds;
      passwordHash = fixture.passwordHash;
    });

    const find = async (id: string) => {
      const session = await repository.findById(id);
      return session && sessionFields(session);
    };
    const rotate = async (request: RotationRequest) => outcomeFields(await repository.rotate(request));

    async function started(overrides: Partial<Session> = {}): Promise<{ session: Session; token: string }> {
      const session = newSession(alice, overrides);
      const token = hash();
      await repository.start(session, token);
      return { session, token };
    }

    describe('adopt', () => {
      it('stores a session once: a second adopt of its id answers the stored one, revoked if it was', async () => {
        const session = newSession(alice);
        expect(sessionFields(await repository.adopt(session))).to.deep.equal(session);
        expect(await find(session.id)).to.deep.equal(session);
        await repository.revoke(session.id, T0 + 1000, 'logout');
        const again = await repository.adopt({ ...session, expiresAt: T0 + 2 * HOUR });
        expect(sessionFields(again)).to.deep.equal({ ...session, revokedAt: T0 + 1000 });
      });
    });

    describe('start with a password upgrade', () => {
      it('replaces the hash it was given, for the session user only', async () => {
        await passwordHash.set(alice, 'legacy-hash');
        await passwordHash.set(bob, 'legacy-hash');
        const session = newSession(alice);
        await repository.start(session, hash(), { from: 'legacy-hash', to: 'argon2-hash' });
        expect(await find(session.id)).to.deep.equal(session);
        expect([await passwordHash.get(alice), await passwordHash.get(bob)]).to.deep.equal([
          'argon2-hash',
          'legacy-hash',
        ]);
      });

      it('starts the session but leaves a hash that is no longer the one verified', async () => {
        await passwordHash.set(alice, 'changed-meanwhile');
        const session = newSession(alice);
        await repository.start(session, hash(), { from: 'legacy-hash', to: 'argon2-hash' });
        expect(await find(session.id)).to.deep.equal(session);
        expect(await passwordHash.get(alice)).to.equal('changed-meanwhile');
      });
    });

    describe('start and findById', () => {
      it('round-trips a session to the millisecond', async () => {
        const { session } = await started({ createdAt: T0, expiresAt: T0 + 30 * 24 * HOUR + 7 });
        expect(await find(session.id)).to.deep.equal(session);
      });

      it('answers null for an unknown id and for an id that is not a UUID', async () => {
        await started();
        expect(await find(randomUUID())).to.equal(null);
        expect(await find('not-a-session')).to.equal(null);
      });
    });

    describe('rotate', () => {
      it('rotated: a live token is spent and its successor becomes live; the session is unchanged', async () => {
        const { session, token } = await started();
        const successor = hash();
        const outcome = await rotate({ tokenHash: token, successorHash: successor, now: T0 + 60_000, graceMs: GRACE });
        expect(outcome).to.deep.equal({ kind: 'rotated', session });

        const next = await rotate({ tokenHash: successor, successorHash: hash(), now: T0 + 120_000, graceMs: GRACE });
        expect(next).to.deep.equal({ kind: 'rotated', session });
        expect(await find(session.id)).to.deep.equal(session);
      });

      it('rotated → replayed within the grace window (same successor) → reused after it, which revokes the session', async () => {
        const { session, token } = await started();
        const successor = hash();
        const spentAt = T0 + 60_000;
        const request = { tokenHash: token, successorHash: successor, graceMs: GRACE };
        expect(await rotate({ ...request, now: spentAt })).to.deep.equal({ kind: 'rotated', session });
        expect(await rotate({ ...request, now: spentAt + 5_000 })).to.deep.equal({ kind: 'replayed', session });
        expect(await rotate({ ...request, now: spentAt + 9_999 })).to.deep.equal({ kind: 'replayed', session });
        expect((await find(session.id))!.revokedAt).to.equal(null);

        const reusedAt = spentAt + 11_000;
        const reused = await rotate({ ...request, now: reusedAt });
        expect(reused).to.deep.equal({ kind: 'reused', session: { ...session, revokedAt: reusedAt } });
        expect(await find(session.id)).to.deep.equal({ ...session, revokedAt: reusedAt });

        // the whole family: the live successor is refused now
        const afterwards: RotationOutcome = await rotate({
          tokenHash: successor,
          successorHash: hash(),
          now: reusedAt + 1,
          graceMs: GRACE,
        });
        expect(afterwards).to.deep.equal({ kind: 'revoked' });
      });

      it('reused: a replay exactly graceMs after spending is past the window', async () => {
        const { session, token } = await started();
        const successor = hash();
        const spentAt = T0 + 60_000;
        await rotate({ tokenHash: token, successorHash: successor, now: spentAt, graceMs: GRACE });
        const outcome = await rotate({
          tokenHash: token,
          successorHash: successor,
          now: spentAt + GRACE,
          graceMs: GRACE,
        });
        expect(outcome).to.deep.equal({ kind: 'reused', session: { ...session, revokedAt: spentAt + GRACE } });
      });

      it('reused: a different successor inside the grace window revokes the session', async () => {
        const { session, token } = await started();
        const spentAt = T0 + 60_000;
        await rotate({ tokenHash: token, successorHash: hash(), now: spentAt, graceMs: GRACE });
        const outcome = await rotate({ tokenHash: token, successorHash: hash(), now: spentAt + 1_000, graceMs: GRACE });
        expect(outcome).to.deep.equal({ kind: 'reused', session: { ...session, revokedAt: spentAt + 1_000 } });
        expect((await find(session.id))!.revokedAt).to.equal(spentAt + 1_000);
      });

      it('with graceMs 0 a replay at the very same instant is reused (no grace at all)', async () => {
        const { session, token } = await started();
        const successor = hash();
        const now = T0 + 60_000;
        await rotate({ tokenHash: token, successorHash: successor, now, graceMs: 0 });
        const outcome = await rotate({ tokenHash: token, successorHash: successor, now, graceMs: 0 });
        expect(outcome).to.deep.equal({ kind: 'reused', session: { ...session, revokedAt: now } });
      });

      it('expired: the session is past expiresAt, however recently the token was issued', async () => {
        const { token } = await started({ expiresAt: T0 + HOUR });
        const successor = hash();
        await rotate({ tokenHash: token, successorHash: successor, now: T0 + HOUR - 1_000, graceMs: GRACE });
        const outcome = await rotate({
          tokenHash: successor,
          successorHash: hash(),
          now: T0 + HOUR + 1,
          graceMs: GRACE,
        });
        expect(outcome).to.deep.equal({ kind: 'expired' });
      });

      it('revoked: a token of a revoked session', async () => {
        const { session, token } = await started();
        await repository.revoke(session.id, T0 + 1_000, 'logout');
        const outcome = await rotate({ tokenHash: token, successorHash: hash(), now: T0 + 2_000, graceMs: GRACE });
        expect(outcome).to.deep.equal({ kind: 'revoked' });
        expect(await find(session.id)).to.deep.equal({ ...session, revokedAt: T0 + 1_000 });
      });

      it('unknown: a hash that was never stored', async () => {
        await started();
        expect(await rotate({ tokenHash: hash(), successorHash: hash(), now: T0, graceMs: GRACE })).to.deep.equal({
          kind: 'unknown',
        });
      });
    });

    describe('revoke', () => {
      it('is idempotent: a second revocation keeps the first moment', async () => {
        const { session } = await started();
        await repository.revoke(session.id, T0 + 1_000, 'logout');
        await repository.revoke(session.id, T0 + 5_000, 'user_deactivated');
        expect(await find(session.id)).to.deep.equal({ ...session, revokedAt: T0 + 1_000 });
      });

      it('is a no-op for an unknown id or a non-UUID id, and touches no other session', async () => {
        const { session } = await started();
        await repository.revoke(randomUUID(), T0 + 1_000, 'logout');
        await repository.revoke('not-a-session', T0 + 1_000, 'logout');
        expect(await find(session.id)).to.deep.equal(session);
      });
    });

    describe('revokeAllForUser', () => {
      it('revokes and counts only the live sessions of that user', async () => {
        const live1 = newSession(alice);
        const live2 = newSession(alice, { createdAt: T0 + 1_000, expiresAt: T0 + HOUR + 1_000 });
        const revoked = newSession(alice);
        const other = newSession(bob);
        for (const session of [live1, live2, revoked, other]) await repository.start(session, hash());
        await repository.revoke(revoked.id, T0 + 500, 'logout');

        expect(await repository.revokeAllForUser(alice, T0 + 2_000, 'user_deactivated')).to.equal(2);
        expect(await find(live1.id)).to.deep.equal({ ...live1, revokedAt: T0 + 2_000 });
        expect(await find(live2.id)).to.deep.equal({ ...live2, revokedAt: T0 + 2_000 });
        expect(await find(revoked.id)).to.deep.equal({ ...revoked, revokedAt: T0 + 500 });
        expect(await find(other.id)).to.deep.equal(other);

        expect(await repository.revokeAllForUser(alice, T0 + 3_000, 'user_deactivated')).to.equal(0);
        expect(await repository.revokeAllForUser(bob, T0 + 3_000, 'user_deactivated')).to.equal(1);
      });
    });
  });
}
