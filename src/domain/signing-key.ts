/**
 * A token-signing key's life, as rotation drives it. A new key is published (in the JWKS) at once but signs only from
 * `activatesAt`, once every verifier has had time to fetch it; the key it replaces keeps verifying until `retiresAt`,
 * when the last token it signed has expired.
 */
export interface SigningKeyInfo {
  /** The `kid` header of the tokens it signs. */
  readonly kid: string;
  readonly algorithm: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  /** Milliseconds since the epoch: the key signs from then on (until a newer key activates). */
  readonly activatesAt: number;
  /** Milliseconds since the epoch: the key no longer verifies from then on; null while it is not superseded. */
  readonly retiresAt: number | null;
}

/** `pending`: published, not signing yet; `signing`; `verifying`: superseded, its tokens still live; `retired`. */
export type SigningKeyState = 'pending' | 'signing' | 'verifying' | 'retired';

/** Whether `key` still verifies at `now`. */
export const isLive = (key: SigningKeyInfo, now: number): boolean => key.retiresAt === null || key.retiresAt > now;

/**
 * The key that signs at `now`: of the live keys that have activated, the one that activated last (ties: the newer).
 * @returns undefined when no live key has activated.
 */
export function signingKeyAt<K extends SigningKeyInfo>(keys: readonly K[], now: number): K | undefined {
  let chosen: K | undefined;
  for (const key of keys) {
    if (!isLive(key, now) || key.activatesAt > now) continue;
    if (
      chosen === undefined ||
      key.activatesAt > chosen.activatesAt ||
      (key.activatesAt === chosen.activatesAt && key.createdAt > chosen.createdAt)
    ) {
      chosen = key;
    }
  }
  return chosen;
}

/** The state of each key at `now`, in the order given. */
export function keyStates(
  keys: readonly SigningKeyInfo[],
  now: number,
): readonly (SigningKeyInfo & { readonly state: SigningKeyState })[] {
  const signing = signingKeyAt(keys, now);
  return keys.map((key) => {
    let state: SigningKeyState;
    if (!isLive(key, now)) state = 'retired';
    else if (key === signing) state = 'signing';
    else if (key.activatesAt > now) state = 'pending';
    else state = 'verifying';
    return { ...key, state };
  });
}
