import { expect } from 'chai';
import { sql } from 'slonik';
import { z } from 'zod';
import { AccessState } from '../../src/application/ports/access-state.js';
import { resolve } from '../../src/composition-root.js';
import type { NotifiedAccessState } from '../../src/infrastructure/persistence/notified-access-state.js';
import { FixedClock } from '../fakes/fixed-clock.js';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { type TestApp, startTestApp } from '../support/test-app.js';
import { bearer, registerAccount } from '../http/helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` until it holds; fails naming `what` after 30 s (a bound against hanging, not a speed goal). */
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(2);
  }
}

const percentile = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

const accessCache = (app: TestApp) => resolve(app.service.container, AccessState) as NotifiedAccessState;
const guarded = (app: TestApp, token: string) => app.request('/api/protected', { headers: bearer(token) });
const status = async (app: TestApp, token: string) => {
  const response = await guarded(app, token);
  await response.arrayBuffer();
  return response.status;
};

describe('guarded requests from memory, kept current by LISTEN/NOTIFY (two instances, one database)', function () {
  this.timeout(120_000);

  let database: TestDatabase;
  /** Between instance A and PostgreSQL for A's listening connection only (DATABASE_DIRECT_URL). */
  let proxy: TcpProxy;
  let a: TestApp;
  let b: TestApp;

  before(async () => {
    database = await createTestDatabase();
    const direct = new URL(database.uri);
    proxy = new TcpProxy({ host: direct.hostname, port: Number(direct.port) });
    await proxy.start();
    const clock = new FixedClock(Date.now());
    a = await startTestApp({
      database,
      clock,
      env: { DATABASE_DIRECT_URL: proxy.uriFor(database.uri), LISTEN_HEARTBEAT: '1s' },
    });
    b = await startTestApp({ database, clock });
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await proxy?.stop();
    await database?.drop();
  });

  afterEach(async () => {
    if (proxy.mode !== 'forward' || !proxy.listening) {
      await proxy.stop();
      await proxy.start('forward');
    }
    await until(() => a.service.changeFeed!.listening, 'instance A listens again');
  });

  it('answers guarded requests from memory in the steady state: one read per user and session, then none', async () => {
    const user = await registerAccount(a, 'steady');
    const before = accessCache(a).stats();
    expect(before.listening).to.equal(true);
    for (let i = 0; i < 50; i += 1) expect(await status(a, user.access)).to.equal(200);
    const after = accessCache(a).stats();
    expect(after.misses - before.misses, 'lookups that read PostgreSQL').to.equal(1);
    expect(after.hits - before.hits, 'lookups answered from memory').to.equal(49);
  });

  it('refuses on A a session revoked on B, every time (200 trials); the delay is recorded', async () => {
    const user = await registerAccount(a, 'propagation');
    const delays: number[] = [];
    for (let trial = 0; trial < 200; trial += 1) {
      const session = await a.post('/api/login', { username: user.username, password: user.password });
      const { access_token: token } = (await session.json()) as { access_token: string };
      expect(await status(a, token), 'A holds the live session').to.equal(200);
      const logout = await b.request('/api/logout', { method: 'POST', headers: bearer(token) });
      expect(logout.status).to.equal(204);
      const revokedAt = performance.now();
      await until(async () => (await status(a, token)) === 403, `A refuses the session of trial ${trial}`);
      delays.push(performance.now() - revokedAt);
    }
    console.log(
      `      [access-cache] revoked on B, refused on A after: p50 ${percentile(delays, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(delays, 99).toFixed(1)} ms, max ${Math.max(...delays).toFixed(1)} ms (200 trials)`,
    );
    expect(delays).to.have.length(200);
  });

  it('stops trusting memory at once when its listener is terminated; a revocation made in the gap is refused', async () => {
    const user = await registerAccount(a, 'gap');
    const other = await registerAccount(a, 'gap_other');
    expect(await status(a, user.access)).to.equal(200);
    expect(await status(a, other.access)).to.equal(200);

    // Hold the gap open: A's listener cannot reconnect until the proxy takes connections again.
    await proxy.refuseNew();
    const feed = a.service.changeFeed!;
    const terminated = await database.pool.oneFirst(sql.type(z.object({ ended: z.boolean() }))`
      SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = ${feed.applicationName}`);
    expect(terminated, "A's listening connection was ended").to.equal(true);
    await until(() => !feed.listening, 'A notices its listener is gone');
    expect(accessCache(a).stats(), 'memory dropped at once').to.include({ listening: false, users: 0, sessions: 0 });

    const logout = await b.request('/api/logout', { method: 'POST', headers: bearer(user.access) });
    expect(logout.status).to.equal(204);
    expect(feed.listening, 'still in the gap').to.equal(false);
    expect(await status(a, user.access), 'the session revoked in the gap').to.equal(403);
    expect(await status(a, other.access), 'a live session still works, read from PostgreSQL').to.equal(200);

    await proxy.start();
    await until(() => feed.listening, 'A listens again');
    expect(await status(a, user.access), 'after A listens again').to.equal(403);
    expect(await status(a, other.access)).to.equal(200);
  });

  it('notices a listening connection that stops answering (frozen) by its heartbeat, then reads PostgreSQL', async () => {
    const user = await registerAccount(a, 'frozen');
    expect(await status(a, user.access)).to.equal(200);
    proxy.freeze();
    const feed = a.service.changeFeed!;
    await until(() => !feed.listening, 'the heartbeat finds the connection silent');
    const logout = await b.request('/api/logout', { method: 'POST', headers: bearer(user.access) });
    expect(logout.status).to.equal(204);
    expect(await status(a, user.access)).to.equal(403);
  });

  it('reflects a deactivation, a reactivation and a deletion made in plain SQL (triggers, not the service)', async () => {
    const user = await registerAccount(a, 'sql');
    expect(await status(a, user.access)).to.equal(200);
    await database.pool.query(sql.unsafe`UPDATE users SET is_active = false WHERE id = ${user.id}`);
    await until(async () => (await status(a, user.access)) === 403, 'A refuses the deactivated user');
    await database.pool.query(sql.unsafe`UPDATE users SET is_active = true WHERE id = ${user.id}`);
    await until(async () => (await status(a, user.access)) === 200, 'A serves the reactivated user');
    await database.pool.query(sql.unsafe`DELETE FROM users WHERE id = ${user.id}`);
    await until(async () => (await status(a, user.access)) === 403, 'A refuses the deleted user');
  });
});
