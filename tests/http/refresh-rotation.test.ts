import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { z } from 'zod';
import { sql } from 'slonik';
import { type TestApp, startTestApp } from '../support/test-app.js';
import {
  LIMITS,
  bearer,
  decodeJwt,
  expectError,
  expectNo5xx,
  expectPair,
  expectTokens,
  expectTooMany,
  freshIp,
  from,
  nowSeconds,
  registerFromFreshIp,
  registerPair,
} from './helpers.js';

const ACCESS_SECONDS = 900;
const BLACKLISTED = 'Token has a blacklisted jti';
const INVALID_REFRESH = 'The refresh token is not valid, or has been used or revoked';
const EXPIRED_REFRESH = 'refresh permission for token has expired';
const CONCURRENT = 20;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const refresh = (app: TestApp, token: unknown) => app.post('/api/refresh', { refresh_token: token });
const protectedStatus = (app: TestApp, token: string) => app.request('/api/protected', { headers: bearer(token) });

describe('HTTP: POST /api/refresh with {"refresh_token"} (rotation, reuse detection, storage)', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });

  after(async () => {
    await app?.close();
  });

  describe('rotation with {"refresh_token"}', () => {
    it('answers 200 with a new pair: another refresh token, a new jti, the same sid, fresh times', async () => {
      const login = await registerPair(app);
      app.clock.advanceSeconds(60);
      const now = nowSeconds(app);
      const rotated = await expectPair(await refresh(app, login.refresh), 200);
      expect(rotated.refresh).to.not.equal(login.refresh);
      expect(rotated.claims.jti).to.not.equal(login.claims.jti);
      expect(rotated.claims.sid).to.equal(login.claims.sid);
      expect(rotated.claims.id).to.equal(login.claims.id);
      expect(rotated.claims.iat).to.equal(now);
      expect(rotated.claims.exp).to.equal(now + ACCESS_SECONDS);
      expect(rotated.claims.rf_exp).to.equal(login.claims.rf_exp);
      expect(rotated.expiresIn).to.equal(ACCESS_SECONDS);
      expect((await protectedStatus(app, rotated.access)).status).to.equal(200);
    });

    it('answers a replay of the spent token within the grace window (+5 s) with the same successor', async () => {
      const login = await registerPair(app);
      const first = await expectPair(await refresh(app, login.refresh), 200);
      app.clock.advanceSeconds(5);
      const replay = await expectPair(await refresh(app, login.refresh), 200);
      expect(replay.refresh).to.equal(first.refresh);
      expect(replay.claims.sid).to.equal(login.claims.sid);
      expect((await protectedStatus(app, replay.access)).status).to.equal(200);
      expect((await protectedStatus(app, first.access)).status).to.equal(200);
    });

    it('revokes the whole family when the spent token comes back 11 s after it was spent', async () => {
      const login = await registerPair(app);
      const reusedBefore = app.logger.events('refresh_token_reused').length;
      const first = await expectPair(await refresh(app, login.refresh), 200);
      app.clock.advanceSeconds(5);
      const inGrace = await expectPair(await refresh(app, login.refresh), 200);
      app.clock.advanceSeconds(6);

      await expectError(await refresh(app, login.refresh), 401, 'InvalidRefreshToken', INVALID_REFRESH);
      // the latest refresh token of the family
      await expectError(await refresh(app, first.refresh), 401, 'InvalidRefreshToken', INVALID_REFRESH);
      // every access token of the family, all of them still unexpired
      for (const access of [login.access, first.access, inGrace.access]) {
        expect(decodeJwt(access).payload.exp).to.be.greaterThan(nowSeconds(app));
        await expectError(await protectedStatus(app, access), 403, 'BlacklistedError', BLACKLISTED);
      }
      const events = app.logger.events('refresh_token_reused').slice(reusedBefore);
      expect(events.map((line) => [line.level, line.fields.user_id, line.fields.session_id])).to.deep.equal([
        ['warn', login.claims.id, login.claims.sid],
      ]);
      expect(JSON.stringify(events)).to.not.include(login.refresh);
    });

    it('leaves other sessions of the same user alone when one family is revoked', async () => {
      const registered = await registerPair(app);
      const other = await expectPair(
        await app.post('/api/login', { username: registered.username, password: registered.password }),
        200,
      );
      await expectPair(await refresh(app, registered.refresh), 200);
      app.clock.advanceSeconds(11);
      await expectError(await refresh(app, registered.refresh), 401, 'InvalidRefreshToken');
      expect((await protectedStatus(app, other.access)).status).to.equal(200);
      await expectPair(await refresh(app, other.refresh), 200);
    });

    it('answers 401 InvalidRefreshToken with WWW-Authenticate to an unknown refresh token', async () => {
      const response = await refresh(app, 'A'.repeat(43));
      expect(response.headers.get('www-authenticate')).to.equal('Bearer realm="jwt-login", error="invalid_token"');
      await expectError(response, 401, 'InvalidRefreshToken', INVALID_REFRESH);
    });

    it('answers 400 ValidationError to {"refresh_token": 5} and to an empty string', async () => {
      await expectError(
        await refresh(app, 5),
        400,
        'ValidationError',
        'refresh_token must be a string of 1 to 256 characters',
      );
      await expectError(
        await refresh(app, ''),
        400,
        'ValidationError',
        'refresh_token must be a string of 1 to 256 characters',
      );
    });
  });

  describe('storage', () => {
    const rowText = z.object({ token_hash: z.string(), row: z.string() });

    it('keeps only the SHA-256 (hex) of each refresh token, never the token itself', async () => {
      const login = await registerPair(app);
      const rotated = await expectPair(await refresh(app, login.refresh), 200);
      const rows = await app.database.pool.any(sql.type(rowText)`
        SELECT token_hash, row_to_json(t)::text AS row FROM refresh_tokens t
        WHERE session_id = ${login.claims.sid as string} ORDER BY issued_at, spent_at NULLS LAST`);
      expect(rows.map((row) => row.token_hash)).to.deep.equal([sha256(login.refresh), sha256(rotated.refresh)]);
      const everything = await app.database.pool.anyFirst(sql.type(z.object({ row: z.string() }))`
        SELECT row_to_json(t)::text AS row FROM refresh_tokens t`);
      expect(everything.length).to.be.greaterThan(1);
      for (const row of everything) {
        for (const token of [login.refresh, rotated.refresh]) expect(row).to.not.include(token);
      }
      const sessions = await app.database.pool.anyFirst(sql.type(z.object({ row: z.string() }))`
        SELECT row_to_json(s)::text AS row FROM sessions s`);
      for (const row of sessions) {
        for (const token of [login.refresh, rotated.refresh]) expect(row).to.not.include(token);
      }
    });
  });

  describe('concurrency', () => {
    it(`answers ${CONCURRENT} concurrent refreshes of one token with one successor, and revokes nothing`, async () => {
      const login = await registerPair(app);
      const reusedBefore = app.logger.events('refresh_token_reused').length;
      const responses = await Promise.all(Array.from({ length: CONCURRENT }, () => refresh(app, login.refresh)));
      const pairs = await Promise.all(responses.map((response) => expectPair(response, 200)));
      expect(new Set(pairs.map((pair) => pair.refresh)).size, 'one successor for all').to.equal(1);
      expect(pairs.map((pair) => pair.claims.sid)).to.deep.equal(Array(CONCURRENT).fill(login.claims.sid));
      const rows = await app.database.pool.anyFirst(sql.type(z.object({ token_hash: z.string() }))`
        SELECT token_hash FROM refresh_tokens WHERE session_id = ${login.claims.sid as string}`);
      expect([...rows].sort(), 'one rotation stored').to.deep.equal(
        [sha256(login.refresh), sha256(pairs[0]!.refresh)].sort(),
      );
      expect(app.logger.events('refresh_token_reused').length).to.equal(reusedBefore);
      expect((await protectedStatus(app, pairs[0]!.access)).status).to.equal(200);
      await expectPair(await refresh(app, pairs[0]!.refresh), 200);
    });
  });

  describe('after every request above', () => {
    it('answered none with a 5xx', () => {
      expectNo5xx(app);
    });
  });
});

