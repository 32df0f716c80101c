import type { ImportOutcome, SeedUser, UserImportTarget, UserSource } from '../ports/user-import.js';
import type { Logger } from '../ports/logger.js';
import { validateUsername } from '../../domain/username.js';

export interface ImportUsersInput {
  readonly source: UserSource;
  /** Told each conflict, one line each, as it is met. */
  readonly report: (line: string) => void;
}

export interface ImportUsersOutput {
  readonly read: number;
  readonly imported: number;
  /** There from an earlier import: left as they are. */
  readonly present: number;
  /** Not imported: id or name taken, or the row could not be written. */
  readonly skipped: number;
  /** Conflict lines reported (a name the rules refuse is imported, and reported). */
  readonly conflicts: number;
}

const named = (user: Pick<SeedUser, 'id' | 'username'>) => `user ${user.id} ${JSON.stringify(user.username)}`;

/**
 * Copies a Flask seed's users into this service's table, keeping their ids (old tokens' `id` claims name the same
 * user) and their password hashes (upgraded to argon2id at each one's first login). Idempotent: a user already there
 * with the same id and name is left as it is, so running it again changes nothing, and never undoes an upgrade.
 *
 * Conflicts are reported one line each and never stop the import:
 * - a name equal, once folded, to another user's (or an id that is another user's) is skipped: the first one keeps
 *   the name;
 * - a name the username rules refuse (an invisible character, a symbol...) is imported as it is, since the seed let
 *   its owner have it and they must go on logging in, as rows from before the rules do; no new name like it can be
 *   registered;
 * - a name that looks like an older user's (UTS #39 skeleton) is imported; the older one keeps the skeleton, so no new
 *   name can join them;
 * - an email another user has (once folded) is left out: the user is imported without it.
 */
export class ImportUsers {
  constructor(
    private readonly target: UserImportTarget,
    private readonly logger: Logger,
  ) {}

  async execute(input: ImportUsersInput): Promise<ImportUsersOutput> {
    const counts = { read: 0, imported: 0, present: 0, skipped: 0, conflicts: 0 };
    const conflict = (line: string) => {
      counts.conflicts += 1;
      input.report(`conflict: ${line}`);
    };
    const withEmail = await this.target.storesEmail();
    for await (const batch of input.source.users()) {
      for (const user of batch) {
        counts.read += 1;
        let outcome: ImportOutcome;
        try {
          outcome = await this.target.importUser(withEmail ? user : withoutEmail(user));
        } catch (error) {
          counts.skipped += 1;
          conflict(
            `${named(user)} could not be written (${error instanceof Error ? error.message : 'error'}): skipped`,
          );
          continue;
        }
        switch (outcome.kind) {
          case 'present':
            counts.present += 1;
            continue;
          case 'id-taken':
            counts.skipped += 1;
            conflict(`${named(user)}: id ${user.id} is ${JSON.stringify(outcome.otherUsername)}'s here: skipped`);
            continue;
          case 'name-taken':
            counts.skipped += 1;
            conflict(
              `${named(user)} is the same name, once folded, as ${named({ id: outcome.otherId, username: outcome.otherUsername })}: skipped`,
            );
            continue;
          case 'imported-without-email':
            conflict(`${named(user)}: its email is user ${outcome.otherId}'s here: imported without it`);
            break;
          case 'imported-lookalike':
            conflict(`${named(user)} looks like user ${outcome.otherId}'s name: imported; it keeps logging in`);
            break;
          case 'imported':
            break;
        }
        counts.imported += 1;
        const refusal = validateUsername(user.username);
        if (!refusal.ok) {
          conflict(`${named(user)} is refused by the username rules (${refusal.error.message}): imported as it is`);
        }
      }
    }
    await this.target.afterImport();
    this.logger.info('users imported', { event: 'users_imported', ...counts });
    return counts;
  }
}

function withoutEmail(user: SeedUser): SeedUser {
  const { email: _email, ...rest } = user;
  return rest;
}
