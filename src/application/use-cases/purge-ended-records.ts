import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { PURGEABLE, type Purgeable, type RetentionStore } from '../ports/retention-store.js';

export interface PurgeOptions {
  /** How long an ended record is kept (for audit, and to recognise a replayed refresh token as reuse). */
  readonly retentionMs: number;
  /** Rows deleted per statement: small enough that no lock is held for long. */
  readonly batchSize: number;
  /**
   * Rest between batches, at least this long and at least as long as the batch took, so purging never holds more than
   * half of a connection's time however far behind it is.
   */
  readonly minPauseMs: number;
}

export type PurgeResult =
  | { readonly ran: false }
  | { readonly ran: true; readonly deleted: Readonly<Record<Purgeable, number>>; readonly complete: boolean };

/**
 * Deletes spent refresh tokens and ended sessions older than the retention, in small batches, on one instance at a
 * time. A refresh token replayed after its row is gone is refused as unknown (401) rather than as reuse, so the
 * retention is also how long reuse detection lasts after a rotation.
 */
export class PurgeEndedRecords {
  constructor(
    private readonly store: RetentionStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: PurgeOptions,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  /** @param signal stops the purge between two batches (shutdown); `complete` then says false. */
  async execute(signal?: AbortSignal): Promise<PurgeResult> {
    const endedBefore = this.clock.now() - this.options.retentionMs;
    const outcome = await this.store.exclusively(async () => {
      const deleted = Object.fromEntries(PURGEABLE.map((kind) => [kind, 0])) as Record<Purgeable, number>;
      for (const kind of PURGEABLE) {
        for (;;) {
          if (signal?.aborted) return { deleted, complete: false };
          const started = performance.now();
          const count = await this.store.deleteEnded(kind, endedBefore, this.options.batchSize);
          deleted[kind] += count;
          if (count < this.options.batchSize) break;
          await this.sleep(Math.max(this.options.minPauseMs, performance.now() - started));
        }
      }
      return { deleted, complete: true };
    });
    if (!outcome.held) {
      this.logger.debug('purge skipped: another instance is purging', { event: 'purge_skipped' });
      return { ran: false };
    }
    const { deleted, complete } = outcome.value;
    const total = Object.values(deleted).reduce((sum, count) => sum + count, 0);
    const fields = {
      event: 'purge',
      refresh_tokens: deleted['spent refresh tokens'],
      sessions: deleted['ended sessions'],
      account_tokens: deleted['ended account tokens'],
      mails: deleted['finished mails'],
      ended_before: new Date(endedBefore).toISOString(),
      complete,
    };
    if (total > 0) this.logger.info('purged ended records', fields);
    else this.logger.debug('nothing to purge', fields);
    return { ran: true, deleted, complete };
  }
}
