import { expect } from 'chai';
import { canonicalAddress } from '../../../src/interfaces/http/client-address.js';
import { clientLimitKey } from '../../../src/infrastructure/security/flexible-rate-limits.js';

describe('client addresses: one canonical form, IPv6 limited per /64', () => {
  it('writes an IPv4-mapped IPv6 address as the IPv4 address, and IPv6 in its shortest form', () => {
    expect(canonicalAddress('::ffff:127.0.0.40')).to.equal('127.0.0.40');
    expect(canonicalAddress('::ffff:7f00:28')).to.equal('127.0.0.40');
    expect(canonicalAddress('127.0.0.40')).to.equal('127.0.0.40');
    expect(canonicalAddress('2001:DB8:0:0:0:0:0:1')).to.equal('2001:db8::1');
    expect(canonicalAddress('not an address')).to.equal('not an address');
  });

  it('counts every address of one IPv6 /64 as one client for the limits, and each IPv4 address on its own', () => {
    expect(clientLimitKey('2001:db8:1:2:3:4:5:6')).to.equal('2001:db8:1:2::/64');
    expect(clientLimitKey('2001:db8:1:2:ffff::1')).to.equal('2001:db8:1:2::/64');
    expect(clientLimitKey('2001:db8:1:3::1')).to.equal('2001:db8:1:3::/64');
    expect(clientLimitKey('::ffff:127.0.0.40')).to.equal('127.0.0.40');
    expect(clientLimitKey('127.0.0.40')).to.equal('127.0.0.40');
  });
});
