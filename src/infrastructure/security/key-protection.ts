import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KeyMaterialError } from './key-ring.js';

/** The least `KEY_ENCRYPTION_SECRET` may hold. */
export const MIN_KEY_ENCRYPTION_SECRET_BYTES = 32;
const SEALED_VERSION = 'v1';
const IV_BYTES = 12;

/**
 * Where a private signing key is kept, and how: sealed into its database row, or in a file of its own.
 * `seal` returns what the row stores (null: the key is in a file); `open` takes it back.
 */
export interface KeyProtection {
  seal(kid: string, privatePem: string): Promise<string | null>;
  /** @throws KeyMaterialError when the key is missing, unreadable or does not decrypt. */
  open(kid: string, sealed: string | null): Promise<string>;
}

/**
 * Private keys encrypted with AES-256-GCM (node:crypto) under a key derived from `KEY_ENCRYPTION_SECRET` by HKDF-SHA256,
 * stored in the database where every instance reads them. The key id is authenticated data, so a sealed key moved to
 * another row does not open. Keys in files (written before the secret was set) are still read from `files`.
 */
export class SealedKeyProtection implements KeyProtection {
  private readonly key: Buffer;

  constructor(
    secret: string,
    private readonly files: KeyFiles,
  ) {
    if (Buffer.byteLength(secret, 'utf8') < MIN_KEY_ENCRYPTION_SECRET_BYTES) {
      throw new KeyMaterialError(`KEY_ENCRYPTION_SECRET must be at least ${MIN_KEY_ENCRYPTION_SECRET_BYTES} bytes`);
    }
    this.key = Buffer.from(hkdfSync('sha256', secret, 'jwt-login', 'signing-key-encryption v1', 32));
  }

  seal(kid: string, privatePem: string): Promise<string | null> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(kid, 'utf8'));
    const body = Buffer.concat([cipher.update(privatePem, 'utf8'), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64url'));
    return Promise.resolve([SEALED_VERSION, ...parts].join('.'));
  }

  open(kid: string, sealed: string | null): Promise<string> {
    if (sealed === null) return this.files.read(kid);
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== SEALED_VERSION || iv === undefined || tag === undefined || body === undefined) {
      return Promise.reject(new KeyMaterialError(`signing key ${kid} is stored in a form this version cannot read`));
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(kid, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const pem = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
      return Promise.resolve(pem.toString('utf8'));
    } catch {
      return Promise.reject(
        new KeyMaterialError(
          `KEY_ENCRYPTION_SECRET does not decrypt signing key ${kid}: it is not the secret the key was stored with`,
        ),
      );
    }
  }
}

/**
 * Private keys as PEM files under one directory (`DATA_DIR/keys`), mode 0600 in a 0700 directory, for a development
 * run on the embedded database without `KEY_ENCRYPTION_SECRET`.
 */
export class KeyFiles implements KeyProtection {
  constructor(readonly directory: string) {}

  async seal(kid: string, privatePem: string): Promise<string | null> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    await writeFile(this.file(kid), privatePem, { mode: 0o600, flag: 'wx' });
    return null;
  }

  async open(kid: string, sealed: string | null): Promise<string> {
    if (sealed !== null) {
      throw new KeyMaterialError(`signing key ${kid} is encrypted in the database: set KEY_ENCRYPTION_SECRET`);
    }
    return this.read(kid);
  }

  /** @throws KeyMaterialError when the file is missing, unreadable or readable by group or others. */
  async read(kid: string): Promise<string> {
    const file = this.file(kid);
    if (!existsSync(file)) {
      throw new KeyMaterialError(`signing key ${kid} is missing: ${file} does not exist`);
    }
    try {
      const info = await stat(file);
      if ((info.mode & 0o077) !== 0) {
        const mode = (info.mode & 0o777).toString(8).padStart(3, '0');
        throw new KeyMaterialError(`${file} is readable by group or others (mode ${mode}); chmod 600 it`);
      }
      return await readFile(file, 'utf8');
    } catch (error) {
      if (error instanceof KeyMaterialError) throw error;
      const reason = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new KeyMaterialError(`${file} cannot be read (${reason})`);
    }
  }

  private file(kid: string): string {
    if (!/^[A-Za-z0-9_-]+$/.test(kid)) throw new KeyMaterialError(`signing key id ${JSON.stringify(kid)} is not valid`);
    return path.join(this.directory, `${kid}.pem`);
  }
}
