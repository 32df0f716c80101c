import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { TEST_SECRET, type TestApp, startTestApp } from '../support/test-app.js';
import { base64urlJson, bearer, decodeJwt, expectError, expectNo5xx, registerUser, setActive } from './helpers.js';

const MISSING_TOKEN = "JWT token not found in headers under 'Authorization'";
const INVALID_USER = 'The user is not valid or has had access revoked';
const INVALID_TOKEN_CHALLENGE = 'Bearer realm="jwt-login", error="invalid_token"';

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
