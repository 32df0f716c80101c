import { expect } from 'chai';
import { z } from 'zod';
import { sql } from 'slonik';
import { type TestApp, startTestApp } from '../support/test-app.js';
import { bearer, expectError, expectNo5xx, type Account, accountTokens, registerAccount } from './helpers.js';

const MISSING_ADMIN = "This endpoint requires all the following roles: ['admin']";
const MISSING_TOKEN = "JWT token not found in headers under 'Authorization'";
const INVALID_REFRESH = 'The refresh token is not valid, or has been used or revoked';
/** A revoked session (BlacklistedError) or an inactive user (InvalidUserError): both are 403 at once. */
const REFUSED_403 = ['BlacklistedError', 'InvalidUserError'];

async function login(app: TestApp, account: { username: string; password: string }) {
  return accountTokens(await app.post('/api/login', { username: account.username, password: account.password }), 200);
}

/** A user made admin by SQL, then logged in again (rls is read at login). */
async function admin(app: TestApp): Promise<Account & { registrationAccess: string }> {
  const account = await registerAccount(app, 'admin');
  await app.database.pool.query(sql.unsafe`UPDATE users SET roles = 'user,admin' WHERE username = ${account.username}`);
  return { ...account, registrationAccess: account.access, ...(await login(app, account)) };
}

const storedUser = z.object({
  id: z.number(),
  username: z.string(),
  roles: z.string().nullable(),
  is_active: z.boolean().nullable(),
});
const listedUser = storedUser.extend({ email: z.string().nullable(), email_verified: z.boolean() });
const storedPassword = z.object({ password: z.string() });

