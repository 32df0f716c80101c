import { LRUCache } from 'lru-cache';
import {
  type AccessSnapshot,
  type AccessState,
  type SessionAccess,
  type UserAccess,
  sessionAccessOf,
  userAccessOf,
} from '../../application/ports/access-state.js';
import type { SessionRepository } from '../../application/ports/session-repository.js';
import type { UserRepository } from '../../application/ports/user-repository.js';
import type { UserId } from '../../domain/user.js';
import type { ChangeSubscriber } from './change-feed.js';

/** How many recent notifications are remembered to tell whether one raced a database read. */
const RECENT_CHANGES = 1024;

/** An entry; `null` is remembered too ("no such user"), as a token for it would otherwise read the database each time. */
interface Held<T> {
  readonly value: T | null;
}

export interface AccessCacheStats {
  readonly listening: boolean;
  readonly users: number;
  readonly sessions: number;
  readonly hits: number;
  readonly misses: number;
}

/**
 * {@link AccessState} from memory, kept current by the change feed (PostgreSQL LISTEN/NOTIFY, raised by triggers in the
 * transactions that revoke, deactivate, change roles or delete). Bounded: two LRU maps of at most `maxEntries` each;
 * a miss reads the repositories once and is remembered.
 *
 * Memory is trusted only while the feed is listening. When it stops (connection lost, server restarted, heartbeat
 * unanswered) everything held is dropped at once and every lookup reads the database, uncached, until the feed listens
 * again; then memory starts empty. So a notification lost while nobody listened can never leave a revoked session
 * trusted.
 *
 * A read that races a notification is not kept: the notification may announce a change the read did not see. Each read
 * notes how many notifications had arrived when it started; if one for its key arrived since (or too many to tell),
 * its answer is used for that request but not remembered.
 */
export class NotifiedAccessState implements AccessState, ChangeSubscriber {
  private readonly users: LRUCache<UserId, Held<UserAccess>>;
  private readonly sessions: LRUCache<string, Held<SessionAccess>>;
  private trusted = false;
  /** Bumped whenever trust changes, so a read started under the old state is not kept. */
  private epoch = 0;
  /** How many notifications have been applied. */
  private sequence = 0;
  private readonly recent: (string | undefined)[] = new Array<string | undefined>(RECENT_CHANGES);
  private hits = 0;
  private misses = 0;

  constructor(
    private readonly userRepository: UserRepository,
    private readonly sessionRepository: SessionRepository,
    maxEntries: number,
  ) {
    this.users = new LRUCache({ max: maxEntries });
    this.sessions = new LRUCache({ max: maxEntries });
  }

  async lookup(userId: UserId, sessionId: string): Promise<AccessSnapshot> {
    if (this.trusted) {
      const user = this.users.get(userId);
      const session = this.sessions.get(sessionId);
      if (user !== undefined && session !== undefined) {
        this.hits += 1;
        return { user: user.value, session: session.value };
      }
    }
    this.misses += 1;
    const [user, session] = await Promise.all([
      this.read(this.users, userId, `u:${userId}`, async () => {
        const found = await this.userRepository.findById(userId);
        return found && userAccessOf(found);
      }),
      this.read(this.sessions, sessionId, `s:${sessionId}`, async () => {
        const found = await this.sessionRepository.findById(sessionId);
        return found && sessionAccessOf(found);
      }),
    ]);
    return { user, session };
  }

  async lookupUser(userId: UserId): Promise<UserAccess | null> {
    return this.read(this.users, userId, `u:${userId}`, async () => {
      const found = await this.userRepository.findById(userId);
      return found && userAccessOf(found);
    });
  }

  stats(): AccessCacheStats {
    return {
      listening: this.trusted,
      users: this.users.size,
      sessions: this.sessions.size,
      hits: this.hits,
      misses: this.misses,
    };
  }

  onChange(payload: string): void {
    const separator = payload.indexOf(':');
    const kind = payload.slice(0, separator);
    const id = payload.slice(separator + 1);
    if (kind === 'u') this.users.delete(Number(id));
    else if (kind === 's') this.sessions.delete(id);
    else return;
    this.recent[this.sequence % RECENT_CHANGES] = payload;
    this.sequence += 1;
  }

  onUp(): void {
    this.forget();
    this.trusted = true;
  }

  onDown(): void {
    this.trusted = false;
    this.forget();
  }

  private forget(): void {
    this.users.clear();
    this.sessions.clear();
    this.epoch += 1;
  }

  private async read<K extends string | number, V>(
    cache: LRUCache<K, Held<V>>,
    key: K,
    changeKey: string,
    load: () => Promise<V | null>,
  ): Promise<V | null> {
    if (this.trusted) {
      const held = cache.get(key);
      if (held !== undefined) return held.value;
    }
    const epoch = this.epoch;
    const sequence = this.sequence;
    const value = await load();
    if (this.trusted && this.epoch === epoch && !this.changedSince(sequence, changeKey)) cache.set(key, { value });
    return value;
  }

  /** Whether a notification for `changeKey` arrived after the first `since` (or too many arrived to tell). */
  private changedSince(since: number, changeKey: string): boolean {
    if (this.sequence === since) return false;
    if (this.sequence - since > RECENT_CHANGES) return true;
    for (let index = since; index < this.sequence; index += 1) {
      if (this.recent[index % RECENT_CHANGES] === changeKey) return true;
    }
    return false;
  }
}
