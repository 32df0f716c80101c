import path from 'node:path';
import { Container, type ResolutionContext, type ServiceIdentifier } from 'inversify';
import type { DatabasePool as SlonikPool } from 'slonik';
import type pg from 'pg';
import type Koa from 'koa';
import { AccessState } from './application/ports/access-state.js';
import { AuthEvents } from './application/ports/auth-events.js';
import { AccountStore } from './application/ports/account-store.js';
import { MailOutbox, MailTransport } from './application/ports/mail.js';
import { AccountMails } from './application/services/account-mails.js';
import { ConfirmEmail } from './application/use-cases/confirm-email.js';
import { DeliverMail } from './application/use-cases/deliver-mail.js';
import { ManageUser, OwnAccount } from './application/use-cases/own-account.js';
import { RequestPasswordReset, ResetPassword } from './application/use-cases/password-reset.js';
import { PostgresAccountStore } from './infrastructure/persistence/postgres-account-store.js';
import { PostgresMailOutbox } from './infrastructure/persistence/postgres-mail-outbox.js';
import { FileMailTransport, SmtpMailTransport } from './infrastructure/mail/nodemailer-transports.js';
import { MailSchedule } from './interfaces/jobs/mail-schedule.js';
import { Clock } from './application/ports/clock.js';
import { CommonPasswords } from './application/ports/common-passwords.js';
import { IdGenerator } from './application/ports/id-generator.js';
import { Logger } from './application/ports/logger.js';
import { OpaqueTokens } from './application/ports/opaque-tokens.js';
import { PasswordHasher } from './application/ports/password-hasher.js';
import { RateLimits } from './application/ports/rate-limits.js';
import { RetentionStore } from './application/ports/retention-store.js';
import { type ServiceToken, serviceToken } from './application/ports/service-token.js';
import { SessionRepository } from './application/ports/session-repository.js';
import { TokenSigner } from './application/ports/token-signer.js';
import { UserRepository } from './application/ports/user-repository.js';
import { ClientCredentials } from './application/ports/client-credentials.js';
import { PublishedKeys } from './application/ports/published-keys.js';
import { SigningKeyStore } from './application/ports/signing-key-store.js';
import { IntrospectToken } from './application/use-cases/introspect-token.js';
import { ListSigningKeys, RotateSigningKey } from './application/use-cases/rotate-signing-key.js';
import type { SigningKeys } from './infrastructure/persistence/signing-keys.js';
import { ConstantTimeClientCredentials } from './infrastructure/security/constant-time-client-credentials.js';
import { FixedSigningKeys } from './infrastructure/security/key-ring.js';
import { AccessTokenIssuer } from './application/services/access-token-issuer.js';
import { RepositoryAccessState } from './application/services/repository-access-state.js';
import { SessionStarter } from './application/services/session-starter.js';
import { Authenticate } from './application/use-cases/authenticate.js';
import { CreateUser } from './application/use-cases/create-user.js';
import { GetSecret } from './application/use-cases/get-secret.js';
import { ListUsers } from './application/use-cases/list-users.js';
import { LegacyTokenVerifier, TokenBlacklist } from './application/ports/legacy-tokens.js';
import { NotifiedTokenBlacklist } from './infrastructure/persistence/notified-token-blacklist.js';
import { SlonikTokenBlacklist } from './infrastructure/persistence/slonik-token-blacklist.js';
import { PraetorianTokenVerifier } from './infrastructure/security/praetorian-token-verifier.js';
import { ImportUsers } from './application/use-cases/import-users.js';
import { UserImportTarget } from './application/ports/user-import.js';
import { SlonikUserImportTarget } from './infrastructure/persistence/slonik-user-import-target.js';
import { Logout } from './application/use-cases/logout.js';
import { RefreshAccessToken } from './application/use-cases/refresh-access-token.js';
import { PurgeEndedRecords } from './application/use-cases/purge-ended-records.js';
import { RegisterUser } from './application/use-cases/register-user.js';
import { RotateRefreshToken } from './application/use-cases/rotate-refresh-token.js';
import { UpdateUser } from './application/use-cases/update-user.js';
import { VerifyAccessToken } from './application/use-cases/verify-access-token.js';
import type { ServiceConfig } from './infrastructure/config/config.js';
import type { PostgresChangeFeed } from './infrastructure/persistence/change-feed.js';
import { NotifiedAccessState } from './infrastructure/persistence/notified-access-state.js';
import { PostgresRetentionStore } from './infrastructure/persistence/postgres-retention-store.js';
import { SlonikSessionRepository } from './infrastructure/persistence/slonik-session-repository.js';
import { SlonikUserRepository } from './infrastructure/persistence/slonik-user-repository.js';
import { isDatabaseUnavailable, pingDatabase } from './infrastructure/persistence/pool.js';
import { Argon2PasswordHasher } from './infrastructure/security/argon2-password-hasher.js';
import { AdmittedPasswordHasher } from './infrastructure/security/hash-admission.js';
import { PasslibPasswordHasher } from './infrastructure/security/passlib-password-hasher.js';
import { ShaCryptWorkers } from './infrastructure/security/sha-crypt-workers.js';
import { HmacOpaqueTokens } from './infrastructure/security/hmac-opaque-tokens.js';
import { FlexibleRateLimits } from './infrastructure/security/flexible-rate-limits.js';
import { CachingTokenSigner } from './infrastructure/security/caching-token-signer.js';
import { JwtTokenSigner } from './infrastructure/security/jwt-token-signer.js';
import { ZxcvbnCommonPasswords } from './infrastructure/security/zxcvbn-common-passwords.js';
import { loadApiDocsFiles } from './infrastructure/docs/api-docs-files.js';
import type { PrometheusMetrics } from './infrastructure/metrics/prometheus-metrics.js';
import { CryptoIdGenerator } from './infrastructure/system/crypto-id-generator.js';
import { SystemClock } from './infrastructure/system/system-clock.js';
import { createApp } from './interfaces/http/app.js';
import type { AppState } from './interfaces/http/state.js';

