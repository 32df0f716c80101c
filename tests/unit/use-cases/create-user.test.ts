import { expect } from 'chai';
import { fakeServices } from '../../support/fake-services.js';
import { error, value } from '../../support/results.js';

const PASSWORD = 'correct horse battery staple';

describe('use case: CreateUser (the admin CLI and registration)', () => {
  it('creates an active user with the role "user" when no roles are given', async () => {
    const s = fakeServices();
    const created = value(await s.createUser.execute({ username: 'alice', password: PASSWORD }));
    expect(created).to.deep.equal({
      id: created.id,
      username: 'alice',
      passwordHash: `fake$3$=${PASSWORD}`,
      roles: ['user'],
      isActive: true,
      email: null,
      emailVerified: false,
    });
    expect(await s.users.findById(created.id)).to.deep.equal(created);
  });

  it('stores the roles a trusted caller gives, each once, in order', async () => {
    const s = fakeServices();
    const created = value(
      await s.createUser.execute({
        username: 'root',
        password: PASSWORD,
        roles: ['admin', 'user', 'admin'],
        actor: { via: 'cli', username: 'operator' },
      }),
    );
    expect((await s.users.findById(created.id))?.roles).to.deep.equal(['admin', 'user']);
    expect(s.logger.events('user_created').map((line) => line.fields)).to.deep.equal([
      {
        event: 'user_created',
        outcome: 'success',
        via: 'cli',
        user_id: null,
        username: 'operator',
        target_user_id: created.id,
        target_username: 'root',
        target_roles: ['admin', 'user'],
      },
    ]);
  });

  it('refuses a role name that breaks the role rule with InvalidInput on "roles", and stores nothing', async () => {
    const s = fakeServices();
    expect(
      error(await s.createUser.execute({ username: 'root', password: PASSWORD, roles: ['admin,user'] })),
    ).to.deep.equal({
      code: 'InvalidInput',
      field: 'roles',
      message: 'each role must be 1 to 32 letters, digits or _ . : -',
    });
    expect(await s.users.findByUsername('root')).to.equal(null);
  });

  it('answers UserExists for a name taken in another case, and keeps the first user', async () => {
    const s = fakeServices();
    const first = value(await s.createUser.execute({ username: 'alice', password: PASSWORD }));
    expect(error(await s.createUser.execute({ username: 'ALICE', password: 'another password 123' }))).to.deep.equal({
      code: 'UserExists',
    });
    expect((await s.users.findByUsername('alice'))?.id).to.equal(first.id);
  });
});
