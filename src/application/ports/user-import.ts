import { type ServiceToken, serviceToken } from './service-token.js';
import type { UserId } from '../../domain/user.js';

/** A row of the seed's `users` table, as it is: roles comma-joined or null, `is_active` null, email if it has one. */
export interface SeedUser {
  readonly id: UserId;
  readonly username: string;
  readonly passwordHash: string;
  readonly roles: string | null;
  readonly isActive: boolean | null;
  /** Undefined when the source has no email column. */
  readonly email?: string | null;
}

/** Where a seed's users are read from: another database. */
export interface UserSource {
  /** @returns every user, in id order, a batch at a time. @throws when the source cannot be read. */
  users(): AsyncIterable<readonly SeedUser[]>;
  close(): Promise<void>;
}

/** What importing one user did. */
export type ImportOutcome =
  | { readonly kind: 'imported' }
  /** Imported; its name looks like (same confusable skeleton) the older user `otherId`'s, which keeps the skeleton. */
  | { readonly kind: 'imported-lookalike'; readonly otherId: UserId }
  /** Imported without its email, which another user here has (the first keeps it). */
  | { readonly kind: 'imported-without-email'; readonly otherId: UserId }
  /** The same id and username are there already (an earlier import): left as they are, hash upgrades included. */
  | { readonly kind: 'present' }
  /** Not imported: the id is another user's, or the name is, exactly or once folded. */
  | { readonly kind: 'id-taken'; readonly otherUsername: string }
  | { readonly kind: 'name-taken'; readonly otherId: UserId; readonly otherUsername: string };

export const UserImportTarget: ServiceToken<UserImportTarget> = serviceToken('UserImportTarget');
/** The users table a seed is imported into, keeping ids. */
export interface UserImportTarget {
  /** Writes one user with its id, unless the id or the (folded) name is taken. Never overwrites a row. */
  importUser(user: SeedUser): Promise<ImportOutcome>;
  /** Moves the id sequence past the largest id, so that new users never take an imported one's id. */
  afterImport(): Promise<void>;
  /** @returns whether the target stores emails (the column is there). */
  storesEmail(): Promise<boolean>;
}
