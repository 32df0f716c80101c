import { expect } from 'chai';
import { type TestApp, startTestApp } from '../support/test-app.js';
import {
  decodeJwt,
  expectError,
  expectNo5xx,
  expectTokens,
  fullwidth,
  nowSeconds,
  registerUser,
  setActive,
  uniqueName,
} from './helpers.js';

const BAD_CREDENTIALS = 'The username and/or password are incorrect';
const INVALID_USER = 'The user is not valid or has had access revoked';

describe('HTTP: POST /api/login', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });

  after(async () => {
    await app?.close();
  });

  const login = (body: unknown, headers?: Record<string, string>) => app.post('/api/login', body, headers);

  describe('success', () => {
    it('answers 200 with a Bearer access token for the user, expiring in 900 s, not cacheable', async () => {
      const user = await registerUser(app);
      const response = await login({ username: user.username, password: user.password });
      const body = await expectTokens(response, 200);
      expect(body.expires_in).to.equal(900);
      expect(response.headers.get('pragma')).to.equal('no-cache');
      const { header, payload } = decodeJwt(body.access_token);
      expect(header.alg).to.equal('HS256');
      expect(payload.id).to.equal(user.id);
      expect(payload.sub).to.equal(String(user.id));
      expect(payload.rls).to.equal('user');
      expect(payload.typ).to.equal('access');
      expect(payload.iss).to.equal('jwt-login');
      expect(payload.iat).to.equal(nowSeconds(app));
      expect(payload.exp).to.equal(nowSeconds(app) + 900);
      expect(payload.rf_exp).to.equal(nowSeconds(app) + 30 * 86400);
    });

    it('starts a new session: a new jti, not the registration one', async () => {
      const user = await registerUser(app);
      const body = await expectTokens(await login({ username: user.username, password: user.password }), 200);
      expect(decodeJwt(body.access_token).payload.jti).to.not.equal(decodeJwt(user.token).payload.jti);
    });

    it('answers with access_token, refresh_token, token_type and expires_in (SPEC §3 login body)', async () => {
      const user = await registerUser(app);
      const response = await login({ username: user.username, password: user.password });
      const body = (await response.json()) as Record<string, unknown>;
      expect(response.status).to.equal(200);
      expect(Object.keys(body).sort()).to.deep.equal(['access_token', 'expires_in', 'refresh_token', 'token_type']);
      expect(body.refresh_token).to.be.a('string');
      expect((body.refresh_token as string).length, 'at least 128 bits of randomness').to.be.at.least(22);
      expect(body.refresh_token).to.not.equal(body.access_token);
    });

    it('compares usernames ignoring case ("ALICE" logs in as "alice")', async () => {
      const user = await registerUser(app, { username: `alice_${uniqueName()}` });
      const body = await expectTokens(
        await login({ username: user.username.toUpperCase(), password: user.password }),
        200,
      );
      expect(decodeJwt(body.access_token).payload.id).to.equal(user.id);
    });

    it('compares usernames after NFKC (fullwidth "ａｌｉｃｅ" logs in as "alice")', async () => {
      const user = await registerUser(app, { username: `alice${Date.now()}` });
      const body = await expectTokens(
        await login({ username: fullwidth(user.username), password: user.password }),
        200,
      );
      expect(decodeJwt(body.access_token).payload.id).to.equal(user.id);
    });

    it('ignores unknown body fields', async () => {
      const user = await registerUser(app);
      await expectTokens(
        await login({ username: user.username, password: user.password, remember: true, roles: 'admin' }),
        200,
      );
    });
  });

  describe('refusals', () => {
    it('answers 401 AuthenticationError with the exact message for an unknown user', async () => {
      const response = await login({ username: uniqueName('ghost'), password: 'Whatever-Passw0rd!' });
      await expectError(response, 401, 'AuthenticationError', BAD_CREDENTIALS);
      expect(response.headers.get('www-authenticate')).to.match(/^Bearer\b/);
      expect(response.headers.get('www-authenticate')).to.not.contain('error=');
    });

    it('answers 401 AuthenticationError with the exact message for a wrong password', async () => {
      const user = await registerUser(app);
      const response = await login({ username: user.username, password: `${user.password}x` });
      await expectError(response, 401, 'AuthenticationError', BAD_CREDENTIALS);
      expect(response.headers.get('www-authenticate')).to.match(/^Bearer\b/);
    });

    it('gives an unknown user and a wrong password the same body apart from request_id', async () => {
      const user = await registerUser(app);
      const unknown = await login({ username: uniqueName('ghost'), password: user.password });
      const wrong = await login({ username: user.username, password: `${user.password}x` });
      const strip = async (response: Response) => {
        const { request_id: requestId, ...rest } = (await response.json()) as Record<string, unknown>;
        expect(requestId).to.be.a('string');
        return rest;
      };
      expect(unknown.status).to.equal(wrong.status);
      expect(await strip(unknown)).to.deep.equal(await strip(wrong));
      expect(unknown.headers.get('www-authenticate')).to.equal(wrong.headers.get('www-authenticate'));
    });

    it('gives them byte-identical bodies when both carry the same X-Request-Id', async () => {
      const user = await registerUser(app);
      const headers = { 'X-Request-Id': `same-${uniqueName()}` };
      const unknown = await (await login({ username: uniqueName('ghost'), password: user.password }, headers)).text();
      const wrong = await (await login({ username: user.username, password: `${user.password}x` }, headers)).text();
      expect(unknown).to.contain('AuthenticationError');
      expect(unknown).to.equal(wrong);
    });

    it('refuses the password in another case', async () => {
      const user = await registerUser(app, { password: `Case-Sensitive-${uniqueName()}` });
      await expectError(
        await login({ username: user.username, password: user.password.toUpperCase() }),
        401,
        'AuthenticationError',
        BAD_CREDENTIALS,
      );
    });

    it('answers 403 InvalidUserError to an inactive user with the right password', async () => {
      const user = await registerUser(app);
      await setActive(app, user.username, false);
      const response = await login({ username: user.username, password: user.password });
      await expectError(response, 403, 'InvalidUserError', INVALID_USER);
      expect(response.headers.get('cache-control')).to.not.equal('no-store');
    });

    it('answers 401 (not 403) to an inactive user with a wrong password, so activity does not leak', async () => {
      const user = await registerUser(app);
      await setActive(app, user.username, false);
      await expectError(
        await login({ username: user.username, password: `${user.password}x` }),
        401,
        'AuthenticationError',
        BAD_CREDENTIALS,
      );
    });

    it('logs in again once the user is reactivated', async () => {
      const user = await registerUser(app);
      await setActive(app, user.username, false);
      await expectError(await login({ username: user.username, password: user.password }), 403, 'InvalidUserError');
      await setActive(app, user.username, true);
      await expectTokens(await login({ username: user.username, password: user.password }), 200);
    });

    const invalid: Array<[string, () => unknown, RegExp]> = [
      ['a missing username', () => ({ password: 'Some-Passw0rd!' }), /username/],
      ['a non-string username', () => ({ username: ['alice'], password: 'Some-Passw0rd!' }), /username/],
      ['a missing password', () => ({ username: uniqueName() }), /password/],
      ['a non-string password', () => ({ username: uniqueName(), password: { value: 'x' } }), /password/],
    ];
    for (const [name, body, message] of invalid) {
      it(`answers 400 ValidationError to ${name}`, async () => {
        await expectError(await login(body()), 400, 'ValidationError', message);
      });
    }
  });

  describe('after every request above', () => {
    it('answered none with a 5xx', () => {
      expectNo5xx(app);
    });
  });
});
