import type { Clock } from '../ports/clock.js';
import type { SigningKeyStore } from '../ports/signing-key-store.js';
import { type InvalidInput, invalidInput } from '../../domain/errors.js';
import { type Result, fail, ok } from '../../domain/result.js';
import { type SigningKeyInfo, type SigningKeyState, keyStates } from '../../domain/signing-key.js';

/** Clocks of instances differ a little: a superseded key verifies this much longer than its last token can live. */
export const CLOCK_SKEW_MS = 60_000;

export interface RotationPolicy {
  /** How long a new key is published before it signs (longer than the JWKS max-age). */
  readonly publishDelayMs: number;
  /** The longest an access token lives. */
  readonly accessLifespanMs: number;
}

/**
 * Rotates the token-signing key without downtime: the new key is published at once and signs only after the publish
 * delay, once every verifier has had time to fetch the JWKS again; the keys it supersedes keep verifying until the
 * last token they can have signed has expired, then retire.
 */
export class RotateSigningKey {
  constructor(
    private readonly store: SigningKeyStore,
    private readonly clock: Clock,
    private readonly policy: RotationPolicy,
  ) {}

  async execute(): Promise<Result<SigningKeyInfo & { readonly previousRetireAt: number }, InvalidInput>> {
    if (!this.store.rotatable) {
      return fail(
        invalidInput(
          'JWT_ALGORITHM',
          'keys are rotated by the service only with JWT_ALGORITHM ES256 or RS256 and no JWT_PRIVATE_KEY_FILE; ' +
            'an HS256 key is JWT_SECRET, a PEM key is the file given',
        ),
      );
    }
    const activatesAt = this.clock.now() + this.policy.publishDelayMs;
    const previousRetireAt = activatesAt + this.policy.accessLifespanMs + CLOCK_SKEW_MS;
    const key = await this.store.rotate({ activatesAt, retireOthersAt: previousRetireAt });
    return ok({ ...key, previousRetireAt });
  }
}

/** The stored keys, newest first, each with its state now. */
export class ListSigningKeys {
  constructor(
    private readonly store: SigningKeyStore,
    private readonly clock: Clock,
  ) {}

  async execute(): Promise<readonly (SigningKeyInfo & { readonly state: SigningKeyState })[]> {
    return keyStates(await this.store.list(), this.clock.now());
  }
}
