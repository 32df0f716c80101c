import { type KeyObject, createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import type { LegacyTokenVerifier, LegacyVerification } from '../../application/ports/legacy-tokens.js';
import { claimsFromPraetorian } from '../praetorian-claims.js';

const ALGORITHM = 'HS256';
const MAX_TOKEN_LENGTH = 8192;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const seconds = z.number().int().nonnegative();
/** flask-praetorian 1.x's `encode_jwt_token`: these six, plus whatever custom claims the app added. */
const praetorianClaims = z
  .object({
    iat: seconds,
    exp: seconds,
    jti: z.string().min(1).max(128),
    id: z.number().int().positive(),
    rls: z.string().max(4096),
    rf_exp: seconds,
  })
  .passthrough();

/** Claims only a jwt-login token has: a token with any of them is not praetorian's, whatever else it states. */
const OURS = ['typ', 'iss', 'sid'] as const;

/**
 * flask-praetorian's access tokens (PyJWT, HS256, signed with the Flask app's `SECRET_KEY`, which must then be this
 * service's `JWT_SECRET`), through jsonwebtoken with the algorithm pinned. A token carrying `typ`, `iss` or `sid` is
 * refused here: jwt-login's own tokens are the current signer's business, and one it refused stays refused.
 */
export class PraetorianTokenVerifier implements LegacyTokenVerifier {
  private readonly key: KeyObject;

  constructor(secret: string | Buffer) {
    this.key = createSecretKey(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret);
  }

  verify(token: string, nowSeconds: number): LegacyVerification {
    if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
      return { status: 'invalid', reason: 'not a compact JWS' };
    }
    let decoded: unknown;
    try {
      decoded = jwt.verify(token, this.key, {
        algorithms: [ALGORITHM],
        ignoreExpiration: true,
        clockTimestamp: nowSeconds,
      });
    } catch (error) {
      return { status: 'invalid', reason: error instanceof Error ? error.message : 'unverifiable' };
    }
    if (typeof decoded !== 'object' || decoded === null) return { status: 'invalid', reason: 'not a claims object' };
    const own = OURS.find((claim) => claim in decoded);
    if (own !== undefined) return { status: 'invalid', reason: `claim ${own}: not a praetorian token` };
    const parsed = praetorianClaims.safeParse(decoded);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { status: 'invalid', reason: `claim ${issue?.path.join('.') || '?'}: ${issue?.message ?? 'invalid'}` };
    }
    const wire = parsed.data;
    const claims = claimsFromPraetorian(wire);
    return claims.expiresAt <= nowSeconds ? { status: 'expired', claims } : { status: 'valid', claims };
  }
}
