import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { AUTH_EVENTS, type AuthEvent, type AuthEvents } from '../../application/ports/auth-events.js';
import type { PasswordHasher } from '../../application/ports/password-hasher.js';

/** Every metric name starts with this (Node's process metrics keep their standard names). */
export const METRICS_PREFIX = 'jwt_login_';

/** The pool figures the metrics read: a slonik pool's `state()`, a pg pool's counts. */
export interface PoolFigures {
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
}

/** What the metrics read when scraped, so that none of it costs anything between scrapes. */
export interface MetricSources {
  readonly hashing?: () => { readonly running: number; readonly queued: number; readonly refused: number };
  readonly pools?: Readonly<Record<string, () => PoolFigures>>;
  readonly accessCache?: () =>
    | {
        readonly listening: boolean;
        readonly users: number;
        readonly sessions: number;
        readonly hits: number;
        readonly misses: number;
      }
    | undefined;
  /** Whether the change feed listens (also without a cache). */
  readonly listening?: () => boolean;
  readonly logging?: () => {
    readonly logstash?: { readonly shipped: number; readonly dropped: number; readonly queuedBytes: number };
    readonly stdoutDropped: number;
  };
}

/** Request duration buckets, in seconds: a guarded request takes well under a millisecond, a login tens of them. */
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** argon2 takes tens to hundreds of milliseconds at production cost. */
const HASH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5];

/**
 * The service's Prometheus metrics (prom-client), in a registry of its own: HTTP requests, auth events, password
 * hashing and its admission queue, database pools, the revocation cache and its listener, log shipping, and Node's
 * process metrics. Gauges and totals kept elsewhere are read when scraped.
 */
