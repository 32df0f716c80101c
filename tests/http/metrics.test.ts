import { expect } from 'chai';
import { AUTH_EVENTS } from '../../src/application/ports/auth-events.js';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { type TestApp, startTestApp } from '../support/test-app.js';
import { type Sample, sampleValue, scrape } from '../support/prometheus.js';
import { bearer, registerAccount } from './helpers.js';

describe('HTTP: Prometheus metrics on METRICS_PORT, apart from the API', () => {
  let app: TestApp;
  let metricsUrl: string;

  before(async () => {
    app = await startTestApp({ env: { METRICS_PORT: '0' } });
    metricsUrl = app.service.metricsUrl!;
  });

  after(async () => {
    await app?.close();
  });

  const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
    sampleValue(samples, name, labels) ?? 0;

  it('serves /metrics on its own listener on 127.0.0.1, not on the API port', async () => {
    expect(metricsUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(new URL(metricsUrl).port).to.not.equal(new URL(app.baseUrl).port);
    expect((await app.request('/metrics')).status).to.equal(404);
    expect((await app.request('/api/metrics')).status).to.equal(404);
    const response = await fetch(metricsUrl);
    expect(response.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
    expect((await fetch(metricsUrl.replace('/metrics', '/other'))).status).to.equal(404);
  });

  it('listens on 127.0.0.1:9464 by default, and not at all with METRICS_PORT=off', () => {
    expect(loadConfig({}).metrics).to.deep.equal({ host: '127.0.0.1', port: 9464 });
    expect(loadConfig({ METRICS_PORT: 'off' }).metrics).to.equal(undefined);
    expect(() => loadConfig({ METRICS_PORT: '70000' })).to.throw(/METRICS_PORT must be a port number/);
  });

  it('lists every auth event from the start, mail and password-reset counters included, and Node process metrics', async () => {
    const samples = await scrape(metricsUrl);
    for (const event of AUTH_EVENTS) {
      expect(sampleValue(samples, 'jwt_login_auth_events_total', { event }), event).to.be.a('number');
    }
    expect(value(samples, 'process_cpu_user_seconds_total')).to.be.greaterThan(0);
    expect(value(samples, 'nodejs_heap_size_used_bytes')).to.be.greaterThan(0);
    expect(value(samples, 'jwt_login_revocation_listener_up')).to.equal(1);
    expect(sampleValue(samples, 'jwt_login_db_pool_total', { pool: 'main' })).to.be.a('number');
    expect(sampleValue(samples, 'jwt_login_db_pool_waiting', { pool: 'rate_limit' })).to.equal(0);
    expect(sampleValue(samples, 'jwt_login_hash_queue_depth')).to.equal(0);
    expect(sampleValue(samples, 'jwt_login_hash_rejections_total')).to.equal(0);
  });

  it('moves with traffic: request durations by route template, auth events, hash timings, cache hits and misses', async () => {
    const before = await scrape(metricsUrl);
    const account = await registerAccount(app, 'metered');
    const login = (password: string) => app.post('/api/login', { username: account.username, password });
    expect((await login(account.password)).status).to.equal(200);
    expect((await login(`${account.password}-wrong`)).status).to.equal(401);
    for (let i = 0; i < 3; i += 1)
      expect((await app.request('/api/protected', { headers: bearer(account.access) })).status).to.equal(200);
    const patched = await app.request(`/api/users/${account.id}`, { method: 'PATCH', headers: bearer(account.access) });
    expect(patched.status).to.equal(403);
    const after = await scrape(metricsUrl);

    const moved = (name: string, labels: Record<string, string> = {}) =>
      value(after, name, labels) - value(before, name, labels);
    const count = 'jwt_login_http_request_duration_seconds_count';
    expect(moved(count, { route: '/api/login', method: 'POST', status: '200' })).to.equal(1);
    expect(moved(count, { route: '/api/login', method: 'POST', status: '401' })).to.equal(1);
    expect(moved(count, { route: '/api/protected', method: 'GET', status: '200' })).to.equal(3);
    expect(
      moved(count, { route: '/api/users/:id', method: 'PATCH', status: '403' }),
      'the template, not the path',
    ).to.equal(1);
    expect(after.some((sample) => sample.labels.route === `/api/users/${account.id}`)).to.equal(false);
    expect(
      moved('jwt_login_http_request_duration_seconds_sum', { route: '/api/login', method: 'POST', status: '200' }),
    ).to.be.greaterThan(0);
    expect(value(after, 'jwt_login_http_requests_in_flight')).to.equal(0);
    expect(value(after, 'jwt_login_db_pool_total', { pool: 'main' })).to.be.greaterThan(0);
    expect(value(after, 'jwt_login_db_pool_total', { pool: 'rate_limit' })).to.be.greaterThan(0);

    expect(moved('jwt_login_auth_events_total', { event: 'registration' })).to.equal(1);
    expect(moved('jwt_login_auth_events_total', { event: 'login_success' })).to.equal(1);
    expect(moved('jwt_login_auth_events_total', { event: 'login_failure' })).to.equal(1);
    expect(moved('jwt_login_password_hash_duration_seconds_count', { operation: 'hash' })).to.equal(1);
    expect(moved('jwt_login_password_hash_duration_seconds_count', { operation: 'verify' })).to.equal(2);
    expect(moved('jwt_login_access_cache_hits_total') + moved('jwt_login_access_cache_misses_total')).to.equal(4);
    expect(moved('jwt_login_access_cache_hits_total')).to.be.at.least(2);
    expect(moved('jwt_login_access_cache_entries', { kind: 'session' })).to.be.at.least(1);
  });

  it('counts a refresh rotation, a reuse and the revocation it causes, and a logout', async () => {
    const before = await scrape(metricsUrl);
    const account = await registerAccount(app, 'rotated');
    const rotate = (token: string) => app.post('/api/refresh', { refresh_token: token });
    expect((await rotate(account.refresh)).status).to.equal(200);
    app.clock.advanceSeconds(60);
    expect((await rotate(account.refresh)).status).to.equal(401);
    const other = await registerAccount(app, 'leaving');
    expect((await app.request('/api/logout', { method: 'POST', headers: bearer(other.access) })).status).to.equal(204);
    const after = await scrape(metricsUrl);
    const moved = (event: string) =>
      value(after, 'jwt_login_auth_events_total', { event }) - value(before, 'jwt_login_auth_events_total', { event });
    expect([moved('refresh_rotated'), moved('refresh_reused'), moved('revocation')]).to.deep.equal([1, 1, 2]);
  });
});
