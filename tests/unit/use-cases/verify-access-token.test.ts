import { expect } from 'chai';
import { type FakeServices, fakeServices } from '../../support/fake-services.js';

async function login(
  s: FakeServices,
  username = 'Alice',
): Promise<{ id: number; token: string; jti: string; sid: string }> {
  const result = await s.registerUser.execute({ username, password: 'correct horse battery staple' });
  if (!result.ok) throw new Error(`registration failed: ${JSON.stringify(result.error)}`);
  return {
    id: result.value.userId,
    token: result.value.accessToken,
    jti: result.value.claims.jti,
    sid: result.value.claims.sid,
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
  const iat = Math.floor(now / 1000);
  return s.signer.sign({
    iat,
    exp: iat + 900,
    jti: 'jti-ghost',
    sid: session.id,
    id: userId,
    rls: 'user',
    rf_exp: iat + 86400,
  });
}

describe('use case: VerifyAccessToken', () => {
  it('turns a valid token into the principal of its user', async () => {
    const s = fakeServices();
    const { id, token, jti, sid } = await login(s);
    s.clock.advanceSeconds(899);
    expect(await s.verifyAccessToken.execute({ token })).to.deep.equal({
      ok: true,
      value: { userId: id, username: 'Alice', roles: ['user'], jti, sessionId: sid },
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
    const iat = Math.floor(s.clock.now() / 1000);
    const token = s.signer.sign({
      iat,
      exp: iat + 900,
      jti: 'j',
      sid: '00000000-0000-4000-8000-0000000fffff',
      id,
      rls: 'user',
      rf_exp: iat + 86400,
    });
    expect(await s.verifyAccessToken.execute({ token })).to.deep.equal({ ok: false, error: { code: 'RevokedToken' } });
  });

  it('refuses garbage with InvalidToken', async () => {
    const s = fakeServices();
    const result = await s.verifyAccessToken.execute({ token: 'not.a.jwt' });
    expect(result.ok === false && result.error.code).to.equal('InvalidToken');
  });
});
