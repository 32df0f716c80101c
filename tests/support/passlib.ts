import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The schemes flask-praetorian 1.2 allows (its `PRAETORIAN_HASH_ALLOWED_SCHEMES`), as passlib names them. */
export const PRAETORIAN_SCHEMES = [
  'pbkdf2_sha512',
  'sha256_crypt',
  'sha512_crypt',
  'bcrypt',
  'argon2',
  'bcrypt_sha256',
] as const;
export type PraetorianScheme = (typeof PRAETORIAN_SCHEMES)[number];

/**
 * How each hash is made: `default` is passlib 1.7.4's own defaults (what a praetorian seed holds: 25,000 PBKDF2
 * rounds, 535,000 / 656,000 SHA-crypt rounds, bcrypt cost 12); `cheap` lowers the cost, so that more passwords can be
 * checked in a test's time.
 */
export type Cost = 'default' | 'cheap';

export interface LegacyHash {
  readonly scheme: PraetorianScheme;
  readonly cost: Cost;
  readonly password: string;
  readonly hash: string;
}

export interface LegacyHashes {
  /** `passlib` when made now by the real passlib; `vectors` when read from the committed fallback file. */
  readonly source: 'passlib' | 'vectors';
  readonly hashes: readonly LegacyHash[];
}

/**
 * The committed fallback: {@link legacyHashes} as passlib 1.7.4 (Debian's python3-passlib, with python3-argon2 and
 * python3-bcrypt) made it once, written with `JSON.stringify(legacyHashes().hashes, null, 2)`.
 */
export const VECTORS_FILE = new URL('../fixtures/passlib-vectors.json', import.meta.url);

/** Reads `[{scheme, cost, password}]` on stdin, writes `[hash]` on stdout, with passlib's own code. */
const PASSLIB_SCRIPT = `
import json, sys
from passlib import hash as schemes
CHEAP = {'pbkdf2_sha512': {'rounds': 1000}, 'sha256_crypt': {'rounds': 5000}, 'sha512_crypt': {'rounds': 5000},
         'bcrypt': {'rounds': 4}, 'bcrypt_sha256': {'rounds': 4},
         'argon2': {'memory_cost': 1024, 'rounds': 1, 'parallelism': 1}}
out = []
for request in json.load(sys.stdin):
    handler = getattr(schemes, request['scheme'])
    if request['cost'] == 'cheap':
        handler = handler.using(**CHEAP[request['scheme']])
    out.append(handler.hash(request['password']))
json.dump(out, sys.stdout)
`;

/** Debian's interpreter first (python3-passlib installs there), then whatever `python3` the PATH finds. */
const PYTHONS = ['/usr/bin/python3', 'python3'];

let python: string | null | undefined;

/**
 * The python3 that can import passlib with every backend praetorian's schemes need (argon2-cffi, bcrypt); null when
 * there is none.
 */
export function passlibPython(): string | null {
  python ??=
    PYTHONS.find(
      (candidate) =>
        spawnSync(
          candidate,
          ['-c', 'from passlib.hash import argon2, bcrypt; argon2.hash("x"); bcrypt.using(rounds=4).hash("x")'],
          { stdio: 'ignore', timeout: 30_000 },
        ).status === 0,
    ) ?? null;
  return python;
}

/** Hashes made by the real passlib (python3), one per request. */
export function passlibHash(requests: readonly Omit<LegacyHash, 'hash'>[]): LegacyHash[] {
  const interpreter = passlibPython();
  if (interpreter === null) throw new Error('passlib is not installed');
  const run = spawnSync(interpreter, ['-c', PASSLIB_SCRIPT], {
    input: JSON.stringify(requests),
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (run.status !== 0) throw new Error(`passlib failed: ${run.stderr}`);
  const hashes = JSON.parse(run.stdout) as string[];
  return requests.map((request, index) => ({ ...request, hash: hashes[index]! }));
}

/** A random password, sometimes with what NFKC changes (a ligature, full-width letters) and astral characters. */
export function randomPassword(index: number): string {
  const base = randomBytes(9).toString('base64');
  return index % 2 === 0 ? `${base}-Pässwörd` : `ﬁ${base}Ｆｕｌｌ😀`;
}

/**
 * Hashes of random passwords for every praetorian scheme, each at passlib's default cost and at a cheap one, made by
 * the real passlib; where python3 or passlib (or one of its backends) is missing, the committed vectors, and the
 * caller is told so (it says so in the test output: a fallback is never silent).
 */
export function legacyHashes(): LegacyHashes {
  if (passlibPython() === null) {
    return { source: 'vectors', hashes: JSON.parse(readFileSync(VECTORS_FILE, 'utf8')) as LegacyHash[] };
  }
  const requests = PRAETORIAN_SCHEMES.flatMap((scheme, index) =>
    (['default', 'cheap'] as const).map((cost, offset) => ({
      scheme,
      cost,
      password: randomPassword(index * 2 + offset),
    })),
  );
  return { source: 'passlib', hashes: passlibHash(requests) };
}

/** A wrong password for `password`: the last character changed. */
export function wrongPassword(password: string): string {
  const chars = [...password];
  chars[chars.length - 1] = chars.at(-1) === 'x' ? 'y' : 'x';
  return chars.join('');
}
