import { expect } from 'chai';
import { fakeServices } from '../../support/fake-services.js';
import { value } from '../../support/results.js';

describe('use case: GetSecret', () => {
  it("answers the seed's exact message naming the user", () => {
    const s = fakeServices();
    expect(
      s.getSecret.execute({
        principal: {
          userId: 1,
          username: 'alice',
          roles: ['user'],
          tokenId: 'j',
          sessionId: '00000000-0000-4000-8000-000000000001',
          refreshableUntil: 2_000_000_000,
        },
      }),
    ).to.deep.equal({ message: 'protected endpoint (allowed usr alice)' });
  });

  it('names the user as stored, for a token verified end to end', async () => {
    const s = fakeServices();
    const registered = value(
      await s.registerUser.execute({
        username: 'Ａｌｉｃｅ Smith',
        password: 'correct horse battery staple',
        client: '192.0.2.1',
      }),
    );
    const principal = value(await s.verifyAccessToken.execute({ token: registered.accessToken }));
    expect(s.getSecret.execute({ principal }).message).to.equal('protected endpoint (allowed usr Ａｌｉｃｅ Smith)');
  });
});
