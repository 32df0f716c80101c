import { expect } from 'chai';
import { sql } from 'slonik';
import { type TestApp, startTestApp } from '../support/test-app.js';
import {
  decodeJwt,
  expectError,
  expectNo5xx,
  expectTokens,
  fullwidth,
  nowSeconds,
  registerUser,
  strongPassword,
  uniqueName,
  userRowByName,
} from './helpers.js';

describe('HTTP: POST /api/registration', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });

  after(async () => {
    await app?.close();
  });

  const register = (body: unknown) => app.post('/api/registration', body);

  describe('success', () => {
    it('answers 201 with a Bearer access token that expires in 900 s by default', async () => {
      const response = await register({ username: uniqueName(), password: strongPassword() });
      const body = await expectTokens(response, 201);
      expect(body.expires_in).to.equal(900);
      expect(response.headers.get('pragma')).to.equal('no-cache');
    });

    it("issues an HS256 access token with praetorian's claims plus sub, iss and typ", async () => {
      const username = uniqueName();
      const issuedAt = nowSeconds(app);
      const body = await expectTokens(await register({ username, password: strongPassword() }), 201);
      const { header, payload } = decodeJwt(body.access_token);
      const row = await userRowByName(app, username);

      expect(header.alg).to.equal('HS256');
      expect(Object.keys(payload)).to.include.members([
        'exp',
        'iat',
        'id',
        'iss',
        'jti',
        'rf_exp',
        'rls',
        'sub',
        'typ',
      ]);
      expect(Object.keys(payload)).to.not.include.members(['password']);
      expect(JSON.stringify(payload)).to.not.contain('argon2');
      expect(payload.iat).to.equal(issuedAt);
      expect(payload.exp).to.equal(issuedAt + 900);
      expect(payload.rf_exp).to.equal(issuedAt + 30 * 86400);
      expect(payload.jti).to.be.a('string').with.length.greaterThan(0);
      expect(payload.id).to.equal(row.id);
      expect(payload.sub).to.equal(String(row.id));
      expect(payload.rls).to.equal('user');
      expect(payload.iss).to.equal('jwt-login');
      expect(payload.typ).to.equal('access');
    });

    it('gives every registration its own jti', async () => {
      const first = await registerUser(app);
      const second = await registerUser(app);
      expect(decodeJwt(first.token).payload.jti).to.not.equal(decodeJwt(second.token).payload.jti);
    });

    it('ignores roles, is_active and id in the body: the user gets roles "user" and is active', async () => {
      const username = uniqueName();
      const response = await register({
        username,
        password: strongPassword(),
        roles: 'admin,operator',
        is_active: false,
        id: 999_999,
        unknown_field: 'ignored',
      });
      const body = await expectTokens(response, 201);
      const row = await userRowByName(app, username);
      expect(row.roles).to.equal('user');
      expect(row.is_active).to.equal(true);
      expect(row.id).to.not.equal(999_999);
      expect(row.username).to.equal(username);
      expect(decodeJwt(body.access_token).payload.rls).to.equal('user');
    });

    it('stores an argon2id hash, never the password', async () => {
      const user = await registerUser(app);
      const row = await userRowByName(app, user.username);
      expect(row.password).to.match(/^\$argon2id\$/);
      expect(row.password).to.not.contain(user.password);
    });

    it('accepts a password of exactly 128 code points', async () => {
      const password = `Aa1!${'x7Qz'.repeat(31)}`;
      expect([...password]).to.have.length(128);
      await expectTokens(await register({ username: uniqueName(), password }), 201);
    });

    it('counts astral characters by code point: 8 emoji (16 UTF-16 units) are a valid password', async () => {
      const password = '🔑🦊🌋🛰️🎻🧩🪐🐙'.replace(/\uFE0F/g, '');
      expect([...password]).to.have.length(8);
      expect(password.length).to.equal(16);
      const username = uniqueName();
      await expectTokens(await register({ username, password }), 201);
      await expectTokens(await app.post('/api/login', { username, password }), 200);
    });

    it('lets a password registered in NFD log in when sent in NFC', async () => {
      const nfc = `Çafé-Ünïcödé-${uniqueName('pw')}`.normalize('NFC');
      const nfd = nfc.normalize('NFD');
      expect(nfd).to.not.equal(nfc);
      const username = uniqueName();
      await expectTokens(await register({ username, password: nfd }), 201);
      await expectTokens(await app.post('/api/login', { username, password: nfc }), 200);
    });

    it('stores the username as given (case and width kept)', async () => {
      const username = `MiXeD_${uniqueName()}`;
      await expectTokens(await register({ username, password: strongPassword() }), 201);
      expect((await userRowByName(app, username)).username).to.equal(username);
    });
  });

  describe('taken usernames → 409 UserExistsError', () => {
    it('refuses the same username', async () => {
      const user = await registerUser(app);
      await expectError(
        await register({ username: user.username, password: strongPassword() }),
        409,
        'UserExistsError',
        /taken/,
      );
    });

    it('refuses the same username in another case ("Alice" after "alice")', async () => {
      const username = `alice_${uniqueName()}`;
      await registerUser(app, { username });
      const other = `A${username.slice(1)}`;
      await expectError(
        await register({ username: other, password: strongPassword() }),
        409,
        'UserExistsError',
        /taken/,
      );
    });

    it('refuses an NFKC-equivalent username (fullwidth "ａｌｉｃｅ" after "alice")', async () => {
      const username = `alice${Date.now()}`;
      await registerUser(app, { username });
      const wide = fullwidth(username);
      expect(wide).to.not.equal(username);
      expect(wide.normalize('NFKC')).to.equal(username);
      await expectError(
        await register({ username: wide, password: strongPassword() }),
        409,
        'UserExistsError',
        /taken/,
      );
    });
  });

  describe('invalid input → 400 ValidationError naming the rule', () => {
    const cases: Array<[string, () => Record<string, unknown>, RegExp]> = [
      ['a missing username', () => ({ password: strongPassword() }), /username/],
      ['a non-string username', () => ({ username: 12345, password: strongPassword() }), /username.*string/],
      ['an empty username', () => ({ username: '', password: strongPassword() }), /username.*1 to 64/],
      ['a 65-character username', () => ({ username: 'u'.repeat(65), password: strongPassword() }), /username.*64/],
      [
        'a control character in the username',
        () => ({ username: `bad\u0007${uniqueName()}`, password: strongPassword() }),
        /username.*printable/,
      ],
      ['a missing password', () => ({ username: uniqueName() }), /password/],
      ['a non-string password', () => ({ username: uniqueName(), password: 1234567890 }), /password.*string/],
      ['a password of 7 code points', () => ({ username: uniqueName(), password: 'Xq7#pLm' }), /password.*at least 8/],
      [
        'a password of 4 emoji (8 UTF-16 units, 4 code points)',
        () => ({ username: uniqueName(), password: '🔑🦊🌋🐙' }),
        /password.*at least 8/,
      ],
      [
        'a password of 129 code points',
        () => ({ username: uniqueName(), password: `Aa1!${'x7Qz'.repeat(31)}y` }),
        /password.*at most 128/,
      ],
      [
        'a common password ("password123")',
        () => ({ username: uniqueName(), password: 'password123' }),
        /password.*common/,
      ],
      [
        'a common password ("qwertyuiop")',
        () => ({ username: uniqueName(), password: 'qwertyuiop' }),
        /password.*common/,
      ],
    ];

    for (const [name, body, message] of cases) {
      it(`refuses ${name}`, async () => {
        const sent = body();
        await expectError(await register(sent), 400, 'ValidationError', message);
        if (typeof sent.username === 'string' && sent.username !== '') {
          const rows = await app.database.pool.query(sql.unsafe`SELECT 1 FROM users WHERE username = ${sent.username}`);
          expect(rows.rowCount, 'no user was stored').to.equal(0);
        }
      });
    }

    it('keeps 64 characters as the longest accepted username', async () => {
      const username = `${uniqueName()}${'z'.repeat(64)}`.slice(0, 64);
      await expectTokens(await register({ username, password: strongPassword() }), 201);
    });
  });

  describe('after every request above', () => {
    it('answered none with a 5xx', () => {
      expectNo5xx(app);
    });
  });
});
