import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { type FakeServices, UNIT_SECRET, fakeServices } from '../../support/fake-services.js';
import { error, value } from '../../support/results.js';

const CLIENT = '192.0.2.1';
const LIFESPANS = { accessSeconds: 900, refreshSeconds: 30 * 86400, graceSeconds: 10 };

async function registered(s: FakeServices): Promise<number> {
  const result = value(
    await s.registerUser.execute({ username: 'Alice', password: 'correct horse battery staple', client: CLIENT }),
  );
  return result.userId;
}

/** What flask-praetorian signs (jsonwebtoken stands in for PyJWT here; the HTTP suite mints with PyJWT). */
function praetorian(s: FakeServices, userId: number, claims: Record<string, unknown> = {}): string {
  const now = Math.floor(s.clock.now() / 1000);
  return jwt.sign(
    { iat: now, exp: now + 900, rf_exp: now + 86400, jti: 'flask-jti-1', id: userId, rls: 'user', ...claims },
    UNIT_SECRET,
    { algorithm: 'HS256' },
  );
}

describe('use cases with flask-praetorian tokens (LEGACY_TOKENS=praetorian)', () => {
  it('VerifyAccessToken: a praetorian token acts for its user, with no session, until exp', async () => {
    const s = fakeServices(LIFESPANS, { legacyTokens: true });
    const id = await registered(s);
    const token = praetorian(s, id);
    expect(value(await s.verifyAccessToken.execute({ token }))).to.deep.include({
      userId: id,
      username: 'Alice',
      roles: ['user'],
      tokenId: 'flask-jti-1',
      sessionId: null,
    });
    s.clock.advanceSeconds(900);
    expect(error(await s.verifyAccessToken.execute({ token }))).to.deep.equal({ code: 'ExpiredAccess' });
  });

  it('VerifyAccessToken: refuses praetorian tokens when legacy tokens are off', async () => {
    const s = fakeServices(LIFESPANS);
    const id = await registered(s);
    expect(error(await s.verifyAccessToken.execute({ token: praetorian(s, id) })).code).to.equal('InvalidToken');
  });

  it('Logout: blacklists the jti until rf_exp; the token is then refused', async () => {
    const s = fakeServices(LIFESPANS, { legacyTokens: true });
    const id = await registered(s);
    const token = praetorian(s, id);
    const principal = value(await s.verifyAccessToken.execute({ token }));
    await s.logout.execute({ principal });
    expect([...s.blacklist.entries]).to.deep.equal([['flask-jti-1', principal.refreshableUntil * 1000]]);
    expect(error(await s.verifyAccessToken.execute({ token }))).to.deep.equal({ code: 'RevokedToken' });
  });

  it('RefreshAccessToken: carries an expired praetorian token into one session derived from its jti', async () => {
    const s = fakeServices(LIFESPANS, { legacyTokens: true });
    const id = await registered(s);
    const token = praetorian(s, id);
    expect(error(await s.refreshAccessToken.execute({ accessToken: token, client: CLIENT }))).to.deep.equal({
      code: 'EarlyRefresh',
    });
    s.clock.advanceSeconds(901);
    const first = value(await s.refreshAccessToken.execute({ accessToken: token, client: CLIENT }));
    const second = value(await s.refreshAccessToken.execute({ accessToken: token, client: CLIENT }));
    expect(first.claims.sessionId).to.equal(second.claims.sessionId);
    expect(first.claims).to.deep.include({ tokenId: 'flask-jti-1', userId: id });
    const session = await s.sessions.findById(first.claims.sessionId);
    expect(session).to.deep.include({ userId: id, expiresAt: first.claims.refreshableUntil * 1000, revokedAt: null });
    expect(value(await s.verifyAccessToken.execute({ token: first.accessToken })).sessionId).to.equal(session!.id);
    await s.sessions.revoke(session!.id, s.clock.now(), 'logout');
    expect(error(await s.refreshAccessToken.execute({ accessToken: token, client: CLIENT }))).to.deep.equal({
      code: 'RevokedToken',
    });
  });
});
