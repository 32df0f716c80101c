import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config, ServiceConfig } from './config.js';

/**
 * The JWT secret for a development run on the embedded database: generated once and kept in `dataDir`, so tokens
 * survive restarts.
 * @returns the secret and whether it was created by this call.
 */
export async function loadOrCreateDevSecret(dataDir: string): Promise<{ secret: string; created: boolean }> {
  const file = path.join(dataDir, 'jwt-secret');
  if (existsSync(file)) return { secret: (await readFile(file, 'utf8')).trim(), created: false };
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(48).toString('base64url');
  await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return { secret, created: true };
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