describe('HTTP: roles and the admin API', () => {
  let app: TestApp;
  let root: Account & { registrationAccess: string };
  let plain: Account;

  const listUsers = (query: string, token: string) => app.request(`/api/users${query}`, { headers: bearer(token) });
  const patchUser = (id: number | string, body: unknown, token: string) =>
    app.request(`/api/users/${id}`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json', ...bearer(token) },
      body: JSON.stringify(body),
    });
  const getProtected = (token: string) => app.request('/api/protected', { headers: bearer(token) });
  const expectRefused = async (response: Response) => {
    const body = (await response.json()) as { error: string };
    expect(response.status, JSON.stringify(body)).to.equal(403);
    expect(body.error).to.be.oneOf(REFUSED_403);
  };
  const stored = async (id: number) =>
    app.database.pool.one(sql.type(storedUser)`SELECT id, username, roles, is_active FROM users WHERE id = ${id}`);
  /** Every user as the API should list them, straight from SQL. */
  const allUsers = async () =>
    (
      await app.database.pool.any(sql.type(listedUser)`
        SELECT id, username, roles, is_active, email, email_verified_at IS NOT NULL AS email_verified FROM users ORDER BY id`)
    ).map((row) => ({
      id: row.id,
      username: row.username,
      email: row.email,
      email_verified: row.email_verified,
      roles: (row.roles ?? '').split(',').filter(Boolean),
      is_active: row.is_active !== false,
    }));

  before(async () => {
    app = await startTestApp();
    root = await admin(app);
    plain = await registerAccount(app);
  });

  after(async () => {
    await app?.close();
  });

  describe('GET /api/users', () => {
    it('answers 401 MissingToken without a token', async () => {
      await expectError(await app.request('/api/users'), 401, 'MissingToken', MISSING_TOKEN);
    });

    it("answers 403 MissingRoleError with praetorian's message to a non-admin", async () => {
      await expectError(await listUsers('', plain.access), 403, 'MissingRoleError', MISSING_ADMIN);
    });

    it('reads roles from the token: a token issued before the admin role was granted is still refused', async () => {
      await expectError(await listUsers('', root.registrationAccess), 403, 'MissingRoleError', MISSING_ADMIN);
    });

    it('answers 200 with every user, page 1, per_page 20 and the total; no password or hash anywhere', async () => {
      const response = await listUsers('', root.access);
      const text = await response.text();
      expect(response.status, text).to.equal(200);
      const expected = await allUsers();
      expect(expected.length).to.be.at.least(2);
      expect(JSON.parse(text)).to.deep.equal({
        users: expected.slice(0, 20),
        page: 1,
        per_page: 20,
        total: expected.length,
      });
      expect(text.toLowerCase()).to.not.include('password');
      expect(text.toLowerCase()).to.not.include('hash');
      expect(text).to.not.include('$argon2');
      const hashes = await app.database.pool.anyFirst(sql.type(storedPassword)`SELECT password FROM users`);
      for (const hash of hashes) expect(text).to.not.include(hash);
      for (const user of (JSON.parse(text) as { users: Record<string, unknown>[] }).users) {
        expect(Object.keys(user).sort()).to.deep.equal([
          'email',
          'email_verified',
          'id',
          'is_active',
          'roles',
          'username',
        ]);
      }
    });

    it('paginates: ?page=2&per_page=1 is the second user; a page past the end is empty', async () => {
      const expected = await allUsers();
      const response = await listUsers('?page=2&per_page=1', root.access);
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({
        users: [expected[1]],
        page: 2,
        per_page: 1,
        total: expected.length,
      });
      const past = await listUsers(`?page=${expected.length + 1}&per_page=1`, root.access);
      expect(await past.json()).to.deep.equal({
        users: [],
        page: expected.length + 1,
        per_page: 1,
        total: expected.length,
      });
    });

    const badQueries: [string, string][] = [
      ['?page=0', 'page must be a whole number from 1'],
      ['?page=-1', 'page must be a whole number from 1'],
      ['?page=abc', 'page must be a whole number from 1'],
      ['?page=1.5', 'page must be a whole number from 1'],
      ['?per_page=0', 'per_page must be a whole number from 1 to 100'],
      ['?per_page=101', 'per_page must be a whole number from 1 to 100'],
      ['?per_page=1000', 'per_page must be a whole number from 1 to 100'],
      ['?per_page=abc', 'per_page must be a whole number from 1 to 100'],
    ];
    for (const [query, message] of badQueries) {
      it(`answers 400 ValidationError to ${query}`, async () => {
        await expectError(await listUsers(query, root.access), 400, 'ValidationError', message);
      });
    }
  });

  describe('PATCH /api/users/:id', () => {
    it('sets roles: 200 with the user, stored comma-joined; sessions stay valid', async () => {
      const target = await registerAccount(app);
      const response = await patchUser(target.id, { roles: ['user', 'editor'] }, root.access);
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({
        id: target.id,
        username: target.username,
        email: null,
        email_verified: false,
        roles: ['user', 'editor'],
        is_active: true,
      });
      expect(await stored(target.id)).to.deep.equal({
        id: target.id,
        username: target.username,
        roles: 'user,editor',
        is_active: true,
      });
      expect((await getProtected(target.access)).status).to.equal(200);
    });

    it('answers 403 MissingRoleError to a non-admin and changes nothing', async () => {
      await expectError(
        await patchUser(plain.id, { roles: ['admin'] }, plain.access),
        403,
        'MissingRoleError',
        MISSING_ADMIN,
      );
      expect((await stored(plain.id)).roles).to.equal('user');
    });

    it('deactivation revokes every session of the user at once; reactivation does not bring them back', async () => {
      const target = await registerAccount(app);
      const second = await login(app, target);
      const rotated = await accountTokens(await app.post('/api/refresh', { refresh_token: second.refresh }), 200);
      for (const token of [target.access, second.access, rotated.access])
        expect((await getProtected(token)).status).to.equal(200);

      const response = await patchUser(target.id, { is_active: false }, root.access);
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({
        id: target.id,
        username: target.username,
        email: null,
        email_verified: false,
        roles: ['user'],
        is_active: false,
      });
      expect((await stored(target.id)).is_active).to.equal(false);
      const revocation = app.logger.events('revocation').at(-1)!;
      expect([revocation.fields.reason, revocation.fields.target_user_id, revocation.fields.sessions]).to.deep.equal([
        'user_deactivated',
        target.id,
        2,
      ]);

      for (const token of [target.access, second.access, rotated.access])
        await expectRefused(await getProtected(token));
      for (const refresh of [target.refresh, rotated.refresh]) {
        await expectError(
          await app.post('/api/refresh', { refresh_token: refresh }),
          401,
          'InvalidRefreshToken',
          INVALID_REFRESH,
        );
      }
      await expectError(
        await app.post('/api/login', { username: target.username, password: target.password }),
        403,
        'InvalidUserError',
      );

      const back = await patchUser(target.id, { is_active: true }, root.access);
      expect(await back.json()).to.deep.equal({
        id: target.id,
        username: target.username,
        email: null,
        email_verified: false,
        roles: ['user'],
        is_active: true,
      });
      for (const token of [target.access, second.access, rotated.access])
        await expectRefused(await getProtected(token));
      for (const refresh of [target.refresh, rotated.refresh]) {
        await expectError(
          await app.post('/api/refresh', { refresh_token: refresh }),
          401,
          'InvalidRefreshToken',
          INVALID_REFRESH,
        );
      }
      const fresh = await login(app, target);
      expect((await getProtected(fresh.access)).status).to.equal(200);
    });

    const badBodies: [string, unknown][] = [
      ['roles: "admin"', { roles: 'admin' }],
      ['roles: [1]', { roles: [1] }],
      ['roles: ["a,b"]', { roles: ['a,b'] }],
      ['roles: null', { roles: null }],
      ['is_active: "no"', { is_active: 'no' }],
      ['is_active: 0', { is_active: 0 }],
      ['valid roles with is_active: "no" (no partial write)', { roles: ['editor'], is_active: 'no' }],
      ['an empty object', {}],
      ['a JSON array', [{ roles: ['admin'] }]],
    ];
    for (const [name, body] of badBodies) {
      it(`answers 400 ValidationError to ${name} and changes nothing`, async () => {
        await expectError(await patchUser(plain.id, body, root.access), 400, 'ValidationError');
        expect(await stored(plain.id)).to.deep.equal({
          id: plain.id,
          username: plain.username,
          roles: 'user',
          is_active: true,
        });
      });
    }

    const namedFields: [string, unknown, string][] = [
      ['roles: "admin"', { roles: 'admin' }, 'roles must be a list of role names'],
      ['roles: [1]', { roles: [1] }, 'roles must be a list of role names'],
      ['roles: ["a,b"]', { roles: ['a,b'] }, 'each role must be 1 to 32 letters, digits or _ . : -'],
      ['is_active: "no"', { is_active: 'no' }, 'is_active must be true or false'],
      ['an empty object', {}, 'give roles and/or is_active'],
    ];
    for (const [name, body, message] of namedFields) {
      it(`names the broken rule in the 400 to ${name}`, async () => {
        await expectError(await patchUser(plain.id, body, root.access), 400, 'ValidationError', message);
      });
    }

    it('answers 404 NotFound to an unknown id', async () => {
      await expectError(
        await patchUser(987654, { is_active: false }, root.access),
        404,
        'NotFound',
        'No user has this id',
      );
    });

    for (const id of ['abc', '1.5', '-3']) {
      it(`answers 400 ValidationError to the non-numeric id ${id}`, async () => {
        await expectError(
          await patchUser(id, { is_active: false }, root.access),
          400,
          'ValidationError',
          'the user id must be a positive whole number',
        );
      });
    }

    it('an admin whose admin role another admin removes is refused at once with the old token', async () => {
      const other = await admin(app);
      expect((await listUsers('', other.access)).status).to.equal(200);
      const response = await patchUser(other.id, { roles: ['user'] }, root.access);
      expect(await response.json()).to.deep.equal({
        id: other.id,
        username: other.username,
        email: null,
        email_verified: false,
        roles: ['user'],
        is_active: true,
      });
      await expectError(await listUsers('', other.access), 403, 'MissingRoleError', MISSING_ADMIN);
      await expectError(
        await patchUser(plain.id, { is_active: false }, other.access),
        403,
        'MissingRoleError',
        MISSING_ADMIN,
      );
      expect((await stored(plain.id)).is_active).to.equal(true);
      // still a valid user token, just no longer an admin one
      expect((await getProtected(other.access)).status).to.equal(200);
    });
  });

  describe('after every request above', () => {
    it('answered none with a 5xx', () => {
      expectNo5xx(app);
    });
  });
});
