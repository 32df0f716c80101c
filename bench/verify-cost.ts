import { generateKeyPairSync } from 'node:crypto';
import type { AccessClaims } from '../src/application/ports/token-signer.js';
import { CachingTokenSigner } from '../src/infrastructure/security/caching-token-signer.js';
import { JwtTokenSigner } from '../src/infrastructure/security/jwt-token-signer.js';
import {
  type JwtAlgorithm,
  KeyRing,
  type SigningKey,
  hmacSigningKey,
  jwkThumbprint,
} from '../src/infrastructure/security/key-ring.js';

export interface VerifyCost {
  readonly algorithm: JwtAlgorithm;
  /** One verification of a token not seen before: signature, header pinning and claims. */
  readonly verifyMicros: number;
  /** One verification through the verified-token cache the service puts in front (a token presented again). */
  readonly cachedMicros: number;
  readonly signMicros: number;
  readonly tokenBytes: number;
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function keyFor(algorithm: JwtAlgorithm): SigningKey {
  if (algorithm === 'HS256') return hmacSigningKey('bench-secret-that-is-at-least-32-bytes-long');
  const { privateKey, publicKey } =
    algorithm === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    kid: jwkThumbprint(publicKey),
    algorithm,
    privateKey,
    publicKey,
    createdAt: 0,
    activatesAt: 0,
    retiresAt: null,
  };
}

/** Microseconds per call of `run`, median of five timed runs of `count` calls after a warm-up. */
function micros(count: number, run: (index: number) => unknown): number {
  for (let index = 0; index < Math.min(count, 200); index += 1) run(index);
  const runs: number[] = [];
  for (let round = 0; round < 5; round += 1) {
    const start = process.hrtime.bigint();
    for (let index = 0; index < count; index += 1) run(index);
    runs.push(Number(process.hrtime.bigint() - start) / 1000 / count);
  }
  return median(runs);
}

/** What signing and verifying an access token costs with each algorithm, as the service does it (KeyObjects). */
export function verifyCosts(count = 2000): VerifyCost[] {
  const now = Math.floor(Date.now() / 1000);
  const claims = (index: number): AccessClaims => ({
    tokenId: `bench-${index}`,
    sessionId: '00000000-0000-4000-8000-000000000001',
    userId: 1,
    roles: ['user'],
    issuedAt: now,
    expiresAt: now + 900,
    refreshableUntil: now + 86400,
  });
  return (['HS256', 'ES256', 'RS256'] as const).map((algorithm) => {
    const signer = new JwtTokenSigner({ keys: new KeyRing([keyFor(algorithm)]), issuer: 'jwt-login' });
    const tokens = Array.from({ length: count }, (_, index) => signer.sign(claims(index)));
    const cached = new CachingTokenSigner(signer, count);
    for (const token of tokens) cached.verify(token, now);
    return {
      algorithm,
      verifyMicros: micros(count, (index) => signer.verify(tokens[index]!, now)),
      cachedMicros: micros(count, (index) => cached.verify(tokens[index]!, now)),
      signMicros: micros(count, (index) => signer.sign(claims(index))),
      tokenBytes: tokens[0]!.length,
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const cost of verifyCosts()) console.log(cost);
}
