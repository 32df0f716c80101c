import { spawn } from 'node:child_process';
import { createHmac, createSign, generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { ConfigError, loadConfig } from '../../src/infrastructure/config/config.js';
import { TEST_SECRET, type TestApp, startTestApp } from '../support/test-app.js';
import { base64urlJson, bearer, decodeJwt, expectNo5xx, nowSeconds, registerUser } from './helpers.js';

const INVALID_TOKEN_CHALLENGE = 'Bearer realm="jwt-login", error="invalid_token"';
const PLAIN_CHALLENGE = 'Bearer realm="jwt-login"';

type Claims = Record<string, unknown>;
type Header = Record<string, unknown>;

/** A compact JWS signed by hand, so a test controls every byte of header and payload. */
function hmacToken(
  header: Header,
  payload: Claims,
  key: string | Buffer,
  hash: 'sha256' | 'sha384' | 'sha512' = 'sha256',
): string {
  const input = `${base64urlJson(header)}.${base64urlJson(payload)}`;
  return `${input}.${createHmac(hash, key).update(input).digest('base64url')}`;
}

const HS256 = { alg: 'HS256', typ: 'JWT' };

interface Attack {
  readonly name: string;
  readonly headers: Record<string, string>;
  readonly path?: string;
  /** The error name expected; InvalidTokenHeader unless stated. */
  readonly error?: 'InvalidTokenHeader' | 'ExpiredAccessError' | 'MissingToken';
}

describe('Attack: forged and malformed JWTs over HTTP (issue 4, item 4)', () => {
  let app: TestApp;
  /** A valid access token of a registered user, and its claims (including iss). */
  let token: string;
  let claims: Claims;
  let attacks: Attack[];

  before(async () => {
    app = await startTestApp();
    const user = await registerUser(app);
    const other = await registerUser(app);
    token = user.token;
    claims = decodeJwt(token).payload;
    const now = nowSeconds(app);
    const [header64, payload64, signature64] = token.split('.') as [string, string, string];
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const rs256 = (header: Header, payload: Claims) => {
      const input = `${base64urlJson(header)}.${base64urlJson(payload)}`;
      return `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey, 'base64url')}`;
    };
    const resigned = (payload: Claims) => hmacToken(HS256, payload, TEST_SECRET);
    const without = (claim: string) => {
      const { [claim]: _dropped, ...rest } = claims;
      return resigned(rest);
    };
    const padded = (size: number) => {
      const base = resigned({ ...claims, pad: '' });
      return resigned({ ...claims, pad: 'x'.repeat(Math.ceil(((size - base.length) * 3) / 4)) });
    };
    const big = padded(16 * 1000);
    const justOverLimit = padded(8300);
    expect(big.length, '16 KB token').to.be.within(16_000, 16_100);
    expect(justOverLimit.length).to.be.within(8193, 8400);

    const b = (value: string) => bearer(value);
    attacks = [
      { name: 'alg none, empty signature', headers: b(`${base64urlJson({ alg: 'none', typ: 'JWT' })}.${payload64}.`) },
      {
        name: 'alg none, the real signature kept',
        headers: b(`${base64urlJson({ alg: 'none', typ: 'JWT' })}.${payload64}.${signature64}`),
      },
      {
        name: 'alg "None" (case variant), empty signature',
        headers: b(`${base64urlJson({ alg: 'None' })}.${payload64}.`),
      },
      { name: 'alg "NONE", junk signature', headers: b(`${base64urlJson({ alg: 'NONE' })}.${payload64}.AAAA`) },
      { name: 'alg none, only two segments', headers: b(`${base64urlJson({ alg: 'none' })}.${payload64}`) },
      {
        name: 'HS512 with the same key',
        headers: b(hmacToken({ alg: 'HS512', typ: 'JWT' }, claims, TEST_SECRET, 'sha512')),
      },
      {
        name: 'HS384 with the same key',
        headers: b(hmacToken({ alg: 'HS384', typ: 'JWT' }, claims, TEST_SECRET, 'sha384')),
      },
      {
        name: 'HS512 via jsonwebtoken with the same key',
        headers: b(jwt.sign({ ...claims }, TEST_SECRET, { algorithm: 'HS512' })),
      },
      { name: 'RS256 with an attacker key pair', headers: b(rs256({ alg: 'RS256', typ: 'JWT' }, claims)) },
      {
        name: 'RS256 with the attacker public key embedded as jwk',
        headers: b(rs256({ alg: 'RS256', typ: 'JWT', jwk: publicKey.export({ format: 'jwk' }) }, claims)),
      },
      {
        name: 'HS256 signed with the RSA public-key PEM text as secret',
        headers: b(hmacToken(HS256, claims, publicPem)),
      },
      { name: 'HS256 signed with an empty key', headers: b(hmacToken(HS256, claims, '')) },
      {
        name: 'HS256 with a kid pointing at /dev/null, empty key',
        headers: b(hmacToken({ ...HS256, kid: '../../../../dev/null' }, claims, '')),
      },
      {
        name: 'HS256 with another 32-byte secret',
        headers: b(hmacToken(HS256, claims, 'another-secret-that-is-also-32-bytes-long!!')),
      },
      {
        name: 'tampered payload: rls admin, signature kept',
        headers: b(`${header64}.${base64urlJson({ ...claims, rls: 'admin,user' })}.${signature64}`),
      },
      {
        name: "tampered payload: another user's id, signature kept",
        headers: b(`${header64}.${base64urlJson({ ...claims, id: other.id, sub: String(other.id) })}.${signature64}`),
      },
      {
        name: 'tampered header (kid added), signature kept',
        headers: b(`${base64urlJson({ ...HS256, kid: 'x' })}.${payload64}.${signature64}`),
      },
      {
        name: 'one signature byte flipped',
        headers: b(`${header64}.${payload64}.${signature64.startsWith('A') ? 'B' : 'A'}${signature64.slice(1)}`),
      },
      { name: 'stripped signature, trailing dot kept', headers: b(`${header64}.${payload64}.`) },
      { name: 'two segments (signature dropped)', headers: b(`${header64}.${payload64}`) },
      { name: 'four segments', headers: b(`${token}.${signature64}`) },
      { name: 'one segment', headers: b(payload64) },
      { name: 'empty segments ".."', headers: b('..') },
      { name: 'missing exp', headers: b(without('exp')) },
      { name: 'missing iat', headers: b(without('iat')) },
      { name: 'missing jti', headers: b(without('jti')) },
      { name: 'missing id', headers: b(without('id')) },
      { name: 'missing sid', headers: b(without('sid')) },
      { name: 'missing typ', headers: b(without('typ')) },
      { name: 'missing iss', headers: b(without('iss')) },
      { name: 'id as a string', headers: b(resigned({ ...claims, id: String(claims.id) })) },
      { name: 'sub naming another user', headers: b(resigned({ ...claims, sub: String(other.id) })) },
      { name: 'nbf in the future', headers: b(resigned({ ...claims, nbf: now + 3600 })) },
      { name: 'exp in the past', headers: b(resigned({ ...claims, exp: now - 1 })), error: 'ExpiredAccessError' },
      { name: 'exp as a string', headers: b(resigned({ ...claims, exp: String(now + 600) })) },
      { name: 'wrong iss', headers: b(resigned({ ...claims, iss: 'someone-else' })) },
      { name: 'typ refresh', headers: b(resigned({ ...claims, typ: 'refresh' })) },
      { name: 'typ id (another kind)', headers: b(resigned({ ...claims, typ: 'id' })) },
      { name: 'bad base64: standard alphabet + and /', headers: b(`${header64}.${payload64}+/.${signature64}`) },
      { name: 'bad base64: padding =', headers: b(`${header64}.${payload64}==.${signature64}`) },
      { name: 'bad base64: punctuation', headers: b(`${header64}.!!!$$$.${signature64}`) },
      {
        name: 'payload that is not JSON, signed with the right key',
        headers: b(
          ((input) => `${input}.${createHmac('sha256', TEST_SECRET).update(input).digest('base64url')}`)(
            `${header64}.${Buffer.from('not json').toString('base64url')}`,
          ),
        ),
      },
      {
        name: 'payload a JSON array, signed with the right key',
        headers: b(
          ((input) => `${input}.${createHmac('sha256', TEST_SECRET).update(input).digest('base64url')}`)(
            `${header64}.${base64urlJson([claims])}`,
          ),
        ),
      },
      {
        name: 'header not JSON',
        headers: b(`${Buffer.from('{alg:HS256').toString('base64url')}.${payload64}.${signature64}`),
      },
      { name: '16 KB token, correctly signed', headers: b(big) },
      { name: '8.3 KB token, correctly signed (just over the 8 KiB cap)', headers: b(justOverLimit) },
      { name: 'Basic scheme carrying the valid token', headers: { Authorization: `Basic ${token}` } },
      {
        name: 'Basic scheme with credentials',
        headers: { Authorization: `Basic ${Buffer.from('alice:secret').toString('base64')}` },
      },
      { name: 'Token scheme carrying the valid token', headers: { Authorization: `Token ${token}` } },
      { name: 'the valid token without a scheme', headers: { Authorization: token } },
      { name: '"Bearer" with nothing after it', headers: { Authorization: 'Bearer' } },
      { name: '"Bearer Bearer <token>"', headers: { Authorization: `Bearer Bearer ${token}` } },
      { name: 'two tokens in one header', headers: { Authorization: `Bearer ${token}, Bearer ${token}` } },
      {
        name: '?access_token= in the URL, no header',
        headers: {},
        path: `?access_token=${encodeURIComponent(token)}`,
        error: 'MissingToken',
      },
    ];
  });

  after(async () => {
    await app?.close();
  });

  it('control: the valid token, and the same claims re-signed by hand with HS256, are accepted (200)', async () => {
    expect((await app.request('/api/protected', { headers: bearer(token) })).status).to.equal(200);
    expect(
      (await app.request('/api/protected', { headers: bearer(hmacToken(HS256, claims, TEST_SECRET)) })).status,
    ).to.equal(200);
  });

  it('refuses every forged or malformed token on GET /api/protected with 401 and the matching challenge', async () => {
    const outcomes: string[] = [];
    for (const attack of attacks) {
      const response = await app.request(`/api/protected${attack.path ?? ''}`, { headers: attack.headers });
      const text = await response.text();
      const body = JSON.parse(text) as { error?: string; status_code?: number };
      const error = attack.error ?? 'InvalidTokenHeader';
      const challenge = error === 'MissingToken' ? PLAIN_CHALLENGE : INVALID_TOKEN_CHALLENGE;
      if (
        response.status !== 401 ||
        body.error !== error ||
        body.status_code !== 401 ||
        response.headers.get('www-authenticate') !== challenge
      ) {
        outcomes.push(`${attack.name}: ${response.status} ${text} (${response.headers.get('www-authenticate')})`);
      }
    }
    console.log(
      `      ${attacks.length} forged or malformed tokens tried on GET /api/protected; refused: ${attacks.length - outcomes.length}`,
    );
    expect(outcomes, 'attacks not answered 401 as expected').to.deep.equal([]);
  });

  it('refuses them on POST /api/logout too, and none of them logged the owner out', async () => {
    const failures: string[] = [];
    for (const attack of attacks) {
      const response = await app.request(`/api/logout${attack.path ?? ''}`, {
        method: 'POST',
        headers: attack.headers,
      });
      const text = await response.text();
      if (response.status !== 401) failures.push(`${attack.name}: ${response.status} ${text}`);
    }
    expect(failures).to.deep.equal([]);
    expect(
      (await app.request('/api/protected', { headers: bearer(token) })).status,
      'the real session is intact',
    ).to.equal(200);
  });

  it('refuses them as a praetorian refresh (Authorization: Bearer) and as a raw body, never issuing a token', async () => {
    const failures: string[] = [];
    for (const attack of attacks.filter((candidate) => candidate.error !== 'ExpiredAccessError')) {
      const viaHeader = await app.request(`/api/refresh${attack.path ?? ''}`, {
        method: 'POST',
        headers: attack.headers,
      });
      const headerText = await viaHeader.text();
      if (viaHeader.status !== 401) failures.push(`${attack.name} (header): ${viaHeader.status} ${headerText}`);
      const raw = /^Bearer (.+)$/.exec(attack.headers.Authorization ?? '')?.[1];
      if (raw === undefined) continue;
      const viaBody = await app.request('/api/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain' },
        body: raw,
      });
      const bodyText = await viaBody.text();
      if (viaBody.status !== 401) failures.push(`${attack.name} (body): ${viaBody.status} ${bodyText}`);
    }
    expect(failures).to.deep.equal([]);
  });

  it('answered none with a 5xx', () => {
    expectNo5xx(app);
  });
});