/** What the process has set up before wiring: the configuration, the database pools and the logger. */
export interface Runtime {
  readonly config: ServiceConfig;
  readonly pool: SlonikPool;
  /** A URL for what needs a session of its own (advisory locks, LISTEN): not through a transaction-mode pooler. */
  readonly directUri: string;
  /** A pg pool on the same database for rate-limiter-flexible's PostgreSQL store (it speaks pg, not slonik). */
  readonly rateLimitPool: pg.Pool;
  readonly logger: Logger;
  /** Change notifications from PostgreSQL; without it (the CLI), guarded state is read from the database each time. */
  readonly changeFeed?: PostgresChangeFeed;
  /** Replaces the system clock (tests). */
  readonly clock?: Clock;
  /** The token-signing keys, opened at start. */
  readonly signingKeys: SigningKeys;
  /** The process's metrics: auth events are counted there, password hashes timed. */
  readonly metrics: PrometheusMetrics;
}

export const DatabasePool: ServiceToken<SlonikPool> = serviceToken('DatabasePool');

/** Access tokens remembered once verified (about 1 KiB each with their claims). */
const VERIFIED_TOKENS_HELD = 10_000;

/** Outbox delivery: mails per round, how long a claimed mail is one instance's, and the retry backoff. */
const MAIL_BATCH = 20;
const MAIL_LEASE_MS = 5 * 60_000;
const MAIL_FIRST_BACKOFF_MS = 5_000;
const MAIL_MAX_BACKOFF_MS = 30 * 60_000;

/** Where mails go without SMTP_URL: files for the developer to open. */
export const mailDirectory = (config: ServiceConfig) => path.join(config.dataDir, 'mail');

/** The least rest between two purge batches. */
const PURGE_MIN_PAUSE_MS = 50;

type Newable<T> = abstract new (...args: never[]) => T;
/** Resolves a dependency by its typed token (or class), so the compiler checks it against the parameter it fills. */
type Get = <T>(id: ServiceToken<T> | Newable<T>) => T;

