import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';

/** flask-praetorian 1.x's access-token claims (`encode_jwt_token`), exactly: no `typ`, `iss`, `sid` or `sub`. */
export interface PraetorianClaims {
  readonly iat: number;
  readonly exp: number;
  readonly rf_exp: number;
  readonly jti: string;
  readonly id: number;
  readonly rls: string;
  readonly [custom: string]: unknown;
}

const PYTHONS = ['/usr/bin/python3', 'python3'];
/** Reads `{claims, secret}` on stdin and prints the token, as flask-praetorian encodes it. */
const PYJWT_SCRIPT = `
import json, sys, jwt
request = json.load(sys.stdin)
token = jwt.encode(request['claims'], request['secret'], algorithm='HS256')
print(token if isinstance(token, str) else token.decode('utf-8'))
`;

let python: string | null | undefined;

/** The python3 that has PyJWT (Debian's python3-jwt); null when none has. */
export function pyjwtPython(): string | null {
  python ??=
    PYTHONS.find(
      (candidate) => spawnSync(candidate, ['-c', 'import jwt'], { stdio: 'ignore', timeout: 30_000 }).status === 0,
    ) ?? null;
  return python;
}

/**
 * A flask-praetorian access token for user `id`, issued at `nowSeconds`: `exp` 15 minutes on and `rf_exp` 30 days on
 * (praetorian's defaults) unless given. Minted by PyJWT, as the Flask service did; where PyJWT is missing, by
 * jsonwebtoken with the same claims, and the caller is told so (see `mintedBy`).
 */
export function praetorianToken(
  secret: string,
  nowSeconds: number,
  claims: Partial<PraetorianClaims> & { readonly id: number },
): string {
  const full: PraetorianClaims = {
    iat: nowSeconds,
    exp: nowSeconds + 15 * 60,
    rf_exp: nowSeconds + 30 * 86400,
    jti: randomUUID(),
    rls: 'user',
    ...claims,
  };
  const interpreter = pyjwtPython();
  if (interpreter === null) return jwt.sign(full, secret, { algorithm: 'HS256' });
  const run = spawnSync(interpreter, ['-c', PYJWT_SCRIPT], {
    input: JSON.stringify({ claims: full, secret }),
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (run.status !== 0) throw new Error(`PyJWT failed: ${run.stderr}`);
  return run.stdout.trim();
}

/** Who mints the tests' praetorian tokens here. */
export const mintedBy = (): 'PyJWT' | 'jsonwebtoken' => (pyjwtPython() === null ? 'jsonwebtoken' : 'PyJWT');
