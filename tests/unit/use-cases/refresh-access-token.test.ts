import { expect } from 'chai';
import type { AccessClaims } from '../../../src/application/ports/token-signer.js';
import { JwtTokenSigner } from '../../../src/infrastructure/security/jwt-token-signer.js';
import { type FakeServices, UNIT_ISSUER, fakeServices } from '../../support/fake-services.js';

const PASSWORD = 'correct horse battery staple';
const ACCESS = 900;
const REFRESH = 30 * 86400;
/** A documentation address (RFC 5737), for the registration and refresh limits. */
const CLIENT = '192.0.2.1';

async function login(s: FakeServices): Promise<{ id: number; token: string; claims: AccessClaims }> {
  const result = await s.registerUser.execute({ username: 'Alice', password: PASSWORD, client: CLIENT });
  if (!result.ok) throw new Error(`registration failed: ${JSON.stringify(result.error)}`);
  return { id: result.value.userId, token: result.value.accessToken, claims: result.value.claims };
}

const nowSeconds = (s: FakeServices) => Math.floor(s.clock.now() / 1000);

describe('use case: RefreshAccessToken (flask-praetorian refresh)', () => {
  it('refuses with EarlyRefresh while the access token is still valid', async () => {
    const s = fakeServices();
    const { token } = await login(s);
    expect(await s.refreshAccessToken.execute({ accessToken: token, client: CLIENT })).to.deep.equal({
      ok: false,
      error: { code: 'EarlyRefresh' },
    });
    s.clock.advanceSeconds(ACCESS - 1);
    expect(await s.refreshAccessToken.execute({ accessToken: token, client: CLIENT })).to.deep.equal({
      ok: false,
      error: { code: 'EarlyRefresh' },
    });
  });

  it('reissues an expired token keeping the token id, session, user and refresh deadline, with fresh times', async () => {
    const s = fakeServices();
    const { id, token, claims } = await login(s);
    s.clock.advanceSeconds(ACCESS + 60);

    const result = await s.refreshAccessToken.execute({ accessToken: token, client: CLIENT });
    if (!result.ok) throw new Error(`refresh failed: ${JSON.stringify(result.error)}`);

    const now = nowSeconds(s);
    expect(result.value.claims).to.deep.equal({
      tokenId: claims.tokenId,
      sessionId: claims.sessionId,
      userId: id,
      roles: ['user'],
      issuedAt: now,
      expiresAt: now + ACCESS,
      refreshableUntil: claims.refreshableUntil,
    });
    expect(result.value.expiresIn).to.equal(ACCESS);
    expect(s.signer.verify(result.value.accessToken, now)).to.deep.equal({
      status: 'valid',
      claims: result.value.claims,
    });
  });

  it('never lets the new token outlive the refresh deadline: expiry = min(now + access lifespan, deadline)', async () => {
    const s = fakeServices();
    const { token, claims } = await login(s);
    s.clock.set((claims.refreshableUntil - 100) * 1000);

    const result = await s.refreshAccessToken.execute({ accessToken: token, client: CLIENT });
    if (!result.ok) throw new Error(`refresh failed: ${JSON.stringify(result.error)}`);

    expect(result.value.claims.expiresAt).to.equal(claims.refreshableUntil);
    expect(result.value.claims.refreshableUntil).to.equal(claims.refreshableUntil);
    expect(result.value.expiresIn).to.equal(100);
  });

  it('refuses with ExpiredRefresh at and after the refresh deadline', async () => {
    const s = fakeServices();
    const { token, claims } = await login(s);
    expect(claims.refreshableUntil).to.equal(claims.issuedAt + REFRESH);
    s.clock.set(claims.refreshableUntil * 1000);
    expect(await s.refreshAccessToken.execute({ accessToken: token, client: CLIENT })).to.deep.equal({
      ok: false,
      error: { code: 'ExpiredRefresh' },
    });
    s.clock.advanceSeconds(1);
    expect(await s.refreshAccessToken.execute({ accessToken: token, client: CLIENT })).to.deep.equal({
      ok: false,
      error: { code: 'ExpiredRefresh' },
    });
  });

  it('chains: a refreshed token, once expired, refreshes again under the same token id and deadline', async () => {
    const s = fakeServices();
    const { token, claims } = await login(s);
    s.clock.advanceSeconds(ACCESS);
    const first = await s.refreshAccessToken.execute({ accessToken: token, client: CLIENT });
    if (!first.ok) throw new Error('first refresh failed');
    s.clock.advanceSeconds(ACCESS);
    const second = await s.refreshAccessToken.execute({ accessToken: first.value.accessToken, client: CLIENT });
    if (!second.ok) throw new Error('second refresh failed');
    expect([second.value.claims.tokenId, second.value.claims.refreshableUntil]).to.deep.equal([
      claims.tokenId,
      claims.refreshableUntil,
    ]);
    expect(second.value.claims.issuedAt).to.equal(claims.issuedAt + 2 * ACCESS);
  });

  it('re-reads the roles of the user as stored now', async () => {
    const s = fakeServices();
    const { id, token } = await login(s);
    await s.users.replace(id, { roles: ['user', 'admin'] });
    s.clock.advanceSeconds(ACCESS + 1);

    const result = await s.refreshAccessToken.execute({ accessToken: token, client: CLIENT });
    expect(result.ok && result.value.claims.roles).to.deep.equal(['user', 'admin']);
  });

  it('refuses a deactivated user with InactiveUser and logs it', async () => {
    const s = fakeServices();
    const { id, token } = await login(s);
    await s.users.replace(id, { isActive: false });
    s.clock.advanceSeconds(ACCESS + 1);

    expect(await s.refreshAccessToken.execute({ accessToken: token, client: CLIENT })).to.deep.equal({
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
      tokenId: 'ghost',
      sessionId: sid,
      userId: 4242,
      roles: ['admin'],
      issuedAt: now - ACCESS - 10,
      expiresAt: now - 10,
      refreshableUntil: now + 3600,
    });
    expect(await s.refreshAccessToken.execute({ accessToken: ghost, client: CLIENT })).to.deep.equal({
      ok: false,
      error: { code: 'InactiveUser' },
    });
  });

  it('refuses garbage with InvalidToken', async () => {
    const s = fakeServices();
    for (const garbage of ['', 'garbage', 'a.b.c', 'Bearer x.y.z']) {
      const result = await s.refreshAccessToken.execute({ accessToken: garbage, client: CLIENT });
      expect(result.ok === false && result.error.code, JSON.stringify(garbage)).to.equal('InvalidToken');
    }
  });

  it('refuses an expired token signed by another JwtTokenSigner (another key) with InvalidToken', async () => {
    const s = fakeServices();
    const { claims } = await login(s);
    const other = new JwtTokenSigner({ secret: 'another-secret-that-is-32-bytes-or-more', issuer: UNIT_ISSUER });
    const forged = other.sign(claims);
    s.clock.advanceSeconds(ACCESS + 1);

    const result = await s.refreshAccessToken.execute({ accessToken: forged, client: CLIENT });
    expect(result.ok === false && result.error.code).to.equal('InvalidToken');
  });

  it('answers TooManyRequests after 60 refreshes from one client in a minute, before looking at the token', async () => {
    const s = fakeServices();
    const { token } = await login(s);
    s.clock.advanceSeconds(ACCESS + 1);
    for (let i = 0; i < 60; i += 1) {
      const probe = await s.refreshAccessToken.execute({ accessToken: `garbage-${i}`, client: CLIENT });
      expect(probe.ok === false && probe.error.code, `probe ${i + 1}`).to.equal('InvalidToken');
    }

    const refused = await s.refreshAccessToken.execute({ accessToken: token, client: CLIENT });

    expect(refused.ok === false && refused.error.code).to.equal('TooManyRequests');
    expect(refused.ok === false && refused.error.code === 'TooManyRequests' && refused.error.retryAfterSeconds)
      .to.be.greaterThan(0)
      .and.at.most(60);
    expect(s.logger.events('rate_limited').map((line) => line.fields.action)).to.deep.equal(['refresh']);
    const elsewhere = await s.refreshAccessToken.execute({ accessToken: token, client: '192.0.2.2' });
    expect(elsewhere.ok, 'another client still refreshes').to.equal(true);
  });
});
