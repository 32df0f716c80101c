import { expect } from 'chai';
import { PrometheusMetrics } from '../../../src/infrastructure/metrics/prometheus-metrics.js';
import { FakePasswordHasher } from '../../fakes/fake-password-hasher.js';
import { parseSamples, sampleValue } from '../../support/prometheus.js';

describe('PrometheusMetrics', () => {
  const figures = {
    hashing: { running: 0, queued: 0, refused: 0 },
    pool: { total: 0, idle: 0, waiting: 0 },
    cache: { listening: true, users: 0, sessions: 0, hits: 0, misses: 0 },
    listening: true,
    logstash: { shipped: 0, dropped: 0, queuedBytes: 0 },
    stdoutDropped: 0,
  };
  const metrics = new PrometheusMetrics();
  metrics.watch({
    hashing: () => figures.hashing,
    pools: { main: () => figures.pool },
    accessCache: () => figures.cache,
    listening: () => figures.listening,
    logging: () => ({ logstash: figures.logstash, stdoutDropped: figures.stdoutDropped }),
  });
  const read = async () => parseSamples(await metrics.registry.metrics());

  it('reads the admission queue, pools, revocation cache, listener and log shipping at each scrape', async () => {
    Object.assign(figures.hashing, { running: 2, queued: 5, refused: 7 });
    Object.assign(figures.pool, { total: 10, idle: 3, waiting: 4 });
    Object.assign(figures.cache, { users: 11, sessions: 12, hits: 13, misses: 14 });
    Object.assign(figures.logstash, { shipped: 100, dropped: 6, queuedBytes: 2048 });
    figures.stdoutDropped = 9;
    figures.listening = false;
    const samples = await read();
    const expected: [string, Record<string, string>, number][] = [
      ['jwt_login_hash_running', {}, 2],
      ['jwt_login_hash_queue_depth', {}, 5],
      ['jwt_login_hash_rejections_total', {}, 7],
      ['jwt_login_db_pool_total', { pool: 'main' }, 10],
      ['jwt_login_db_pool_idle', { pool: 'main' }, 3],
      ['jwt_login_db_pool_waiting', { pool: 'main' }, 4],
      ['jwt_login_access_cache_entries', { kind: 'user' }, 11],
      ['jwt_login_access_cache_entries', { kind: 'session' }, 12],
      ['jwt_login_access_cache_hits_total', {}, 13],
      ['jwt_login_access_cache_misses_total', {}, 14],
      ['jwt_login_revocation_listener_up', {}, 0],
      ['jwt_login_log_lines_shipped_total', {}, 100],
      ['jwt_login_log_lines_dropped_total', { sink: 'logstash' }, 6],
      ['jwt_login_log_lines_dropped_total', { sink: 'stdout' }, 9],
      ['jwt_login_log_queued_bytes', {}, 2048],
    ];
    expect(expected.map(([name, labels]) => [name, labels, sampleValue(samples, name, labels)])).to.deep.equal(
      expected,
    );

    Object.assign(figures.hashing, { queued: 0, refused: 8 });
    figures.listening = true;
    const later = await read();
    expect(sampleValue(later, 'jwt_login_hash_queue_depth')).to.equal(0);
    expect(sampleValue(later, 'jwt_login_hash_rejections_total')).to.equal(8);
    expect(sampleValue(later, 'jwt_login_revocation_listener_up')).to.equal(1);
  });

  it('counts auth events, and times the hashes and verifications of the hasher it wraps', async () => {
    metrics.record('mail_sent');
    metrics.record('revocation', 3);
    const hasher = metrics.timed(new FakePasswordHasher());
    const hash = await hasher.hash('correct horse battery staple');
    expect(await hasher.verify(hash, 'correct horse battery staple')).to.equal(true);
    const samples = await read();
    expect(sampleValue(samples, 'jwt_login_auth_events_total', { event: 'mail_sent' })).to.equal(1);
    expect(sampleValue(samples, 'jwt_login_auth_events_total', { event: 'mail_failed' })).to.equal(0);
    expect(sampleValue(samples, 'jwt_login_auth_events_total', { event: 'revocation' })).to.equal(3);
    expect(sampleValue(samples, 'jwt_login_password_hash_duration_seconds_count', { operation: 'hash' })).to.equal(1);
    expect(sampleValue(samples, 'jwt_login_password_hash_duration_seconds_count', { operation: 'verify' })).to.equal(1);
  });
});
