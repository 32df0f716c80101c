import { expect } from 'chai';
import { isActiveFlag, toUser } from '../../../src/infrastructure/persistence/user-mapper.js';

describe('user mapper: a row of the seed users table', () => {
  it('treats a missing flag as active, as praetorian did, and only false as inactive', () => {
    expect(isActiveFlag(null)).to.equal(true);
    expect(isActiveFlag(undefined)).to.equal(true);
    expect(isActiveFlag(true)).to.equal(true);
    expect(isActiveFlag(false)).to.equal(false);
  });

  it('maps a row written by another tool (padded roles, null is_active) to a user', () => {
    expect(
      toUser({
        id: 3,
        username: 'Alice',
        password: 'hash',
        roles: ' admin , user,',
        is_active: null,
        email: null,
        email_verified: false,
      }),
    ).to.deep.equal({
      id: 3,
      username: 'Alice',
      passwordHash: 'hash',
      roles: ['admin', 'user'],
      isActive: true,
      email: null,
      emailVerified: false,
    });
    expect(
      toUser({
        id: 4,
        username: 'bob',
        password: 'h',
        roles: null,
        is_active: false,
        email: 'bob@example.com',
        email_verified: true,
      }),
    ).to.deep.equal({
      id: 4,
      username: 'bob',
      passwordHash: 'h',
      roles: [],
      isActive: false,
      email: 'bob@example.com',
      emailVerified: true,
    });
  });
});
