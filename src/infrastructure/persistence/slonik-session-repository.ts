import { type DatabasePool, sql } from 'slonik';
import { z } from 'zod';
import type {
  PasswordUpgrade,
  RotationOutcome,
  RotationRequest,
  SessionRepository,
} from '../../application/ports/session-repository.js';
import { type RevocationReason, type Session, type SessionSummary, decideRotation } from '../../domain/session.js';
import type { UserId } from '../../domain/user.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const sessionColumns = {
  id: z.string(),
  user_id: z.number(),
  created_ms: z.number(),
  expires_ms: z.number(),
  revoked_ms: z.number().nullable(),
};
const sessionRow = z.object(sessionColumns);
const tokenRow = z.object({
  ...sessionColumns,
  spent_ms: z.number().nullable(),
  successor_hash: z.string().nullable(),
});

const summaryRow = z.object({
  id: z.string(),
  created_ms: z.number(),
  refreshed_ms: z.number().nullable(),
  client_address: z.string().nullable(),
  user_agent: z.string().nullable(),
});

const toSession = (row: z.infer<typeof sessionRow>): Session => ({
  id: row.id,
  userId: row.user_id,
  createdAt: row.created_ms,
  expiresAt: row.expires_ms,
  revokedAt: row.revoked_ms,
});

const at = (ms: number) => sql.fragment`to_timestamp(${ms / 1000})`;
const SESSION_SELECT = sql.fragment`
  s.id::text AS id, s.user_id,
  round(extract(epoch FROM s.created_at) * 1000)::float8 AS created_ms,
  round(extract(epoch FROM s.expires_at) * 1000)::float8 AS expires_ms,
  round(extract(epoch FROM s.revoked_at) * 1000)::float8 AS revoked_ms`;

/** Sessions and refresh tokens in PostgreSQL; rotation is one transaction holding the token's row lock. */
export class SlonikSessionRepository implements SessionRepository {
  /**
   * @param changed told of each session this process revoked, once committed (`s:<id>`), as the triggers tell every
   *   listening instance moments later; so that this instance refuses the session at once, not when the notice arrives.
   */
  constructor(
    private readonly pool: DatabasePool,
    private readonly changed: (payload: string) => void = () => undefined,
  ) {}

  async start(session: Session, firstTokenHash: string, passwordUpgrade?: PasswordUpgrade): Promise<void> {
    await this.pool.transaction(async (transaction) => {
      if (passwordUpgrade) {
        await transaction.query(sql.unsafe`
          UPDATE users SET password = ${passwordUpgrade.to}
          WHERE id = ${session.userId} AND password = ${passwordUpgrade.from}`);
      }
      await transaction.query(sql.unsafe`
        INSERT INTO sessions (id, user_id, created_at, expires_at, client_address, user_agent)
        VALUES (${session.id}, ${session.userId}, ${at(session.createdAt)}, ${at(session.expiresAt)},
          ${session.clientAddress ?? null}, ${session.userAgent ?? null})`);
      await transaction.query(sql.unsafe`
        INSERT INTO refresh_tokens (token_hash, session_id, issued_at)
        VALUES (${firstTokenHash}, ${session.id}, ${at(session.createdAt)})`);
    });
  }

  async adopt(session: Session): Promise<Session> {
    await this.pool.query(sql.unsafe`
      INSERT INTO sessions (id, user_id, created_at, expires_at)
      VALUES (${session.id}, ${session.userId}, ${at(session.createdAt)}, ${at(session.expiresAt)})
      ON CONFLICT (id) DO NOTHING`);
    return toSession(
      await this.pool.one(sql.type(sessionRow)`SELECT ${SESSION_SELECT} FROM sessions s WHERE s.id = ${session.id}`),
    );
  }

