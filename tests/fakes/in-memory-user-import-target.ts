import type { ImportOutcome, SeedUser, UserImportTarget } from '../../src/application/ports/user-import.js';
import { usernameKey } from '../../src/domain/username.js';
import { usernameSkeleton } from '../../src/infrastructure/security/username-skeleton.js';

/** A users table in a Map, imported into as the PostgreSQL target does: ids kept, nothing overwritten. */
export class InMemoryUserImportTarget implements UserImportTarget {
  readonly rows = new Map<number, SeedUser>();
  /** Ids whose write fails, as a constraint of the real table would refuse them. */
  readonly refusing = new Set<number>();
  sequenceAt = 0;

  constructor(private readonly emailColumn = false) {}

  async importUser(user: SeedUser): Promise<ImportOutcome> {
    const same = this.rows.get(user.id);
    if (same)
      return same.username === user.username ? { kind: 'present' } : { kind: 'id-taken', otherUsername: same.username };
    const key = usernameKey(user.username);
    const other = [...this.rows.values()].find((row) => usernameKey(row.username) === key);
    if (other) return { kind: 'name-taken', otherId: other.id, otherUsername: other.username };
    if (this.refusing.has(user.id)) throw new Error('the row breaks a constraint');
    const skeleton = usernameSkeleton(key);
    const lookalike = [...this.rows.values()].find((row) => usernameSkeleton(usernameKey(row.username)) === skeleton);
    this.rows.set(user.id, { ...user });
    return lookalike ? { kind: 'imported-lookalike', otherId: lookalike.id } : { kind: 'imported' };
  }

  async afterImport(): Promise<void> {
    this.sequenceAt = Math.max(1, ...this.rows.keys());
  }

  async storesEmail(): Promise<boolean> {
    return this.emailColumn;
  }
}
