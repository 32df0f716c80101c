import type { Logger } from '../../application/ports/logger.js';
import type { PurgeEndedRecords } from '../../application/use-cases/purge-ended-records.js';

/** The first purge waits up to this long after the start, so instances started together do not all try at once. */
const FIRST_RUN_SPREAD_MS = 60_000;

/**
 * Runs the purge every `intervalMs` while the service runs. A failed run (the database down) is logged and tried
 * again at the next interval; the timer never keeps the process alive.
 */
export class PurgeSchedule {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly purge: PurgeEndedRecords,
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  start(): void {
    this.schedule(Math.floor(this.random() * Math.min(this.intervalMs, FIRST_RUN_SPREAD_MS)));
  }

  /** Cancels the next run and stops one in progress after its current batch. */
  async stop(): Promise<void> {
    this.abort.abort();
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.abort.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce().finally(() => {
        this.running = undefined;
        this.schedule(this.intervalMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async runOnce(): Promise<void> {
    try {
      await this.purge.execute(this.abort.signal);
    } catch (error) {
      this.logger.warn('purge failed; trying again at the next interval', {
        event: 'purge_failed',
        err: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
