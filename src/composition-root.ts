import { Container } from 'inversify';
import type { DatabasePool } from 'slonik';
import type pg from 'pg';
import type Koa from 'koa';
import { Clock } from './application/ports/clock.js';
import { CommonPasswords } from './application/ports/common-passwords.js';
import { IdGenerator } from './application/ports/id-generator.js';
import { Logger } from './application/ports/logger.js';
import { OpaqueTokens } from './application/ports/opaque-tokens.js';
import { PasswordHasher } from './application/ports/password-hasher.js';
import { RateLimits } from './application/ports/rate-limits.js';
import { SessionRepository } from './application/ports/session-repository.js';
import { TokenSigner } from './application/ports/token-signer.js';
import { UserRepository } from './application/ports/user-repository.js';
import { AccessTokenIssuer } from './application/services/access-token-issuer.js';
import { SessionStarter } from './application/services/session-starter.js';
import { Authenticate } from './application/use-cases/authenticate.js';
import { CreateUser } from './application/use-cases/create-user.js';
import { GetSecret } from './application/use-cases/get-secret.js';
import { ListUsers } from './application/use-cases/list-users.js';
import { Logout } from './application/use-cases/logout.js';
import { RefreshToken } from './application/use-cases/refresh-token.js';
import { RegisterUser } from './application/use-cases/register-user.js';
import { UpdateUser } from './application/use-cases/update-user.js';
import { VerifyAccessToken } from './application/use-cases/verify-access-token.js';
import type { Config } from './infrastructure/config/config.js';
import { SlonikSessionRepository } from './infrastructure/persistence/slonik-session-repository.js';
import { SlonikUserRepository } from './infrastructure/persistence/slonik-user-repository.js';
import { isDatabaseUnavailable, pingDatabase } from './infrastructure/persistence/pool.js';
import { Argon2PasswordHasher } from './infrastructure/security/argon2-password-hasher.js';
import { HmacOpaqueTokens } from './infrastructure/security/hmac-opaque-tokens.js';
import { FlexibleRateLimits } from './infrastructure/security/flexible-rate-limits.js';
import { JwtTokenSigner } from './infrastructure/security/jwt-token-signer.js';
import { ZxcvbnCommonPasswords } from './infrastructure/security/zxcvbn-common-passwords.js';
import { CryptoIdGenerator } from './infrastructure/system/crypto-id-generator.js';
import { SystemClock } from './infrastructure/system/system-clock.js';
import { createApp } from './interfaces/http/app.js';
import type { AppState } from './interfaces/http/state.js';

/** What the process has set up before wiring: the database pool, the logger and the resolved signing secret. */
export interface Runtime {
  readonly config: Config;
  readonly pool: DatabasePool;
  readonly logger: Logger;
  readonly jwtSecret: string;
  /** Where rate-limit counters live: a pg pool on the service's database (shared by instances), or memory. */
  readonly rateLimitStore: pg.Pool | 'memory';
  /** Replaces the system clock (tests). */
  readonly clock?: Clock;
}

const DatabasePool = Symbol.for('DatabasePool');