describe('Attack: a short JWT_SECRET (issue 4, item 4)', () => {
  const base = { DATABASE_URL: 'postgres://jwt:jwt@127.0.0.1:1/jwt' };

  const refusal = (secret: string): ConfigError => {
    try {
      loadConfig({ ...base, JWT_SECRET: secret });
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      return error as ConfigError;
    }
    expect.fail(`a ${Buffer.byteLength(secret)}-byte JWT_SECRET was accepted`);
  };

  for (const [name, secret] of [
    ['31 ASCII bytes', 'x'.repeat(31)],
    ['15 two-byte characters (30 bytes)', 'é'.repeat(15)],
    ['a common weak secret', 'secret'],
    ['31 bytes padded with spaces to 35', `  ${'k'.repeat(31)}  `],
  ] as const) {
    it(`refuses ${name} with a ConfigError naming JWT_SECRET, without echoing it`, () => {
      const error = refusal(secret);
      expect(error.message).to.match(/^JWT_SECRET /);
      expect(error.message).to.include('32 bytes');
      expect(error.message).to.not.include(secret.trim());
    });
  }

  it('accepts exactly 32 bytes', () => {
    expect(loadConfig({ ...base, JWT_SECRET: 'k'.repeat(32) }).jwtSecret).to.equal('k'.repeat(32));
  });

  it('refuses to start: the service exits 1 with one line naming JWT_SECRET', async function () {
    this.timeout(20_000);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', ...base, JWT_SECRET: 'too-short-secret', PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(code, `stderr: ${stderr}`).to.equal(1);
    const lines = stderr.trim().split('\n');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include('JWT_SECRET').and.not.include('too-short-secret');
    expect(stdout).to.not.match(/listening/i);
  });
});
