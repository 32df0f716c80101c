import { AccessTokenIssuer } from '../../src/application/services/access-token-issuer.js';
import { RepositoryAccessState } from '../../src/application/services/repository-access-state.js';
import { SessionStarter } from '../../src/application/services/session-starter.js';
import { Authenticate } from '../../src/application/use-cases/authenticate.js';
import { CreateUser } from '../../src/application/use-cases/create-user.js';
import { GetSecret } from '../../src/application/use-cases/get-secret.js';
import { ListUsers } from '../../src/application/use-cases/list-users.js';
import { Logout } from '../../src/application/use-cases/logout.js';
import { RefreshAccessToken } from '../../src/application/use-cases/refresh-access-token.js';
import { RotateRefreshToken } from '../../src/application/use-cases/rotate-refresh-token.js';
import { RegisterUser } from '../../src/application/use-cases/register-user.js';
import { UpdateUser } from '../../src/application/use-cases/update-user.js';
import { VerifyAccessToken } from '../../src/application/use-cases/verify-access-token.js';
import { FlexibleRateLimits } from '../../src/infrastructure/security/flexible-rate-limits.js';
import { HmacOpaqueTokens } from '../../src/infrastructure/security/hmac-opaque-tokens.js';
import { JwtTokenSigner } from '../../src/infrastructure/security/jwt-token-signer.js';
import { KeyRing, hmacSigningKey } from '../../src/infrastructure/security/key-ring.js';
import { ConstantTimeClientCredentials } from '../../src/infrastructure/security/constant-time-client-credentials.js';
import { IntrospectToken } from '../../src/application/use-cases/introspect-token.js';
import { ZxcvbnCommonPasswords } from '../../src/infrastructure/security/zxcvbn-common-passwords.js';
import { PraetorianTokenVerifier } from '../../src/infrastructure/security/praetorian-token-verifier.js';
import { InMemoryTokenBlacklist } from '../fakes/in-memory-token-blacklist.js';
import { FakePasswordHasher } from '../fakes/fake-password-hasher.js';
import { InMemoryAccountStore } from '../fakes/in-memory-account-store.js';
import { AccountMails } from '../../src/application/services/account-mails.js';
import { ConfirmEmail } from '../../src/application/use-cases/confirm-email.js';
import { ManageUser, OwnAccount } from '../../src/application/use-cases/own-account.js';
import { RequestPasswordReset, ResetPassword } from '../../src/application/use-cases/password-reset.js';
import { FixedClock } from '../fakes/fixed-clock.js';
import { InMemorySessionRepository } from '../fakes/in-memory-session-repository.js';
import { InMemoryUserRepository } from '../fakes/in-memory-user-repository.js';
import { MemoryLogger } from '../fakes/memory-logger.js';
import { CountingAuthEvents } from '../fakes/counting-auth-events.js';
import { SequentialIdGenerator } from '../fakes/sequential-id-generator.js';

export const UNIT_SECRET = 'unit-test-secret-of-at-least-32-bytes!!';
export const UNIT_ISSUER = 'jwt-login';
/** The clients allowed to introspect with HTTP Basic. */
export const INTROSPECTION_CLIENTS = [{ id: 'billing', secret: 'billing-secret-0123456789' }];
/** The service's default limits (rate-limiter-flexible's memory store stands in for PostgreSQL). */
export const RATE_LIMITS = {
  loginFailuresPerUser: 10,
  loginLockoutSeconds: 900,
  loginFailuresPerClientPerHour: 100,
  registrationsPerClientPerHour: 20,
  mailsPerClientPerHour: 10,
  mailsPerAddressPerHour: 3,
  refreshesPerClientPerMinute: 60,
};

/**
 * Every use case wired to in-memory fakes (and the real, I/O-free JWT signer and opaque tokens), with the fakes exposed
 * so tests can arrange state and read it back. Lifespans default to the service's own: 15 minutes and 30 days; the
 * refresh-token reuse grace to 10 seconds.
 */
