import { type ServiceToken, serviceToken } from './service-token.js';
export const IdGenerator: ServiceToken<IdGenerator> = serviceToken('IdGenerator');
export interface IdGenerator {
  /** @returns a unique, unguessable token id (`jti`). */
  tokenId(): string;
  /** @returns a new session id: a UUID. */
  sessionId(): string;
  /**
   * @returns a session id (a UUID) derived from `seed`: the same seed always gives the same id, and different seeds
   *   different ids. A flask-praetorian token's refreshes all land in the session derived from its `jti`.
   */
  sessionIdFor(seed: string): string;
}
