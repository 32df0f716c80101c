import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { sql } from 'slonik';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { ECS_FIELDS, SECURITY_ACTIONS } from '../../src/infrastructure/logging/ecs-fields.js';
import { type RunningService, startService } from '../../src/service.js';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { testEnvironment } from '../support/test-app.js';
import { strongPassword, uniqueName } from './helpers.js';

type Line = Record<string, unknown>;
const USER_AGENT = 'ecs-probe/1.0 (+https://example.test)';
const BASE_FIELDS = [
  '@timestamp',
  'log.level',
  'message',
  'service.name',
  'ecs.version',
  'host.hostname',
  'process.pid',
];

describe('HTTP: log lines in Elastic Common Schema, read from the real stdout stream', () => {
  let database: TestDatabase;
  let service: RunningService;
  let text = '';

  const lines = (): Line[] =>
    text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Line);
  const action = (name: string) => lines().filter((line) => line['event.action'] === name);
  const call = async (path: string, id: string, init: RequestInit = {}) => {
    const response = await fetch(`${service.url}${path}`, {
      ...init,
      headers: { 'X-Request-Id': id, 'User-Agent': USER_AGENT, 'Content-Type': 'application/json', ...init.headers },
    });
    return { status: response.status, body: (await response.json().catch(() => null)) as Record<string, unknown> };
  };

  before(async () => {
    database = await createTestDatabase();
    const stdout = new PassThrough();
    stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    service = await startService(loadConfig(testEnvironment(database.uri, { LOG_LEVEL: 'info' })), { stdout });
  });

  after(async () => {
    await service?.stop({ drainMs: 0 });
    await database?.drop();
  });

  it('writes bunyan records as ECS: @timestamp, log.level, message, service.name, and nothing of bunyan left', async () => {
    await call('/api/', 'ecs-root');
    const [line] = lines().filter((candidate) => candidate['trace.id'] === 'ecs-root');
    expect(line).to.include({ 'log.level': 'info', message: 'request', 'service.name': 'jwt-login' });
    expect(line).to.include.all.keys(...BASE_FIELDS);
    expect(new Date(String(line!['@timestamp'])).toISOString()).to.equal(line!['@timestamp']);
    expect(line).to.not.have.any.keys('msg', 'level', 'time', 'v', 'name', 'pid', 'hostname', 'request_id', 'event');
  });

  it('writes each request line with method, path, status, duration in nanoseconds, request id, client and agent', async () => {
    await call('/api/missing?token=secret-query', 'ecs-404');
    const [line] = action('request').filter((candidate) => candidate['trace.id'] === 'ecs-404');
    expect(line).to.include({
      'http.request.method': 'GET',
      'url.path': '/api/missing',
      'http.response.status_code': 404,
      'event.outcome': 'failure',
      'client.ip': '127.0.0.1',
      'user_agent.original': USER_AGENT,
    });
    expect(line!['event.duration']).to.be.a('number').and.satisfy(Number.isInteger).and.greaterThan(0);
    expect(JSON.stringify(lines())).to.not.contain('secret-query');
  });

  it('logs health and readiness checks at debug only: none at info', async () => {
    await call('/api/health', 'ecs-health');
    await call('/api/ready', 'ecs-ready');
    await call('/api/', 'ecs-after-probes');
    expect(lines().some((line) => line['trace.id'] === 'ecs-after-probes')).to.equal(true);
    expect(lines().filter((line) => ['ecs-health', 'ecs-ready'].includes(String(line['trace.id'])))).to.deep.equal([]);
  });

  it('logs a successful login and a failed one, each with the request id, client address and user agent', async () => {
    const username = uniqueName('ecs');
    const password = strongPassword();
    expect(
      (
        await call('/api/registration', 'ecs-register', {
          method: 'POST',
          body: JSON.stringify({ username, password }),
        })
      ).status,
    ).to.equal(201);
    const login = await call('/api/login', 'ecs-login', {
      method: 'POST',
      body: JSON.stringify({ username, password }),
    });
    expect(login.status).to.equal(200);
    const wrong = JSON.stringify({ username, password: `${password}-wrong` });
    expect((await call('/api/login', 'ecs-wrong', { method: 'POST', body: wrong })).status).to.equal(401);

    const [created] = action('user-created');
    expect(created).to.include({ 'trace.id': 'ecs-register', 'user.name': username, 'event.outcome': 'success' });
    const [success] = action('login-success');
    expect(success).to.include({
      'log.level': 'info',
      'event.outcome': 'success',
      'trace.id': 'ecs-login',
      'client.ip': '127.0.0.1',
      'user_agent.original': USER_AGENT,
      'user.name': username,
    });
    expect(success!['user.id']).to.be.a('string').and.match(/^\d+$/);
    const [failure] = action('login-failure');
    expect(failure).to.include({
      'log.level': 'warn',
      'event.outcome': 'failure',
      'trace.id': 'ecs-wrong',
      'client.ip': '127.0.0.1',
      'user_agent.original': USER_AGENT,
      'user.id': success!['user.id'],
    });
    expect(JSON.stringify(lines())).to.not.contain(password);
  });

  it("records an admin's change with the acting admin and the target (the audit trail)", async () => {
    const [adminName, targetName] = [uniqueName('root'), uniqueName('target')];
    const password = strongPassword();
    for (const username of [adminName, targetName]) {
      await call('/api/registration', `ecs-${username}`, {
        method: 'POST',
        body: JSON.stringify({ username, password }),
      });
    }
    await database.pool.query(sql.unsafe`UPDATE users SET roles = 'user,admin' WHERE username = ${adminName}`);
    const login = await call('/api/login', 'ecs-admin-login', {
      method: 'POST',
      body: JSON.stringify({ username: adminName, password }),
    });
    const token = String(login.body.access_token);
    const targetId: unknown = await database.pool.oneFirst(
      sql.unsafe`SELECT id FROM users WHERE username = ${targetName}`,
    );
    const adminId: unknown = await database.pool.oneFirst(
      sql.unsafe`SELECT id FROM users WHERE username = ${adminName}`,
    );
    const patched = await call(`/api/users/${String(targetId)}`, 'ecs-patch', {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${token}` },
      body: JSON.stringify({ roles: ['user', 'auditor'], is_active: false }),
    });
    expect(patched.status).to.equal(200);

    const audit = {
      'trace.id': 'ecs-patch',
      'client.ip': '127.0.0.1',
      'user_agent.original': USER_AGENT,
      'user.id': String(adminId),
      'user.name': adminName,
      'user.target.id': String(targetId),
      'user.target.name': targetName,
      'labels.via': 'api',
    };
    const [updated] = action('user-updated');
    expect(updated).to.include(audit).and.include({ 'event.outcome': 'success', 'labels.active': 'false' });
    expect(updated!['user.changes.roles']).to.deep.equal(['user', 'auditor']);
    const [revoked] = action('session-revoked').filter((line) => line['trace.id'] === 'ecs-patch');
    expect(revoked)
      .to.include(audit)
      .and.include({ 'event.reason': 'user_deactivated', 'labels.sessions_revoked': '1' });
  });

  it('names every field of its request and security lines as the ECS list does (so the index template maps them)', () => {
    const known = new Set<string>([...Object.keys(ECS_FIELDS), 'error.code']);
    const actions = new Set<string>([...SECURITY_ACTIONS, 'request']);
    const security = lines().filter((line) => actions.has(String(line['event.action'])));
    expect(security.length).to.be.greaterThan(5);
    const unknown = new Set(security.flatMap((line) => Object.keys(line).filter((key) => !known.has(key))));
    expect([...unknown]).to.deep.equal([]);
  });
});
