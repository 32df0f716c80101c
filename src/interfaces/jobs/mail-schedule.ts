import type { Logger } from '../../application/ports/logger.js';
import type { DeliverMail } from '../../application/use-cases/deliver-mail.js';

/**
 * Delivers the outbox every `intervalMs` while the service runs, at once again while a round finds a full batch. A
 * failed round (the database down) is logged and tried again at the next interval; the timer never keeps the process
 * alive. {@link MailSchedule.poke} runs a round soon, for a mail just queued by this instance.
 */
export class MailSchedule {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private started = false;
  private stopped = false;

  constructor(
    private readonly deliver: DeliverMail,
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly batchSize: number,
  ) {}

  start(): void {
    this.started = true;
    this.schedule(0);
  }

  /** Runs a round now, unless one is running (it will be followed by another at the interval) or none was started. */
  poke(): void {
    if (!this.started || this.stopped || this.running) return;
    clearTimeout(this.timer);
    this.schedule(0);
  }

  /** Cancels the next round and waits for one in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce().then((full) => {
        this.running = undefined;
        this.schedule(full ? 0 : this.intervalMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  /** @returns true when the round claimed a full batch (more may be due). */
  private async runOnce(): Promise<boolean> {
    try {
      const round = await this.deliver.round();
      return round.sent + round.retrying + round.failed >= this.batchSize;
    } catch (error) {
      this.logger.warn('mail delivery round failed; trying again at the next interval', {
        event: 'mail_round_failed',
        err: error instanceof Error ? error.message : String(error),
      });
      return false;
    }
  }
}