describe('HTTP: refresh-token lifetime counted from the login (JWT_REFRESH_LIFESPAN=1h)', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp({ env: { JWT_REFRESH_LIFESPAN: '1h' } });
  });

  after(async () => {
    await app?.close();
  });

  it('rotates at +30 min and +50 min, refuses at +61 min, and never issues past login + 1 h', async () => {
    const login = await registerPair(app);
    const deadline = nowSeconds(app) + 3600;
    expect(login.claims.rf_exp).to.equal(deadline);

    app.clock.advanceSeconds(30 * 60);
    const at30 = await expectPair(await refresh(app, login.refresh), 200);
    expect(at30.claims.rf_exp).to.equal(deadline);
    expect(at30.claims.exp).to.equal(nowSeconds(app) + ACCESS_SECONDS);
    expect(at30.expiresIn).to.equal(ACCESS_SECONDS);

    app.clock.advanceSeconds(20 * 60);
    const at50 = await expectPair(await refresh(app, at30.refresh), 200);
    expect(at50.claims.rf_exp).to.equal(deadline);
    expect(at50.claims.exp).to.equal(deadline);
    expect(at50.expiresIn).to.equal(deadline - nowSeconds(app));

    app.clock.advanceSeconds(11 * 60);
    await expectError(await refresh(app, at50.refresh), 401, 'ExpiredRefreshError', EXPIRED_REFRESH);
    // nor does the praetorian mode stretch it
    await expectError(
      await app.post('/api/refresh', { access_token: at50.access }),
      401,
      'ExpiredRefreshError',
      EXPIRED_REFRESH,
    );
  });
});

