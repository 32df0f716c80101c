import http from 'node:http';
import { expect } from 'chai';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { type TestApp, startTestApp } from '../support/test-app.js';
import {
  LIMITS,
  LOCKOUT_SECONDS,
  expectError,
  expectTooMany,
  freshIp,
  from,
  strongPassword,
  uniqueName,
} from './helpers.js';

describe('HTTP: the client address of the limits: X-Forwarded-For is trusted only with TRUST_PROXY', () => {
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

/** A POST from a chosen loopback source address (Linux routes all of 127.0.0.0/8 to lo). */
function postFrom(baseUrl: string, source: string, path: string, body: unknown): Promise<number> {
  const url = new URL(path, baseUrl);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress: source,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

describe('HTTP: one canonical client address on dual-stack and IPv4-only instances (issue 9, point 5)', () => {
  let database: TestDatabase;
  let dualStack: TestApp;
  let ipv4Only: TestApp;

  before(async () => {
    database = await createTestDatabase();
    dualStack = await startTestApp({ database, env: { ...LIMITS, HOST: '::' } });
    ipv4Only = await startTestApp({ database, env: { ...LIMITS, HOST: '127.0.0.1' } });
  });

  after(async () => {
    await dualStack?.close();
    await ipv4Only?.close();
    await database?.drop();
  });

  it('counts 127.0.0.40 (::ffff:127.0.0.40 to the dual-stack listener) as one client on both instances', async () => {
    const user = { username: uniqueName('dual'), password: strongPassword() };
    expect(await postFrom(ipv4Only.baseUrl, '127.0.0.41', '/api/registration', user)).to.equal(201);
    const failures = [
      await postFrom(dualStack.baseUrl, '127.0.0.40', '/api/login', {
        ...user,
        password: 'wrong-1',
      }),
      await postFrom(dualStack.baseUrl, '127.0.0.40', '/api/login', {
        ...user,
        password: 'wrong-2',
      }),
      await postFrom(ipv4Only.baseUrl, '127.0.0.40', '/api/login', { ...user, password: 'wrong-3' }),
    ];
    expect(failures, `LOGIN_MAX_FAILURES=${LIMITS.LOGIN_MAX_FAILURES}`).to.deep.equal([401, 401, 401]);
    expect(await postFrom(ipv4Only.baseUrl, '127.0.0.40', '/api/login', user), 'locked on the IPv4 instance').to.equal(
      429,
    );
    expect(
      await postFrom(dualStack.baseUrl, '127.0.0.40', '/api/login', user),
      'locked on the dual-stack instance',
    ).to.equal(429);
    expect(await postFrom(ipv4Only.baseUrl, '127.0.0.42', '/api/login', user), 'another address').to.equal(200);
  });
});
