import { expect } from 'chai';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { type TestApp, startTestApp } from '../support/test-app.js';
import { expectError, expectNo5xx, expectTokens, fullwidth, strongPassword, uniqueName } from './helpers.js';

const LIMITS = {
  LOGIN_MAX_FAILURES: '3',
  LOGIN_LOCKOUT: '60s',
  LOGIN_MAX_FAILURES_PER_IP: '10',
  REGISTRATION_RATE_LIMIT: '2',
  REFRESH_RATE_LIMIT: '2',
};
const LOCKOUT_SECONDS = 60;
const BAD_CREDENTIALS = 'The username and/or password are incorrect';
const TOO_MANY = 'Too many attempts; try again later';

let ipCounter = 0;
/** A client address (TEST-NET) no other test in this file uses, so each test owns its counters. */
const freshIp = () => {
  ipCounter += 1;
  return `203.0.${113 + Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`;
};

const from = (ip: string, extra: Record<string, string> = {}) => ({ 'X-Forwarded-For': ip, ...extra });

/** Retry-After as a whole number of seconds greater than 0 and at most `max`. */
function expectRetryAfter(response: Response, max: number): number {
  const header = response.headers.get('retry-after');
  expect(header, 'Retry-After header').to.be.a('string').and.match(/^\d+$/);
  const seconds = Number(header);
  expect(seconds).to.be.greaterThan(0).and.at.most(max);
  return seconds;
}

async function expectTooMany(response: Response, maxRetryAfter: number): Promise<number> {
  const seconds = expectRetryAfter(response, maxRetryAfter);
  await expectError(response, 429, 'TooManyRequests', TOO_MANY);
  return seconds;
}