describe('HTTP: REFRESH_REUSE_GRACE=0 (no grace window)', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp({ env: { REFRESH_REUSE_GRACE: '0' } });
  });

  after(async () => {
    await app?.close();
  });

  it('revokes the family when the spent token comes back one second later', async () => {
    const login = await registerPair(app);
    const first = await expectPair(await refresh(app, login.refresh), 200);
    app.clock.advanceSeconds(1);
    await expectError(await refresh(app, login.refresh), 401, 'InvalidRefreshToken', INVALID_REFRESH);
    await expectError(await refresh(app, first.refresh), 401, 'InvalidRefreshToken', INVALID_REFRESH);
    await expectError(await protectedStatus(app, first.access), 403, 'BlacklistedError', BLACKLISTED);
  });

  it('revokes the family when the spent token comes back at once (same instant)', async () => {
    const login = await registerPair(app);
    const first = await expectPair(await refresh(app, login.refresh), 200);
    await expectError(await refresh(app, login.refresh), 401, 'InvalidRefreshToken', INVALID_REFRESH);
    await expectError(await refresh(app, first.refresh), 401, 'InvalidRefreshToken', INVALID_REFRESH);
    await expectError(await protectedStatus(app, first.access), 403, 'BlacklistedError', BLACKLISTED);
  });
});

describe('HTTP: refresh limit per client address (REFRESH_RATE_LIMIT=2, issue 4, item 1)', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp({ env: { ...LIMITS, TRUST_PROXY: 'true' } });
  });

  after(async () => {
    await app?.close();
  });

  const login = (username: string, password: string, ip: string, headers: Record<string, string> = {}) =>
    app.post('/api/login', { username, password }, from(ip, headers));
  const newUser = (target: TestApp = app, username?: string) => registerFromFreshIp(target, username);

  it('refuses the 3rd refresh from one address with 429 (REFRESH_RATE_LIMIT=2), also for a valid refresh token', async () => {
    const frank = await newUser();
    const first = (await (await login(frank.username, frank.password, freshIp())).json()) as {
      refresh_token: string;
    };
    const ip = freshIp();
    const refresh = (token: string) => app.post('/api/refresh', { refresh_token: token }, from(ip));
    const second = (await expectTokens(await refresh(first.refresh_token), 200)) as unknown as {
      refresh_token: string;
    };
    const third = (await expectTokens(await refresh(second.refresh_token), 200)) as unknown as {
      refresh_token: string;
    };
    await expectTooMany(await refresh(third.refresh_token), 60);
    // The token was not spent by the refused request: another address may still use it.
    await expectTokens(await app.post('/api/refresh', { refresh_token: third.refresh_token }, from(freshIp())), 200);
  });

  it('counts refreshes with garbage tokens too (no free probing)', async () => {
    const ip = freshIp();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const response = await app.post('/api/refresh', { refresh_token: `garbage-${i}` }, from(ip));
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    expect(statuses).to.deep.equal([401, 401, 429]);
  });

  describe('after every request above', () => {
    it('answered none with a 5xx', () => {
      expectNo5xx(app);
    });
  });
});
