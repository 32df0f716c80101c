import { expect } from 'chai';
import sinon from 'sinon';
import type { DomainError } from '../../../src/domain/errors.js';
import type { Result } from '../../../src/domain/result.js';
import type { User } from '../../../src/domain/user.js';
import type { IssuedTokens } from '../../../src/application/services/session-starter.js';
import type { RotateRefreshTokenError } from '../../../src/application/use-cases/rotate-refresh-token.js';
import { domainErrorToHttp } from '../../../src/interfaces/http/error-response.js';
import { type FakeServices, fakeServices } from '../../support/fake-services.js';
import { error, value } from '../../support/results.js';

const PASSWORD = 'correct horse battery staple 42';
/** A documentation address (RFC 5737), for the refresh limit. */
const CLIENT = '192.0.2.1';

/** The HTTP answer an error becomes: status, error name, message. */
function http(domainError: DomainError) {
  const answer = domainErrorToHttp(domainError);
  return { status: answer.status, error: answer.error, message: answer.message };
}

const INVALID_REFRESH = {
  status: 401,
  error: 'InvalidRefreshToken',
  message: 'The refresh token is not valid, or has been used or revoked',
};

describe('use case: RotateRefreshToken (refresh-token rotation) over the in-memory fakes', () => {
  let services: FakeServices;
  let user: User;
  let login: { accessToken: string; refreshToken: string; sessionId: string; tokenId: string };

  beforeEach(async () => {
    services = fakeServices();
    user = value(await services.createUser.execute({ username: 'alice', password: PASSWORD }));
    const issued = await services.sessionStarter.start(user);
    login = {
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      sessionId: issued.claims.sessionId,
      tokenId: issued.claims.tokenId,
    };
  });

  const rotate = (refreshToken: string): Promise<Result<IssuedTokens, RotateRefreshTokenError>> =>
    services.rotateRefreshToken.execute({ refreshToken, client: CLIENT });

  it('rotated: answers the HMAC successor and a new access token (new token id, same session)', async () => {
    const issued = value(await rotate(login.refreshToken));
    expect(issued.refreshToken).to.equal(services.opaqueTokens.successorOf(login.refreshToken));
    expect(issued.refreshToken).to.not.equal(login.refreshToken);
    expect(issued.claims.sessionId).to.equal(login.sessionId);
    expect(issued.claims.tokenId).to.not.equal(login.tokenId);
    expect(issued.claims.userId).to.equal(user.id);
    expect(issued.expiresIn).to.equal(900);
    expect(services.sessions.storedTokenHashes().sort()).to.deep.equal(
      [services.opaqueTokens.digest(login.refreshToken), services.opaqueTokens.digest(issued.refreshToken)].sort(),
    );
    expect(services.events.count('refresh_rotated')).to.equal(1);
  });

  it('replayed: the spent token within the grace window answers the same successor', async () => {
    const first = value(await rotate(login.refreshToken));
    services.clock.advanceSeconds(5);
    const again = value(await rotate(login.refreshToken));
    expect(again.refreshToken).to.equal(first.refreshToken);
    expect(again.claims.sessionId).to.equal(login.sessionId);
    expect((await services.sessions.findById(login.sessionId))!.revokedAt).to.equal(null);
    expect(services.logger.events('refresh_token_reused')).to.deep.equal([]);
    expect(services.events.count('refresh_rotated'), 'a replay is not a rotation').to.equal(1);
  });

  it('reused: the spent token after the grace window → InvalidRefreshToken (401), session revoked, event logged', async () => {
    const warn = sinon.spy(services.logger, 'warn');
    const first = value(await rotate(login.refreshToken));
    services.clock.advanceSeconds(11);
    const refused = error(await rotate(login.refreshToken));
    expect(refused).to.deep.equal({ code: 'InvalidRefreshToken' });
    expect(http(refused)).to.deep.equal(INVALID_REFRESH);

    const session = await services.sessions.findById(login.sessionId);
    expect(session!.revokedAt).to.equal(services.clock.now());
    expect(warn.calledOnce).to.equal(true);
    expect(warn.firstCall.args[1]).to.deep.equal({
      event: 'refresh_token_reused',
      outcome: 'failure',
      user_id: user.id,
      session_id: login.sessionId,
    });
    expect([services.events.count('refresh_reused'), services.events.count('revocation')]).to.deep.equal([1, 1]);

    // the whole family: the successor is refused and so is the access token issued with it
    expect(error(await rotate(first.refreshToken))).to.deep.equal({ code: 'InvalidRefreshToken' });
    const verified = await services.verifyAccessToken.execute({ token: first.accessToken });
    expect(error(verified)).to.deep.equal({ code: 'RevokedToken' });
    expect(http(error(verified))).to.deep.equal({
      status: 403,
      error: 'BlacklistedError',
      message: 'Token has a blacklisted jti',
    });
  });

  it('reused: a replay exactly 10 s (the grace window) after spending revokes', async () => {
    await rotate(login.refreshToken);
    services.clock.set(services.clock.now() + 10_000);
    expect(error(await rotate(login.refreshToken))).to.deep.equal({ code: 'InvalidRefreshToken' });
    expect((await services.sessions.findById(login.sessionId))!.revokedAt).to.not.equal(null);
  });

  it('expired: after the refresh lifespan counted from login → ExpiredRefresh (401 ExpiredRefreshError)', async () => {
    const first = value(await rotate(login.refreshToken));
    services.clock.advanceSeconds(30 * 86400);
    const refused = error(await rotate(first.refreshToken));
    expect(refused).to.deep.equal({ code: 'ExpiredRefresh' });
    expect(http(refused)).to.deep.equal({
      status: 401,
      error: 'ExpiredRefreshError',
      message: 'refresh permission for token has expired',
    });
  });

  it('rotation never extends the refresh deadline or the expiry past login + refresh lifespan', async () => {
    const short = fakeServices({ accessSeconds: 900, refreshSeconds: 3600, graceSeconds: 10 });
    const bob = value(await short.createUser.execute({ username: 'bob', password: PASSWORD }));
    const loginAt = Math.floor(short.clock.now() / 1000);
    let token = (await short.sessionStarter.start(bob)).refreshToken;
    short.clock.advanceSeconds(50 * 60);
    const issued = value(await short.rotateRefreshToken.execute({ refreshToken: token, client: CLIENT }));
    expect(issued.claims.refreshableUntil).to.equal(loginAt + 3600);
    expect(issued.claims.expiresAt).to.equal(loginAt + 3600);
    expect(issued.expiresIn).to.equal(600);
    token = issued.refreshToken;
    short.clock.advanceSeconds(11 * 60);
    expect(error(await short.rotateRefreshToken.execute({ refreshToken: token, client: CLIENT }))).to.deep.equal({
      code: 'ExpiredRefresh',
    });
  });

  it('unknown: a token never issued → InvalidRefreshToken (401)', async () => {
    const refused = error(await rotate('A'.repeat(43)));
    expect(refused).to.deep.equal({ code: 'InvalidRefreshToken' });
    expect(http(refused)).to.deep.equal(INVALID_REFRESH);
  });

  it('revoked: a token of a logged-out session → InvalidRefreshToken (401), no reuse event', async () => {
    const principal = value(await services.verifyAccessToken.execute({ token: login.accessToken }));
    await services.logout.execute({ principal });
    const refused = error(await rotate(login.refreshToken));
    expect(refused).to.deep.equal({ code: 'InvalidRefreshToken' });
    expect(http(refused)).to.deep.equal(INVALID_REFRESH);
    expect(services.logger.events('refresh_token_reused')).to.deep.equal([]);
  });

  it('a live token of a deactivated user → InactiveUser (403 InvalidUserError)', async () => {
    await services.users.replace(user.id, { isActive: false });
    const refused = error(await rotate(login.refreshToken));
    expect(refused).to.deep.equal({ code: 'InactiveUser' });
    expect(http(refused).status).to.equal(403);
    expect(http(refused).error).to.equal('InvalidUserError');
  });

  it('with a grace of 0 a replay one second later revokes the session', async () => {
    const strict = fakeServices({ accessSeconds: 900, refreshSeconds: 3600, graceSeconds: 0 });
    const carol = value(await strict.createUser.execute({ username: 'carol', password: PASSWORD }));
    const issued = await strict.sessionStarter.start(carol);
    value(await strict.rotateRefreshToken.execute({ refreshToken: issued.refreshToken, client: CLIENT }));
    strict.clock.advanceSeconds(1);
    expect(
      error(await strict.rotateRefreshToken.execute({ refreshToken: issued.refreshToken, client: CLIENT })),
    ).to.deep.equal({
      code: 'InvalidRefreshToken',
    });
    expect((await strict.sessions.findById(issued.claims.sessionId))!.revokedAt).to.equal(strict.clock.now());
  });

  it('with a grace of 0 an immediate replay (same instant) revokes the session', async () => {
    const strict = fakeServices({ accessSeconds: 900, refreshSeconds: 3600, graceSeconds: 0 });
    const carol = value(await strict.createUser.execute({ username: 'carol', password: PASSWORD }));
    const issued = await strict.sessionStarter.start(carol);
    value(await strict.rotateRefreshToken.execute({ refreshToken: issued.refreshToken, client: CLIENT }));
    const replay = await strict.rotateRefreshToken.execute({ refreshToken: issued.refreshToken, client: CLIENT });
    expect(replay.ok, 'a grace window of 0 s must not answer a replay with the successor').to.equal(false);
    expect((await strict.sessions.findById(issued.claims.sessionId))!.revokedAt).to.equal(strict.clock.now());
  });

  it('answers TooManyRequests after 60 refreshes from one client in a minute, without spending the token', async () => {
    for (let i = 0; i < 60; i += 1) {
      expect(error(await rotate(`garbage-${i}`)), `probe ${i + 1}`).to.deep.equal({ code: 'InvalidRefreshToken' });
    }

    const refused = error(await rotate(login.refreshToken));

    expect(refused.code).to.equal('TooManyRequests');
    expect(refused.code === 'TooManyRequests' && refused.retryAfterSeconds)
      .to.be.greaterThan(0)
      .and.at.most(60);
    expect(http(refused).status).to.equal(429);
    expect(services.logger.events('rate_limited').map((line) => line.fields.action)).to.deep.equal(['refresh']);
    const elsewhere = value(
      await services.rotateRefreshToken.execute({ refreshToken: login.refreshToken, client: '192.0.2.2' }),
    );
    expect(elsewhere.refreshToken, 'the refused attempt did not spend the token').to.equal(
      services.opaqueTokens.successorOf(login.refreshToken),
    );
    expect(services.logger.events('refresh_token_reused')).to.deep.equal([]);
  });
});
