import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config, ServiceConfig } from './config.js';
import type { Logger } from '../../application/ports/logger.js';

/** The least a signing key may hold, whatever path it came from (JWT_SECRET, a generated file). */
export const MIN_SECRET_BYTES = 32;

/** A secret file that cannot be used; `message` is one line saying which and what to do. */
export class SecretFileError extends Error {
  override readonly name = 'SecretFileError';
}

/**
 * The JWT secret for a development run on the embedded database: generated once and kept in `dataDir` (mode 0600),
 * so tokens survive restarts. An existing file is used only if it is private to its owner and holds at least
 * {@link MIN_SECRET_BYTES} bytes: an empty, short or world-readable file would let anyone forge tokens.
 * @returns the secret and whether it was created by this call.
 * @throws SecretFileError when the file exists but cannot be used.
 */
export async function loadOrCreateDevSecret(dataDir: string): Promise<{ secret: string; created: boolean }> {
  const file = path.join(dataDir, 'jwt-secret');
  if (existsSync(file)) return { secret: await readSecretFile(file), created: false };
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(48).toString('base64url');
  await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return { secret, created: true };
}

async function readSecretFile(file: string): Promise<string> {
  let text: string;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new SecretFileError(`${file} is not a file; remove it to have a new secret generated`);
    if ((info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(3, '0');
      throw new SecretFileError(`${file} is readable by group or others (mode ${mode}); chmod 600 it`);
    }
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof SecretFileError) throw error;
    const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    throw new SecretFileError(`${file} cannot be read (${reason}); fix its permissions or remove it`);
  }
  const secret = text.trim();
  if (Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) {
    throw new SecretFileError(
      `${file} holds fewer than ${MIN_SECRET_BYTES} bytes; remove it to have a new secret generated, or set JWT_SECRET`,
    );
  }
  return secret;
}

/**
 * Settles the signing secret: `JWT_SECRET` when set, else the development secret in `DATA_DIR` (the config allows
 * that only with the embedded database).
 * @returns the configuration with its secret, and whether a development secret is in use (and was just created).
 */
export async function settleSecret(
  config: Config,
): Promise<{ config: ServiceConfig; devSecret: { created: boolean } | undefined }> {
  if (config.jwtSecret !== undefined)
    return { config: { ...config, jwtSecret: config.jwtSecret }, devSecret: undefined };
  const dev = await loadOrCreateDevSecret(config.dataDir);
  return { config: { ...config, jwtSecret: dev.secret }, devSecret: { created: dev.created } };
}

/** The warning a start with a development secret gives, so that it is not mistaken for a production setup. */
export function warnOfDevSecret(logger: Logger, devSecret: { created: boolean }): void {
  logger.warn(
    'JWT_SECRET is unset: using a generated development secret kept in DATA_DIR; set JWT_SECRET in production',
    {
      created: devSecret.created,
    },
  );
}
