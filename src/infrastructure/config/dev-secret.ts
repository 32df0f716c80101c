import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

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