describe('Attack: brute force and request-rate limits (issue 4, item 1)', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp({ env: { ...LIMITS, TRUST_PROXY: 'true' } });
  });

  after(async () => {
    await app?.close();
  });

  const login = (username: string, password: string, ip: string, headers: Record<string, string> = {}) =>
    app.post('/api/login', { username, password }, from(ip, headers));

  /** Registers from an address of its own, so the registration limit of 2 per address never gets in the way. */
  async function newUser(target: TestApp = app, username = uniqueName('victim')) {
    const password = strongPassword();
    await expectTokens(await target.post('/api/registration', { username, password }, from(freshIp())), 201);
    return { username, password };
  }

  async function failTimes(username: string, ip: string, times: number, target: TestApp = app): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < times; i += 1) {
      const response = await target.post('/api/login', { username, password: `wrong-${i}-${uniqueName()}` }, from(ip));
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    return statuses;
  }

  describe('per username + client address', () => {
    it('refuses the 4th attempt after 3 wrong passwords with 429 TooManyRequests, even with the right password', async () => {
      const alice = await newUser();
      const attacker = freshIp();
      for (let i = 0; i < 3; i += 1) {
        await expectError(
          await login(alice.username, `wrong-${i}`, attacker),
          401,
          'AuthenticationError',
          BAD_CREDENTIALS,
        );
      }
      const response = await login(alice.username, alice.password, attacker);
      const retryAfter = await expectTooMany(response, LOCKOUT_SECONDS);
      expect(retryAfter, 'the lockout is LOGIN_LOCKOUT, not the per-IP hour').to.be.within(
        LOCKOUT_SECONDS - 5,
        LOCKOUT_SECONDS,
      );
      // The locked attempt itself issued nothing and stays locked.
      await expectTooMany(await login(alice.username, alice.password, attacker), LOCKOUT_SECONDS);
    });

    it('does not lock the owner out from another address: alice from IP B still logs in', async () => {
      const alice = await newUser();
      const attacker = freshIp();
      expect(await failTimes(alice.username, attacker, 3)).to.deep.equal([401, 401, 401]);
      await expectTooMany(await login(alice.username, alice.password, attacker), LOCKOUT_SECONDS);
      await expectTokens(await login(alice.username, alice.password, freshIp()), 200);
    });

    it('counts case and NFKC variants of a username as one ("alice", "ALICE", fullwidth) so they do not evade the lock', async () => {
      const base = `alice${Date.now()}`;
      const alice = await newUser(app, base);
      const attacker = freshIp();
      for (const variant of [base, base.toUpperCase(), fullwidth(base)]) {
        await expectError(await login(variant, 'not-the-password', attacker), 401, 'AuthenticationError');
      }
      await expectTooMany(await login(alice.username, alice.password, attacker), LOCKOUT_SECONDS);
    });

    it('answers byte-identical 429 bodies for an existing and an unknown username (same X-Request-Id sent)', async () => {
      const alice = await newUser();
      const unknown = uniqueName('nobody');
      const [ipA, ipB] = [freshIp(), freshIp()];
      expect(await failTimes(alice.username, ipA, 3)).to.deep.equal([401, 401, 401]);
      expect(await failTimes(unknown, ipB, 3)).to.deep.equal([401, 401, 401]);
      const requestId = 'same-request-id-429';
      const existing = await login(alice.username, alice.password, ipA, { 'X-Request-Id': requestId });
      const missing = await login(unknown, alice.password, ipB, { 'X-Request-Id': requestId });
      expect(existing.status).to.equal(429);
      expect(missing.status).to.equal(429);
      const [existingText, missingText] = [await existing.text(), await missing.text()];
      expect(missingText).to.equal(existingText);
      expect(JSON.parse(existingText)).to.deep.equal({
        status_code: 429,
        error: 'TooManyRequests',
        message: TOO_MANY,
        request_id: requestId,
      });
      const names = (response: Response) => [...response.headers.keys()].filter((name) => name !== 'date').sort();
      expect(names(missing)).to.deep.equal(names(existing));
      expect(
        Math.abs(Number(missing.headers.get('retry-after')) - Number(existing.headers.get('retry-after'))),
      ).to.be.at.most(2);
    });

    it('resets the username + address count on a success (2 failures, success, 2 failures: still allowed)', async () => {
      const bob = await newUser();
      const ip = freshIp();
      const statuses: number[] = [];
      for (const password of ['wrong-1', 'wrong-2', bob.password, 'wrong-3', 'wrong-4', bob.password]) {
        const response = await login(bob.username, password, ip);
        statuses.push(response.status);
        await response.arrayBuffer();
      }
      expect(statuses).to.deep.equal([401, 401, 200, 401, 401, 200]);
    });

    it('holds against a concurrent burst: 20 parallel wrong passwords get at most 3 evaluated, the rest 429 (no check-then-count race)', async () => {
      const carol = await newUser();
      const ip = freshIp();
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) => login(carol.username, `burst-wrong-${i}`, ip)),
      );
      const statuses = responses.map((response) => response.status);
      await Promise.all(responses.map((response) => response.arrayBuffer()));
      const evaluated = statuses.filter((status) => status === 401).length;
      expect(
        statuses.filter((status) => status !== 401 && status !== 429),
        'only 401 or 429',
      ).to.deep.equal([]);
      expect(evaluated, `password guesses evaluated in a burst (statuses ${statuses.join(',')})`).to.be.at.most(3);
    });
  });

  describe('per client address', () => {
    it('after 10 failures across different usernames from IP C, the 11th attempt for any username from C is 429', async () => {
      const dave = await newUser();
      const ipC = freshIp();
      for (let i = 0; i < 10; i += 1) {
        // A new username each time, so no username + address lock explains the 429.
        await expectError(await login(uniqueName(`spray${i}`), 'Password-Spray-1', ipC), 401, 'AuthenticationError');
      }
      const retryAfter = await expectTooMany(await login(dave.username, dave.password, ipC), 3600);
      expect(retryAfter, 'the per-address block lasts the hour').to.be.greaterThan(LOCKOUT_SECONDS);
      await expectTooMany(await login(uniqueName('other'), 'whatever-pass', ipC), 3600);
      // Another address is not affected.
      await expectTokens(await login(dave.username, dave.password, freshIp()), 200);
    });

    it('allows 9 failures from one address without a per-address block', async () => {
      const erin = await newUser();
      const ip = freshIp();
      for (let i = 0; i < 9; i += 1) {
        await expectError(await login(uniqueName(`near${i}`), 'Password-Spray-1', ip), 401, 'AuthenticationError');
      }
      await expectTokens(await login(erin.username, erin.password, ip), 200);
    });
  });

  describe('registration and refresh', () => {
    it('refuses the 3rd registration from one address with 429 (REGISTRATION_RATE_LIMIT=2); another address still registers', async () => {
      const ip = freshIp();
      const register = (target = ip) =>
        app.post('/api/registration', { username: uniqueName('reg'), password: strongPassword() }, from(target));
      await expectTokens(await register(), 201);
      await expectTokens(await register(), 201);
      await expectTooMany(await register(), 3600);
      await expectTokens(await register(freshIp()), 201);
    });

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
  });

  describe('after every request above', () => {
    it('answered none with a 5xx', () => {
      expectNo5xx(app);
    });
  });
});

