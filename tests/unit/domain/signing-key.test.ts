import { expect } from 'chai';
import { type SigningKeyInfo, keyStates, signingKeyAt } from '../../../src/domain/signing-key.js';

const key = (kid: string, activatesAt: number, retiresAt: number | null, createdAt = activatesAt): SigningKeyInfo => ({
  kid,
  algorithm: 'ES256',
  createdAt,
  activatesAt,
  retiresAt,
});

describe('signing key states', () => {
  const old = key('old', 0, 2000);
  const next = key('next', 1000, null, 500);

  it('the last key to have activated signs; a pending one does not', () => {
    expect(signingKeyAt([old, next], 999)?.kid).to.equal('old');
    expect(signingKeyAt([old, next], 1000)?.kid).to.equal('next');
    expect(signingKeyAt([key('a', 0, 10)], 10)).to.equal(undefined);
  });

  it('names each state through a rotation: pending, signing, verifying, retired', () => {
    const states = (now: number) => keyStates([next, old], now).map((k) => `${k.kid}:${k.state}`);
    expect(states(500)).to.deep.equal(['next:pending', 'old:signing']);
    expect(states(1000)).to.deep.equal(['next:signing', 'old:verifying']);
    expect(states(2000)).to.deep.equal(['next:signing', 'old:retired']);
  });
});
