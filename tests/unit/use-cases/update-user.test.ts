import { expect } from 'chai';
import sinon from 'sinon';
import type { User } from '../../../src/domain/user.js';
import { type FakeServices, fakeServices } from '../../support/fake-services.js';
import { error, value } from '../../support/results.js';

const PASSWORD = 'correct horse battery staple 42';
/** A documentation address (RFC 5737), for the refresh limit. */
const CLIENT = '192.0.2.1';
/** The admin making the changes (the audit trail names them). */
const ADMIN = { via: 'api', userId: 41, username: 'root' } as const;

async function newUser(services: FakeServices, username: string, roles?: string[]): Promise<User> {
  return value(await services.createUser.execute({ username, password: PASSWORD, ...(roles ? { roles } : {}) }));
}

describe('use case: UpdateUser over the in-memory fakes', () => {
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

    const updated = value(
      await services.updateUser.execute({ actor: ADMIN, target: { id: alice.id }, isActive: false }),
    );
    expect(updated).to.deep.include({ id: alice.id, username: 'alice', roles: ['user'], isActive: false });

    for (const issued of [first, second]) {
      expect((await services.sessions.findById(issued.claims.sessionId))!.revokedAt).to.equal(services.clock.now());
    }
    expect((await services.sessions.findById(other.claims.sessionId))!.revokedAt).to.equal(null);
    expect(services.logger.events('revocation').map((line) => line.fields)).to.deep.equal([
      {
        event: 'revocation',
        outcome: 'success',
        reason: 'user_deactivated',
        via: 'api',
        user_id: ADMIN.userId,
        username: 'root',
        target_user_id: alice.id,
        target_username: 'alice',
        target_roles: ['user'],
        sessions: 2,
      },
    ]);
    expect(warn.calledWithMatch('user deactivated: sessions revoked')).to.equal(true);
    expect(services.events.count('revocation')).to.equal(2);

    // reactivation brings nothing back
    value(await services.updateUser.execute({ actor: ADMIN, target: { id: alice.id }, isActive: true }));
    expect(error(await services.verifyAccessToken.execute({ token: first.accessToken }))).to.deep.equal({
      code: 'RevokedToken',
    });
    expect(
      error(await services.rotateRefreshToken.execute({ refreshToken: second.refreshToken, client: CLIENT })),
    ).to.deep.equal({
      code: 'InvalidRefreshToken',
    });
    expect(value(await services.verifyAccessToken.execute({ token: other.accessToken })).userId).to.equal(bob.id);
  });

  it('logs every change with the acting admin and the target (the audit trail)', async () => {
    value(await services.updateUser.execute({ actor: ADMIN, target: { id: alice.id }, roles: ['user', 'auditor'] }));
    const cli = { via: 'cli', username: 'operator' } as const;
    value(await services.updateUser.execute({ actor: cli, target: { username: 'bob' }, isActive: false }));
    expect(services.logger.events('user_updated').map((line) => line.fields)).to.deep.equal([
      {
        event: 'user_updated',
        outcome: 'success',
        via: 'api',
        user_id: 41,
        username: 'root',
        target_user_id: alice.id,
        target_username: 'alice',
        target_roles: ['user', 'auditor'],
        changed_roles: ['user', 'auditor'],
        is_active: true,
      },
      {
        event: 'user_updated',
        outcome: 'success',
        via: 'cli',
        user_id: null,
        username: 'operator',
        target_user_id: bob.id,
        target_username: 'bob',
        target_roles: ['user'],
        is_active: false,
      },
    ]);
  });

  it('a roles change keeps sessions and logs no revocation', async () => {
    const issued = await services.sessionStarter.start(alice);
    const updated = value(
      await services.updateUser.execute({ actor: ADMIN, target: { id: alice.id }, roles: ['user', 'admin'] }),
    );
    expect(updated.roles).to.deep.equal(['user', 'admin']);
    expect(updated).to.not.have.property('passwordHash');
    expect((await services.sessions.findById(issued.claims.sessionId))!.revokedAt).to.equal(null);
    expect(services.logger.events('revocation')).to.deep.equal([]);
    expect((await services.users.findById(alice.id))!.roles).to.deep.equal(['user', 'admin']);
  });

  it('refuses role names that break the role rule with InvalidInput on "roles", and changes nothing', async () => {
    for (const roles of [['a,b'], ['user', ''], ['with space']]) {
      const refused = error(
        await services.updateUser.execute({ actor: ADMIN, target: { id: alice.id }, roles, isActive: false }),
      );
      expect(refused, JSON.stringify(roles)).to.deep.include({ code: 'InvalidInput', field: 'roles' });
    }
    const stored = await services.users.findById(alice.id);
    expect([stored!.roles, stored!.isActive]).to.deep.equal([['user'], true]);
    expect(services.logger.events('revocation')).to.deep.equal([]);
  });

  it('an unknown id → UserNotFound', async () => {
    expect(
      error(await services.updateUser.execute({ actor: ADMIN, target: { id: 999 }, isActive: false })),
    ).to.deep.equal({
      code: 'UserNotFound',
    });
    expect(services.logger.events('revocation')).to.deep.equal([]);
  });

  it('finds the target by username as compared (the admin CLI), and an unknown username → UserNotFound', async () => {
    const updated = value(
      await services.updateUser.execute({ actor: ADMIN, target: { username: 'ＢＯＢ' }, roles: ['auditor'] }),
    );
    expect(updated).to.deep.include({ id: bob.id, username: 'bob', roles: ['auditor'], isActive: true });
    expect(
      error(await services.updateUser.execute({ actor: ADMIN, target: { username: 'nobody' }, isActive: false })),
    ).to.deep.equal({ code: 'UserNotFound' });
  });
});
