import { AccessTokenIssuer } from '../../src/application/services/access-token-issuer.js';
import { Authenticate } from '../../src/application/use-cases/authenticate.js';
import { GetSecret } from '../../src/application/use-cases/get-secret.js';
import { RefreshToken } from '../../src/application/use-cases/refresh-token.js';
import { RegisterUser } from '../../src/application/use-cases/register-user.js';
import { VerifyAccessToken } from '../../src/application/use-cases/verify-access-token.js';
import { JwtTokenSigner } from '../../src/infrastructure/security/jwt-token-signer.js';
import { ZxcvbnCommonPasswords } from '../../src/infrastructure/security/zxcvbn-common-passwords.js';
import { FakePasswordHasher } from '../fakes/fake-password-hasher.js';
import { FixedClock } from '../fakes/fixed-clock.js';
import { InMemoryUserRepository } from '../fakes/in-memory-user-repository.js';
import { MemoryLogger } from '../fakes/memory-logger.js';
import { SequentialIdGenerator } from '../fakes/sequential-id-generator.js';

export const UNIT_SECRET = 'unit-test-secret-of-at-least-32-bytes!!';
export const UNIT_ISSUER = 'jwt-login';

/**
 * Every use case wired to in-memory fakes (and the real, I/O-free JWT signer), with the fakes exposed so tests can
 * arrange state and read it back. Lifespans default to the service's own: 15 minutes and 30 days.
 */
export function fakeServices(lifespans = { accessSeconds: 900, refreshSeconds: 30 * 86400 }) {
  const users = new InMemoryUserRepository();
  const hasher = new FakePasswordHasher();
  const clock = new FixedClock();
  const ids = new SequentialIdGenerator();
  const logger = new MemoryLogger();
  const signer = new JwtTokenSigner({ secret: UNIT_SECRET, issuer: UNIT_ISSUER });
  const commonPasswords = new ZxcvbnCommonPasswords();
  const tokens = new AccessTokenIssuer(signer, ids, clock, lifespans);
  return {
    users,
    hasher,
    clock,
    ids,
    logger,
    signer,
    commonPasswords,
    tokens,
    registerUser: new RegisterUser(users, hasher, commonPasswords, tokens, logger),
    authenticate: new Authenticate(users, hasher, tokens, logger),
    refreshToken: new RefreshToken(signer, users, tokens, logger),
    verifyAccessToken: new VerifyAccessToken(signer, users, clock),
    getSecret: new GetSecret(),
  };
}

export type FakeServices = ReturnType<typeof fakeServices>;
