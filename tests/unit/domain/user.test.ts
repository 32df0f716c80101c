import { expect } from 'chai';
import { DEFAULT_ROLES, formatRoles, isActiveFlag, parseRoles } from '../../../src/domain/user.js';

describe('domain: roles as praetorian stored them', () => {
  it('reads null, undefined and empty text as no roles', () => {
    expect(parseRoles(null)).to.deep.equal([]);
    expect(parseRoles(undefined)).to.deep.equal([]);
    expect(parseRoles('')).to.deep.equal([]);
  });

  it('splits on commas, trims padding and drops empty entries', () => {
    expect(parseRoles('admin')).to.deep.equal(['admin']);
    expect(parseRoles('admin,user')).to.deep.equal(['admin', 'user']);
    expect(parseRoles(' admin , user ')).to.deep.equal(['admin', 'user']);
    expect(parseRoles(',admin,,user,')).to.deep.equal(['admin', 'user']);
    expect(parseRoles(' , ,')).to.deep.equal([]);
  });

  it('writes roles comma-joined, and reads back what it wrote', () => {
    expect(formatRoles(['admin', 'user'])).to.equal('admin,user');
    expect(formatRoles([])).to.equal('');
    expect(parseRoles(formatRoles(['operator', 'user', 'admin']))).to.deep.equal(['operator', 'user', 'admin']);
  });

  it('gives a new user the single role "user"', () => {
    expect(DEFAULT_ROLES).to.deep.equal(['user']);
  });
});

describe('domain: isActiveFlag', () => {
  it('treats a missing flag as active, as praetorian did, and only false as inactive', () => {
    expect(isActiveFlag(null)).to.equal(true);
    expect(isActiveFlag(undefined)).to.equal(true);
    expect(isActiveFlag(true)).to.equal(true);
    expect(isActiveFlag(false)).to.equal(false);
  });
});
