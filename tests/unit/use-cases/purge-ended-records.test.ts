import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { PurgeEndedRecords } from '../../../src/application/use-cases/purge-ended-records.js';
import { FixedClock } from '../../fakes/fixed-clock.js';
import { InMemoryRetentionStore } from '../../fakes/in-memory-retention-store.js';
import { InMemorySessionRepository } from '../../fakes/in-memory-session-repository.js';
import { MemoryLogger } from '../../fakes/memory-logger.js';

const DAY = 86_400_000;
const RETENTION = 7 * DAY;
const T0 = Date.UTC(2026, 0, 1);

/** Sessions that ended `ageDays` before the clock's now (revoked then), each with its one unspent token. */
async function endedSessions(sessions: InMemorySessionRepository, count: number, endedAt: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const id = randomUUID();
    await sessions.start({ id, userId: 1, createdAt: T0, expiresAt: T0 + 30 * DAY, revokedAt: null }, randomUUID());
    await sessions.revoke(id, endedAt, 'logout');
  }
}

function purgeOver(
  sessions: InMemorySessionRepository,
  options: { batchSize?: number; lock?: { held: boolean } } = {},
) {
  const clock = new FixedClock(T0 + 20 * DAY);
  const logger = new MemoryLogger();
  const pauses: number[] = [];
  const purge = new PurgeEndedRecords(
    new InMemoryRetentionStore(sessions, options.lock),
    clock,
    logger,
    { retentionMs: RETENTION, batchSize: options.batchSize ?? 2, minPauseMs: 50 },
    async (ms) => {
      pauses.push(ms);
    },
  );
  return { purge, clock, logger, pauses };
}

describe('use case: PurgeEndedRecords over the in-memory fakes', () => {
  it('deletes what ended more than the retention ago, in batches with a pause between them, and logs the counts', async () => {
    const sessions = new InMemorySessionRepository();
    await endedSessions(sessions, 5, T0 + 12 * DAY); // 8 days before now: older than the retention
    await endedSessions(sessions, 1, T0 + 14 * DAY); // 6 days: kept
    const { purge, logger, pauses } = purgeOver(sessions);

    const result = await purge.execute();

    expect(result).to.deep.equal({
      ran: true,
      deleted: {
        'spent refresh tokens': 0,
        'ended sessions': 5,
        'ended account tokens': 0,
        'finished mails': 0,
        'expired blacklist entries': 0,
      },
      complete: true,
    });
    // Batches of 2: 2, 2, then 1 (short: done). A pause after each full batch only.
    expect(pauses).to.have.length(2);
    for (const pause of pauses) expect(pause).to.be.at.least(50);
    expect(sessions.deleteEnded('ended sessions', T0 + 20 * DAY, 100)).to.equal(1);
    expect(logger.events('purge').map((line) => line.fields)).to.deep.equal([
      {
        event: 'purge',
        refresh_tokens: 0,
        sessions: 5,
        account_tokens: 0,
        mails: 0,
        ended_before: new Date(T0 + 13 * DAY).toISOString(),
        complete: true,
      },
    ]);
    expect(logger.events('purge')[0]!.level).to.equal('info');
  });

  it('purges spent refresh tokens before sessions', async () => {
    const sessions = new InMemorySessionRepository();
    const id = randomUUID();
    await sessions.start({ id, userId: 1, createdAt: T0, expiresAt: T0 + 30 * DAY, revokedAt: null }, 'first');
    for (const [token, next, day] of [
      ['first', 'second', 1],
      ['second', 'third', 2],
    ] as const) {
      await sessions.rotate({ tokenHash: token, successorHash: next, now: T0 + day * DAY, graceMs: 0 });
    }
    const { purge } = purgeOver(sessions, { batchSize: 10 });
    expect(await purge.execute()).to.deep.include({
      deleted: {
        'spent refresh tokens': 2,
        'ended sessions': 0,
        'ended account tokens': 0,
        'finished mails': 0,
        'expired blacklist entries': 0,
      },
    });
    expect(sessions.storedTokenHashes()).to.deep.equal(['third']);
  });

  it('stops between batches when aborted, and says the purge is not complete', async () => {
    const sessions = new InMemorySessionRepository();
    await endedSessions(sessions, 6, T0 + DAY);
    const abort = new AbortController();
    const clock = new FixedClock(T0 + 20 * DAY);
    const purge = new PurgeEndedRecords(
      new InMemoryRetentionStore(sessions),
      clock,
      new MemoryLogger(),
      { retentionMs: RETENTION, batchSize: 2, minPauseMs: 0 },
      async () => abort.abort(),
    );
    expect(await purge.execute(abort.signal)).to.deep.equal({
      ran: true,
      deleted: {
        'spent refresh tokens': 0,
        'ended sessions': 2,
        'ended account tokens': 0,
        'finished mails': 0,
        'expired blacklist entries': 0,
      },
      complete: false,
    });
  });

  it('does nothing while another instance holds the lock', async () => {
    const sessions = new InMemorySessionRepository();
    await endedSessions(sessions, 3, T0 + DAY);
    const { purge, logger } = purgeOver(sessions, { lock: { held: true } });
    expect(await purge.execute()).to.deep.equal({ ran: false });
    expect(sessions.deleteEnded('ended sessions', T0 + 20 * DAY, 100)).to.equal(3);
    expect(logger.events('purge_skipped')).to.have.length(1);
  });

  it('logs at debug when there was nothing to purge', async () => {
    const { purge, logger } = purgeOver(new InMemorySessionRepository());
    await purge.execute();
    expect(logger.events('purge').map((line) => line.level)).to.deep.equal(['debug']);
  });
});
