import { type DatabasePool, sql } from 'slonik';
import type { TokenBlacklist } from '../../application/ports/legacy-tokens.js';

/** The blacklist in PostgreSQL (`blacklisted_tokens`, migration 008), read on every call. */
export class SlonikTokenBlacklist implements TokenBlacklist {
  /**
   * @param changed told of each jti this process blacklisted, once committed (`j:<jti>`), as the trigger tells every
   *   listening instance moments later; so that this instance refuses it at once.
   */
  constructor(
    private readonly pool: DatabasePool,
    private readonly changed: (payload: string) => void = () => undefined,
  ) {}

  async isBlacklisted(tokenId: string): Promise<boolean> {
    return await this.pool.exists(sql.unsafe`SELECT 1 FROM blacklisted_tokens WHERE jti = ${tokenId}`);
  }

  async blacklist(tokenId: string, untilMs: number): Promise<void> {
    await this.pool.query(sql.unsafe`
      INSERT INTO blacklisted_tokens (jti, expires_at) VALUES (${tokenId}, to_timestamp(${untilMs / 1000}))
      ON CONFLICT (jti) DO UPDATE SET expires_at = GREATEST(blacklisted_tokens.expires_at, EXCLUDED.expires_at)`);
    this.changed(`j:${tokenId}`);
  }
}
