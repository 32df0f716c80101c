import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { RetentionStore } from '../../src/application/ports/retention-store.js';
import type { SessionRepository } from '../../src/application/ports/session-repository.js';
import type { Session } from '../../src/domain/session.js';

/** An empty store of sessions, the retention store that purges it, and a user the sessions belong to. */
export interface RetentionStoreFixture {
  readonly sessions: SessionRepository;
  readonly retention: RetentionStore;
  /** Another instance's retention store on the same data: it competes for the same lock. */
  readonly otherInstance: () => RetentionStore;
  readonly userId: number;
}

export interface RetentionStoreContractHooks {
  readonly before?: () => Promise<void>;
  readonly fresh: () => Promise<RetentionStoreFixture>;
  readonly after?: () => Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0) + 123;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const hash = () => createHash('sha256').update(randomBytes(32)).digest('hex');

/** What every RetentionStore must do: delete only what ended before the cutoff, in batches, one instance at a time. */
export function describeRetentionStoreContract(name: string, hooks: RetentionStoreContractHooks): void {
  describe(`RetentionStore contract: ${name}`, () => {
    let fixture: RetentionStoreFixture;

    if (hooks.before) before(hooks.before);
    if (hooks.after) after(hooks.after);
    beforeEach(async () => {
      fixture = await hooks.fresh();
    });

    async function session(overrides: Partial<Session> = {}): Promise<{ session: Session; firstToken: string }> {
      const started: Session = {
        id: randomUUID(),
        userId: fixture.userId,
        createdAt: T0,
        expiresAt: T0 + 30 * DAY,
        revokedAt: null,
        ...overrides,
      };
      const firstToken = hash();
      await fixture.sessions.start(started, firstToken);
      return { session: started, firstToken };
    }

    /** Rotates `token` at `now`. @returns the successor. */
    async function rotate(token: string, now: number): Promise<string> {
      const successorHash = hash();
      const outcome = await fixture.sessions.rotate({ tokenHash: token, successorHash, now, graceMs: 10_000 });
      expect(outcome.kind).to.equal('rotated');
      return successorHash;
    }

    async function purgeAll(endedBefore: number, limit = 100): Promise<Record<string, number>> {
      const spent = await fixture.retention.deleteEnded('spent refresh tokens', endedBefore, limit);
      const sessions = await fixture.retention.deleteEnded('ended sessions', endedBefore, limit);
      return { spent, sessions };
    }

    it('deletes tokens spent before the cutoff and keeps later ones and the live one', async () => {
      const { session: live, firstToken } = await session();
      const second = await rotate(firstToken, T0 + HOUR);
      await rotate(second, T0 + 3 * HOUR);

      expect(await purgeAll(T0 + 2 * HOUR)).to.deep.equal({ spent: 1, sessions: 0 });

      // The purged token is gone: replaying it is unknown, no longer reuse, and the session lives on.
      expect(
        (
          await fixture.sessions.rotate({
            tokenHash: firstToken,
            successorHash: hash(),
            now: T0 + 4 * HOUR,
            graceMs: 0,
          })
        ).kind,
      ).to.equal('unknown');
      // The one spent after the cutoff still detects reuse.
      expect(
        (await fixture.sessions.rotate({ tokenHash: second, successorHash: hash(), now: T0 + 4 * HOUR, graceMs: 0 }))
          .kind,
      ).to.equal('reused');
      expect((await fixture.sessions.findById(live.id))!.id).to.equal(live.id);
    });

    it('deletes sessions that expired or were revoked before the cutoff, with their tokens, and keeps the rest', async () => {
      const { session: expired, firstToken: expiredToken } = await session({ expiresAt: T0 + DAY });
      const { session: revokedEarly } = await session();
      await fixture.sessions.revoke(revokedEarly.id, T0 + DAY, 'logout');
      const { session: revokedLate } = await session();
      await fixture.sessions.revoke(revokedLate.id, T0 + 3 * DAY, 'logout');
      const { session: live, firstToken: liveToken } = await session();

      expect(await purgeAll(T0 + 2 * DAY)).to.deep.equal({ spent: 0, sessions: 2 });

      expect(await fixture.sessions.findById(expired.id)).to.equal(null);
      expect(await fixture.sessions.findById(revokedEarly.id)).to.equal(null);
      expect((await fixture.sessions.findById(revokedLate.id))!.revokedAt).to.equal(T0 + 3 * DAY);
      expect((await fixture.sessions.findById(live.id))!.revokedAt).to.equal(null);
      const now = T0 + 2 * DAY + HOUR;
      expect(
        (await fixture.sessions.rotate({ tokenHash: expiredToken, successorHash: hash(), now, graceMs: 0 })).kind,
      ).to.equal('unknown');
      expect(
        (await fixture.sessions.rotate({ tokenHash: liveToken, successorHash: hash(), now, graceMs: 0 })).kind,
      ).to.equal('rotated');
    });

    it('deletes at most `limit` rows a call, and fewer than the limit once none are left', async () => {
      for (let i = 0; i < 5; i += 1) await session({ expiresAt: T0 + HOUR });
      const counts = [];
      for (let i = 0; i < 3; i += 1) counts.push(await fixture.retention.deleteEnded('ended sessions', T0 + DAY, 2));
      expect(counts).to.deep.equal([2, 2, 1]);
      expect(await fixture.retention.deleteEnded('ended sessions', T0 + DAY, 2)).to.equal(0);
    });

    it('lets one instance purge at a time: another is told the lock is held, and may take it afterwards', async () => {
      const other = fixture.otherInstance();
      const inside = await fixture.retention.exclusively(async () => await other.exclusively(async () => 'other ran'));
      expect(inside).to.deep.equal({ held: true, value: { held: false } });
      expect(await other.exclusively(async () => 'after')).to.deep.equal({ held: true, value: 'after' });
    });

    it('releases the lock when the work throws', async () => {
      const failure = new Error('purge failed');
      let caught: unknown;
      await fixture.retention
        .exclusively(async () => Promise.reject(failure))
        .catch((error: unknown) => {
          caught = error;
        });
      expect(caught).to.equal(failure);
      expect(await fixture.otherInstance().exclusively(async () => 1)).to.deep.equal({ held: true, value: 1 });
    });
  });
}
