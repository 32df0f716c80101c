import { type ServiceToken, serviceToken } from './service-token.js';
export const OpaqueTokens: ServiceToken<OpaqueTokens> = serviceToken('OpaqueTokens');
/** Refresh tokens: random opaque strings of which only a digest is stored. */
export interface OpaqueTokens {
  /** @returns a new token of at least 256 random bits. */
  generate(): string;
  /**
   * @returns the token that replaces `token` at rotation. Derived with a server key, so replaying `token` within the
   *   grace window can be answered with the same successor without storing any token in clear.
   */
  successorOf(token: string): string;
  /** @returns the SHA-256 digest (hex) under which a token is stored. */
  digest(token: string): string;
}
