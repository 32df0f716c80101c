import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { z } from 'zod';
import { sql } from 'slonik';
import { SlonikSessionRepository } from '../../src/infrastructure/persistence/slonik-session-repository.js';
import { HmacOpaqueTokens } from '../../src/infrastructure/security/hmac-opaque-tokens.js';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { TEST_SECRET, type TestApp, startTestApp } from '../support/test-app.js';

const PARALLEL = 20;
/** Races are timing-dependent: a few rounds make a missing row lock show reliably. */
const ROUNDS = 5;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const tokenRows = z.object({ token_hash: z.string(), spent: z.boolean(), successor_hash: z.string().nullable() });

describe('integration: concurrent refresh-token rotation on PostgreSQL', () => {
  describe(`${PARALLEL} parallel POST /api/refresh with one refresh token`, () => {
    let app: TestApp;

    before(async () => {
      app = await startTestApp();
    });

    after(async () => {
      await app?.close();
    });

    it('all answer 200 with one and the same successor; the session holds exactly 2 refresh tokens (3 rounds)', async () => {
      const opaque = new HmacOpaqueTokens(TEST_SECRET);
      for (let round = 0; round < 3; round += 1) {
        const username = `conc_${randomBytes(5).toString('hex')}`;
        const password = `Tr0ub4dor&3-${randomBytes(6).toString('hex')}`;
        const registration = await app.post('/api/registration', { username, password });
        expect(registration.status).to.equal(201);
        const { refresh_token: original, access_token: access } = (await registration.json()) as {
          refresh_token: string;
          access_token: string;
        };
        const { sid } = JSON.parse(Buffer.from(access.split('.')[1]!, 'base64url').toString('utf8')) as { sid: string };

        const answers = await Promise.all(
          Array.from({ length: PARALLEL }, async () => {
            const response = await app.post('/api/refresh', { refresh_token: original });
            return { status: response.status, body: (await response.json()) as Record<string, unknown> };
          }),
        );
        expect(
          answers.map((answer) => answer.status),
          `round ${round}`,
        ).to.deep.equal(Array(PARALLEL).fill(200));
        const successors = [...new Set(answers.map((answer) => answer.body.refresh_token))];
        expect(successors, `round ${round}`).to.deep.equal([opaque.successorOf(original)]);
        const successor = successors[0] as string;
        expect(successor).to.not.equal(original);

        const rows = await app.database.pool.any(sql.type(tokenRows)`
          SELECT token_hash, spent_at IS NOT NULL AS spent, successor_hash FROM refresh_tokens
          WHERE session_id = ${sid} ORDER BY issued_at, spent_at NULLS LAST`);
        expect(rows, `round ${round}`).to.deep.equal([
          { token_hash: sha256(original), spent: true, successor_hash: sha256(successor) },
          { token_hash: sha256(successor), spent: false, successor_hash: null },
        ]);

        // the successor is live: the stampede did not revoke the session
        const next = await app.post('/api/refresh', { refresh_token: successor });
        expect(next.status, `round ${round}`).to.equal(200);
      }
      expect(app.logger.events('refresh_token_reused')).to.deep.equal([]);
      expect(app.logger.lines.filter((line) => line.level === 'error').map((line) => line.message)).to.deep.equal([]);
    });
  });

  describe(`${PARALLEL} parallel SlonikSessionRepository.rotate calls for one token`, () => {
    let database: TestDatabase;

    before(async () => {
      database = await createTestDatabase();
    });

    after(async () => {
      await database?.drop();
    });

    it("yield exactly one 'rotated' and 19 'replayed', and one successor row (5 rounds)", async () => {
      const repository = new SlonikSessionRepository(database.pool);
      const userId = await database.pool.oneFirst(sql.type(z.object({ id: z.number() }))`
        INSERT INTO users (username, password, roles, is_active) VALUES ('concurrent', 'not-a-hash', 'user', true)
        RETURNING id`);
      const now = Date.UTC(2026, 0, 1, 12);
      for (let round = 0; round < ROUNDS; round += 1) {
        const session = { id: randomUUID(), userId, createdAt: now, expiresAt: now + 3_600_000, revokedAt: null };
        const token = sha256(`first-${round}`);
        const successor = sha256(`second-${round}`);
        await repository.start(session, token);

        const outcomes = await Promise.all(
          Array.from({ length: PARALLEL }, () =>
            repository.rotate({ tokenHash: token, successorHash: successor, now: now + 1_000, graceMs: 10_000 }),
          ),
        );
        const kinds = outcomes.map((outcome) => outcome.kind).sort();
        expect(kinds, `round ${round}`).to.deep.equal(
          ['rotated', ...Array<string>(PARALLEL - 1).fill('replayed')].sort(),
        );

        const rows = await database.pool.any(sql.type(tokenRows)`
          SELECT token_hash, spent_at IS NOT NULL AS spent, successor_hash FROM refresh_tokens
          WHERE session_id = ${session.id} ORDER BY issued_at`);
        expect(rows, `round ${round}`).to.deep.equal([
          { token_hash: token, spent: true, successor_hash: successor },
          { token_hash: successor, spent: false, successor_hash: null },
        ]);
        expect((await repository.findById(session.id))!.revokedAt).to.equal(null);
      }
    });
  });
});
