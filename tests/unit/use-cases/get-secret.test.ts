import { expect } from 'chai';
import { fakeServices } from '../../support/fake-services.js';

describe('use case: GetSecret', () => {
  it("answers the seed's exact message naming the user", async () => {
    const s = fakeServices();
    expect(
      await s.getSecret.execute({
        principal: {
          userId: 1,
          username: 'alice',
          roles: ['user'],
          jti: 'j',
          sessionId: '00000000-0000-4000-8000-000000000001',
        },
      }),
    ).to.deep.equal({
      ok: true,
      value: { message: 'protected endpoint (allowed usr alice)' },
    });
  });

  it('names the user as stored, for a token verified end to end', async () => {
    const s = fakeServices();
    const registered = await s.registerUser.execute({
      username: 'Ａｌｉｃｅ Smith',
      password: 'correct horse battery staple',
    });
    if (!registered.ok) throw new Error('registration failed');
    const principal = await s.verifyAccessToken.execute({ token: registered.value.accessToken });
    if (!principal.ok) throw new Error(`verification failed: ${JSON.stringify(principal.error)}`);
    const result = await s.getSecret.execute({ principal: principal.value });
    expect(result.ok && result.value.message).to.equal('protected endpoint (allowed usr Ａｌｉｃｅ Smith)');
  });
});
