import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { sql } from 'slonik';
import { z } from 'zod';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { type TestApp, startTestApp } from '../support/test-app.js';
import { bearer, strongPassword, uniqueName } from '../http/helpers.js';

/**
 * A PostgreSQL that answers but cannot serve (refuses writes, refuses connections, ends them) is a 503 with Retry-After
 * that the client may retry, never a 500 (issue 9, point 6). Each case is made on a real server.
 */
describe('a database that cannot serve gets 503 with Retry-After, never a 500', function () {
  this.timeout(60_000);

  const statusOf = async (response: Response) => {
    await response.arrayBuffer();
    return response.status;
  };

  /** Status counts of `answers`, and the app's log has no "unhandled error". */
  function expectOnly(app: TestApp, statuses: number[], allowed: number[]): void {
    const unexpected = statuses.filter((status) => !allowed.includes(status));
    expect(unexpected, `statuses ${JSON.stringify(statuses)}`).to.deep.equal([]);
    expect(
      app.logger.lines.filter((line) => line.message === 'unhandled error').map((line) => line.fields),
    ).to.deep.equal([]);
  }

  async function expectUnavailable(response: Response, what: string): Promise<void> {
    const text = await response.text();
    expect(response.status, `${what}: ${text}`).to.equal(503);
    expect(response.headers.get('retry-after'), what).to.match(/^[1-9]\d*$/);
    expect((JSON.parse(text) as { error: string }).error).to.equal('ServiceUnavailable');
  }

  describe('read-only (default_transaction_read_only, as a standby after a failover)', () => {
    let database: TestDatabase;
    let app: TestApp;

    before(async () => {
      database = await createTestDatabase();
      app = await startTestApp({ database });
    });

    after(async () => {
      await app?.close();
      await database.pool.query(sql.unsafe`ALTER DATABASE ${sql.identifier([databaseName(database)])}
        SET default_transaction_read_only = off`);
      await database?.drop();
    });

    it('answers login, registration and refresh 503, and still serves reads', async () => {
      const user = { username: uniqueName('ro'), password: strongPassword() };
      const registered = (await (await app.post('/api/registration', user)).json()) as {
        access_token: string;
        refresh_token: string;
      };
      await database.pool.query(sql.unsafe`ALTER DATABASE ${sql.identifier([databaseName(database)])}
        SET default_transaction_read_only = on`);
      // Sessions opened from now on are read-only: end the app's, so that it opens new ones.
      await database.pool.query(sql.unsafe`
        SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()`);

      await expectUnavailable(await app.post('/api/login', user), 'login');
      await expectUnavailable(
        await app.post('/api/registration', { username: uniqueName('ro'), password: strongPassword() }),
        'registration',
      );
      await expectUnavailable(await app.post('/api/refresh', { refresh_token: registered.refresh_token }), 'refresh');
      const guarded = await app.request('/api/protected', { headers: bearer(registered.access_token) });
      expect(await statusOf(guarded), 'a guarded request only reads').to.equal(200);
      expectOnly(app, [], []);
    });
  });

  describe('a role with a connection limit (too_many_connections, 53300)', () => {
    let database: TestDatabase;
    let app: TestApp;
    const role = `jwt_login_limited_${randomBytes(4).toString('hex')}`;

    before(async () => {
      database = await createTestDatabase();
      const name = databaseName(database);
      await database.pool.query(sql.unsafe`CREATE ROLE ${sql.identifier([role])} LOGIN PASSWORD 'limited-password'
        CONNECTION LIMIT 4`);
      await database.pool.query(
        sql.unsafe`GRANT ALL ON DATABASE ${sql.identifier([name])} TO ${sql.identifier([role])}`,
      );
      await database.pool.query(sql.unsafe`GRANT ALL ON ALL TABLES IN SCHEMA public TO ${sql.identifier([role])}`);
      await database.pool.query(sql.unsafe`GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO ${sql.identifier([role])}`);
      await database.pool.query(sql.unsafe`GRANT ALL ON SCHEMA public TO ${sql.identifier([role])}`);
      const url = new URL(database.uri);
      url.username = role;
      url.password = 'limited-password';
      app = await startTestApp({
        database,
        env: { DATABASE_URL: url.toString(), DATABASE_POOL_SIZE: '10', HASH_QUEUE_DEPTH: '1000' },
      });
    });

    after(async () => {
      await app?.close();
      await database.pool.query(sql.unsafe`DROP OWNED BY ${sql.identifier([role])}`);
      await database.pool.query(sql.unsafe`DROP ROLE ${sql.identifier([role])}`);
      await database?.drop();
    });

    it('answers a burst that needs more connections than the role may open with 200, 401 or 503, never 500', async () => {
      const user = { username: uniqueName('limit'), password: strongPassword() };
      const registration = await app.post('/api/registration', user);
      expect([201, 503]).to.include(await statusOf(registration));
      const statuses = await Promise.all(
        Array.from({ length: 40 }, async (_, i) =>
          statusOf(await app.post('/api/login', { ...user, password: i % 2 === 0 ? user.password : 'wrong-one' })),
        ),
      );
      expectOnly(app, statuses, [200, 401, 503]);
      expect(statuses.filter((status) => status === 503).length, 'some hit the connection limit').to.be.greaterThan(0);
      const refused = app.logger.lines.filter((line) => line.message === 'database unavailable');
      expect(JSON.stringify(refused.map((line) => line.fields))).to.match(/too many connections/);
    });
  });

  describe('connections ended by an administrator mid-traffic (admin_shutdown, 57P01)', () => {
    let app: TestApp;

    before(async () => {
      app = await startTestApp({ env: { HASH_QUEUE_DEPTH: '1000' } });
    });

    after(async () => {
      await app?.close();
    });

    it('answers what was cut 503 and the rest as usual, never 500', async () => {
      const user = { username: uniqueName('cut'), password: strongPassword() };
      expect(await statusOf(await app.post('/api/registration', user))).to.equal(201);
      const traffic = Promise.all(Array.from({ length: 60 }, async () => statusOf(await app.post('/api/login', user))));
      for (let i = 0; i < 5; i += 1) {
        await app.database.pool.query(sql.unsafe`
          SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid()`);
      }
      expectOnly(app, await traffic, [200, 503]);
      expect(await statusOf(await app.post('/api/login', user)), 'and it recovers by itself').to.equal(200);
    });
  });
});

function databaseName(database: TestDatabase): string {
  return z.string().parse(new URL(database.uri).pathname.slice(1));
}
