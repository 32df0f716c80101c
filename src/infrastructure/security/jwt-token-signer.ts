import jwt from 'jsonwebtoken';
import { z } from 'zod';
import type { AccessClaims, TokenSigner, TokenVerification } from '../../application/ports/token-signer.js';
import { formatRoleList } from '../praetorian-roles.js';
import { claimsFromPraetorian } from '../praetorian-claims.js';
import { KeyRing, type SigningKey, hmacSigningKey } from './key-ring.js';

const ACCESS_TYPE = 'access';
/** Longer tokens are refused before any parsing; ours are a few hundred bytes (RS256 signatures add ~350). */
const MAX_TOKEN_LENGTH = 8192;
const COMPACT_JWS = /^([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/**
 * Header parameters that name a key or change how the token must be read (RFC 7515 4.1): a verifier that honoured them
 * would let the token choose its own key. Our tokens carry none, so a token with any of them is refused outright.
 */
const REFUSED_HEADERS = ['jwk', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'crit', 'b64'];

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

export type JwtTokenSignerOptions = { readonly issuer: string } & (
  | {
      /** One HS256 key made from this secret (at least 32 bytes); tokens without `kid` are accepted for it. */
      readonly secret: string | Buffer;
    }
  | {
      /** The keys to sign and verify with, replaced as they rotate. */
      readonly keys: KeyRing;
    }
);

/**
 * Access tokens through jsonwebtoken, HS256, ES256 or RS256, each with a `kid` header. Keys are held as `KeyObject`s
 * (a string or PEM key costs many times more per verify).
 *
 * Verification looks the key up by `kid` and accepts only that key's own algorithm, so a token cannot pick how it is
 * checked: `alg: none`, HS256 signed with a public key as the secret, another algorithm, an unknown or retired `kid`,
 * and headers that carry or point to a key (`jwk`, `jku`, `x5u`, ...) are all refused.
 */
export class JwtTokenSigner implements TokenSigner {
  private readonly keys: KeyRing;
  private readonly issuer: string;

  /** @throws RangeError for a secret under 32 bytes, whatever path it came from: a short HMAC key can be guessed. */
  constructor(options: JwtTokenSignerOptions) {
    this.keys = 'keys' in options ? options.keys : new KeyRing([hmacSigningKey(options.secret)], true);
    this.issuer = options.issuer;
  }

  sign(claims: AccessClaims): string {
    const key = this.keys.signingKey(claims.issuedAt * 1000);
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
    return jwt.sign(payload, key.privateKey, { algorithm: key.algorithm, keyid: key.kid, issuer: this.issuer });
  }

  verify(token: string, nowSeconds: number): TokenVerification {
    const compact = token.length > MAX_TOKEN_LENGTH ? null : COMPACT_JWS.exec(token);
    if (compact === null) return { status: 'invalid', reason: 'not a compact JWS' };
    const found = this.keyFor(compact[1]!, nowSeconds);
    if (typeof found === 'string') return { status: 'invalid', reason: found };
    let decoded: unknown;
    try {
      decoded = jwt.verify(token, found.publicKey, {
        algorithms: [found.algorithm],
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
    const claims: AccessClaims = { ...claimsFromPraetorian(wire), sessionId: wire.sid };
    return claims.expiresAt <= nowSeconds ? { status: 'expired', claims } : { status: 'valid', claims };
  }

  /** The key that may verify a token with this (base64url) header, or why there is none. */
  private keyFor(encodedHeader: string, nowSeconds: number): SigningKey | string {
    let header: unknown;
    try {
      header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8'));
    } catch {
      return 'header is not JSON';
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) return 'header is not an object';
    const fields = header as Record<string, unknown>;
    const named = REFUSED_HEADERS.find((name) => Object.hasOwn(fields, name));
    if (named !== undefined) return `header ${named} is not accepted`;
    const { kid, alg } = fields;
    let key: SigningKey | undefined;
    if (kid === undefined) key = this.keys.keylessKey(nowSeconds * 1000);
    else if (typeof kid === 'string') key = this.keys.verifyingKey(kid, nowSeconds * 1000);
    if (key === undefined) return kid === undefined ? 'no kid' : 'unknown or retired kid';
    if (alg !== key.algorithm) return `alg ${JSON.stringify(alg)} is not the algorithm of key ${key.kid}`;
    return key;
  }
}