/** Binds every port to its adapter and every use case to its ports. The only place that knows all layers. */
export function buildContainer(runtime: Runtime): Container {
  const { config } = runtime;
  const container = new Container({ defaultScope: 'Singleton' });

  container.bind<DatabasePool>(DatabasePool).toConstantValue(runtime.pool);
  container.bind<Logger>(Logger).toConstantValue(runtime.logger);
  container.bind<Clock>(Clock).toConstantValue(runtime.clock ?? new SystemClock());
  container.bind<IdGenerator>(IdGenerator).toConstantValue(new CryptoIdGenerator());
  container.bind<CommonPasswords>(CommonPasswords).toConstantValue(new ZxcvbnCommonPasswords());
  container.bind<PasswordHasher>(PasswordHasher).toConstantValue(new Argon2PasswordHasher(config.argon2));
  container
    .bind<TokenSigner>(TokenSigner)
    .toConstantValue(new JwtTokenSigner({ secret: runtime.jwtSecret, issuer: config.jwtIssuer }));
  container
    .bind<RateLimits>(RateLimits)
    .toConstantValue(
      new FlexibleRateLimits(
        config.rateLimits,
        runtime.rateLimitStore === 'memory' ? 'memory' : { pool: runtime.rateLimitStore },
      ),
    );
  container.bind<OpaqueTokens>(OpaqueTokens).toConstantValue(new HmacOpaqueTokens(runtime.jwtSecret));
  container
    .bind<UserRepository>(UserRepository)
    .toResolvedValue((pool: DatabasePool): UserRepository => new SlonikUserRepository(pool), [DatabasePool]);
  container
    .bind<SessionRepository>(SessionRepository)
    .toResolvedValue((pool: DatabasePool): SessionRepository => new SlonikSessionRepository(pool), [DatabasePool]);

  container
    .bind(AccessTokenIssuer)
    .toResolvedValue(
      (signer: TokenSigner, ids: IdGenerator, clock: Clock) =>
        new AccessTokenIssuer(signer, ids, clock, config.accessLifespanSeconds),
      [TokenSigner, IdGenerator, Clock],
    );
  container
    .bind(SessionStarter)
    .toResolvedValue(
      (sessions: SessionRepository, opaque: OpaqueTokens, access: AccessTokenIssuer, ids: IdGenerator, clock: Clock) =>
        new SessionStarter(sessions, opaque, access, ids, clock, config.refreshLifespanSeconds),
      [SessionRepository, OpaqueTokens, AccessTokenIssuer, IdGenerator, Clock],
    );
  container
    .bind(CreateUser)
    .toResolvedValue(
      (users: UserRepository, hasher: PasswordHasher, common: CommonPasswords, logger: Logger) =>
        new CreateUser(users, hasher, common, logger),
      [UserRepository, PasswordHasher, CommonPasswords, Logger],
    );
  container
    .bind(RegisterUser)
    .toResolvedValue(
      (create: CreateUser, sessions: SessionStarter) => new RegisterUser(create, sessions),
      [CreateUser, SessionStarter],
    );
  container
    .bind(Authenticate)
    .toResolvedValue(
      (users: UserRepository, hasher: PasswordHasher, sessions: SessionStarter, limits: RateLimits, logger: Logger) =>
        new Authenticate(users, hasher, sessions, limits, logger),
      [UserRepository, PasswordHasher, SessionStarter, RateLimits, Logger],
    );
  container
    .bind(RefreshToken)
    .toResolvedValue(
      (
        signer: TokenSigner,
        users: UserRepository,
        sessions: SessionRepository,
        opaque: OpaqueTokens,
        access: AccessTokenIssuer,
        clock: Clock,
        logger: Logger,
      ) => new RefreshToken(signer, users, sessions, opaque, access, clock, logger, config.refreshReuseGraceSeconds),
      [TokenSigner, UserRepository, SessionRepository, OpaqueTokens, AccessTokenIssuer, Clock, Logger],
    );
  container
    .bind(VerifyAccessToken)
    .toResolvedValue(
      (signer: TokenSigner, users: UserRepository, sessions: SessionRepository, clock: Clock) =>
        new VerifyAccessToken(signer, users, sessions, clock),
      [TokenSigner, UserRepository, SessionRepository, Clock],
    );
  container.bind(GetSecret).toResolvedValue(() => new GetSecret());
  container
    .bind(Logout)
    .toResolvedValue(
      (sessions: SessionRepository, clock: Clock, logger: Logger) => new Logout(sessions, clock, logger),
      [SessionRepository, Clock, Logger],
    );
  container.bind(ListUsers).toResolvedValue((users: UserRepository) => new ListUsers(users), [UserRepository]);
  container
    .bind(UpdateUser)
    .toResolvedValue(
      (users: UserRepository, sessions: SessionRepository, clock: Clock, logger: Logger) =>
        new UpdateUser(users, sessions, clock, logger),
      [UserRepository, SessionRepository, Clock, Logger],
    );
  return container;
}

/**
 * The HTTP application over a wired container.
 * @param accepting false once the process is shutting down, so `/api/ready` turns 503 while in-flight requests finish.
 */
export function buildApp(container: Container, config: Config, accepting: () => boolean = () => true): Koa<AppState> {
  const pool = container.get<DatabasePool>(DatabasePool);
  return createApp({
    registerUser: container.get(RegisterUser),
    authenticate: container.get(Authenticate),
    refreshToken: container.get(RefreshToken),
    verifyAccessToken: container.get(VerifyAccessToken),
    getSecret: container.get(GetSecret),
    logout: container.get(Logout),
    listUsers: container.get(ListUsers),
    updateUser: container.get(UpdateUser),
    rateLimits: container.get<RateLimits>(RateLimits),
    logger: container.get<Logger>(Logger),
    isReady: async () => accepting() && (await pingDatabase(pool)),
    isUnavailableError: isDatabaseUnavailable,
    options: { bodyLimit: config.bodyLimit, corsOrigins: config.corsOrigins, trustProxy: config.trustProxy },
  });
}
