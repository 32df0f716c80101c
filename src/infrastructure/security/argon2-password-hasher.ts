import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import type { PasswordHasher } from '../../application/ports/password-hasher.js';

export interface Argon2Parameters {
  /** Memory cost in KiB. */
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

/** npm argon2's own defaults: m=64 MiB, t=3, p=4. */
export const ARGON2_DEFAULTS: Argon2Parameters = { memoryCost: 65536, timeCost: 3, parallelism: 4 };

/** `$argon2id$v=19$m=65536,t=3,p=4$salt$hash`; npm argon2 0.45 writes the parameters in another order (m, p, t). */
const PHC_ARGON2ID = /^\$argon2id\$v=19\$([a-z]=\d+(?:,[a-z]=\d+)*)\$/;

/** Any argon2 PHC string: what argon2.verify reads (passlib's argon2 hashes too). */
const PHC_ARGON2 = /^\$argon2(?:id|i|d)\$(?:v=\d+\$)?[a-z]=\d+(?:,[a-z]=\d+)*\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

/** argon2id hashes in PHC format; hashes with weaker parameters are reported for upgrade. */
export class Argon2PasswordHasher implements PasswordHasher {
  private dummy: Promise<string> | undefined;

  constructor(private readonly parameters: Argon2Parameters = ARGON2_DEFAULTS) {}

  hash(password: string): Promise<string> {
    return argon2.hash(password, { type: argon2.argon2id, ...this.parameters });
  }

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password);
    } catch {
      // Not a PHC string argon2 can read (corrupt row, another algorithm): it matches no password.
      return false;
    }
  }

  recognizes(hash: string): boolean {
    return PHC_ARGON2.test(hash);
  }

  /** True for a hash that is not argon2id v1.3 or has a lower memory, time or parallelism cost than configured. */
  needsRehash(hash: string): boolean {
    const match = PHC_ARGON2ID.exec(hash);
    if (!match) return true;
    const parameters = new Map(match[1]!.split(',').map((pair) => [pair[0], Number(pair.slice(2))] as const));
    const [memoryCost, timeCost, parallelism] = [parameters.get('m'), parameters.get('t'), parameters.get('p')];
    if (memoryCost === undefined || timeCost === undefined || parallelism === undefined) return true;
    return (
      memoryCost < this.parameters.memoryCost ||
      timeCost < this.parameters.timeCost ||
      parallelism < this.parameters.parallelism
    );
  }

  /** Unbounded by itself: capacity is the admission queue's business (hash-admission.ts). */
  ensureCapacity(): void {}

  /** Made once, lazily, with the current parameters; call it at start to keep the first login fast. */
  dummyHash(): Promise<string> {
    this.dummy ??= this.hash(randomBytes(32).toString('base64url'));
    return this.dummy;
  }
}
