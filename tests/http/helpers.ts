import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { expect } from 'chai';
import { z } from 'zod';
import { sql } from 'slonik';
import type { TestApp } from '../support/test-app.js';

/** A username no other test uses. */
export function uniqueName(prefix = 'user'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** A password that passes every registration rule and no other test uses. */
export function strongPassword(): string {
  return `Tr0ub4dor&3-${randomBytes(6).toString('hex')}`;
}

/** The ASCII letters and digits of `text` as their fullwidth forms (NFKC folds them back). */
export function fullwidth(text: string): string {
  return text.replace(/[!-~]/g, (char) => String.fromCharCode(char.charCodeAt(0) + 0xfee0));
}

export interface DecodedJwt {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  readonly signature: string;
}

/** Decodes a compact JWT by hand (no verification). */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split('.');
  expect(parts, `a compact JWT has three parts: ${token}`).to.have.length(3);
  const part = (text: string) => JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: part(parts[0]!), payload: part(parts[1]!), signature: parts[2]! };
}

export const base64urlJson = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** The app's clock in whole seconds, as tokens state time. */
export const nowSeconds = (app: TestApp) => Math.floor(app.clock.now() / 1000);

export interface ErrorBody {
  readonly status_code: number;
  readonly error: string;
  readonly message: string;
  readonly request_id: string;
}

/**
 * Asserts the flask-praetorian error shape: exactly `{status_code, error, message, request_id}`, the status, the error
 * name, the message (exact string, or a pattern) and a request id equal to the `X-Request-Id` header.
 */
export async function expectError(
  response: Response,
  status: number,
  error: string,
  message?: string | RegExp,
): Promise<ErrorBody> {
  const text = await response.text();
  expect(response.status, `status of ${text}`).to.equal(status);
  expect(response.headers.get('content-type')).to.match(/^application\/json/);
  const body = JSON.parse(text) as ErrorBody;
  expect(Object.keys(body).sort()).to.deep.equal(['error', 'message', 'request_id', 'status_code']);
  expect(body.status_code).to.equal(status);
  expect(body.error).to.equal(error);
  if (typeof message === 'string') expect(body.message).to.equal(message);
  else if (message) expect(body.message).to.match(message);
  expect(body.request_id).to.be.a('string').and.not.equal('');
  expect(body.request_id).to.equal(response.headers.get('x-request-id'));
  return body;
}

export interface TokenBody {
  readonly access_token: string;
  readonly token_type: string;
  readonly expires_in: number;
}

