import { expect } from 'chai';
import { sql } from 'slonik';
import { FixedClock } from '../fakes/fixed-clock.js';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { type TestApp, startTestApp } from '../support/test-app.js';
import { bearer, expectError, expectNo5xx, accountTokens, registerAccount } from './helpers.js';

const BLACKLISTED = 'Token has a blacklisted jti';
const INVALID_REFRESH = 'The refresh token is not valid, or has been used or revoked';

describe('HTTP: two app instances on one database', () => {
  let database: TestDatabase;
  let a: TestApp;
  let b: TestApp;

  const getProtected = (app: TestApp, token: string) => app.request('/api/protected', { headers: bearer(token) });

  before(async () => {
    database = await createTestDatabase();
    const clock = new FixedClock(Date.now());
    a = await startTestApp({ database, clock });
    b = await startTestApp({ database, clock });
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  it('a token issued by A works on B, and logout on A refuses it on B at once', async () => {
    const user = await registerAccount(a, 'cross');
    expect((await getProtected(b, user.access)).status).to.equal(200);
    const rotated = await accountTokens(await b.post('/api/refresh', { refresh_token: user.refresh }), 200);

    const response = await a.request('/api/logout', { method: 'POST', headers: bearer(rotated.access) });
    expect(response.status).to.equal(204);

    await expectError(await getProtected(b, rotated.access), 403, 'BlacklistedError', BLACKLISTED);
    await expectError(await getProtected(b, user.access), 403, 'BlacklistedError', BLACKLISTED);
    await expectError(
      await b.post('/api/refresh', { refresh_token: rotated.refresh }),
      401,
      'InvalidRefreshToken',
      INVALID_REFRESH,
    );
  });

  it("deactivating a user through A's admin API refuses the user's tokens on B at once", async () => {
    const root = await registerAccount(a, 'root');
    await database.pool.query(sql.unsafe`UPDATE users SET roles = 'user,admin' WHERE id = ${root.id}`);
    const admin = await accountTokens(
      await a.post('/api/login', { username: root.username, password: root.password }),
      200,
    );
    const user = await registerAccount(b, 'cross');
    expect((await getProtected(b, user.access)).status).to.equal(200);

    const response = await a.request(`/api/users/${user.id}`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json', ...bearer(admin.access) },
      body: JSON.stringify({ is_active: false }),
    });
    expect(response.status).to.equal(200);

    const refused = await getProtected(b, user.access);
    const body = (await refused.json()) as { error: string };
    expect(refused.status, JSON.stringify(body)).to.equal(403);
    expect(body.error).to.be.oneOf(['BlacklistedError', 'InvalidUserError']);
    await expectError(
      await b.post('/api/refresh', { refresh_token: user.refresh }),
      401,
      'InvalidRefreshToken',
      INVALID_REFRESH,
    );
  });

  it('removing the admin role on A refuses the old admin token on B at once', async () => {
    const root = await registerAccount(a, 'root');
    const other = await registerAccount(a, 'other');
    await database.pool.query(sql.unsafe`UPDATE users SET roles = 'user,admin' WHERE id IN (${root.id}, ${other.id})`);
    const rootAdmin = await accountTokens(
      await a.post('/api/login', { username: root.username, password: root.password }),
      200,
    );
    const otherAdmin = await accountTokens(
      await b.post('/api/login', { username: other.username, password: other.password }),
      200,
    );
    expect((await b.request('/api/users', { headers: bearer(otherAdmin.access) })).status).to.equal(200);

    const response = await a.request(`/api/users/${other.id}`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json', ...bearer(rootAdmin.access) },
      body: JSON.stringify({ roles: ['user'] }),
    });
    expect(response.status).to.equal(200);
    await expectError(
      await b.request('/api/users', { headers: bearer(otherAdmin.access) }),
      403,
      'MissingRoleError',
      "This endpoint requires all the following roles: ['admin']",
    );
  });

  describe('after every request above', () => {
    it('neither instance answered with a 5xx', () => {
      expectNo5xx(a);
      expectNo5xx(b);
    });
  });
});
