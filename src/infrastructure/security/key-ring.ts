import { type JsonWebKey, type KeyObject, createHash, createHmac, createSecretKey } from 'node:crypto';
import type { JsonWebKeySet, PublishedKeys } from '../../application/ports/published-keys.js';
import type { SigningKeyStore } from '../../application/ports/signing-key-store.js';
import { type SigningKeyInfo, isLive, signingKeyAt } from '../../domain/signing-key.js';

/**
 * The algorithms `JWT_ALGORITHM` takes. EdDSA is not among them: jsonwebtoken 9 (through jws and jwa) signs and
 * verifies only HS*, RS*, PS* and ES*, and a hand-written signer is not worth the risk.
 */
export const JWT_ALGORITHMS = ['HS256', 'ES256', 'RS256'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** RFC 7518 3.2: an HS256 key must be at least as long as the hash output. */
export const MIN_HMAC_KEY_BYTES = 32;
/** NIST SP 800-57: RSA keys under 2048 bits are not to be used for signatures. */
export const MIN_RSA_BITS = 2048;

/** A key that cannot be used (missing, short, of the wrong kind, undecryptable); `message` is one line. */
export class KeyMaterialError extends Error {
  override readonly name = 'KeyMaterialError';
}

/** A key as the signer uses it: `KeyObject`s made once (a PEM or string per call costs many times more). */
export interface SigningKey extends SigningKeyInfo {
  readonly algorithm: JwtAlgorithm;
  /** The private key (ES256, RS256) or the secret (HS256). */
  readonly privateKey: KeyObject;
  /** The public key (ES256, RS256) or the secret (HS256). */
  readonly publicKey: KeyObject;
}

/**
 * Why `privateKey` cannot sign `algorithm`, or undefined when it can: ES256 needs a P-256 EC key, RS256 an RSA key of
 * at least {@link MIN_RSA_BITS} bits, HS256 a secret of at least {@link MIN_HMAC_KEY_BYTES} bytes.
 */
export function keyUnfitFor(algorithm: JwtAlgorithm, key: KeyObject): string | undefined {
  switch (algorithm) {
    case 'HS256':
      if (key.type !== 'secret') return `HS256 needs a secret, not a ${key.type} key`;
      return key.symmetricKeySize! < MIN_HMAC_KEY_BYTES
        ? `the HS256 key must be at least ${MIN_HMAC_KEY_BYTES} bytes (got ${key.symmetricKeySize})`
        : undefined;
    case 'ES256':
      if (key.asymmetricKeyType !== 'ec') return `ES256 needs an EC P-256 key, not ${describeKey(key)}`;
      return key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
        ? undefined
        : `ES256 needs an EC P-256 key, not ${describeKey(key)}`;
    case 'RS256':
      if (key.asymmetricKeyType !== 'rsa') return `RS256 needs an RSA key, not ${describeKey(key)}`;
      return (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS
        ? `RS256 needs an RSA key of at least ${MIN_RSA_BITS} bits (got ${key.asymmetricKeyDetails?.modulusLength})`
        : undefined;
  }
}

function describeKey(key: KeyObject): string {
  if (key.type === 'secret') return 'a secret';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return `an ${key.asymmetricKeyType ?? 'unknown'}${curve ? ` ${curve}` : ''} key`;
}

/** RFC 7638: the SHA-256 thumbprint of a public key's required JWK members, as a key id. */
export function jwkThumbprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  const members =
    jwk.kty === 'EC'
      ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
      : jwk.kty === 'RSA'
        ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
        : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/**
 * The HS256 key made from `JWT_SECRET`. Its id is an HMAC of a fixed label under the secret: stable across instances
 * and restarts, and telling nothing about the secret.
 */
export function hmacSigningKey(secret: string | Buffer): SigningKey {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  if (bytes.length < MIN_HMAC_KEY_BYTES) {
    throw new RangeError(`the HS256 signing key must be at least ${MIN_HMAC_KEY_BYTES} bytes (got ${bytes.length})`);
  }
  const key = createSecretKey(bytes);
  const kid = `hs-${createHmac('sha256', bytes).update('jwt-login key id').digest('base64url').slice(0, 16)}`;
  return { kid, algorithm: 'HS256', privateKey: key, publicKey: key, createdAt: 0, activatesAt: 0, retiresAt: null };
}

/**
 * The keys this instance signs and verifies with, replaced as a whole when they change (a rotation heard on the change
 * feed). Which key signs is decided by time ({@link signingKeyAt}), so every instance holding the same keys signs with
 * the same one, and a rotation needs no timer.
 */
export class KeyRing implements PublishedKeys {
  private keys: readonly SigningKey[] = [];
  private byKid = new Map<string, SigningKey>();
  /** Public JWKs worked out once per key. */
  private jwkOf = new Map<string, Readonly<Record<string, string>>>();
  private readonly listeners: (() => void)[] = [];

  /**
   * @param acceptsKeylessTokens whether a token without `kid` may be verified by the one HS256 key (tokens issued
   *   before tokens carried a `kid`); never with public keys.
   */
  constructor(
    keys: readonly SigningKey[],
    readonly acceptsKeylessTokens = false,
  ) {
    this.replace(keys);
  }

  /** Every key known, retired ones included. */
  all(): readonly SigningKey[] {
    return this.keys;
  }

  /** Takes `keys` as the whole set, and tells the listeners (the verified-token cache is cleared). */
  replace(keys: readonly SigningKey[]): void {
    this.keys = [...keys];
    this.byKid = new Map(keys.map((key) => [key.kid, key]));
    this.jwkOf = new Map(keys.filter((key) => key.algorithm !== 'HS256').map((key) => [key.kid, publicJwk(key)]));
    for (const listener of this.listeners) listener();
  }

  onReplace(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** @throws Error when no key may sign at `nowMs` (never after a start, which makes or loads one). */
  signingKey(nowMs: number): SigningKey {
    const key = signingKeyAt(this.keys, nowMs);
    if (key === undefined) throw new Error('no signing key is active');
    return key;
  }

  /** The live key `kid` names, or undefined (unknown, or retired). */
  verifyingKey(kid: string, nowMs: number): SigningKey | undefined {
    const key = this.byKid.get(kid);
    return key !== undefined && isLive(key, nowMs) ? key : undefined;
  }

  /** The HS256 key that verifies tokens without `kid`, when allowed. */
  keylessKey(nowMs: number): SigningKey | undefined {
    if (!this.acceptsKeylessTokens) return undefined;
    const key = signingKeyAt(this.keys, nowMs);
    return key?.algorithm === 'HS256' ? key : undefined;
  }

  jwks(nowSeconds: number): JsonWebKeySet {
    const now = nowSeconds * 1000;
    return {
      keys: this.keys
        .filter((key) => key.algorithm !== 'HS256' && isLive(key, now))
        .map((key) => this.jwkOf.get(key.kid)!),
    };
  }
}

/** RFC 7517 / 7518: the public members, with `kid`, `alg` and `use`. */
function publicJwk(key: SigningKey): Readonly<Record<string, string>> {
  const jwk: JsonWebKey = key.publicKey.export({ format: 'jwk' });
  const members: Record<string, string> = { kty: String(jwk.kty), kid: key.kid, use: 'sig', alg: key.algorithm };
  for (const name of jwk.kty === 'EC' ? ['crv', 'x', 'y'] : ['n', 'e']) members[name] = String(jwk[name]);
  return members;
}

/** The keys of a ring that the service does not make (HS256 from JWT_SECRET, PEM files): listed, never rotated. */
export class FixedSigningKeys implements SigningKeyStore {
  readonly rotatable = false;

  constructor(private readonly ring: KeyRing) {}

  list(): Promise<readonly SigningKeyInfo[]> {
    return Promise.resolve(
      this.ring.all().map(({ kid, algorithm, createdAt, activatesAt, retiresAt }) => ({
        kid,
        algorithm,
        createdAt,
        activatesAt,
        retiresAt,
      })),
    );
  }

  rotate(): Promise<SigningKeyInfo> {
    return Promise.reject(new KeyMaterialError('these keys are not made by the service and cannot be rotated by it'));
  }
}
