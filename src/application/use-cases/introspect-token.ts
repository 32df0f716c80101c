import type { VerifyAccessToken } from './verify-access-token.js';

/** RFC 7662 section 2.2: an inactive token says nothing more. */
export type Introspection =
  | { readonly active: false }
  | {
      readonly active: true;
      readonly sub: string;
      readonly username: string;
      readonly exp: number;
      readonly iat: number;
      readonly roles: readonly string[];
      /** Absent for a flask-praetorian token (`LEGACY_TOKENS`), which names no session. */
      readonly sid?: string;
      readonly jti: string;
      readonly token_type: 'Bearer';
    };

const INACTIVE: Introspection = Object.freeze({ active: false });

/**
 * RFC 7662 token introspection for other services: the same check a guarded request of this service makes (signature,
 * expiry, and the session and user as they are now), so a logout, a refresh-token reuse or a deactivation shows at
 * once. Expired, revoked, forged and deactivated tokens alike are `{ active: false }`.
 * @throws when the access state cannot be read (database unavailable): not knowing is not "inactive".
 */
export class IntrospectToken {
  constructor(private readonly verifyAccessToken: VerifyAccessToken) {}

  async execute(input: { readonly token: string }): Promise<Introspection> {
    const result = await this.verifyAccessToken.execute(input);
    if (!result.ok) return INACTIVE;
    const principal = result.value;
    return {
      active: true,
      sub: String(principal.userId),
      username: principal.username,
      exp: principal.expiresAt,
      iat: principal.issuedAt,
      roles: principal.roles,
      ...(principal.sessionId === null ? {} : { sid: principal.sessionId }),
      jti: principal.tokenId,
      token_type: 'Bearer',
    };
  }
}
