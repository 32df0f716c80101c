import { expect } from 'chai';
import sinon from 'sinon';
import type { User } from '../../../src/domain/user.js';
import { type FakeServices, fakeServices } from '../../support/fake-services.js';
import { error, value } from '../../support/results.js';

const PASSWORD = 'correct horse battery staple 42';

async function newUser(services: FakeServices, username: string, roles?: string[]): Promise<User> {
  return value(await services.createUser.execute({ username, password: PASSWORD, ...(roles ? { roles } : {}) }));
}

describe('UpdateUser over the in-memory fakes', () => {
  let services: FakeServices;
  let alice: User;
  let bob: User;

  beforeEach(async () => {
    services = fakeServices();
    alice = await newUser(services, 'alice');
    bob = await newUser(services, 'bob');
  });

  it('deactivation revokes every live session of that user only, and logs a revocation event', async () => {
    const warn = sinon.spy(services.logger, 'warn');
    const first = await services.sessionStarter.start(alice);
    const second = await services.sessionStarter.start(alice);
    const other = await services.sessionStarter.start(bob);
    services.clock.advanceSeconds(7);

    const updated = value(await services.updateUser.execute({ target: { id: alice.id }, isActive: false }));
    expect(updated).to.deep.equal({ id: alice.id, username: 'alice', roles: ['user'], isActive: false });

    for (const issued of [first, second]) {
      expect((await services.sessions.findById(issued.claims.sid))!.revokedAt).to.equal(services.clock.now());
    }
    expect((await services.sessions.findById(other.claims.sid))!.revokedAt).to.equal(null);
    expect(services.logger.events('revocation').map((line) => line.fields)).to.deep.equal([
      { event: 'revocation', reason: 'user_deactivated', user_id: alice.id, sessions: 2 },
    ]);
    expect(warn.calledWithMatch('user deactivated: sessions revoked')).to.equal(true);

    // reactivation brings nothing back
    value(await services.updateUser.execute({ target: { id: alice.id }, isActive: true }));
    expect(error(await services.verifyAccessToken.execute({ token: first.accessToken }))).to.deep.equal({
      code: 'RevokedToken',
    });
    expect(error(await services.refreshToken.execute({ refreshToken: second.refreshToken }))).to.deep.equal({
      code: 'InvalidRefreshToken',
    });
    expect(value(await services.verifyAccessToken.execute({ token: other.accessToken })).userId).to.equal(bob.id);
  });

  it('a roles change keeps sessions and logs no revocation', async () => {
    const issued = await services.sessionStarter.start(alice);
    const updated = value(await services.updateUser.execute({ target: { id: alice.id }, roles: ['user', 'admin'] }));
    expect(updated.roles).to.deep.equal(['user', 'admin']);
    expect(updated).to.not.have.property('passwordHash');
    expect((await services.sessions.findById(issued.claims.sid))!.revokedAt).to.equal(null);
    expect(services.logger.events('revocation')).to.deep.equal([]);
    expect((await services.users.findById(alice.id))!.roles).to.deep.equal(['user', 'admin']);
  });

  it('refuses bad values with InvalidInput naming the field, and changes nothing', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ roles: 'admin' }, 'roles'],
      [{ roles: [1] }, 'roles'],
      [{ roles: ['a,b'] }, 'roles'],
      [{ isActive: 'no' }, 'is_active'],
      [{}, 'body'],
    ];
    for (const [changes, field] of cases) {
      const refused = error(await services.updateUser.execute({ target: { id: alice.id }, ...changes }));
      expect(refused.code, JSON.stringify(changes)).to.equal('InvalidInput');
      expect((refused as { field: string }).field, JSON.stringify(changes)).to.equal(field);
    }
    const stored = await services.users.findById(alice.id);
    expect([stored!.roles, stored!.isActive]).to.deep.equal([['user'], true]);
  });

  it('an unknown id → UserNotFound', async () => {
    expect(error(await services.updateUser.execute({ target: { id: 999 }, isActive: false }))).to.deep.equal({
      code: 'UserNotFound',
    });
    expect(services.logger.events('revocation')).to.deep.equal([]);
  });
});

describe('ListUsers over the in-memory fakes', () => {
  let services: FakeServices;

  beforeEach(async () => {
    services = fakeServices();
    for (const name of ['u1', 'u2', 'u3']) await newUser(services, name);
  });

  it('answers a page of users without password hashes, with the total', async () => {
    const page = value(await services.listUsers.execute({ page: 2, perPage: 2 }));
    expect(page).to.deep.equal({
      users: [{ id: 3, username: 'u3', roles: ['user'], isActive: true }],
      page: 2,
      perPage: 2,
      total: 3,
    });
    const all = value(await services.listUsers.execute({ page: 1, perPage: 100 }));
    expect(all.users.map((user) => Object.keys(user).sort())).to.deep.equal(
      Array(3).fill(['id', 'isActive', 'roles', 'username']),
    );
    expect(JSON.stringify(all)).to.not.include('fake');
  });

  it('refuses page and per_page out of bounds', async () => {
    const cases: [number, number, string][] = [
      [0, 20, 'page'],
      [-1, 20, 'page'],
      [Number.NaN, 20, 'page'],
      [1.5, 20, 'page'],
      [1, 0, 'per_page'],
      [1, 101, 'per_page'],
      [1, 1000, 'per_page'],
      [1, Number.NaN, 'per_page'],
    ];
    for (const [page, perPage, field] of cases) {
      const refused = error(await services.listUsers.execute({ page, perPage }));
      expect(refused.code, `${page}/${perPage}`).to.equal('InvalidInput');
      expect((refused as { field: string }).field, `${page}/${perPage}`).to.equal(field);
    }
    expect(value(await services.listUsers.execute({ page: 1, perPage: 100 })).users).to.have.length(3);
  });
});

describe('Logout over the in-memory fakes', () => {
  it("revokes the principal's session only, and logs a revocation", async () => {
    const services = fakeServices();
    const alice = await newUser(services, 'alice');
    const mine = await services.sessionStarter.start(alice);
    const otherDevice = await services.sessionStarter.start(alice);
    services.clock.advanceSeconds(3);

    const principal = value(await services.verifyAccessToken.execute({ token: mine.accessToken }));
    await services.logout.execute({ principal });

    expect((await services.sessions.findById(mine.claims.sid))!.revokedAt).to.equal(services.clock.now());
    expect((await services.sessions.findById(otherDevice.claims.sid))!.revokedAt).to.equal(null);
    expect(error(await services.verifyAccessToken.execute({ token: mine.accessToken }))).to.deep.equal({
      code: 'RevokedToken',
    });
    expect(error(await services.refreshToken.execute({ refreshToken: mine.refreshToken }))).to.deep.equal({
      code: 'InvalidRefreshToken',
    });
    expect(value(await services.verifyAccessToken.execute({ token: otherDevice.accessToken })).sessionId).to.equal(
      otherDevice.claims.sid,
    );
    expect(value(await services.refreshToken.execute({ refreshToken: otherDevice.refreshToken })).claims.sid).to.equal(
      otherDevice.claims.sid,
    );
    expect(services.logger.events('revocation').map((line) => line.fields)).to.deep.equal([
      { event: 'revocation', reason: 'logout', user_id: alice.id, session_id: mine.claims.sid },
    ]);
  });
});
