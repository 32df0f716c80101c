import { createHmac, createSign, generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { sql } from 'slonik';
import { FixedClock } from '../fakes/fixed-clock.js';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { TEST_SECRET, type TestApp, startTestApp } from '../support/test-app.js';
import {
  accountTokens,
  base64urlJson,
  bearer,
  decodeJwt,
  expectError,
  expectNo5xx,
  nowSeconds,
  registerAccount,
  registerUser,
  setActive,
  untilHeard,
} from './helpers.js';

const MISSING_TOKEN = "JWT token not found in headers under 'Authorization'";
const INVALID_USER = 'The user is not valid or has had access revoked';
const INVALID_TOKEN_CHALLENGE = 'Bearer realm="jwt-login", error="invalid_token"';
const BLACKLISTED = 'Token has a blacklisted jti';
const INVALID_REFRESH = 'The refresh token is not valid, or has been used or revoked';
const PLAIN_CHALLENGE = 'Bearer realm="jwt-login"';

type Claims = Record<string, unknown>;
type Header = Record<string, unknown>;

/** A compact JWS signed by hand, so a test controls every byte of header and payload. */
function hmacToken(
  header: Header,
  payload: Claims,
  key: string | Buffer,
  hash: 'sha256' | 'sha384' | 'sha512' = 'sha256',
): string {
  const input = `${base64urlJson(header)}.${base64urlJson(payload)}`;
  return `${input}.${createHmac(hash, key).update(input).digest('base64url')}`;
}

const HS256 = { alg: 'HS256', typ: 'JWT' };

interface Attack {
  readonly name: string;
  readonly headers: Record<string, string>;
  readonly path?: string;
  /** The error name expected; InvalidTokenHeader unless stated. */
  readonly error?: 'InvalidTokenHeader' | 'ExpiredAccessError' | 'MissingToken';
}

describe('HTTP: GET /api/protected', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });

  after(async () => {
    await app?.close();
  });

  const get = (headers: Record<string, string> = {}, path = '/api/protected') => app.request(path, { headers });

  /** The claims of a fresh user's token, to re-sign in forged variants. */
  async function claimsOfNewUser() {
    const user = await registerUser(app);
    const { iss, ...claims } = decodeJwt(user.token).payload;
    return { user, claims, iss: iss as string };
  }

  async function expectInvalidToken(response: Response) {
    await expectError(response, 401, 'InvalidTokenHeader');
    expect(response.headers.get('www-authenticate')).to.equal(INVALID_TOKEN_CHALLENGE);
  }

  it("answers 200 with the seed's exact message naming the user", async () => {
    const user = await registerUser(app);
    const response = await get(bearer(user.token));
    expect(response.status).to.equal(200);
    expect(await response.text()).to.equal(
      JSON.stringify({ message: `protected endpoint (allowed usr ${user.username})` }),
    );
  });

  it('names the user as stored, also when the login used another case', async () => {
    const user = await registerUser(app, { username: `MixedCase_${Date.now()}` });
    const login = await app.post('/api/login', { username: user.username.toLowerCase(), password: user.password });
    const { access_token: token } = (await login.json()) as { access_token: string };
    expect(await (await get(bearer(token))).json()).to.deep.equal({
      message: `protected endpoint (allowed usr ${user.username})`,
    });
  });

  it('answers 401 MissingToken with the exact message and a challenge without error= when there is no header', async () => {
    const response = await get();
    await expectError(response, 401, 'MissingToken', MISSING_TOKEN);
    expect(response.headers.get('www-authenticate')).to.equal('Bearer realm="jwt-login"');
  });

  it('answers 401 InvalidTokenHeader with error="invalid_token" to a malformed token', async () => {
    await expectInvalidToken(await get(bearer('this.is.garbage')));
  });

  it('answers 401 InvalidTokenHeader to a non-Bearer scheme (Basic)', async () => {
    await expectInvalidToken(await get({ Authorization: `Basic ${Buffer.from('alice:secret').toString('base64')}` }));
  });

  it('answers 401 InvalidTokenHeader to "Bearer" with no token', async () => {
    await expectInvalidToken(await get({ Authorization: 'Bearer' }));
  });

  it('answers 401 ExpiredAccessError once exp has passed', async () => {
    const user = await registerUser(app);
    app.clock.advanceSeconds(901);
    const response = await get(bearer(user.token));
    await expectError(response, 401, 'ExpiredAccessError', 'access permission has expired');
    expect(response.headers.get('www-authenticate')).to.equal(INVALID_TOKEN_CHALLENGE);
  });

  it('still accepts the token one second before exp', async () => {
    const user = await registerUser(app);
    app.clock.advanceSeconds(899);
    expect((await get(bearer(user.token))).status).to.equal(200);
  });

  it('answers 403 InvalidUserError at once when the user is deactivated after the token was issued', async () => {
    const user = await registerUser(app);
    expect((await get(bearer(user.token))).status).to.equal(200);
    await setActive(app, user.username, false);
    await expectError(await get(bearer(user.token)), 403, 'InvalidUserError', INVALID_USER);
  });

  it('answers 401 to a token signed with another secret', async () => {
    const { claims, iss } = await claimsOfNewUser();
    const forged = jwt.sign(claims, 'another-secret-that-is-also-32-bytes-long!!', { algorithm: 'HS256', issuer: iss });
    await expectInvalidToken(await get(bearer(forged)));
  });

  it('answers 401 to an alg "none" token (unsigned, and with a junk signature)', async () => {
    const { claims, iss } = await claimsOfNewUser();
    const unsigned = `${base64urlJson({ alg: 'none', typ: 'JWT' })}.${base64urlJson({ ...claims, iss })}`;
    await expectInvalidToken(await get(bearer(`${unsigned}.`)));
    await expectInvalidToken(await get(bearer(`${unsigned}.c2lnbmF0dXJl`)));
  });

  it('answers 401 to an HS512 token signed with the right secret (algorithm pinned)', async () => {
    const { claims, iss } = await claimsOfNewUser();
    await expectInvalidToken(await get(bearer(jwt.sign(claims, TEST_SECRET, { algorithm: 'HS512', issuer: iss }))));
  });

  it('answers 401 to a token from another issuer, signed with the right secret', async () => {
    const { claims } = await claimsOfNewUser();
    await expectInvalidToken(
      await get(bearer(jwt.sign(claims, TEST_SECRET, { algorithm: 'HS256', issuer: 'someone-else' }))),
    );
  });

  it('answers 401 to a token of another typ, signed with the right secret', async () => {
    const { claims, iss } = await claimsOfNewUser();
    await expectInvalidToken(
      await get(bearer(jwt.sign({ ...claims, typ: 'refresh' }, TEST_SECRET, { algorithm: 'HS256', issuer: iss }))),
    );
  });

  for (const claim of ['exp', 'iat', 'jti', 'id']) {
    it(`answers 401 to a token without ${claim}, signed with the right secret`, async () => {
      const { claims, iss } = await claimsOfNewUser();
      const { [claim]: _dropped, ...rest } = claims;
      const token = jwt.sign(rest, TEST_SECRET, { algorithm: 'HS256', issuer: iss, noTimestamp: true });
      expect(decodeJwt(token).payload).to.not.have.property(claim);
      await expectInvalidToken(await get(bearer(token)));
    });
  }

  it('answers 401 MissingToken when the token is only in the query string', async () => {
    const user = await registerUser(app);
    const response = await get({}, `/api/protected?access_token=${encodeURIComponent(user.token)}`);
    await expectError(response, 401, 'MissingToken', MISSING_TOKEN);
    expect(response.headers.get('www-authenticate')).to.equal('Bearer realm="jwt-login"');
  });

  describe('after every request above', () => {
    it('answered none with a 5xx', () => {
      expectNo5xx(app);
    });
  });
});

