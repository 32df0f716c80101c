import { expect } from 'chai';
import { sql } from 'slonik';
import { z } from 'zod';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { type TestApp, startTestApp } from '../support/test-app.js';
import {
  LIMITS,
  decodeJwt,
  expectError,
  expectNo5xx,
  expectTokens,
  expectTooMany,
  freshIp,
  from,
  fullwidth,
  nowSeconds,
  registerPair,
  registerUser,
  strongPassword,
  uniqueName,
  userRowByName,
} from './helpers.js';

const ACCESS_SECONDS = 900;
const REFRESH_SECONDS = 30 * 86400;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Concurrent registrations of one username. */
const CONCURRENT = 50;

/** Flips the case of each letter at random: "bob_1a" -> "bOB_1A". */
function randomCase(text: string): string {
  return [...text].map((char) => (Math.random() < 0.5 ? char.toUpperCase() : char.toLowerCase())).join('');
}

describe('HTTP: POST /api/registration', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });

  after(async () => {
    await app?.close();
  });

  const register = (body: unknown) => app.post('/api/registration', body);

  describe('lone surrogates (issue 9, point 4)', () => {
    const SURROGATE =
      'must be well-formed Unicode: it holds a lone surrogate (U+D800 to U+DFFF), which is no character';

    it('refuses a password holding a lone surrogate with 400 naming the rule, in JSON and text/plain bodies', async () => {
      for (const lone of ['\ud800', '\udc00', '\udbff']) {
        const body = { username: uniqueName('lone'), password: `Tr0ub4dor&3-${lone}-x` };
        await expectError(await register(body), 400, 'ValidationError', `password ${SURROGATE}`);
        await expectError(
          await app.post('/api/registration', JSON.stringify(body), { 'Content-Type': 'text/plain' }),
          400,
          'ValidationError',
          `password ${SURROGATE}`,
        );
      }
    });

    it('refuses a username holding a lone surrogate with 400 naming the rule', async () => {
      await expectError(
        await register({ username: `alice\ud800`, password: strongPassword() }),
        400,
        'ValidationError',
        `username ${SURROGATE}`,
      );
    });

    it('so \\ud800, \\udc00 and U+FFFD can never be one password: only U+FFFD itself registers', async () => {
      const username = uniqueName('fffd');
      const password = `Tr0ub4dor&3-\ufffd-x`;
      expect((await register({ username, password })).status).to.equal(201);
      for (const lone of ['\ud800', '\udc00', '\udbff']) {
        const response = await app.post('/api/login', { username, password: password.replace('\ufffd', lone) });
        await expectError(response, 400, 'ValidationError', `password ${SURROGATE}`);
      }
      expect((await app.post('/api/login', { username, password })).status).to.equal(200);
    });
  });

  describe('identifiers, not look-alikes (issue 9, points 2 and 3)', () => {
    const invisible: [string, RegExp][] = [
      ['\u3164', /U\+3164: an invisible/],
      ['\u2800', /U\+2800: a symbol/],
      ['\u034f', /U\+034F: an invisible/],
      ['\ufe0f', /U\+FE0F: an invisible/],
      ['\u{e0100}', /U\+E0100: an invisible/],
      ['\u115f', /U\+115F: an old Hangul jamo or Hangul filler/],
      ['\u180b', /U\+180B: an invisible/],
      ['\u17b4', /U\+17B4: an invisible/],
      ['\u202e', /U\+202E: a bidirectional control/],
      ['\u0378', /U\+0378: an unassigned code point/],
    ];
    for (const [suffix, rule] of invisible) {
      const code = suffix.codePointAt(0)!.toString(16).toUpperCase();
      it(`refuses an existing name plus U+${code} with 400 naming the rule`, async () => {
        const { username } = await registerUser(app);
        const copy = `${username}${suffix}`;
        await expectError(await register({ username: copy, password: strongPassword() }), 400, 'ValidationError', rule);
        const rows = await app.database.pool.query(sql.unsafe`SELECT 1 FROM users WHERE username = ${copy}`);
        expect(rows.rowCount, 'no second account').to.equal(0);
      });
    }

    it("takes a name whose confusable skeleton is an existing user's (Cyrillic і, с and Greek ο): 409", async () => {
      const username = `nicolo_${Date.now()}${Math.floor(Math.random() * 1e6)}`;
      await registerUser(app, { username });
      const lookalikes = [
        username.replace('i', '\u0456'),
        username.replace('c', '\u0441'),
        username.replace('o', '\u03bf'),
        username.replace('i', '\u0456').replace('o', '\u03bf'),
      ];
      for (const lookalike of lookalikes) {
        expect(lookalike).to.not.equal(username);
        await expectError(
          await register({ username: lookalike, password: strongPassword() }),
          409,
          'UserExistsError',
          /taken/,
        );
      }
    });

    it('folds case in the application: Émile/émile and Δelta/δelta are one account each', async () => {
      const suffix = Math.floor(Math.random() * 1e9).toString();
      for (const [first, second] of [
        [`Émile${suffix}`, `émile${suffix}`],
        [`Δelta${suffix}`, `δelta${suffix}`],
      ]) {
        await registerUser(app, { username: first });
        await expectError(
          await register({ username: second, password: strongPassword() }),
          409,
          'UserExistsError',
          /taken/,
        );
      }
    });
  });

  describe('success', () => {
    it('answers 201 with a Bearer access token that expires in 900 s by default', async () => {
      const response = await register({ username: uniqueName(), password: strongPassword() });
      const body = await expectTokens(response, 201);
      expect(body.expires_in).to.equal(900);
      expect(response.headers.get('pragma')).to.equal('no-cache');
    });

    it('answers 201 with an opaque 256-bit refresh token and an access token carrying sid', async () => {
      const now = nowSeconds(app);
      const pair = await registerPair(app);
      expect(pair.expiresIn).to.equal(ACCESS_SECONDS);
      expect(pair.claims.sid).to.be.a('string').and.match(UUID);
      expect(pair.claims.iat).to.equal(now);
      expect(pair.claims.exp).to.equal(now + ACCESS_SECONDS);
      expect(pair.claims.rf_exp).to.equal(now + REFRESH_SECONDS);
      expect(Buffer.from(pair.refresh, 'base64url').length).to.be.at.least(32);
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
        /^username must not contain U\+0007: a control character$/,
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

    it('names the field of a username or password that is not a string (missing, null, number, boolean, list, object)', async () => {
      const password = strongPassword();
      const username = uniqueName();
      for (const value of [undefined, null, 42, true, ['alice'], { username: 'alice' }]) {
        await expectError(
          await register({ username: value, password }),
          400,
          'ValidationError',
          'username must be a string',
        );
      }
      for (const value of [undefined, null, 12345678, ['password1'], { password: 'x'.repeat(10) }]) {
        await expectError(
          await register({ username, password: value }),
          400,
          'ValidationError',
          'password must be a string',
        );
      }
      const rows = await app.database.pool.query(sql.unsafe`SELECT 1 FROM users WHERE username = ${username}`);
      expect(rows.rowCount, 'no user was stored').to.equal(0);
    });

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

describe('HTTP: registration limit per client address (REGISTRATION_RATE_LIMIT=2, issue 4, item 1)', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp({ env: { ...LIMITS, TRUST_PROXY: 'true' } });
  });

  after(async () => {
    await app?.close();
  });

  it('refuses the 3rd registration from one address with 429 (REGISTRATION_RATE_LIMIT=2); another address still registers', async () => {
    const ip = freshIp();
    const register = (target = ip) =>
      app.post('/api/registration', { username: uniqueName('reg'), password: strongPassword() }, from(target));
    await expectTokens(await register(), 201);
    await expectTokens(await register(), 201);
    await expectTooMany(await register(), 3600);
    await expectTokens(await register(freshIp()), 201);
  });

  describe('after every request above', () => {
    it('answered none with a 5xx', () => {
      expectNo5xx(app);
    });
  });
});

describe('HTTP: registration limit shared by two instances on one database', () => {
  let database: TestDatabase;
  let first: TestApp;
  let second: TestApp;

  before(async () => {
    database = await createTestDatabase();
    const env = { ...LIMITS, TRUST_PROXY: 'true' };
    first = await startTestApp({ env, database });
    second = await startTestApp({ env, database });
  });

  after(async () => {
    await first?.close();
    await second?.close();
    await database?.drop();
  });

  it('the registration limit is shared: 1 registration on each instance, the 3rd on either → 429', async () => {
    const ip = freshIp();
    const register = (target: TestApp) =>
      target.post('/api/registration', { username: uniqueName('reg2'), password: strongPassword() }, from(ip));
    await expectTokens(await register(first), 201);
    await expectTokens(await register(second), 201);
    await expectTooMany(await register(first), 3600);
  });
});

describe('HTTP: concurrent registrations of one username (issue 4, item 7)', function () {
  this.timeout(30_000);
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });

  after(async () => {
    await app?.close();
  });

  /** Rows whose username compares equal to `name` (NFKC, case-folded), as the unique index sees them. */
  const rowsLike = (name: string) =>
    app.database.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
      SELECT count(*)::int AS count FROM users WHERE lower(normalize(username, NFKC)) = lower(normalize(${name}, NFKC))`);

  async function race(usernames: readonly string[]) {
    const passwords = usernames.map(() => strongPassword());
    const responses = await Promise.all(
      usernames.map((username, i) => app.post('/api/registration', { username, password: passwords[i] })),
    );
    const statuses = responses.map((response) => response.status);
    const created = responses.flatMap((response, i) => (response.status === 201 ? [{ response, i }] : []));
    const refused = responses.filter((response) => response.status === 409);
    for (const response of refused) await expectError(response, 409, 'UserExistsError');
    return { statuses, created, refused, passwords };
  }

  const tally = (statuses: number[]) =>
    statuses.reduce<Record<number, number>>(
      (counts, status) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }),
      {},
    );

  it(`lets exactly one of ${CONCURRENT} concurrent registrations of one username win: one 201, ${CONCURRENT - 1} × 409, one row`, async () => {
    const username = uniqueName('race');
    const { statuses, created, passwords } = await race(Array.from({ length: CONCURRENT }, () => username));
    console.log(`      ${CONCURRENT} concurrent registrations of "${username}": ${JSON.stringify(tally(statuses))}`);
    expect(tally(statuses)).to.deep.equal({ 201: 1, 409: CONCURRENT - 1 });
    expect(await rowsLike(username)).to.equal(1);

    // The winner's password is the stored one: the winner logs in, and a loser's password does not.
    const winner = created[0]!;
    await expectTokens(winner.response, 201);
    await expectTokens(await app.post('/api/login', { username, password: passwords[winner.i] }), 200);
    const loser = passwords.find((_, i) => i !== winner.i)!;
    await expectError(await app.post('/api/login', { username, password: loser }), 401, 'AuthenticationError');
  });

  it(`lets exactly one of ${CONCURRENT} concurrent case and NFKC variants ("Bob", "BOB", "bob", fullwidth...) win`, async () => {
    const base = `bob${uniqueName('').replace('_', '')}`;
    const variants = Array.from({ length: CONCURRENT }, (_, i) => {
      if (i === 0) return base;
      if (i === 1) return base.toUpperCase();
      if (i % 5 === 0) return fullwidth(randomCase(base));
      return randomCase(base);
    });
    const { statuses, created } = await race(variants);
    console.log(`      ${CONCURRENT} concurrent case/NFKC variants of "${base}": ${JSON.stringify(tally(statuses))}`);
    expect(tally(statuses)).to.deep.equal({ 201: 1, 409: CONCURRENT - 1 });
    expect(await rowsLike(base)).to.equal(1);
    // Stored as given by the winner.
    const stored = await app.database.pool.oneFirst(sql.type(z.object({ username: z.string() }))`
      SELECT username FROM users WHERE lower(normalize(username, NFKC)) = lower(normalize(${base}, NFKC))`);
    expect(stored).to.equal(variants[created[0]!.i]);
  });

  it('keeps serving and answered none of the races with a 5xx', async () => {
    expect((await app.request('/api/ready')).status).to.equal(200);
    expectNo5xx(app);
  });
});
