import { createHash, createHmac, pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import type { PasswordHasher } from '../../application/ports/password-hasher.js';
import type { ShaCryptWorkers } from './sha-crypt-workers.js';

const pbkdf2Async = promisify(pbkdf2);

/**
 * Costs past these are taken for a corrupt row rather than a hash: verifying it would hold a hashing slot for minutes.
 * passlib 1.7.4's defaults are far below: 25,000 PBKDF2 rounds, 535,000 / 656,000 SHA-crypt rounds, bcrypt cost 12.
 */
const MAX_PBKDF2_ROUNDS = 5_000_000;
const MAX_SHA_CRYPT_ROUNDS = 5_000_000;
const MAX_BCRYPT_COST = 16;

/** passlib's "adapted base64" (`./0-9A-Za-z`-ish: `.` stands for `+`, no padding). */
const AB64 = '[./A-Za-z0-9]';
/** bcrypt's own base64 alphabet. */
const BCRYPT64 = '[./A-Za-z0-9]';

/** `$pbkdf2-sha512$<rounds>$<salt ab64>$<checksum ab64, 64 bytes>` */
const PBKDF2_SHA512 = new RegExp(`^\\$pbkdf2-sha512\\$([1-9]\\d{0,9})\\$(${AB64}*)\\$(${AB64}{86})$`);
/** `$5$[rounds=N$]<salt, at most 16>$<43 chars>` and `$6$...$<86 chars>` */
const SHA_CRYPT = /^\$([56])\$(?:rounds=([1-9]\d{0,9})\$)?([^$\n]{0,16})\$([./0-9A-Za-z]+)$/;
/** `$2a$`, `$2b$` or `$2y$`, a two-digit cost, then 22 salt and 31 checksum characters. */
const BCRYPT = new RegExp(`^\\$2[aby]\\$(\\d{2})\\$${BCRYPT64}{53}$`);
/** passlib's bcrypt_sha256, version 2 (`$bcrypt-sha256$v=2,t=2b,r=12$salt$checksum`) and version 1. */
const BCRYPT_SHA256_V2 = new RegExp(
  `^\\$bcrypt-sha256\\$v=2,t=(2a|2b),r=(\\d{1,2})\\$(${BCRYPT64}{22})\\$(${BCRYPT64}{31})$`,
);
const BCRYPT_SHA256_V1 = new RegExp(`^\\$bcrypt-sha256\\$(2a|2b),(\\d{1,2})\\$(${BCRYPT64}{22})\\$(${BCRYPT64}{31})$`);

const fromAb64 = (text: string): Buffer => Buffer.from(text.replaceAll('.', '+'), 'base64');

/** A legacy hash, parsed: how to verify a password against it. */
type Verification = (password: string) => Promise<boolean>;

/**
 * flask-praetorian's hashes (passlib 1.7 formats) beside the current argon2id ones, so that the users of a Flask seed
 * log in with the passwords they have. Every scheme praetorian allows is read: `pbkdf2_sha512` (its default) with
 * Node's PBKDF2; `sha256_crypt` and `sha512_crypt` with unixcrypt, on worker threads; `bcrypt` and `bcrypt_sha256`
 * with bcryptjs (asynchronous, it yields to the event loop between rounds); passlib's `argon2` hashes are PHC strings
 * that the current hasher reads as they are. Only passlib's framing is written here, nothing of the algorithms.
 *
 * New hashes are the current hasher's, and every legacy hash needs a rehash, so a legacy user is upgraded to argon2id
 * at the first login. A legacy hash is verified against the password as typed (praetorian hashed it as given), the
 * current ones against the normalized password (and an argon2 hash not made with the current parameters against
 * both, since passlib's look like ours).
 */
export class PasslibPasswordHasher implements PasswordHasher {
  constructor(
    private readonly current: PasswordHasher,
    private readonly shaCrypt: ShaCryptWorkers,
  ) {}

  hash(password: string): Promise<string> {
    return this.current.hash(password);
  }

  async verify(hash: string, password: string, asTyped: string = password): Promise<boolean> {
    const legacy = this.legacy(hash);
    if (legacy === undefined) {
      // passlib's argon2 hashes are PHC strings of the password as typed; the current ones, of its normalized form. A
      // password that normalization changes is tried as typed too, but only against a hash made with other parameters
      // than ours (passlib's defaults are): never against our own hashes or the dummy one, so that neither an unknown
      // user nor a wrong password costs two hashes.
      if (await this.current.verify(hash, password)) return true;
      return asTyped !== password && this.current.needsRehash(hash) && (await this.current.verify(hash, asTyped));
    }
    if (legacy === null) return false;
    try {
      return await legacy(asTyped);
    } catch {
      // Framed like a hash, but the library cannot read what is inside: it matches no password.
      return false;
    }
  }

  recognizes(hash: string): boolean {
    const legacy = this.legacy(hash);
    return legacy === undefined ? this.current.recognizes(hash) : legacy !== null;
  }

  needsRehash(hash: string): boolean {
    return this.legacy(hash) !== undefined || this.current.needsRehash(hash);
  }

  dummyHash(): Promise<string> {
    return this.current.dummyHash();
  }

  ensureCapacity(): void {
    this.current.ensureCapacity();
  }

  /**
   * @returns how to verify a password against a legacy hash; null for a hash of a legacy scheme that does not parse (or
   *   whose cost is out of bounds); undefined for a hash of no legacy scheme (the current hasher's business).
   */
  private legacy(hash: string): Verification | null | undefined {
    if (hash.startsWith('$pbkdf2-sha512$')) return this.pbkdf2Sha512(hash);
    if (hash.startsWith('$5$') || hash.startsWith('$6$')) return this.shaCryptOf(hash);
    if (hash.startsWith('$2')) return this.bcryptOf(hash);
    if (hash.startsWith('$bcrypt-sha256$')) return this.bcryptSha256(hash);
    return undefined;
  }

  private pbkdf2Sha512(hash: string): Verification | null {
    const match = PBKDF2_SHA512.exec(hash);
    if (!match) return null;
    const rounds = Number(match[1]);
    const salt = fromAb64(match[2]!);
    const checksum = fromAb64(match[3]!);
    if (rounds > MAX_PBKDF2_ROUNDS || checksum.length !== 64) return null;
    return async (password) =>
      timingSafeEqual(await pbkdf2Async(Buffer.from(password, 'utf8'), salt, rounds, 64, 'sha512'), checksum);
  }

  private shaCryptOf(hash: string): Verification | null {
    const match = SHA_CRYPT.exec(hash);
    if (!match) return null;
    const rounds = match[2] === undefined ? 5000 : Number(match[2]);
    const checksumLength = match[1] === '5' ? 43 : 86;
    if (rounds < 1000 || rounds > MAX_SHA_CRYPT_ROUNDS || match[4]!.length !== checksumLength) return null;
    return (password) => this.shaCrypt.verify(hash, password);
  }

  private bcryptOf(hash: string): Verification | null {
    const match = BCRYPT.exec(hash);
    if (!match || !bcryptCost(match[1]!)) return null;
    return (password) => bcrypt.compare(password, hash);
  }

  private bcryptSha256(hash: string): Verification | null {
    const v2 = BCRYPT_SHA256_V2.exec(hash);
    const match = v2 ?? BCRYPT_SHA256_V1.exec(hash);
    if (!match || !bcryptCost(match[2]!)) return null;
    const [, ident, cost, salt, checksum] = match as unknown as [string, string, string, string, string];
    const inner = `$${ident}$${cost.padStart(2, '0')}$${salt}${checksum}`;
    return (password) => {
      // passlib feeds bcrypt the base64 of a SHA-256 of the password, keyed with the salt (as text) in version 2.
      const digest = v2
        ? createHmac('sha256', salt).update(password, 'utf8').digest()
        : createHash('sha256').update(password, 'utf8').digest();
      return bcrypt.compare(digest.toString('base64'), inner);
    };
  }
}

function bcryptCost(text: string): boolean {
  const cost = Number(text);
  return cost >= 4 && cost <= MAX_BCRYPT_COST;
}
