import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DatabasePool } from 'slonik';
import type { Logger } from '../../application/ports/logger.js';
import type { ServiceConfig } from '../config/config.js';
import { KeyFiles, SealedKeyProtection } from '../security/key-protection.js';
import {
  KeyMaterialError,
  KeyRing,
  type SigningKey,
  hmacSigningKey,
  jwkThumbprint,
  keyUnfitFor,
} from '../security/key-ring.js';
import type { ChangeSubscriber } from './change-feed.js';
import { PostgresSigningKeyStore } from './postgres-signing-key-store.js';

/** The keys of a started service. */
export interface SigningKeys {
  readonly ring: KeyRing;
  /** The shared store, when the service makes and rotates its keys (ES256, RS256 without PEM files). */
  readonly store: PostgresSigningKeyStore | undefined;
  /** How the keys came: `secret` (HS256 from JWT_SECRET), `files` (PEM files) or `managed`. */
  readonly source: 'secret' | 'files' | 'managed';
}

/**
 * The signing keys as configured: the HS256 key from `JWT_SECRET`; the PEM files given, used as they are; or the keys
 * in PostgreSQL, one made when none is live.
 * @throws KeyMaterialError (one line) for a missing, unreadable, short, mismatched or undecryptable key.
 */
export async function openSigningKeys(
  config: ServiceConfig,
  pool: DatabasePool,
  nowMs: number,
  logger: Logger,
): Promise<SigningKeys> {
  const { signing } = config;
  if (signing.algorithm === 'HS256') {
    return { ring: new KeyRing([hmacSigningKey(config.jwtSecret)], true), store: undefined, source: 'secret' };
  }
  if (signing.privateKeyFile !== undefined) {
    const privateKey = parseKey(
      'JWT_PRIVATE_KEY_FILE',
      signing.privateKeyFile,
      await readKeyFile('JWT_PRIVATE_KEY_FILE', signing.privateKeyFile),
      createPrivateKey,
    );
    if (privateKey.type !== 'private') {
      throw new KeyMaterialError(`JWT_PRIVATE_KEY_FILE ${signing.privateKeyFile} holds no private key`);
    }
    const unfit = keyUnfitFor(signing.algorithm, privateKey);
    if (unfit !== undefined) throw new KeyMaterialError(`JWT_PRIVATE_KEY_FILE ${signing.privateKeyFile}: ${unfit}`);
    const publicKey = createPublicKey(privateKey);
    if (signing.publicKeyFile !== undefined) {
      const given = parseKey(
        'JWT_PUBLIC_KEY_FILE',
        signing.publicKeyFile,
        await readKeyFile('JWT_PUBLIC_KEY_FILE', signing.publicKeyFile),
        createPublicKey,
      );
      if (jwkThumbprint(given) !== jwkThumbprint(publicKey)) {
        throw new KeyMaterialError(
          `JWT_PUBLIC_KEY_FILE ${signing.publicKeyFile} is not the public half of JWT_PRIVATE_KEY_FILE ${signing.privateKeyFile}`,
        );
      }
    }
    const key: SigningKey = {
      kid: jwkThumbprint(publicKey),
      algorithm: signing.algorithm,
      privateKey,
      publicKey,
      createdAt: 0,
      activatesAt: 0,
      retiresAt: null,
    };
    return { ring: new KeyRing([key]), store: undefined, source: 'files' };
  }
  const files = new KeyFiles(path.join(config.dataDir, 'keys'));
  const protection =
    signing.keyEncryptionSecret === undefined ? files : new SealedKeyProtection(signing.keyEncryptionSecret, files);
  const store = new PostgresSigningKeyStore(pool, protection, signing.algorithm, config.accessLifespanSeconds * 1000);
  if (await store.ensure(nowMs)) {
    logger.info('signing key made', {
      event: 'signing_key_created',
      algorithm: signing.algorithm,
      kept: signing.keyEncryptionSecret === undefined ? files.directory : 'database',
    });
  }
  return { ring: new KeyRing(await store.load(nowMs)), store, source: 'managed' };
}

async function readKeyFile(variable: string, file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new KeyMaterialError(`${variable} ${file} cannot be read (${reason})`);
  }
}

function parseKey<K>(variable: string, file: string, pem: string, parse: (pem: string) => K): K {
  try {
    return parse(pem);
  } catch {
    throw new KeyMaterialError(`${variable} ${file} does not hold a PEM key`);
  }
}

/**
 * Reloads a key ring from the store whenever a signing key changes (`k:` notices of migration 009) and whenever the
 * change feed listens again (notices may have been missed), so that every instance picks a rotation up without a
 * restart. Reloads do not overlap; a notice during one makes one more. A reload that fails keeps the keys held (they
 * still verify what they verified) and is logged.
 */
export class SigningKeyReloader implements ChangeSubscriber {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly ring: KeyRing,
    private readonly store: PostgresSigningKeyStore,
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {}

  onChange(payload: string): void {
    if (payload.startsWith('k:')) void this.reload();
  }

  onUp(): void {
    void this.reload();
  }

  onDown(): void {}

  /** Starts a reload (or schedules one after the running one). @returns once the keys are current. */
  reload(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          this.ring.replace(await this.store.load(this.now()));
          this.logger.info('signing keys reloaded', { event: 'signing_keys_reloaded', keys: this.ring.all().length });
        } catch (error) {
          this.logger.warn('signing keys not reloaded', {
            err: error instanceof Error ? error.message : String(error),
          });
        }
      } while (this.again);
      this.running = undefined;
    })();
    return this.running;
  }
}
