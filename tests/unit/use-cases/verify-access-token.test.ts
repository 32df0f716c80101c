import { expect } from 'chai';
import { type FakeServices, fakeServices } from '../../support/fake-services.js';

/** A documentation address (RFC 5737), for the registration limit. */
const CLIENT = '192.0.2.1';

async function login(
  s: FakeServices,
  username = 'Alice',
): Promise<{ id: number; token: string; tokenId: string; sessionId: string }> {
  const result = await s.registerUser.execute({ username, password: 'correct horse battery staple', client: CLIENT });
  if (!result.ok) throw new Error(`registration failed: ${JSON.stringify(result.error)}`);
  return {
    id: result.value.userId,
    token: result.value.accessToken,
    tokenId: result.value.claims.tokenId,
    sessionId: result.value.claims.sessionId,
  };
}

/** A token our signer would issue, for a session that exists, for a user id that may not. */
async function tokenForUserId(s: FakeServices, userId: number): Promise<string> {
  const now = s.clock.now();
  const session = {
    id: '00000000-0000-4000-8000-00000000abcd',
    userId,
    createdAt: now,
    expiresAt: now + 86400_000,
    revokedAt: null,
  };
  await s.sessions.start(session, s.opaqueTokens.digest('unused-refresh-token'));
  const issuedAt = Math.floor(now / 1000);
  return s.signer.sign({
    tokenId: 'jti-ghost',
    sessionId: session.id,
    userId,
    roles: ['user'],
    issuedAt,
    expiresAt: issuedAt + 900,
    refreshableUntil: issuedAt + 86400,
  });
}

describe('use case: VerifyAccessToken', () => {
  it('turns a valid token into the principal of its user', async () => {
    const s = fakeServices();
    const { id, token, tokenId, sessionId } = await login(s);
    const refreshableUntil = Math.floor(s.clock.now() / 1000) + 30 * 86400;
    s.clock.advanceSeconds(899);
    expect(await s.verifyAccessToken.execute({ token })).to.deep.equal({
      ok: true,
      value: { userId: id, username: 'Alice', roles: ['user'], tokenId, sessionId, refreshableUntil },
    });
  });

  it('does not grant a role added after the token was issued', async () => {
    const s = fakeServices();
    const { id, token } = await login(s);
    await s.users.replace(id, { roles: ['user', 'admin'] });
    const result = await s.verifyAccessToken.execute({ token });
    expect(result.ok && result.value.roles).to.deep.equal(['user']);
  });

  it('drops a role taken away after the token was issued, at once', async () => {
    const s = fakeServices();
    const { id, token } = await login(s);
    await s.users.replace(id, { roles: [] });
    const result = await s.verifyAccessToken.execute({ token });
    expect(result.ok && result.value.roles).to.deep.equal([]);
  });

  it('refuses an expired token with ExpiredAccess', async () => {
    const s = fakeServices();
    const { token } = await login(s);
    s.clock.advanceSeconds(900);
    expect(await s.verifyAccessToken.execute({ token })).to.deep.equal({ ok: false, error: { code: 'ExpiredAccess' } });
  });

  it('refuses the token of a user deactivated after login at once, with InactiveUser', async () => {
    const s = fakeServices();
    const { id, token } = await login(s);
    await s.users.replace(id, { isActive: false });
    expect(await s.verifyAccessToken.execute({ token })).to.deep.equal({ ok: false, error: { code: 'InactiveUser' } });
  });

  it('refuses a well-signed token for an unknown (deleted) user id with InactiveUser', async () => {
    const s = fakeServices();
    await login(s);
    const token = await tokenForUserId(s, 4242);
    expect(await s.verifyAccessToken.execute({ token })).to.deep.equal({ ok: false, error: { code: 'InactiveUser' } });
  });

  it('refuses a well-signed token whose session does not exist with RevokedToken', async () => {
    const s = fakeServices();
    const { id } = await login(s);
    const issuedAt = Math.floor(s.clock.now() / 1000);
    const token = s.signer.sign({
      tokenId: 'j',
      sessionId: '00000000-0000-4000-8000-0000000fffff',
      userId: id,
      roles: ['user'],
      issuedAt,
      expiresAt: issuedAt + 900,
      refreshableUntil: issuedAt + 86400,
    });
    expect(await s.verifyAccessToken.execute({ token })).to.deep.equal({ ok: false, error: { code: 'RevokedToken' } });
  });

  it('refuses garbage with InvalidToken', async () => {
    const s = fakeServices();
    const result = await s.verifyAccessToken.execute({ token: 'not.a.jwt' });
    expect(result.ok === false && result.error.code).to.equal('InvalidToken');
  });
});