  async rotate(request: RotationRequest): Promise<RotationOutcome> {
    const outcome = await this.pool.transaction(async (transaction): Promise<RotationOutcome> => {
      const row = await transaction.maybeOne(sql.type(tokenRow)`
        SELECT ${SESSION_SELECT},
          round(extract(epoch FROM t.spent_at) * 1000)::float8 AS spent_ms, t.successor_hash
        FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
        WHERE t.token_hash = ${request.tokenHash}
        FOR UPDATE OF t`);
      if (!row) return { kind: 'unknown' };
      const session = toSession(row);
      const decision = decideRotation(
        session,
        { spentAt: row.spent_ms, successorHash: row.successor_hash },
        { now: request.now, graceMs: request.graceMs, successorHash: request.successorHash },
      );
      switch (decision) {
        case 'rotate':
          await transaction.query(sql.unsafe`
            UPDATE refresh_tokens SET spent_at = ${at(request.now)}, successor_hash = ${request.successorHash}
            WHERE token_hash = ${request.tokenHash}`);
          await transaction.query(sql.unsafe`
            INSERT INTO refresh_tokens (token_hash, session_id, issued_at)
            VALUES (${request.successorHash}, ${session.id}, ${at(request.now)})`);
          await transaction.query(
            sql.unsafe`UPDATE sessions SET refreshed_at = ${at(request.now)} WHERE id = ${session.id}`,
          );
          return { kind: 'rotated', session };
        case 'replay':
          return { kind: 'replayed', session };
        case 'reuse':
          await transaction.query(sql.unsafe`
            UPDATE sessions SET revoked_at = ${at(request.now)}, revoked_reason = 'refresh_token_reused'
            WHERE id = ${session.id}`);
          return { kind: 'reused', session: { ...session, revokedAt: request.now } };
        case 'revoked':
        case 'expired':
          return { kind: decision };
      }
    });
    if (outcome.kind === 'reused') this.changed(`s:${outcome.session.id}`);
    return outcome;
  }

  async findById(id: string): Promise<Session | null> {
    if (!UUID.test(id)) return null;
    const row = await this.pool.maybeOne(
      sql.type(sessionRow)`SELECT ${SESSION_SELECT} FROM sessions s WHERE s.id = ${id}`,
    );
    return row && toSession(row);
  }

  async revoke(id: string, now: number, reason: RevocationReason): Promise<void> {
    if (!UUID.test(id)) return;
    await this.pool.query(sql.unsafe`
      UPDATE sessions SET revoked_at = ${at(now)}, revoked_reason = ${reason}
      WHERE id = ${id} AND revoked_at IS NULL`);
    this.changed(`s:${id}`);
  }

  async revokeAllForUser(userId: UserId, now: number, reason: RevocationReason, except?: string): Promise<number> {
    const kept = except !== undefined && UUID.test(except) ? except : null;
    const revoked = await this.pool.anyFirst(sql.type(z.object({ id: z.string() }))`
      UPDATE sessions SET revoked_at = ${at(now)}, revoked_reason = ${reason}
      WHERE user_id = ${userId} AND revoked_at IS NULL AND (${kept}::uuid IS NULL OR id <> ${kept}::uuid)
      RETURNING id::text AS id`);
    for (const id of revoked) this.changed(`s:${id}`);
    return revoked.length;
  }

  async listLive(userId: UserId, now: number): Promise<SessionSummary[]> {
    const rows = await this.pool.any(sql.type(summaryRow)`
      SELECT id::text AS id, round(extract(epoch FROM created_at) * 1000)::float8 AS created_ms,
        round(extract(epoch FROM refreshed_at) * 1000)::float8 AS refreshed_ms, client_address, user_agent
      FROM sessions
      WHERE user_id = ${userId} AND revoked_at IS NULL AND expires_at > ${at(now)}
      ORDER BY created_at DESC, id`);
    return rows.map((row) => ({
      id: row.id,
      createdAt: row.created_ms,
      refreshedAt: row.refreshed_ms,
      clientAddress: row.client_address,
      userAgent: row.user_agent,
    }));
  }
}
