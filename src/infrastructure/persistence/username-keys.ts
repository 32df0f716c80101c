import type pg from 'pg';
import type { Logger } from '../../application/ports/logger.js';
import { usernameKey } from '../../domain/username.js';
import { usernameSkeleton } from '../security/username-skeleton.js';

const BATCH = 1000;
const UNIQUE_VIOLATION = '23505';

/** What one run of {@link rekeyUsernames} did. */
export interface RekeyReport {
  /** Rows given the application's key and a skeleton. */
  readonly rekeyed: number;
  /** Rows whose skeleton an older row already has: keyed, they keep working; the older row holds the skeleton. */
  readonly lookalikes: number;
  /** Rows whose key another row holds: such a row cannot log in until one of the two is renamed. */
  readonly clashes: readonly { readonly id: number; readonly other: number }[];
}

interface Keyed {
  readonly id: number;
  readonly key: string;
  /** Null for a lookalike: the skeleton is another row's. */
  readonly skeleton: string | null;
}

/**
 * Gives every row without a skeleton (rows from before the username rules, or written by another tool) the key and
 * skeleton the application computes. Run by the migrator under its lock, at every start; rows that have both are not
 * read again. Lookalikes among existing rows are kept, so their owners can still log in; the oldest holds the
 * skeleton, so no new name can join them. A batch is one query to find who holds its keys and skeletons and one
 * UPDATE; should a registration take one of them in between, the batch is done again row by row.
 */
export async function rekeyUsernames(client: pg.Client, logger: Logger): Promise<RekeyReport> {
  const report = { rekeyed: 0, lookalikes: 0, clashes: [] as { id: number; other: number }[] };
  for (let after = 0; ;) {
    const { rows } = await client.query<{ id: number; username: string }>(
      'SELECT id, username FROM users WHERE username_skeleton IS NULL AND id > $1 ORDER BY id LIMIT $2',
      [after, BATCH],
    );
    if (rows.length === 0) break;
    after = rows.at(-1)!.id;
    const computed = rows.map(({ id, username }) => {
      const key = usernameKey(username);
      return { id, key, skeleton: usernameSkeleton(key) };
    });
    try {
      await rekeyBatch(client, computed, report);
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      for (const row of computed) await rekeyBatch(client, [row], report).catch(ignoreUniqueViolation);
    }
  }
  for (const clash of report.clashes) {
    logger.warn('two users have one name under the username rules: rename one; the other cannot log in until then', {
      event: 'username_clash',
      user_id: clash.id,
      other_user_id: clash.other,
    });
  }
  if (report.rekeyed > 0 || report.lookalikes > 0 || report.clashes.length > 0) {
    logger.info('usernames keyed by the application', {
      event: 'username_rekey',
      rekeyed: report.rekeyed,
      lookalikes: report.lookalikes,
      clashes: report.clashes.length,
    });
  }
  return report;
}

function ignoreUniqueViolation(error: unknown): void {
  // A registration took the key or the skeleton since the check: the next start looks at this row again.
  if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
}

/** Keys one batch (in id order, so the oldest of two lookalikes keeps the skeleton), counting into `report`. */
async function rekeyBatch(
  client: pg.Client,
  batch: readonly { id: number; key: string; skeleton: string }[],
  report: { rekeyed: number; lookalikes: number; clashes: { id: number; other: number }[] },
): Promise<void> {
  const ids = new Set(batch.map((row) => row.id));
  const { rows: holders } = await client.query<{ id: number; key: string; skeleton: string | null }>(
    `SELECT id, username_key AS key, username_skeleton AS skeleton FROM users
     WHERE username_key = ANY($1::text[]) OR username_skeleton = ANY($2::text[])`,
    [batch.map((row) => row.key), batch.map((row) => row.skeleton)],
  );
  // The batch's own rows are being rekeyed: their current values claim nothing.
  const keyHolder = new Map<string, number>();
  const skeletonHolder = new Map<string, number>();
  for (const holder of holders) {
    if (ids.has(holder.id)) continue;
    keyHolder.set(holder.key, holder.id);
    if (holder.skeleton !== null) skeletonHolder.set(holder.skeleton, holder.id);
  }
  const updates: Keyed[] = [];
  const counts = { rekeyed: 0, lookalikes: 0, clashes: [] as { id: number; other: number }[] };
  for (const row of batch) {
    const other = keyHolder.get(row.key);
    if (other !== undefined) {
      counts.clashes.push({ id: row.id, other });
      continue;
    }
    keyHolder.set(row.key, row.id);
    if (skeletonHolder.has(row.skeleton)) {
      updates.push({ id: row.id, key: row.key, skeleton: null });
      counts.lookalikes += 1;
    } else {
      skeletonHolder.set(row.skeleton, row.id);
      updates.push(row);
      counts.rekeyed += 1;
    }
  }
  if (updates.length > 0) {
    await client.query(
      `UPDATE users u SET username_key = t.key, username_skeleton = t.skeleton
       FROM unnest($1::int[], $2::text[], $3::text[]) AS t(id, key, skeleton)
       WHERE u.id = t.id`,
      [updates.map((row) => row.id), updates.map((row) => row.key), updates.map((row) => row.skeleton)],
    );
  }
  // Counted once the UPDATE has gone through, so a batch done again row by row is not counted twice.
  report.rekeyed += counts.rekeyed;
  report.lookalikes += counts.lookalikes;
  report.clashes.push(...counts.clashes);
}
