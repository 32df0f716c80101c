import { expect } from 'chai';
import { DEFAULT_ROLES, MAX_ROLES, type User, validateRoles, viewOf } from '../../../src/domain/user.js';

describe('domain: DEFAULT_ROLES', () => {
  it('gives a new user the single role "user"', () => {
    expect(DEFAULT_ROLES).to.deep.equal(['user']);
  });
});

describe('domain: validateRoles', () => {
  it('accepts letters, digits and _ . : - and returns the distinct roles in order', () => {
    expect(validateRoles(['user', 'admin', 'user', 'ops:read', 'a.b_c-1'])).to.deep.equal({
      ok: true,
      value: ['user', 'admin', 'ops:read', 'a.b_c-1'],
    });
    expect(validateRoles([])).to.deep.equal({ ok: true, value: [] });
  });

  it('refuses a role with a comma, since roles travel comma-joined', () => {
    expect(validateRoles(['a,b'])).to.deep.equal({
      ok: false,
      error: { code: 'InvalidInput', field: 'roles', message: 'each role must be 1 to 32 letters, digits or _ . : -' },
    });
  });

  it('refuses empty, too long and non-ASCII role names', () => {
    for (const role of ['', 'r'.repeat(33), 'ädmin', 'with space', 'admin\n']) {
      const result = validateRoles(['user', role]);
      expect(result.ok, JSON.stringify(role)).to.equal(false);
      expect(!result.ok && result.error.field, JSON.stringify(role)).to.equal('roles');
    }
    expect(validateRoles(['r'.repeat(32)]).ok, '32 characters').to.equal(true);
  });

  it(`accepts ${MAX_ROLES} roles and refuses ${MAX_ROLES + 1}`, () => {
    const roles = Array.from({ length: MAX_ROLES + 1 }, (_, i) => `role${i}`);
    expect(validateRoles(roles.slice(0, MAX_ROLES)).ok).to.equal(true);
    expect(validateRoles(roles)).to.deep.equal({
      ok: false,
      error: {
        code: 'InvalidInput',
        field: 'roles',
        message: `roles must be a list of at most ${MAX_ROLES} role names`,
      },
    });
  });
});

describe('domain: viewOf', () => {
  const user: User = {
    id: 7,
    username: 'Alice',
    passwordHash: '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA',
    roles: ['user', 'admin'],
    isActive: false,
    email: 'Alice@Example.com',
    emailVerified: true,
  };

  it('shows id, username, roles, the active flag and the address', () => {
    expect(viewOf(user)).to.deep.equal({
      id: 7,
      username: 'Alice',
      roles: ['user', 'admin'],
      isActive: false,
      email: 'Alice@Example.com',
      emailVerified: true,
    });
  });

  it('is a whitelist: no password hash, nor any field added to the object later', () => {
    const withExtras = { ...user, totpSecret: 'JBSWY3DPEHPK3PXP' } as User;
    const view = viewOf(withExtras);
    expect(Object.keys(view).sort()).to.deep.equal(['email', 'emailVerified', 'id', 'isActive', 'roles', 'username']);
    expect(view).to.not.have.property('passwordHash');
    expect(JSON.stringify(view)).to.not.include('argon2').and.not.include('JBSWY3DPEHPK3PXP');
  });
});