/** `container.get` by typed token or class, returning the token's type. */
export function resolve<T>(container: Container, id: ServiceToken<T> | Newable<T>): T {
  return container.get<T>(id as ServiceIdentifier<T>);
}

/** Binds every port to its adapter and every use case to its ports. The only place that knows all layers. */
export function buildContainer(runtime: Runtime): Container {
  const { config } = runtime;
  const container = new Container({ defaultScope: 'Singleton' });
  const provide = <T>(id: ServiceToken<T> | Newable<T>, factory: (get: Get) => T): void => {
    container
      .bind<T>(id as ServiceIdentifier<T>)
      .toDynamicValue((context: ResolutionContext) =>
        factory(<D>(dependency: ServiceToken<D> | Newable<D>) => context.get<D>(dependency as ServiceIdentifier<D>)),
      );
  };

  provide(DatabasePool, () => runtime.pool);
  provide(Logger, () => runtime.logger);
  provide(Clock, () => runtime.clock ?? new SystemClock());
  provide(IdGenerator, () => new CryptoIdGenerator());
  provide(CommonPasswords, () => new ZxcvbnCommonPasswords());
  provide(AuthEvents, () => runtime.metrics);
  // flask-praetorian's passlib hashes are read beside argon2id, and upgraded at the first login; all behind the queue.
  provide(
    PasswordHasher,
    () =>
      new AdmittedPasswordHasher(
        runtime.metrics.timed(
          new PasslibPasswordHasher(
            new Argon2PasswordHasher(config.argon2),
            new ShaCryptWorkers(config.hashing.concurrency),
          ),
        ),
        config.hashing,
      ),
  );
  const { ring, store } = runtime.signingKeys;
  provide(TokenSigner, () => {
    const signer = new CachingTokenSigner(
      new JwtTokenSigner({ keys: ring, issuer: config.jwtIssuer }),
      VERIFIED_TOKENS_HELD,
    );
    // A retired key's tokens have expired, but a key withdrawn by hand must stop verifying at once.
    ring.onReplace(() => signer.clear());
    return signer;
  });
  provide(PublishedKeys, () => ring);
  provide(SigningKeyStore, () => store ?? new FixedSigningKeys(ring));
  provide(ClientCredentials, () => new ConstantTimeClientCredentials(config.introspectionClients));
  provide(RateLimits, () => new FlexibleRateLimits(config.rateLimits, { pool: runtime.rateLimitPool }));
  provide(OpaqueTokens, () => new HmacOpaqueTokens(config.jwtSecret));
  const changed = (payload: string) => runtime.changeFeed?.announceLocally(payload);
  provide(UserRepository, (get) => new SlonikUserRepository(get(DatabasePool), changed));
  provide(SessionRepository, (get) => new SlonikSessionRepository(get(DatabasePool), changed));
  provide(
    AccountStore,
    (get) => new PostgresAccountStore(get(DatabasePool), changed, () => resolve(container, MailSchedule).poke()),
  );
  provide(MailOutbox, (get) => new PostgresMailOutbox(get(DatabasePool)));
  provide(MailTransport, () =>
    config.mail.smtpUrl === undefined
      ? new FileMailTransport(mailDirectory(config))
      : new SmtpMailTransport(config.mail.smtpUrl),
  );
  provide(AccountMails, () => new AccountMails(config.mail));
  provide(
    DeliverMail,
    (get) =>
      new DeliverMail(
        get(MailOutbox),
        get(MailTransport),
        get(Logger),
        {
          from: config.mail.from,
          batchSize: MAIL_BATCH,
          leaseMs: MAIL_LEASE_MS,
          maxAttempts: config.mail.maxAttempts,
          firstBackoffMs: MAIL_FIRST_BACKOFF_MS,
          maxBackoffMs: MAIL_MAX_BACKOFF_MS,
        },
        get(AuthEvents),
      ),
  );
  provide(MailSchedule, (get) => new MailSchedule(get(DeliverMail), get(Logger), config.mail.pollMs, MAIL_BATCH));
  provide(
    RetentionStore,
    (get) =>
      new PostgresRetentionStore(get(DatabasePool), {
        directUri: runtime.directUri,
        connectTimeoutMs: config.databaseConnectTimeoutMs,
      }),
  );
  provide(AccessState, (get) => {
    const feed = runtime.changeFeed;
    if (!feed || config.accessCacheSize === 0)
      return new RepositoryAccessState(get(UserRepository), get(SessionRepository));
    const state = new NotifiedAccessState(get(UserRepository), get(SessionRepository), config.accessCacheSize);
    feed.subscribe(state);
    if (feed.listening) state.onUp();
    return state;
  });

  provide(
    AccessTokenIssuer,
    (get) => new AccessTokenIssuer(get(TokenSigner), get(IdGenerator), get(Clock), config.accessLifespanSeconds),
  );
  provide(
    SessionStarter,
    (get) =>
      new SessionStarter(
        get(SessionRepository),
        get(OpaqueTokens),
        get(AccessTokenIssuer),
        get(IdGenerator),
        get(Clock),
        config.refreshLifespanSeconds,
      ),
  );
  provide(
    CreateUser,
    (get) => new CreateUser(get(UserRepository), get(PasswordHasher), get(CommonPasswords), get(Logger)),
  );
  provide(
    RegisterUser,
    (get) =>
      new RegisterUser(
        get(CreateUser),
        get(SessionStarter),
        get(RateLimits),
        get(Logger),
        get(PasswordHasher),
        get(AccountStore),
        get(AccountMails),
        get(OpaqueTokens),
        get(Clock),
        { registration: config.registration, emailConfirmation: config.emailConfirmation },
        get(AuthEvents),
      ),
  );
  provide(
    ConfirmEmail,
    (get) => new ConfirmEmail(get(AccountStore), get(OpaqueTokens), get(SessionStarter), get(Clock), get(Logger)),
  );
  provide(
    RequestPasswordReset,
    (get) =>
      new RequestPasswordReset(
        get(AccountStore),
        get(AccountMails),
        get(OpaqueTokens),
        get(RateLimits),
        get(Clock),
        get(Logger),
      ),
  );
  provide(
    ResetPassword,
    (get) =>
      new ResetPassword(
        get(AccountStore),
        get(OpaqueTokens),
        get(PasswordHasher),
        get(CommonPasswords),
        get(SessionStarter),
        get(Clock),
        get(Logger),
        get(AuthEvents),
      ),
  );
  provide(
    OwnAccount,
    (get) =>
      new OwnAccount(
        get(UserRepository),
        get(SessionRepository),
        get(AccountStore),
        get(PasswordHasher),
        get(CommonPasswords),
        get(RateLimits),
        get(Clock),
        get(Logger),
      ),
  );
  provide(
    ManageUser,
    (get) =>
      new ManageUser(
        get(UserRepository),
        get(AccountStore),
        get(PasswordHasher),
        get(CommonPasswords),
        get(Clock),
        get(Logger),
      ),
  );
  provide(
    Authenticate,
    (get) =>
      new Authenticate(
        get(UserRepository),
        get(PasswordHasher),
        get(SessionStarter),
        get(RateLimits),
        get(Logger),
        get(AuthEvents),
      ),
  );
  provide(
    RotateRefreshToken,
    (get) =>
      new RotateRefreshToken(
        get(SessionRepository),
        get(AccessState),
        get(OpaqueTokens),
        get(AccessTokenIssuer),
        get(Clock),
        get(RateLimits),
        get(Logger),
        config.refreshReuseGraceSeconds,
        get(AuthEvents),
      ),
  );
  provide(TokenBlacklist, (get) => {
    const stored = new SlonikTokenBlacklist(get(DatabasePool), changed);
    const feed = runtime.changeFeed;
    if (!feed || config.accessCacheSize === 0) return stored;
    const remembered = new NotifiedTokenBlacklist(stored, config.accessCacheSize);
    feed.subscribe(remembered);
    if (feed.listening) remembered.onUp();
    return remembered;
  });
  provide(LegacyTokenVerifier, () => new PraetorianTokenVerifier(config.jwtSecret));
  // flask-praetorian's tokens are read only when asked for, and only after the current signer has refused a token.
  const legacy = (get: Get) =>
    config.legacyTokens === 'praetorian'
      ? {
          verifier: get(LegacyTokenVerifier),
          blacklist: get(TokenBlacklist),
          sessions: get(SessionRepository),
          ids: get(IdGenerator),
        }
      : undefined;
  provide(
    RefreshAccessToken,
    (get) =>
      new RefreshAccessToken(
        get(TokenSigner),
        get(AccessState),
        get(AccessTokenIssuer),
        get(RateLimits),
        get(Logger),
        legacy(get),
      ),
  );
  provide(
    VerifyAccessToken,
    (get) => new VerifyAccessToken(get(TokenSigner), get(AccessState), get(Clock), legacy(get)),
  );
  provide(GetSecret, () => new GetSecret());
  provide(IntrospectToken, (get) => new IntrospectToken(get(VerifyAccessToken)));
  provide(
    RotateSigningKey,
    (get) =>
      new RotateSigningKey(get(SigningKeyStore), get(Clock), {
        publishDelayMs: config.signing.publishDelaySeconds * 1000,
        accessLifespanMs: config.accessLifespanSeconds * 1000,
      }),
  );
  provide(ListSigningKeys, (get) => new ListSigningKeys(get(SigningKeyStore), get(Clock)));
  provide(
    Logout,
    (get) => new Logout(get(SessionRepository), get(TokenBlacklist), get(Clock), get(Logger), get(AuthEvents)),
  );
  provide(
    PurgeEndedRecords,
    (get) =>
      new PurgeEndedRecords(
        get(RetentionStore),
        get(Clock),
        get(Logger),
        { retentionMs: config.purge.retentionMs, batchSize: config.purge.batchSize, minPauseMs: PURGE_MIN_PAUSE_MS },
        (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ),
  );
  provide(ListUsers, (get) => new ListUsers(get(UserRepository)));
  provide(UserImportTarget, (get) => new SlonikUserImportTarget(get(DatabasePool)));
  provide(ImportUsers, (get) => new ImportUsers(get(UserImportTarget), get(Logger)));
  provide(
    UpdateUser,
    (get) => new UpdateUser(get(UserRepository), get(SessionRepository), get(Clock), get(Logger), get(AuthEvents)),
  );
  return container;
}

/**
 * The HTTP application over a wired container.
 * @param accepting false once the process is shutting down, so `/api/ready` turns 503 while in-flight requests finish.
 */
export function buildApp(
  container: Container,
  config: ServiceConfig,
  accepting: () => boolean,
  metrics: PrometheusMetrics,
): Koa<AppState> {
  const pool = resolve(container, DatabasePool);
  return createApp({
    registerUser: container.get(RegisterUser),
    authenticate: container.get(Authenticate),
    rotateRefreshToken: container.get(RotateRefreshToken),
    refreshAccessToken: container.get(RefreshAccessToken),
    verifyAccessToken: container.get(VerifyAccessToken),
    getSecret: container.get(GetSecret),
    logout: container.get(Logout),
    listUsers: container.get(ListUsers),
    updateUser: container.get(UpdateUser),
    createUser: container.get(CreateUser),
    confirmEmail: container.get(ConfirmEmail),
    requestPasswordReset: container.get(RequestPasswordReset),
    resetPassword: container.get(ResetPassword),
    ownAccount: container.get(OwnAccount),
    manageUser: container.get(ManageUser),
    introspectToken: container.get(IntrospectToken),
    clientCredentials: resolve(container, ClientCredentials),
    publishedKeys: resolve(container, PublishedKeys),
    clock: resolve(container, Clock),
    discovery: { issuer: config.jwtIssuer, jwksMaxAgeSeconds: config.signing.jwksMaxAgeSeconds },
    logger: resolve(container, Logger),
    metrics,
    docs: loadApiDocsFiles(),
    isReady: async () => accepting() && (await pingDatabase(pool)),
    isUnavailableError: isDatabaseUnavailable,
    options: { bodyLimit: config.bodyLimit, corsOrigins: config.corsOrigins, trustProxy: config.trustProxy },
  });
}
