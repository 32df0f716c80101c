import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../../application/ports/logger.js';

/** The channel the triggers of migration 004 notify on. */
export const CHANGES_CHANNEL = 'jwt_login_changes';

/** What a subscriber hears. Between `down` and the next `up`, notifications may have been missed. */
export interface ChangeSubscriber {
  /** A notification's payload (`s:<session id>`, `u:<user id>`, ...), in commit order. */
  onChange(payload: string): void;
  /** The feed is listening (again): everything committed from now on will be heard. */
  onUp(): void;
  /** The listening connection is gone (or is not answering): changes may be missed until the next `onUp`. */
  onDown(): void;
}

export interface ChangeFeedOptions {
  /** A direct connection to PostgreSQL: LISTEN needs a session, which PgBouncer in transaction mode does not keep. */
  readonly connectionUri: string;
  readonly connectTimeoutMs: number;
  /**
   * How often the listening connection is checked with a query; one that is not answered within the same time counts
   * as down. This bounds how long a silently broken connection (a partition, a frozen server) can go unnoticed.
   */
  readonly heartbeatMs: number;
  /** First reconnect delay; it doubles after each failure up to `maxRetryMs`. */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
  readonly logger: Logger;
  readonly channel?: string;
}

/**
 * PostgreSQL `LISTEN` on one dedicated connection, kept up: reconnects with capped backoff, checks the connection with
 * a heartbeat, and tells its subscribers at once when it stops hearing (so that they stop trusting what they hold) and
 * when it hears again.
 */
export class PostgresChangeFeed {
  private readonly subscribers: ChangeSubscriber[] = [];
  private readonly channel: string;
  private readonly retryMs: number;
  private readonly maxRetryMs: number;
  private client: pg.Client | undefined;
  private up = false;
  private closed = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly heartbeat: NodeJS.Timeout;
  private heartbeatInFlight = false;
  private readonly waiters: (() => void)[] = [];
  /** The listening connection's `application_name`, unique to this feed, so that an operator can find it. */
  readonly applicationName = `jwt-login-listener ${randomBytes(4).toString('hex')}`;

  constructor(private readonly options: ChangeFeedOptions) {
    this.channel = options.channel ?? CHANGES_CHANNEL;
    this.retryMs = options.retryMs ?? 250;
    this.maxRetryMs = options.maxRetryMs ?? 5000;
    this.heartbeat = setInterval(() => this.checkConnection(), options.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Whether the feed is listening now. */
  get listening(): boolean {
    return this.up;
  }

  /** Subscribers hear in the order they subscribed. @returns a function that unsubscribes. */
  subscribe(subscriber: ChangeSubscriber): () => void {
    this.subscribers.push(subscriber);
    return () => {
      const index = this.subscribers.indexOf(subscriber);
      if (index >= 0) this.subscribers.splice(index, 1);
    };
  }

  /**
   * Tells the subscribers now of a change this process has just committed, which PostgreSQL will announce to every
   * listener (this one too) moments later: the instance that revokes refuses at once, without waiting for its notice.
   */
  announceLocally(payload: string): void {
    for (const subscriber of this.subscribers) subscriber.onChange(payload);
  }

  /** Starts connecting. @returns once listening, or once `waitMs` has passed (the feed keeps trying after). */
  async start(waitMs: number): Promise<boolean> {
    this.connect();
    if (this.up) return true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return this.up;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    this.setDown();
    await client?.end().catch(() => undefined);
  }

  private connect(): void {
    if (this.closed || this.client) return;
    const client = new pg.Client({
      connectionString: this.options.connectionUri,
      connectionTimeoutMillis: this.options.connectTimeoutMs,
      keepAlive: true,
      application_name: this.applicationName,
    });
    this.client = client;
    const lost = (reason: string) => this.lost(client, reason);
    client.on('error', (error) => lost(error.message));
    client.on('end', () => lost('connection ended'));
    client.on('notification', (message) => {
      if (client !== this.client || message.channel !== this.channel || message.payload === undefined) return;
      for (const subscriber of this.subscribers) subscriber.onChange(message.payload);
    });
    client
      .connect()
      .then(() => client.query(`LISTEN ${client.escapeIdentifier(this.channel)}`))
      .then(() => {
        if (client !== this.client) return;
        this.failures = 0;
        this.up = true;
        this.options.logger.info('listening for changes', { event: 'change_feed_up', channel: this.channel });
        for (const subscriber of this.subscribers) subscriber.onUp();
        for (const wake of this.waiters.splice(0)) wake();
      })
      .catch((error: unknown) => lost(error instanceof Error ? error.message : String(error)));
  }

  /** The connection `client` is unusable: tell the subscribers (once), drop it, and try again after a backoff. */
  private lost(client: pg.Client, reason: string): void {
    if (client !== this.client) return;
    this.client = undefined;
    const wasUp = this.up;
    this.setDown();
    if (wasUp) this.options.logger.warn('change feed lost', { event: 'change_feed_down', reason });
    client.removeAllListeners('notification');
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    if (this.closed) return;
    const delay = Math.min(this.retryMs * 2 ** Math.min(this.failures, 20), this.maxRetryMs);
    this.failures += 1;
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.retryTimer.unref();
  }

  private setDown(): void {
    if (!this.up) return;
    this.up = false;
    for (const subscriber of this.subscribers) subscriber.onDown();
  }

  /** A query on the listening connection, answered within the heartbeat interval, or the connection counts as lost. */
  private checkConnection(): void {
    const client = this.client;
    if (!client || !this.up || this.heartbeatInFlight) return;
    this.heartbeatInFlight = true;
    client
      .query({ text: 'SELECT 1', query_timeout: this.options.heartbeatMs } as pg.QueryConfig)
      .catch((error: unknown) => this.lost(client, `heartbeat: ${error instanceof Error ? error.message : 'failed'}`))
      .finally(() => {
        this.heartbeatInFlight = false;
      });
  }
}