export function fakeServices(
  lifespans = { accessSeconds: 900, refreshSeconds: 30 * 86400, graceSeconds: 10 },
  options: { readonly legacyTokens?: boolean } = {},
) {
  const users = new InMemoryUserRepository();
  const sessions = new InMemorySessionRepository(users);
  const hasher = new FakePasswordHasher();
  const clock = new FixedClock();
  const ids = new SequentialIdGenerator();
  const logger = new MemoryLogger();
  const events = new CountingAuthEvents();
  const keys = new KeyRing([hmacSigningKey(UNIT_SECRET)], true);
  const signer = new JwtTokenSigner({ keys, issuer: UNIT_ISSUER });
  const opaqueTokens = new HmacOpaqueTokens(UNIT_SECRET);
  const commonPasswords = new ZxcvbnCommonPasswords();
  const tokens = new AccessTokenIssuer(signer, ids, clock, lifespans.accessSeconds);
  const sessionStarter = new SessionStarter(sessions, opaqueTokens, tokens, ids, clock, lifespans.refreshSeconds);
  const createUser = new CreateUser(users, hasher, commonPasswords, logger);
  const rateLimits = new FlexibleRateLimits(RATE_LIMITS, 'memory');
  const accessState = new RepositoryAccessState(users, sessions);
  const accounts = new InMemoryAccountStore(users, sessions);
  const mails = new AccountMails({
    confirmationUrl: 'http://localhost:3000/finalize',
    resetUrl: 'http://localhost:3000/reset',
    confirmationSeconds: 86400,
    resetSeconds: 3600,
  });
  const registerUser = (emailConfirmation: 'off' | 'required') =>
    new RegisterUser(
      createUser,
      sessionStarter,
      rateLimits,
      logger,
      hasher,
      accounts,
      mails,
      opaqueTokens,
      clock,
      {
        registration: 'open',
        emailConfirmation,
      },
      events,
    );
  const blacklist = new InMemoryTokenBlacklist();
  const legacy = options.legacyTokens
    ? { verifier: new PraetorianTokenVerifier(UNIT_SECRET), blacklist, sessions, ids }
    : undefined;
  const verifyAccessToken = new VerifyAccessToken(signer, accessState, clock, legacy);
  return {
    users,
    sessions,
    hasher,
    clock,
    ids,
    logger,
    events,
    signer,
    opaqueTokens,
    commonPasswords,
    tokens,
    sessionStarter,
    createUser,
    accounts,
    mails,
    registerUser: registerUser('off'),
    registerWithConfirmation: registerUser('required'),
    confirmEmail: new ConfirmEmail(accounts, opaqueTokens, sessionStarter, clock, logger),
    requestPasswordReset: new RequestPasswordReset(accounts, mails, opaqueTokens, rateLimits, clock, logger),
    resetPassword: new ResetPassword(
      accounts,
      opaqueTokens,
      hasher,
      commonPasswords,
      sessionStarter,
      clock,
      logger,
      events,
    ),
    ownAccount: new OwnAccount(users, sessions, accounts, hasher, commonPasswords, rateLimits, clock, logger),
    manageUser: new ManageUser(users, accounts, hasher, commonPasswords, clock, logger),
    rateLimits,
    authenticate: new Authenticate(users, hasher, sessionStarter, rateLimits, logger, events),
    rotateRefreshToken: new RotateRefreshToken(
      sessions,
      accessState,
      opaqueTokens,
      tokens,
      clock,
      rateLimits,
      logger,
      lifespans.graceSeconds,
      events,
    ),
    blacklist,
    refreshAccessToken: new RefreshAccessToken(signer, accessState, tokens, rateLimits, logger, legacy),
    verifyAccessToken,
    getSecret: new GetSecret(),
    logout: new Logout(sessions, blacklist, clock, logger, events),
    listUsers: new ListUsers(users),
    updateUser: new UpdateUser(users, sessions, clock, logger, events),
    introspectToken: new IntrospectToken(verifyAccessToken),
    clientCredentials: new ConstantTimeClientCredentials(INTROSPECTION_CLIENTS),
    publishedKeys: keys,
    discovery: { issuer: UNIT_ISSUER, jwksMaxAgeSeconds: 300 },
  };
}

export type FakeServices = ReturnType<typeof fakeServices>;
