import { createPrivateKey, createPublicKey, generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { type DatabasePool, type DatabaseTransactionConnection, sql } from 'slonik';
import { z } from 'zod';
import type { SigningKeyStore } from '../../application/ports/signing-key-store.js';
import type { SigningKeyInfo } from '../../domain/signing-key.js';
import { isLive } from '../../domain/signing-key.js';
import type { KeyProtection } from '../security/key-protection.js';
import {
  JWT_ALGORITHMS,
  type JwtAlgorithm,
  KeyMaterialError,
  type SigningKey,
  jwkThumbprint,
  keyUnfitFor,
} from '../security/key-ring.js';

const generate = promisify(generateKeyPair);

/** Any number, the same in every instance: serialises the making of keys (first start, rotation). */
const KEYS_LOCK = 0x6a776b31;
const RSA_BITS = 2048;

const keyRow = z.object({
  kid: z.string(),
  algorithm: z.string(),
  public_key: z.string(),
  private_key: z.string().nullable(),
  created_ms: z.number(),
  activates_ms: z.number(),
  retires_ms: z.number().nullable(),
});
type KeyRow = z.infer<typeof keyRow>;

const KEY_SELECT = sql.fragment`kid, algorithm, public_key, private_key,
  round(extract(epoch FROM created_at) * 1000)::float8 AS created_ms,
  round(extract(epoch FROM activates_at) * 1000)::float8 AS activates_ms,
  round(extract(epoch FROM retires_at) * 1000)::float8 AS retires_ms`;
const at = (ms: number) => sql.fragment`to_timestamp(${ms / 1000})`;

const infoOf = (row: KeyRow): SigningKeyInfo => ({
  kid: row.kid,
  algorithm: row.algorithm,
  createdAt: row.created_ms,
  activatesAt: row.activates_ms,
  retiresAt: row.retires_ms,
});

/**
 * ES256 and RS256 keys in PostgreSQL (migration 009), shared by every instance. Private keys are sealed by a
 * {@link KeyProtection} (AES-256-GCM in the row, or a file under `DATA_DIR/keys`). Keys are made under a transaction
 * advisory lock, so two instances starting together make one first key, and two rotations do not interleave.
 */
export class PostgresSigningKeyStore implements SigningKeyStore {
  readonly rotatable = true;

  constructor(
    private readonly pool: DatabasePool,
    private readonly protection: KeyProtection,
    private readonly algorithm: Exclude<JwtAlgorithm, 'HS256'>,
    /** The access-token lifespan: a key superseded because the algorithm changed verifies this much longer. */
    private readonly accessLifespanMs: number,
  ) {}

  async list(): Promise<readonly SigningKeyInfo[]> {
    const rows = await this.pool.any(
      sql.type(keyRow)`SELECT ${KEY_SELECT} FROM signing_keys ORDER BY created_at DESC, kid`,
    );
    return rows.map(infoOf);
  }

  /**
   * The live keys with their private halves opened, checked against their algorithm.
   * @throws KeyMaterialError when one cannot be opened or does not fit (a changed KEY_ENCRYPTION_SECRET, a lost file).
   */
  async load(nowMs: number): Promise<SigningKey[]> {
    const rows = await this.pool.any(
      sql.type(keyRow)`SELECT ${KEY_SELECT} FROM signing_keys ORDER BY created_at DESC, kid`,
    );
    const keys: SigningKey[] = [];
    for (const row of rows) {
      if (!isLive(infoOf(row), nowMs)) continue;
      keys.push(await this.open(row));
    }
    return keys;
  }

  /**
   * Makes a key of the configured algorithm, signing at once, when no live one exists (the first start, or a change
   * of `JWT_ALGORITHM`, whose old keys then verify for one more access lifespan).
   * @returns whether a key was made.
   */
  async ensure(nowMs: number): Promise<boolean> {
    return this.pool.transaction(async (transaction) => {
      await transaction.query(sql.unsafe`SELECT pg_advisory_xact_lock(${KEYS_LOCK})`);
      const live = await transaction.oneFirst(sql.type(z.object({ count: z.number() }))`
        SELECT count(*)::int AS count FROM signing_keys
        WHERE algorithm = ${this.algorithm} AND (retires_at IS NULL OR retires_at > ${at(nowMs)})`);
      if (live > 0) return false;
      // Whole seconds: tokens state their issue time in seconds, and one issued this second must find the key.
      const second = Math.floor(nowMs / 1000) * 1000;
      await this.insert(transaction, second, second + this.accessLifespanMs);
      return true;
    });
  }

  async rotate(input: { readonly activatesAt: number; readonly retireOthersAt: number }): Promise<SigningKeyInfo> {
    return this.pool.transaction(async (transaction) => {
      await transaction.query(sql.unsafe`SELECT pg_advisory_xact_lock(${KEYS_LOCK})`);
      return this.insert(transaction, input.activatesAt, input.retireOthersAt);
    });
  }

  private async insert(
    transaction: DatabaseTransactionConnection,
    activatesAt: number,
    retireOthersAt: number,
  ): Promise<SigningKeyInfo> {
    const pair =
      this.algorithm === 'ES256'
        ? await generate('ec', { namedCurve: 'P-256' })
        : await generate('rsa', { modulusLength: RSA_BITS });
    const kid = jwkThumbprint(pair.publicKey);
    const publicPem = pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const privatePem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const sealed = await this.protection.seal(kid, privatePem);
    await transaction.query(sql.unsafe`
      UPDATE signing_keys SET retires_at = ${at(retireOthersAt)} WHERE retires_at IS NULL`);
    const row = await transaction.one(sql.type(keyRow)`
      INSERT INTO signing_keys (kid, algorithm, public_key, private_key, activates_at)
      VALUES (${kid}, ${this.algorithm}, ${publicPem}, ${sealed}, ${at(activatesAt)})
      RETURNING ${KEY_SELECT}`);
    return infoOf(row);
  }

  private async open(row: KeyRow): Promise<SigningKey> {
    const algorithm = JWT_ALGORITHMS.find((name) => name === row.algorithm);
    if (algorithm === undefined || algorithm === 'HS256') {
      throw new KeyMaterialError(`signing key ${row.kid} has an unknown algorithm ${JSON.stringify(row.algorithm)}`);
    }
    const privatePem = await this.protection.open(row.kid, row.private_key);
    let privateKey;
    let publicKey;
    try {
      privateKey = createPrivateKey(privatePem);
      publicKey = createPublicKey(row.public_key);
    } catch (error) {
      throw new KeyMaterialError(`signing key ${row.kid} cannot be parsed (${(error as Error).message})`);
    }
    const unfit = keyUnfitFor(algorithm, privateKey);
    if (unfit !== undefined) throw new KeyMaterialError(`signing key ${row.kid}: ${unfit}`);
    if (
      jwkThumbprint(createPublicKey(privateKey)) !== jwkThumbprint(publicKey) ||
      jwkThumbprint(publicKey) !== row.kid
    ) {
      throw new KeyMaterialError(`signing key ${row.kid}: its private and public halves do not match`);
    }
    return { ...infoOf(row), algorithm, privateKey, publicKey };
  }
}
