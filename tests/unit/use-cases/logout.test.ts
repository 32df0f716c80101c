import { expect } from 'chai';
import { fakeServices } from '../../support/fake-services.js';
import { error, value } from '../../support/results.js';

const PASSWORD = 'correct horse battery staple 42';
/** A documentation address (RFC 5737), for the refresh limit. */
const CLIENT = '192.0.2.1';

describe('use case: Logout over the in-memory fakes', () => {
  it("revokes the principal's session only, and logs a revocation", async () => {
    const services = fakeServices();
    const alice = value(await services.createUser.execute({ username: 'alice', password: PASSWORD }));
    const mine = await services.sessionStarter.start(alice);
    const otherDevice = await services.sessionStarter.start(alice);
    services.clock.advanceSeconds(3);

    const principal = value(await services.verifyAccessToken.execute({ token: mine.accessToken }));
    await services.logout.execute({ principal });

    expect((await services.sessions.findById(mine.claims.sessionId))!.revokedAt).to.equal(services.clock.now());
    expect((await services.sessions.findById(otherDevice.claims.sessionId))!.revokedAt).to.equal(null);
    expect(error(await services.verifyAccessToken.execute({ token: mine.accessToken }))).to.deep.equal({
      code: 'RevokedToken',
    });
    expect(
      error(await services.rotateRefreshToken.execute({ refreshToken: mine.refreshToken, client: CLIENT })),
    ).to.deep.equal({
      code: 'InvalidRefreshToken',
    });
    expect(value(await services.verifyAccessToken.execute({ token: otherDevice.accessToken })).sessionId).to.equal(
      otherDevice.claims.sessionId,
    );
    expect(
      value(await services.rotateRefreshToken.execute({ refreshToken: otherDevice.refreshToken, client: CLIENT }))
        .claims.sessionId,
    ).to.equal(otherDevice.claims.sessionId);
    expect(services.logger.events('revocation').map((line) => line.fields)).to.deep.equal([
      {
        event: 'revocation',
        outcome: 'success',
        reason: 'logout',
        user_id: alice.id,
        session_id: mine.claims.sessionId,
      },
    ]);
    expect(services.events.count('revocation')).to.equal(1);
  });
});
