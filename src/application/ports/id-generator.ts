import { type ServiceToken, serviceToken } from './service-token.js';
export const IdGenerator: ServiceToken<IdGenerator> = serviceToken('IdGenerator');
export interface IdGenerator {
  /** @returns a unique, unguessable token id (`jti`). */
  tokenId(): string;
  /** @returns a new session id: a UUID. */
  sessionId(): string;
}
