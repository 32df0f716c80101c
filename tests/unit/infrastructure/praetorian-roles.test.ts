import { expect } from 'chai';
import { formatRoleList, parseRoleList } from '../../../src/infrastructure/praetorian-roles.js';

describe('praetorian roles: the comma-joined role list of the roles column and the rls claim', () => {
  it('reads null, undefined and empty text as no roles', () => {
    expect(parseRoleList(null)).to.deep.equal([]);
    expect(parseRoleList(undefined)).to.deep.equal([]);
    expect(parseRoleList('')).to.deep.equal([]);
  });

  it('splits on commas, trims padding and drops empty entries', () => {
    expect(parseRoleList('admin')).to.deep.equal(['admin']);
    expect(parseRoleList('admin,user')).to.deep.equal(['admin', 'user']);
    expect(parseRoleList(' admin , user ')).to.deep.equal(['admin', 'user']);
    expect(parseRoleList(',admin,,user,')).to.deep.equal(['admin', 'user']);
    expect(parseRoleList(' , ,')).to.deep.equal([]);
  });

  it('writes roles comma-joined, and reads back what it wrote', () => {
    expect(formatRoleList(['admin', 'user'])).to.equal('admin,user');
    expect(formatRoleList([])).to.equal('');
    expect(parseRoleList(formatRoleList(['operator', 'user', 'admin']))).to.deep.equal(['operator', 'user', 'admin']);
  });
});