export class PrometheusMetrics implements AuthEvents {
  readonly registry = new Registry();
  private readonly authEvents: Counter<'event'>;
  private readonly requestDuration: Histogram<'route' | 'method' | 'status'>;
  private readonly inFlight: Gauge;
  private readonly hashDuration: Histogram<'operation'>;
  private readonly requestSeriesByKey = new Map<string, { observe(value: number): void }>();

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.authEvents = new Counter({
      name: `${METRICS_PREFIX}auth_events_total`,
      help: 'Auth events: login_success, login_failure, login_lockout, registration, refresh_rotated, refresh_reused, revocation (sessions ended), password_reset, mail_sent, mail_failed',
      labelNames: ['event'],
      registers,
    });
    for (const event of AUTH_EVENTS) this.authEvents.inc({ event }, 0);
    this.requestDuration = new Histogram({
      name: `${METRICS_PREFIX}http_request_duration_seconds`,
      help: 'HTTP requests by route template, method and status, from the first middleware to the answer',
      labelNames: ['route', 'method', 'status'],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.inFlight = new Gauge({
      name: `${METRICS_PREFIX}http_requests_in_flight`,
      help: 'HTTP requests being served',
      registers,
    });
    this.hashDuration = new Histogram({
      name: `${METRICS_PREFIX}password_hash_duration_seconds`,
      help: 'argon2 hashes (hash) and verifications (verify), once admitted',
      labelNames: ['operation'],
      buckets: HASH_BUCKETS,
      registers,
    });
  }

  record(event: AuthEvent, count = 1): void {
    this.authEvents.inc({ event }, count);
  }

  /** A request began; call the returned function once it is answered. */
  requestStarted(): (route: string, method: string, status: number) => void {
    this.inFlight.inc();
    const started = process.hrtime.bigint();
    return (route, method, status) => {
      this.inFlight.dec();
      this.requestSeries(route, method, status).observe(Number(process.hrtime.bigint() - started) / 1e9);
    };
  }

  /**
   * The histogram's series for one route, method and status, kept: prom-client would otherwise hash the labels on every
   * observation. Bounded by the routes (templates, not paths), methods and statuses there are.
   */
  private requestSeries(route: string, method: string, status: number): { observe(value: number): void } {
    const key = `${route} ${method} ${status}`;
    let series = this.requestSeriesByKey.get(key);
    if (series === undefined) {
      series = this.requestDuration.labels({ route, method, status: String(status) });
      this.requestSeriesByKey.set(key, series);
    }
    return series;
  }

  /** `hasher` with each hash and verification timed. */
  timed(hasher: PasswordHasher): PasswordHasher {
    const histogram = this.hashDuration;
    const time = async <T>(operation: string, work: () => Promise<T>): Promise<T> => {
      const end = histogram.startTimer({ operation });
      try {
        return await work();
      } finally {
        end();
      }
    };
    return {
      hash: (password) => time('hash', () => hasher.hash(password)),
      verify: (hash, password, asTyped) => time('verify', () => hasher.verify(hash, password, asTyped)),
      needsRehash: (hash) => hasher.needsRehash(hash),
      recognizes: (hash) => hasher.recognizes(hash),
      dummyHash: () => hasher.dummyHash(),
      ensureCapacity: () => hasher.ensureCapacity(),
    };
  }

  /** Adds the metrics read from `sources` at each scrape. */
  watch(sources: MetricSources): void {
    const registers = [this.registry];
    const name = (suffix: string) => `${METRICS_PREFIX}${suffix}`;
    const { hashing, pools, accessCache, listening, logging } = sources;
    if (hashing) {
      new Gauge({
        name: name('hash_queue_depth'),
        help: 'Logins and registrations waiting for a password-hashing slot',
        registers,
        collect() {
          this.set(hashing().queued);
        },
      });
      new Gauge({
        name: name('hash_running'),
        help: 'Password hashes running',
        registers,
        collect() {
          this.set(hashing().running);
        },
      });
      totalFrom(
        name('hash_rejections_total'),
        'Requests refused by the hashing admission queue (503)',
        registers,
        () => hashing().refused,
      );
    }
    if (pools) {
      const figure = (key: keyof PoolFigures, help: string) =>
        new Gauge({
          name: name(`db_pool_${key}`),
          help,
          labelNames: ['pool'],
          registers,
          collect() {
            for (const [pool, read] of Object.entries(pools)) this.set({ pool }, read()[key]);
          },
        });
      figure('total', 'Database connections open (pool: main, rate_limit)');
      figure('idle', 'Database connections open and idle');
      figure('waiting', 'Queries waiting for a database connection');
    }
    if (accessCache) {
      new Gauge({
        name: name('access_cache_entries'),
        help: 'Users and sessions held in memory for guarded requests',
        labelNames: ['kind'],
        registers,
        collect() {
          const stats = accessCache();
          this.set({ kind: 'user' }, stats?.users ?? 0);
          this.set({ kind: 'session' }, stats?.sessions ?? 0);
        },
      });
      totalFrom(
        name('access_cache_hits_total'),
        'Guarded requests answered from memory',
        registers,
        () => accessCache()?.hits ?? 0,
      );
      totalFrom(
        name('access_cache_misses_total'),
        'Guarded requests that read the database',
        registers,
        () => accessCache()?.misses ?? 0,
      );
    }
    if (listening) {
      new Gauge({
        name: name('revocation_listener_up'),
        help: 'Whether the LISTEN connection for revocations is up (1) or not (0); across workers, the lowest',
        registers,
        aggregator: 'min',
        collect() {
          this.set(listening() ? 1 : 0);
        },
      });
    }
    if (logging) {
      totalFrom(
        name('log_lines_shipped_total'),
        'Log lines handed to Logstash',
        registers,
        () => logging().logstash?.shipped ?? 0,
      );
      const dropped = new Counter({
        name: name('log_lines_dropped_total'),
        help: 'Log lines lost (sink: logstash, stdout)',
        labelNames: ['sink'],
        registers,
        collect() {
          const figures = logging();
          dropped.reset();
          dropped.inc({ sink: 'logstash' }, figures.logstash?.dropped ?? 0);
          dropped.inc({ sink: 'stdout' }, figures.stdoutDropped);
        },
      });
      new Gauge({
        name: name('log_queued_bytes'),
        help: 'Log bytes waiting for Logstash',
        registers,
        collect() {
          this.set(logging().logstash?.queuedBytes ?? 0);
        },
      });
    }
  }
}

/** A counter whose value is a running total kept elsewhere, read at each scrape. */
function totalFrom(name: string, help: string, registers: Registry[], read: () => number): void {
  const counter: Counter = new Counter({
    name,
    help,
    registers,
    collect() {
      counter.reset();
      counter.inc(read());
    },
  });
}