describe('HTTP: forged and malformed JWTs on the guarded endpoints (issue 4, item 4)', () => {
  let app: TestApp;
  /** A valid access token of a registered user, and its claims (including iss). */
  let token: string;
  let claims: Claims;
  let attacks: Attack[];

  before(async () => {
    app = await startTestApp();
    const user = await registerUser(app);
    const other = await registerUser(app);
    token = user.token;
    claims = decodeJwt(token).payload;
    const now = nowSeconds(app);
    const [header64, payload64, signature64] = token.split('.') as [string, string, string];
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const rs256 = (header: Header, payload: Claims) => {
      const input = `${base64urlJson(header)}.${base64urlJson(payload)}`;
      return `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey, 'base64url')}`;
    };
    const resigned = (payload: Claims) => hmacToken(HS256, payload, TEST_SECRET);
    const without = (claim: string) => {
      const { [claim]: _dropped, ...rest } = claims;
      return resigned(rest);
    };
    const padded = (size: number) => {
      const base = resigned({ ...claims, pad: '' });
      return resigned({ ...claims, pad: 'x'.repeat(Math.ceil(((size - base.length) * 3) / 4)) });
    };
    const big = padded(16 * 1000);
    const justOverLimit = padded(8300);
    expect(big.length, '16 KB token').to.be.within(16_000, 16_100);
    expect(justOverLimit.length).to.be.within(8193, 8400);

    const b = (value: string) => bearer(value);
    attacks = [
      { name: 'alg none, empty signature', headers: b(`${base64urlJson({ alg: 'none', typ: 'JWT' })}.${payload64}.`) },
      {
        name: 'alg none, the real signature kept',
        headers: b(`${base64urlJson({ alg: 'none', typ: 'JWT' })}.${payload64}.${signature64}`),
      },
      {
        name: 'alg "None" (case variant), empty signature',
        headers: b(`${base64urlJson({ alg: 'None' })}.${payload64}.`),
      },
      { name: 'alg "NONE", junk signature', headers: b(`${base64urlJson({ alg: 'NONE' })}.${payload64}.AAAA`) },
      { name: 'alg none, only two segments', headers: b(`${base64urlJson({ alg: 'none' })}.${payload64}`) },
      {
        name: 'HS512 with the same key',
        headers: b(hmacToken({ alg: 'HS512', typ: 'JWT' }, claims, TEST_SECRET, 'sha512')),
      },
      {
        name: 'HS384 with the same key',
        headers: b(hmacToken({ alg: 'HS384', typ: 'JWT' }, claims, TEST_SECRET, 'sha384')),
      },
      {
        name: 'HS512 via jsonwebtoken with the same key',
        headers: b(jwt.sign({ ...claims }, TEST_SECRET, { algorithm: 'HS512' })),
      },
      { name: 'RS256 with an attacker key pair', headers: b(rs256({ alg: 'RS256', typ: 'JWT' }, claims)) },
      {
        name: 'RS256 with the attacker public key embedded as jwk',
        headers: b(rs256({ alg: 'RS256', typ: 'JWT', jwk: publicKey.export({ format: 'jwk' }) }, claims)),
      },
      {
        name: 'HS256 signed with the RSA public-key PEM text as secret',
        headers: b(hmacToken(HS256, claims, publicPem)),
      },
      { name: 'HS256 signed with an empty key', headers: b(hmacToken(HS256, claims, '')) },
      {
        name: 'HS256 with a kid pointing at /dev/null, empty key',
        headers: b(hmacToken({ ...HS256, kid: '../../../../dev/null' }, claims, '')),
      },
      {
        name: 'HS256 with another 32-byte secret',
        headers: b(hmacToken(HS256, claims, 'another-secret-that-is-also-32-bytes-long!!')),
      },
      {
        name: 'tampered payload: rls admin, signature kept',
        headers: b(`${header64}.${base64urlJson({ ...claims, rls: 'admin,user' })}.${signature64}`),
      },
      {
        name: "tampered payload: another user's id, signature kept",
        headers: b(`${header64}.${base64urlJson({ ...claims, id: other.id, sub: String(other.id) })}.${signature64}`),
      },
      {
        name: 'tampered header (kid added), signature kept',
        headers: b(`${base64urlJson({ ...HS256, kid: 'x' })}.${payload64}.${signature64}`),
      },
      {
        name: 'one signature byte flipped',
        headers: b(`${header64}.${payload64}.${signature64.startsWith('A') ? 'B' : 'A'}${signature64.slice(1)}`),
      },
      { name: 'stripped signature, trailing dot kept', headers: b(`${header64}.${payload64}.`) },
      { name: 'two segments (signature dropped)', headers: b(`${header64}.${payload64}`) },
      { name: 'four segments', headers: b(`${token}.${signature64}`) },
      { name: 'one segment', headers: b(payload64) },
      { name: 'empty segments ".."', headers: b('..') },
      { name: 'missing exp', headers: b(without('exp')) },
      { name: 'missing iat', headers: b(without('iat')) },
      { name: 'missing jti', headers: b(without('jti')) },
      { name: 'missing id', headers: b(without('id')) },
      { name: 'missing sid', headers: b(without('sid')) },
      { name: 'missing typ', headers: b(without('typ')) },
      { name: 'missing iss', headers: b(without('iss')) },
      { name: 'id as a string', headers: b(resigned({ ...claims, id: String(claims.id) })) },
      { name: 'sub naming another user', headers: b(resigned({ ...claims, sub: String(other.id) })) },
      { name: 'nbf in the future', headers: b(resigned({ ...claims, nbf: now + 3600 })) },
      { name: 'exp in the past', headers: b(resigned({ ...claims, exp: now - 1 })), error: 'ExpiredAccessError' },
      { name: 'exp as a string', headers: b(resigned({ ...claims, exp: String(now + 600) })) },
      { name: 'wrong iss', headers: b(resigned({ ...claims, iss: 'someone-else' })) },
      { name: 'typ refresh', headers: b(resigned({ ...claims, typ: 'refresh' })) },
      { name: 'typ id (another kind)', headers: b(resigned({ ...claims, typ: 'id' })) },
      { name: 'bad base64: standard alphabet + and /', headers: b(`${header64}.${payload64}+/.${signature64}`) },
      { name: 'bad base64: padding =', headers: b(`${header64}.${payload64}==.${signature64}`) },
      { name: 'bad base64: punctuation', headers: b(`${header64}.!!!$$$.${signature64}`) },
      {
        name: 'payload that is not JSON, signed with the right key',
        headers: b(
          ((input) => `${input}.${createHmac('sha256', TEST_SECRET).update(input).digest('base64url')}`)(
            `${header64}.${Buffer.from('not json').toString('base64url')}`,
          ),
        ),
      },
      {
        name: 'payload a JSON array, signed with the right key',
        headers: b(
          ((input) => `${input}.${createHmac('sha256', TEST_SECRET).update(input).digest('base64url')}`)(
            `${header64}.${base64urlJson([claims])}`,
          ),
        ),
      },
      {
        name: 'header not JSON',
        headers: b(`${Buffer.from('{alg:HS256').toString('base64url')}.${payload64}.${signature64}`),
      },
      { name: '16 KB token, correctly signed', headers: b(big) },
      { name: '8.3 KB token, correctly signed (just over the 8 KiB cap)', headers: b(justOverLimit) },
      { name: 'Basic scheme carrying the valid token', headers: { Authorization: `Basic ${token}` } },
      {
        name: 'Basic scheme with credentials',
        headers: { Authorization: `Basic ${Buffer.from('alice:secret').toString('base64')}` },
      },
      { name: 'Token scheme carrying the valid token', headers: { Authorization: `Token ${token}` } },
      { name: 'the valid token without a scheme', headers: { Authorization: token } },
      { name: '"Bearer" with nothing after it', headers: { Authorization: 'Bearer' } },
      { name: '"Bearer Bearer <token>"', headers: { Authorization: `Bearer Bearer ${token}` } },
      { name: 'two tokens in one header', headers: { Authorization: `Bearer ${token}, Bearer ${token}` } },
      {
        name: '?access_token= in the URL, no header',
        headers: {},
        path: `?access_token=${encodeURIComponent(token)}`,
        error: 'MissingToken',
      },
    ];
  });

  after(async () => {
    await app?.close();
  });

  it('control: the valid token, and the same claims re-signed by hand with HS256, are accepted (200)', async () => {
    expect((await app.request('/api/protected', { headers: bearer(token) })).status).to.equal(200);
    expect(
      (await app.request('/api/protected', { headers: bearer(hmacToken(HS256, claims, TEST_SECRET)) })).status,
    ).to.equal(200);
  });

  it('refuses every forged or malformed token on GET /api/protected with 401 and the matching challenge', async () => {
    const outcomes: string[] = [];
    for (const attack of attacks) {
      const response = await app.request(`/api/protected${attack.path ?? ''}`, { headers: attack.headers });
      const text = await response.text();
      const body = JSON.parse(text) as { error?: string; status_code?: number };
      const error = attack.error ?? 'InvalidTokenHeader';
      const challenge = error === 'MissingToken' ? PLAIN_CHALLENGE : INVALID_TOKEN_CHALLENGE;
      if (
        response.status !== 401 ||
        body.error !== error ||
        body.status_code !== 401 ||
        response.headers.get('www-authenticate') !== challenge
      ) {
        outcomes.push(`${attack.name}: ${response.status} ${text} (${response.headers.get('www-authenticate')})`);
      }
    }
    console.log(
      `      ${attacks.length} forged or malformed tokens tried on GET /api/protected; refused: ${attacks.length - outcomes.length}`,
    );
    expect(outcomes, 'attacks not answered 401 as expected').to.deep.equal([]);
  });

  it('refuses them on POST /api/logout too, and none of them logged the owner out', async () => {
    const failures: string[] = [];
    for (const attack of attacks) {
      const response = await app.request(`/api/logout${attack.path ?? ''}`, {
        method: 'POST',
        headers: attack.headers,
      });
      const text = await response.text();
      if (response.status !== 401) failures.push(`${attack.name}: ${response.status} ${text}`);
    }
    expect(failures).to.deep.equal([]);
    expect(
      (await app.request('/api/protected', { headers: bearer(token) })).status,
      'the real session is intact',
    ).to.equal(200);
  });

  it('refuses them as a praetorian refresh (Authorization: Bearer) and as a raw body, never issuing a token', async () => {
    const failures: string[] = [];
    for (const attack of attacks.filter((candidate) => candidate.error !== 'ExpiredAccessError')) {
      const viaHeader = await app.request(`/api/refresh${attack.path ?? ''}`, {
        method: 'POST',
        headers: attack.headers,
      });
      const headerText = await viaHeader.text();
      if (viaHeader.status !== 401) failures.push(`${attack.name} (header): ${viaHeader.status} ${headerText}`);
      const raw = /^Bearer (.+)$/.exec(attack.headers.Authorization ?? '')?.[1];
      if (raw === undefined) continue;
      const viaBody = await app.request('/api/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain' },
        body: raw,
      });
      const bodyText = await viaBody.text();
      if (viaBody.status !== 401) failures.push(`${attack.name} (body): ${viaBody.status} ${bodyText}`);
    }
    expect(failures).to.deep.equal([]);
  });

  it('answered none with a 5xx', () => {
    expectNo5xx(app);
  });
});

