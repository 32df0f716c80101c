import { expect } from 'chai';
import { MAX_PAGE_SIZE } from '../../../src/application/use-cases/list-users.js';
import { type FakeServices, fakeServices } from '../../support/fake-services.js';
import { value } from '../../support/results.js';

const PASSWORD = 'correct horse battery staple 42';

describe('use case: ListUsers over the in-memory fakes', () => {
  let services: FakeServices;

  beforeEach(async () => {
    services = fakeServices();
    for (const name of ['u1', 'u2', 'u3']) {
      value(await services.createUser.execute({ username: name, password: PASSWORD }));
    }
  });

  it('answers a page of users without password hashes, with the total', async () => {
    const page = await services.listUsers.execute({ page: 2, perPage: 2 });
    expect(page).to.deep.equal({
      users: [{ id: 3, username: 'u3', roles: ['user'], isActive: true, email: null, emailVerified: false }],
      page: 2,
      perPage: 2,
      total: 3,
    });
    const all = await services.listUsers.execute({ page: 1, perPage: 100 });
    expect(all.users.map((user) => Object.keys(user).sort())).to.deep.equal(
      Array(3).fill(['email', 'emailVerified', 'id', 'isActive', 'roles', 'username']),
    );
    expect(JSON.stringify(all)).to.not.include('fake');
  });

  it(`answers up to MAX_PAGE_SIZE (${MAX_PAGE_SIZE}) users a page, and an empty page past the end`, async () => {
    expect(MAX_PAGE_SIZE).to.equal(100);
    expect((await services.listUsers.execute({ page: 1, perPage: MAX_PAGE_SIZE })).users).to.have.length(3);
    expect(await services.listUsers.execute({ page: 4, perPage: 1 })).to.deep.equal({
      users: [],
      page: 4,
      perPage: 1,
      total: 3,
    });
  });
});
