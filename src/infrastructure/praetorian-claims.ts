import type { LegacyClaims } from '../application/ports/legacy-tokens.js';
import { parseRoleList } from './praetorian-roles.js';

/** flask-praetorian's claims as they travel in a token (`rls` comma-joined, times in seconds). */
export interface PraetorianWireClaims {
  readonly jti: string;
  readonly id: number;
  readonly rls: string;
  readonly iat: number;
  readonly exp: number;
  readonly rf_exp: number;
}

/** The claims praetorian's tokens and jwt-login's share, under the application's names. */
export function claimsFromPraetorian(wire: PraetorianWireClaims): LegacyClaims {
  return {
    tokenId: wire.jti,
    userId: wire.id,
    roles: parseRoleList(wire.rls),
    issuedAt: wire.iat,
    expiresAt: wire.exp,
    refreshableUntil: wire.rf_exp,
  };
}