describe('HTTP: the guard across two instances on one database (revocation reaches the other instance)', () => {
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

  it('a token issued by A works on B, and logout on A refuses it on B once B has its notice', async () => {
    const user = await registerAccount(a, 'cross');
    expect((await getProtected(b, user.access)).status).to.equal(200);
    const rotated = await accountTokens(await b.post('/api/refresh', { refresh_token: user.refresh }), 200);

    const response = await untilHeard(b, `s:${String(decodeJwt(rotated.access).payload.sid)}`, () =>
      a.request('/api/logout', { method: 'POST', headers: bearer(rotated.access) }),
    );
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

  it("deactivating a user through A's admin API refuses the user's tokens on B once B has its notice", async () => {
    const root = await registerAccount(a, 'root');
    await database.pool.query(sql.unsafe`UPDATE users SET roles = 'user,admin' WHERE id = ${root.id}`);
    const admin = await accountTokens(
      await a.post('/api/login', { username: root.username, password: root.password }),
      200,
    );
    const user = await registerAccount(b, 'cross');
    expect((await getProtected(b, user.access)).status).to.equal(200);

    const response = await untilHeard(b, `u:${user.id}`, () =>
      a.request(`/api/users/${user.id}`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/json', ...bearer(admin.access) },
        body: JSON.stringify({ is_active: false }),
      }),
    );
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

  it('removing the admin role on A refuses the old admin token on B once B has its notice', async () => {
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

    const response = await untilHeard(b, `u:${other.id}`, () =>
      a.request(`/api/users/${other.id}`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/json', ...bearer(rootAdmin.access) },
        body: JSON.stringify({ roles: ['user'] }),
      }),
    );
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
