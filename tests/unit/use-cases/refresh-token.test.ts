import { expect } from 'chai';
import type { AccessClaims } from '../../../src/application/ports/token-signer.js';
import { JwtTokenSigner } from '../../../src/infrastructure/security/jwt-token-signer.js';
import { type FakeServices, UNIT_ISSUER, fakeServices } from '../../support/fake-services.js';

const PASSWORD = 'correct horse battery staple';
const ACCESS = 900;
const REFRESH = 30 * 86400;

async function login(s: FakeServices): Promise<{ id: number; token: string; claims: AccessClaims }> {
  const result = await s.registerUser.execute({ username: 'Alice', password: PASSWORD });
  if (!result.ok) throw new Error(`registration failed: ${JSON.stringify(result.error)}`);
  return { id: result.value.userId, token: result.value.accessToken, claims: result.value.claims };
}

const nowSeconds = (s: FakeServices) => Math.floor(s.clock.now() / 1000);

describe('use case: RefreshToken (flask-praetorian refresh)', () => {
  it('refuses with EarlyRefresh while the access token is still valid', async () => {
    const s = fakeServices();
    const { token } = await login(s);
    expect(await s.refreshToken.execute({ accessToken: token })).to.deep.equal({
      ok: false,
      error: { code: 'EarlyRefresh' },
    });
    s.clock.advanceSeconds(ACCESS - 1);
    expect(await s.refreshToken.execute({ accessToken: token })).to.deep.equal({
      ok: false,
      error: { code: 'EarlyRefresh' },
    });
  });

  it('reissues an expired token keeping jti, id and rf_exp, with a fresh iat and exp', async () => {
    const s = fakeServices();
    const { id, token, claims } = await login(s);
    s.clock.advanceSeconds(ACCESS + 60);

    const result = await s.refreshToken.execute({ accessToken: token });
    if (!result.ok) throw new Error(`refresh failed: ${JSON.stringify(result.error)}`);

    const now = nowSeconds(s);
    expect(result.value.claims).to.deep.equal({
      iat: now,
      exp: now + ACCESS,
      jti: claims.jti,
      sid: claims.sid,
      id,
      rls: 'user',
      rf_exp: claims.rf_exp,
    });
    expect(result.value.expiresIn).to.equal(ACCESS);
    expect(s.signer.verify(result.value.accessToken, now)).to.deep.equal({
      status: 'valid',
      claims: result.value.claims,
    });
  });

  it('never lets the new token outlive rf_exp: exp = min(now + access lifespan, rf_exp)', async () => {
    const s = fakeServices();
    const { token, claims } = await login(s);
    s.clock.set((claims.rf_exp - 100) * 1000);

    const result = await s.refreshToken.execute({ accessToken: token });
    if (!result.ok) throw new Error(`refresh failed: ${JSON.stringify(result.error)}`);

    expect(result.value.claims.exp).to.equal(claims.rf_exp);
    expect(result.value.claims.rf_exp).to.equal(claims.rf_exp);
    expect(result.value.expiresIn).to.equal(100);
  });

  it('refuses with ExpiredRefresh at and after rf_exp', async () => {
    const s = fakeServices();
    const { token, claims } = await login(s);
    expect(claims.rf_exp).to.equal(claims.iat + REFRESH);
    s.clock.set(claims.rf_exp * 1000);
    expect(await s.refreshToken.execute({ accessToken: token })).to.deep.equal({
      ok: false,
      error: { code: 'ExpiredRefresh' },
    });
    s.clock.advanceSeconds(1);
    expect(await s.refreshToken.execute({ accessToken: token })).to.deep.equal({
      ok: false,
      error: { code: 'ExpiredRefresh' },
    });
  });

  it('chains: a refreshed token, once expired, refreshes again under the same jti and rf_exp', async () => {
    const s = fakeServices();
    const { token, claims } = await login(s);
    s.clock.advanceSeconds(ACCESS);
    const first = await s.refreshToken.execute({ accessToken: token });
    if (!first.ok) throw new Error('first refresh failed');
    s.clock.advanceSeconds(ACCESS);
    const second = await s.refreshToken.execute({ accessToken: first.value.accessToken });
    if (!second.ok) throw new Error('second refresh failed');
    expect([second.value.claims.jti, second.value.claims.rf_exp]).to.deep.equal([claims.jti, claims.rf_exp]);
    expect(second.value.claims.iat).to.equal(claims.iat + 2 * ACCESS);
  });

  it('re-reads the roles of the user as stored now', async () => {
    const s = fakeServices();
    const { id, token } = await login(s);
    await s.users.replace(id, { roles: ['user', 'admin'] });
    s.clock.advanceSeconds(ACCESS + 1);

    const result = await s.refreshToken.execute({ accessToken: token });
    expect(result.ok && result.value.claims.rls).to.equal('user,admin');
  });

  it('refuses a deactivated user with InactiveUser and logs it', async () => {
    const s = fakeServices();
    const { id, token } = await login(s);
    await s.users.replace(id, { isActive: false });
    s.clock.advanceSeconds(ACCESS + 1);

    expect(await s.refreshToken.execute({ accessToken: token })).to.deep.equal({
      ok: false,
      error: { code: 'InactiveUser' },
    });
    expect(s.logger.events('refresh_inactive_user').map((line) => line.fields.user_id)).to.deep.equal([id]);
  });

  it('refuses a token for a user that does not exist (deleted) with InactiveUser', async () => {
    const s = fakeServices();
    const now = nowSeconds(s);
    const sid = '00000000-0000-4000-8000-00000000abcd';
    await s.sessions.start(
      { id: sid, userId: 4242, createdAt: s.clock.now(), expiresAt: s.clock.now() + 3600_000, revokedAt: null },
      s.opaqueTokens.digest('unused-refresh-token'),
    );
    const ghost = s.signer.sign({
      iat: now - ACCESS - 10,
      exp: now - 10,
      jti: 'ghost',
      sid,
      id: 4242,
      rls: 'admin',
      rf_exp: now + 3600,
    });
    expect(await s.refreshToken.execute({ accessToken: ghost })).to.deep.equal({
      ok: false,
      error: { code: 'InactiveUser' },
    });
  });

  it('refuses garbage with InvalidToken', async () => {
    const s = fakeServices();
    for (const garbage of ['', 'garbage', 'a.b.c', 'Bearer x.y.z']) {
      const result = await s.refreshToken.execute({ accessToken: garbage });
      expect(result.ok === false && result.error.code, JSON.stringify(garbage)).to.equal('InvalidToken');
    }
  });

  it('refuses an expired token signed by another JwtTokenSigner (another key) with InvalidToken', async () => {
    const s = fakeServices();
    const { claims } = await login(s);
    const other = new JwtTokenSigner({ secret: 'another-secret-that-is-32-bytes-or-more', issuer: UNIT_ISSUER });
    const forged = other.sign(claims);
    s.clock.advanceSeconds(ACCESS + 1);

    const result = await s.refreshToken.execute({ accessToken: forged });
    expect(result.ok === false && result.error.code).to.equal('InvalidToken');
  });
});
