export const IdGenerator = Symbol.for('IdGenerator');
export interface IdGenerator {
  /** @returns a unique, unguessable token id (`jti`). */
  tokenId(): string;
  /** @returns a new session id: a UUID. */
  sessionId(): string;
}
