import { expect } from 'chai';
import sinon from 'sinon';
import type { PurgeEndedRecords, PurgeResult } from '../../../src/application/use-cases/purge-ended-records.js';
import { PurgeSchedule } from '../../../src/interfaces/jobs/purge-schedule.js';
import { MemoryLogger } from '../../fakes/memory-logger.js';

const INTERVAL = 600_000;
const DONE: PurgeResult = {
  ran: true,
  deleted: {
    'spent refresh tokens': 0,
    'ended sessions': 0,
    'ended account tokens': 0,
    'finished mails': 0,
    'expired blacklist entries': 0,
  },
  complete: true,
};

function scheduleWith(execute: (signal?: AbortSignal) => Promise<PurgeResult>, random = 0.5) {
  const purge = { execute: sinon.spy(execute) };
  const logger = new MemoryLogger();
  const schedule = new PurgeSchedule(purge as unknown as PurgeEndedRecords, logger, INTERVAL, () => random);
  return { purge, logger, schedule };
}

describe('PurgeSchedule', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers();
  });
  afterEach(() => {
    clock.restore();
  });

  it('runs first within a minute of the start (spread by a random share), then every interval', async () => {
    const { purge, schedule } = scheduleWith(async () => DONE, 0.5);
    schedule.start();
    await clock.tickAsync(29_999);
    expect(purge.execute.callCount).to.equal(0);
    await clock.tickAsync(1);
    expect(purge.execute.callCount).to.equal(1);
    await clock.tickAsync(INTERVAL);
    expect(purge.execute.callCount).to.equal(2);
    await clock.tickAsync(INTERVAL);
    expect(purge.execute.callCount).to.equal(3);
    await schedule.stop();
  });

  it('logs a failed run and tries again at the next interval', async () => {
    let calls = 0;
    const { purge, logger, schedule } = scheduleWith(async () => {
      calls += 1;
      if (calls === 1) throw new Error('Connection terminated');
      return DONE;
    }, 0);
    schedule.start();
    await clock.tickAsync(0);
    expect(logger.events('purge_failed').map((line) => line.fields.err)).to.deep.equal(['Connection terminated']);
    await clock.tickAsync(INTERVAL);
    expect(purge.execute.callCount).to.equal(2);
    await schedule.stop();
  });

  it('stop() aborts a run in progress, waits for it, and runs no more', async () => {
    let release!: () => void;
    let seen: AbortSignal | undefined;
    const { purge, schedule } = scheduleWith(async (signal) => {
      seen = signal;
      await new Promise<void>((resolve) => (release = resolve));
      return DONE;
    }, 0);
    schedule.start();
    await clock.tickAsync(0);
    let stopped = false;
    const stopping = schedule.stop().then(() => (stopped = true));
    await clock.tickAsync(0);
    expect(seen!.aborted).to.equal(true);
    expect(stopped).to.equal(false);
    release();
    await stopping;
    await clock.tickAsync(10 * INTERVAL);
    expect(purge.execute.callCount).to.equal(1);
  });
});
