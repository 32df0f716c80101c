import { expect } from 'chai';
import type { AccessClaims, TokenSigner, TokenVerification } from '../../../src/application/ports/token-signer.js';
import { CachingTokenSigner } from '../../../src/infrastructure/security/caching-token-signer.js';
import { JwtTokenSigner } from '../../../src/infrastructure/security/jwt-token-signer.js';

const SECRET = 'caching-signer-secret-of-32-bytes-or-more';
const NOW = 1_800_000_000;
const claims: AccessClaims = {
  tokenId: 'jti-1',
  sessionId: '00000000-0000-4000-8000-000000000001',
  userId: 7,
  roles: ['user'],
  issuedAt: NOW,
  expiresAt: NOW + 900,
  refreshableUntil: NOW + 86_400,
};

/** The real signer, counting the verifications that reach it. */
class CountingSigner implements TokenSigner {
  readonly real = new JwtTokenSigner({ secret: SECRET, issuer: 'jwt-login' });
  verifications = 0;
  sign(value: AccessClaims): string {
    return this.real.sign(value);
  }
  verify(token: string, nowSeconds: number): TokenVerification {
    this.verifications += 1;
    return this.real.verify(token, nowSeconds);
  }
}

describe('CachingTokenSigner: verified tokens remembered, nothing else', () => {
  it('verifies a token once, then answers from memory with the same claims', () => {
    const inner = new CountingSigner();
    const signer = new CachingTokenSigner(inner, 10);
    const token = signer.sign(claims);
    const first = signer.verify(token, NOW + 1);
    expect(first).to.deep.equal({ status: 'valid', claims });
    for (let i = 0; i < 5; i += 1) expect(signer.verify(token, NOW + 2)).to.deep.equal(first);
    expect(inner.verifications).to.equal(1);
  });

  it('judges expiry anew on every call', () => {
    const signer = new CachingTokenSigner(new CountingSigner(), 10);
    const token = signer.sign(claims);
    expect(signer.verify(token, NOW).status).to.equal('valid');
    expect(signer.verify(token, claims.expiresAt - 1).status).to.equal('valid');
    expect(signer.verify(token, claims.expiresAt)).to.deep.equal({ status: 'expired', claims });
  });

  it('never remembers a token it refused: a forged or tampered one is checked every time', () => {
    const inner = new CountingSigner();
    const signer = new CachingTokenSigner(inner, 10);
    const forged = new JwtTokenSigner({ secret: 'another-secret-that-is-32-bytes-long!', issuer: 'jwt-login' }).sign(
      claims,
    );
    const token = signer.sign(claims);
    const tampered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    for (let i = 0; i < 3; i += 1) {
      expect(signer.verify(forged, NOW).status).to.equal('invalid');
      expect(signer.verify(tampered, NOW).status).to.equal('invalid');
    }
    expect(inner.verifications).to.equal(6);
  });

  it('does not remember a token that was already expired when first seen (praetorian refreshes read it once)', () => {
    const inner = new CountingSigner();
    const signer = new CachingTokenSigner(inner, 10);
    const token = signer.sign(claims);
    signer.verify(token, claims.expiresAt + 10);
    signer.verify(token, claims.expiresAt + 10);
    expect(inner.verifications).to.equal(2);
  });

  it('holds at most its size, and forgets everything on clear()', () => {
    const inner = new CountingSigner();
    const signer = new CachingTokenSigner(inner, 2);
    const tokens = [1, 2, 3].map((n) => signer.sign({ ...claims, tokenId: `jti-${n}` }));
    for (const token of tokens) signer.verify(token, NOW);
    signer.verify(tokens[2]!, NOW);
    signer.verify(tokens[0]!, NOW);
    expect(inner.verifications, 'the least recently used one was dropped').to.equal(4);
    signer.clear();
    signer.verify(tokens[2]!, NOW);
    expect(inner.verifications).to.equal(5);
  });
});