describe('Attack: limits shared by two instances on one database', () => {
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

  it('failures on instance 1 lock the username + address on instance 2', async () => {
    const username = uniqueName('shared');
    const password = strongPassword();
    await expectTokens(await first.post('/api/registration', { username, password }, from(freshIp())), 201);
    const ip = freshIp();
    for (let i = 0; i < 3; i += 1) {
      await expectError(
        await first.post('/api/login', { username, password: `wrong-${i}` }, from(ip)),
        401,
        'AuthenticationError',
      );
    }
    await expectTooMany(await second.post('/api/login', { username, password }, from(ip)), LOCKOUT_SECONDS);
    await expectTokens(await second.post('/api/login', { username, password }, from(freshIp())), 200);
  });

  it('alternating instances does not evade the limit (2 failures on 1, 1 on 2 → 429 on either)', async () => {
    const username = uniqueName('alternate');
    const ip = freshIp();
    const statuses: number[] = [];
    for (const target of [first, first, second, first, second]) {
      const response = await target.post('/api/login', { username, password: 'wrong-password' }, from(ip));
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    expect(statuses).to.deep.equal([401, 401, 401, 429, 429]);
  });

  it('the per-address limit is shared too: 10 failures split over both instances → 429', async () => {
    const ip = freshIp();
    for (let i = 0; i < 10; i += 1) {
      const target = i % 2 === 0 ? first : second;
      await expectError(
        await target.post('/api/login', { username: uniqueName('split'), password: 'x-wrong-1' }, from(ip)),
        401,
        'AuthenticationError',
      );
    }
    await expectTooMany(
      await first.post('/api/login', { username: uniqueName('split'), password: 'x-wrong-1' }, from(ip)),
      3600,
    );
    await expectTooMany(
      await second.post('/api/login', { username: uniqueName('split'), password: 'x-wrong-1' }, from(ip)),
      3600,
    );
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

describe('Attack: X-Forwarded-For is trusted only with TRUST_PROXY', () => {
  describe('without TRUST_PROXY', () => {
    let app: TestApp;

    before(async () => {
      app = await startTestApp({ env: { ...LIMITS } });
    });

    after(async () => {
      await app?.close();
    });

    it('ignores X-Forwarded-For: rotating it evades neither the registration nor the username + address limit', async () => {
      const users = Array.from({ length: 3 }, () => ({ username: uniqueName('xff'), password: strongPassword() }));
      const registrations: number[] = [];
      for (const user of users) {
        const response = await app.post('/api/registration', user, from(freshIp()));
        registrations.push(response.status);
        await response.arrayBuffer();
      }
      expect(registrations, 'REGISTRATION_RATE_LIMIT=2 per socket address').to.deep.equal([201, 201, 429]);

      const { username, password } = users[0]!;
      for (let i = 0; i < 3; i += 1) {
        await expectError(
          await app.post('/api/login', { username, password: `wrong-${i}` }, from(freshIp())),
          401,
          'AuthenticationError',
        );
      }
      await expectTooMany(await app.post('/api/login', { username, password }, from(freshIp())), LOCKOUT_SECONDS);
      await expectTooMany(await app.post('/api/login', { username, password }), LOCKOUT_SECONDS);
    });
  });

  describe('with TRUST_PROXY behind one proxy that appends the peer address', () => {
    let app: TestApp;

    before(async () => {
      app = await startTestApp({ env: { ...LIMITS, TRUST_PROXY: 'true' } });
    });

    after(async () => {
      await app?.close();
    });

    // A proxy such as nginx (`proxy_add_x_forwarded_for`) appends the address it saw to what the client sent, so
    // only the right-most entry is trustworthy; an attacker prepends anything it likes.
    it('does not let a client-chosen left-most X-Forwarded-For entry evade the limit (the right-most entry is the client)', async () => {
      const username = uniqueName('spoof');
      const realAddress = freshIp();
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        const response = await app.post(
          '/api/login',
          { username, password: `wrong-${i}` },
          { 'X-Forwarded-For': `${freshIp()}, ${realAddress}` },
        );
        statuses.push(response.status);
        await response.arrayBuffer();
      }
      expect(statuses, 'the real client address is the right-most entry').to.deep.equal([401, 401, 401, 429, 429]);
    });
  });
});