/** Asserts a token answer (status, body, `Cache-Control: no-store`) and returns its body. */
export async function expectTokens(response: Response, status: number): Promise<TokenBody> {
  const text = await response.text();
  expect(response.status, `status of ${text}`).to.equal(status);
  expect(response.headers.get('cache-control')).to.equal('no-store');
  const body = JSON.parse(text) as TokenBody;
  expect(body.access_token)
    .to.be.a('string')
    .and.match(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  expect(body.token_type).to.equal('Bearer');
  expect(body.expires_in).to.be.a('number');
  return body;
}

export interface RegisteredUser {
  readonly username: string;
  readonly password: string;
  readonly token: string;
  readonly id: number;
}

/** Registers a fresh user over HTTP and returns its credentials and first access token. */
export async function registerUser(
  app: TestApp,
  options: { username?: string; password?: string } = {},
): Promise<RegisteredUser> {
  const username = options.username ?? uniqueName();
  const password = options.password ?? strongPassword();
  const body = await expectTokens(await app.post('/api/registration', { username, password }), 201);
  const id = decodeJwt(body.access_token).payload.id as number;
  return { username, password, token: body.access_token, id };
}

const userRow = z.object({
  id: z.number(),
  username: z.string(),
  password: z.string(),
  roles: z.string().nullable(),
  is_active: z.boolean().nullable(),
});

/** The user's row in the seed's table, read straight from PostgreSQL. */
export async function userRowByName(app: TestApp, username: string) {
  return app.database.pool.one(sql.type(userRow)`SELECT id, username, password, roles, is_active FROM users
    WHERE username = ${username}`);
}

/**
 * Changes a user's row as another tool would, with plain SQL, and waits until the app has heard PostgreSQL's notice of
 * it (the notice arrives moments after the commit; what the app does with it is what the tests check).
 */
async function changeUserRow(app: TestApp, username: string, change: () => Promise<unknown>): Promise<void> {
  const { id } = await userRowByName(app, username);
  await untilHeard(app, `u:${id}`, change);
}

/**
 * Runs `action`, then waits until `app` has heard PostgreSQL's notice `payload` ('u:<user id>', 's:<session id>') and
 * so has acted on it. A change made through another instance, or with plain SQL, reaches an instance moments after its
 * commit (within 100 ms, issue 7), not in the same instant: tests wait for the notice rather than for a time.
 */
export async function untilHeard<T>(app: TestApp, payload: string, action: () => Promise<T>): Promise<T> {
  const feed = app.service.changeFeed;
  if (!feed) return await action();
  let unsubscribe = () => undefined as void;
  const heard = new Promise<void>((resolve) => {
    unsubscribe = feed.subscribe({
      onChange: (notice) => notice === payload && resolve(),
      onUp: () => undefined,
      onDown: () => undefined,
    });
  });
  try {
    const result = await action();
    await heard;
    return result;
  } finally {
    unsubscribe();
  }
}

export async function setActive(app: TestApp, username: string, active: boolean): Promise<void> {
  await changeUserRow(app, username, () =>
    app.database.pool.query(sql.unsafe`UPDATE users SET is_active = ${active} WHERE username = ${username}`),
  );
}

export async function setRoles(app: TestApp, username: string, roles: string): Promise<void> {
  await changeUserRow(app, username, () =>
    app.database.pool.query(sql.unsafe`UPDATE users SET roles = ${roles} WHERE username = ${username}`),
  );
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  /** The headers the request was really sent with (lower-case names). */
  readonly sentHeaders: Record<string, unknown>;
}

/**
 * A request through node:http, so the headers are exactly the ones given (fetch adds a content type to string
 * bodies). Resolves with the answer even when the server answers before the body is sent and drops the rest.
 */
export function rawRequest(
  app: TestApp,
  options: { method: string; path: string; headers?: Record<string, string | number>; body?: Buffer | string },
): Promise<RawResponse> {
  const url = new URL(options.path, app.baseUrl);
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: options.method, headers: options.headers ?? {} }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          text: Buffer.concat(chunks).toString('utf8'),
          sentHeaders: Object.fromEntries(request.getHeaderNames().map((name) => [name, request.getHeader(name)])),
        }),
      );
      response.on('error', reject);
    });
    let answered = false;
    request.on('response', () => (answered = true));
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (options.body !== undefined) request.write(options.body);
    request.end();
  });
}

/** Every request the app has answered, as its request log lines state them. */
export function requestLines(app: TestApp) {
  return app.logger.events('request');
}

/** Asserts that the app answered no request with a 5xx (read from its request log). */
export function expectNo5xx(app: TestApp): void {
  const statuses = requestLines(app).map((line) => line.fields.status as number);
  expect(statuses.length, 'requests were logged').to.be.greaterThan(0);
  const failures = requestLines(app).filter((line) => (line.fields.status as number) >= 500);
  expect(
    failures.map((line) => `${String(line.fields.method)} ${String(line.fields.path)} ${String(line.fields.status)}`),
  ).to.deep.equal([]);
  expect(app.logger.lines.filter((line) => line.level === 'error').map((line) => line.message)).to.deep.equal([]);
}

/** A registered user with its password and the access and refresh tokens registration returned. */
export interface Account {
  readonly id: number;
  readonly username: string;
  readonly password: string;
  readonly access: string;
  readonly refresh: string;
}

/** The access and refresh tokens of a token response, after checking its status. */
export async function accountTokens(response: Response, status: number): Promise<{ access: string; refresh: string }> {
  const text = await response.text();
  expect(response.status, text).to.equal(status);
  const body = JSON.parse(text) as { access_token: string; refresh_token: string };
  return { access: body.access_token, refresh: body.refresh_token };
}

/** Registers a fresh user and returns it with its tokens. */
export async function registerAccount(app: TestApp, prefix = 'member'): Promise<Account> {
  const username = uniqueName(prefix);
  const password = strongPassword();
  const issued = await accountTokens(await app.post('/api/registration', { username, password }), 201);
  return { id: decodeJwt(issued.access).payload.id as number, username, password, ...issued };
}

