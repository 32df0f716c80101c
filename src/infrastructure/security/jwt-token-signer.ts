import { type KeyObject, createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import type { AccessClaims, TokenSigner, TokenVerification } from '../../application/ports/token-signer.js';
import { formatRoleList, parseRoleList } from '../praetorian-roles.js';

const ALGORITHM = 'HS256';
/** RFC 7518 3.2: an HS256 key must be at least as long as the hash output. */
const MIN_KEY_BYTES = 32;
const ACCESS_TYPE = 'access';
/** Longer tokens are refused before any parsing; ours are a few hundred bytes. */
const MAX_TOKEN_LENGTH = 8192;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const seconds = z.number().int().nonnegative();
const accessClaimsSchema = z.object({
  iat: seconds,
  exp: seconds,
  jti: z.string().min(1).max(128),
  sid: z.string().min(1).max(128),
  id: z.number().int().positive(),
  rls: z.string().max(4096),
  rf_exp: seconds,
  sub: z.string(),
  typ: z.literal(ACCESS_TYPE),
});

export interface JwtTokenSignerOptions {
  /** The HS256 key; at least 32 bytes (checked by the config). */
  readonly secret: string | Buffer;
  readonly issuer: string;
}

/**
 * HS256 access tokens through jsonwebtoken. The key is held as a `KeyObject` (a string key costs ~50x more per
 * verify) and the algorithm is pinned, so `alg: none`, HS512 or RS256 tokens are refused.
 */
export class JwtTokenSigner implements TokenSigner {
  private readonly key: KeyObject;
  private readonly issuer: string;

  /** @throws RangeError for a key under 32 bytes, whatever path it came from: a short HMAC key can be guessed. */
  constructor(options: JwtTokenSignerOptions) {
    const key = typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : options.secret;
    if (key.length < MIN_KEY_BYTES) {
      throw new RangeError(`the HS256 signing key must be at least ${MIN_KEY_BYTES} bytes (got ${key.length})`);
    }
    this.key = createSecretKey(key);
    this.issuer = options.issuer;
  }

  sign(claims: AccessClaims): string {
    // flask-praetorian's claims (comma-joined roles as `rls`, the refresh deadline as `rf_exp`), plus `sub` and `typ`.
    const payload = {
      iat: claims.issuedAt,
      exp: claims.expiresAt,
      jti: claims.tokenId,
      sid: claims.sessionId,
      id: claims.userId,
      rls: formatRoleList(claims.roles),
      rf_exp: claims.refreshableUntil,
      sub: String(claims.userId),
      typ: ACCESS_TYPE,
    };
    return jwt.sign(payload, this.key, { algorithm: ALGORITHM, issuer: this.issuer });
  }

  verify(token: string, nowSeconds: number): TokenVerification {
    if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
      return { status: 'invalid', reason: 'not a compact JWS' };
    }
    let decoded: unknown;
    try {
      decoded = jwt.verify(token, this.key, {
        algorithms: [ALGORITHM],
        issuer: this.issuer,
        clockTimestamp: nowSeconds,
        ignoreExpiration: true,
      });
    } catch (error) {
      return { status: 'invalid', reason: error instanceof Error ? error.message : 'unverifiable' };
    }
    const parsed = accessClaimsSchema.safeParse(decoded);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { status: 'invalid', reason: `claim ${issue?.path.join('.') || '?'}: ${issue?.message ?? 'invalid'}` };
    }
    const wire = parsed.data;
    if (wire.sub !== String(wire.id)) return { status: 'invalid', reason: 'sub does not match id' };
    const claims: AccessClaims = {
      tokenId: wire.jti,
      sessionId: wire.sid,
      userId: wire.id,
      roles: parseRoleList(wire.rls),
      issuedAt: wire.iat,
      expiresAt: wire.exp,
      refreshableUntil: wire.rf_exp,
    };
    return claims.expiresAt <= nowSeconds ? { status: 'expired', claims } : { status: 'valid', claims };
  }
}