/** A token answer with exactly the four fields of SPEC §3, its access token's claims decoded. */
export interface Pair {
  readonly access: string;
  readonly refresh: string;
  readonly claims: Record<string, unknown>;
  readonly expiresIn: number;
}

const OPAQUE = /^[A-Za-z0-9_-]{43,}$/;

/** Asserts a token answer with exactly the four fields of SPEC §3 and returns it. */
export async function expectPair(response: Response, status: number): Promise<Pair> {
  const text = await response.text();
  expect(response.status, text).to.equal(status);
  expect(response.headers.get('cache-control')).to.equal('no-store');
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(Object.keys(body).sort()).to.deep.equal(['access_token', 'expires_in', 'refresh_token', 'token_type']);
  expect(body.token_type).to.equal('Bearer');
  expect(body.refresh_token).to.be.a('string').and.match(OPAQUE);
  expect(body.access_token)
    .to.be.a('string')
    .and.match(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  const access = body.access_token as string;
  return {
    access,
    refresh: body.refresh_token as string,
    claims: decodeJwt(access).payload,
    expiresIn: body.expires_in as number,
  };
}

/** Registers a fresh user, asserting the 201 token answer, and returns it with the credentials. */
export async function registerPair(app: TestApp): Promise<Pair & { username: string; password: string }> {
  const username = uniqueName('life');
  const password = strongPassword();
  return {
    ...(await expectPair(await app.post('/api/registration', { username, password }), 201)),
    username,
    password,
  };
}

/** Low limits for the suites that test them; `LOGIN_LOCKOUT` is {@link LOCKOUT_SECONDS}. */
export const LIMITS = {
  LOGIN_MAX_FAILURES: '3',
  LOGIN_LOCKOUT: '60s',
  LOGIN_MAX_FAILURES_PER_IP: '10',
  REGISTRATION_RATE_LIMIT: '2',
  REFRESH_RATE_LIMIT: '2',
};
export const LOCKOUT_SECONDS = 60;
export const TOO_MANY = 'Too many attempts; try again later';

let ipCounter = 0;
/** A client address (TEST-NET) no other test uses, so each test owns its counters. */
export const freshIp = () => {
  ipCounter += 1;
  return `203.0.${113 + Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`;
};

/** Headers that make the request come from `ip` for an app with TRUST_PROXY. */
export const from = (ip: string, extra: Record<string, string> = {}) => ({ 'X-Forwarded-For': ip, ...extra });

/** Retry-After as a whole number of seconds greater than 0 and at most `max`. */
export function expectRetryAfter(response: Response, max: number): number {
  const header = response.headers.get('retry-after');
  expect(header, 'Retry-After header').to.be.a('string').and.match(/^\d+$/);
  const seconds = Number(header);
  expect(seconds).to.be.greaterThan(0).and.at.most(max);
  return seconds;
}

/** Asserts a 429 TooManyRequests with a Retry-After of at most `maxRetryAfter` seconds, and returns that. */
export async function expectTooMany(response: Response, maxRetryAfter: number): Promise<number> {
  const seconds = expectRetryAfter(response, maxRetryAfter);
  await expectError(response, 429, 'TooManyRequests', TOO_MANY);
  return seconds;
}

/**
 * Registers a user from an address of its own (TRUST_PROXY), so a low registration limit never gets in the way.
 * @returns its credentials.
 */
export async function registerFromFreshIp(app: TestApp, username = uniqueName('victim')) {
  const password = strongPassword();
  await expectTokens(await app.post('/api/registration', { username, password }, from(freshIp())), 201);
  return { username, password };
}

/** Fails `times` logins as `username` from `ip` with wrong passwords. @returns the statuses. */
export async function failLogins(app: TestApp, username: string, ip: string, times: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < times; i += 1) {
    const response = await app.post('/api/login', { username, password: `wrong-${i}-${uniqueName()}` }, from(ip));
    statuses.push(response.status);
    await response.arrayBuffer();
  }
  return statuses;
}

/** A JSON login body of exactly `size` bytes. */
export function loginBodyOfSize(size: number): Buffer {
  const head = '{"username":"alice","password":"Some-Password-1","pad":"';
  const tail = '"}';
  return Buffer.from(`${head}${'a'.repeat(size - head.length - tail.length)}${tail}`, 'utf8');
}

/** BODY_LIMIT's default, 16kb. */
export const BODY_LIMIT_BYTES = 16 * 1024;
