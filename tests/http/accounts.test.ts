import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { sql } from 'slonik';
import { z } from 'zod';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { type TestApp, startTestApp } from '../support/test-app.js';
import { parseSamples, sampleValue } from '../support/prometheus.js';
import { bearer, expectError, expectTokens, registerUser, setRoles, strongPassword, uniqueName } from './helpers.js';

const address = (prefix = 'someone') => `${uniqueName(prefix)}@Example.COM`;
/** The token of a mailed link, as the seed's client takes it from the page's query string. */
const tokenOf = (link: string | undefined) => new URL(link!).searchParams.get('token')!;
const json = (response: Response) => response.json() as Promise<Record<string, unknown>>;

async function finalize(app: TestApp, token: string) {
  return app.request('/api/finalize', { headers: bearer(token) });
}

async function outboxRows(app: TestApp, recipient: string) {
  return app.database.pool.any(
    sql.type(
      z.object({ attempts: z.number(), sent: z.boolean(), body: z.string().nullable() }),
    )`SELECT attempts, sent_at IS NOT NULL AS sent, body FROM mail_outbox WHERE recipient = ${recipient} ORDER BY id`,
  );
}

describe('HTTP: e-mail confirmation, password reset and self-service accounts (issue 8)', function () {
  this.timeout(60_000);
  const smtp = new SmtpSink();
  let app: TestApp;

  before(async () => {
    await smtp.start();
    app = await startTestApp({ env: { SMTP_URL: smtp.url, MAIL_POLL_INTERVAL: '1s' } });
  });
  after(async () => {
    await app?.close();
    await smtp.stop();
  });

  describe('registration with an address, EMAIL_CONFIRMATION=off', () => {
    it('answers with tokens, mails a confirmation link, and the link verifies the address once', async () => {
      const email = address();
      const username = uniqueName();
      const registered = await expectTokens(
        await app.post('/api/registration', { username, password: strongPassword(), email }),
        201,
      );
      const mail = await smtp.mailTo(email);
      expect(mail.subject).to.equal('Confirm your e-mail address');
      expect(mail.link).to.match(/^http:\/\/localhost:3000\/finalize\?token=/);
      // The sender counts the mail once the server has taken it: wait for that, however slow the machine.
      const mailsSent = async () =>
        sampleValue(parseSamples(await app.service.metrics.registry.metrics()), 'jwt_login_auth_events_total', {
          event: 'mail_sent',
        }) ?? 0;
      for (let waited = 0; (await mailsSent()) < 1 && waited < 200; waited += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await mailsSent(), 'mails counted as sent').to.be.at.least(1);
      const me = await json(await app.request('/api/me', { headers: bearer(registered.access_token) }));
      expect(me).to.deep.include({ username, email, email_verified: false });

      const confirmed = await finalize(app, tokenOf(mail.link));
      const body = await expectTokens(confirmed, 200);
      expect((body as unknown as Record<string, unknown>).user).to.equal(username);
      const after = await json(await app.request('/api/me', { headers: bearer(body.access_token) }));
      expect(after).to.deep.include({ email_verified: true, roles: ['user'] });

      await expectError(await finalize(app, tokenOf(mail.link)), 401, 'InvalidTokenHeader', /used or expired/);
    });

    it('stores only a digest of the token, and refuses a forged or missing one', async () => {
      const email = address();
      await app.post('/api/registration', { username: uniqueName(), password: strongPassword(), email });
      const token = tokenOf((await smtp.mailTo(email)).link);
      expect(Buffer.from(token, 'base64url').length, 'at least 128 random bits').to.be.at.least(16);
      const stored = await app.database.pool.anyFirst(sql.type(z.object({ token_hash: z.string() }))`
        SELECT token_hash FROM account_tokens`);
      expect(stored.join()).to.not.include(token);
      await expectError(await finalize(app, `${token.slice(0, -2)}xx`), 401, 'InvalidTokenHeader');
      await expectError(await app.request('/api/finalize'), 401, 'MissingToken');
    });

    it('gives 409 naming email for an address taken in another case or with spaces, and 400 for a bad one', async () => {
      const email = address();
      await app.post('/api/registration', { username: uniqueName(), password: strongPassword(), email });
      await expectError(
        await app.post('/api/registration', {
          username: uniqueName(),
          password: strongPassword(),
          email: ` ${email.toUpperCase()} `,
        }),
        409,
        'UserExistsError',
        /email/,
      );
      for (const bad of ['not-an-address', 'a@', '@b.c', 'a b@c.d', 12]) {
        await expectError(
          await app.post('/api/registration', { username: uniqueName(), password: strongPassword(), email: bad }),
          400,
          'ValidationError',
          /email/,
        );
      }
    });
  });

  describe('password reset', () => {
    it('answers unknown, inactive and active addresses alike, and mails only the active one', async () => {
      const active = address('active');
      const inactive = address('inactive');
      await app.post('/api/registration', { username: uniqueName(), password: strongPassword(), email: active });
      const sleeper = uniqueName();
      await app.post('/api/registration', { username: sleeper, password: strongPassword(), email: inactive });
      await app.database.pool.query(sql.unsafe`UPDATE users SET is_active = false WHERE username = ${sleeper}`);
      const bodies = [];
      for (const email of [address('unknown'), inactive, active]) {
        const response = await app.post('/api/reset', { email });
        expect(response.status).to.equal(200);
        bodies.push(await response.text());
      }
      expect(new Set(bodies).size, 'one answer for all three').to.equal(1);
      const reset = await smtp.mailTo(active, 1);
      expect(reset.subject).to.equal('Reset your password');
      expect(reset.link).to.match(/^http:\/\/localhost:3000\/reset\?token=/);
      // The confirmation mails have arrived; no reset went to the inactive account.
      await smtp.mailTo(inactive);
      expect(
        smtp.received.filter((mail) => mail.to.includes(inactive.toLowerCase()) && /Reset/.test(mail.subject)),
      ).to.have.length(0);
    });

    it('sets the password, revokes every session, logs in anew, and spends the token', async () => {
      const email = address();
      const username = uniqueName();
      const password = strongPassword();
      const first = await expectTokens(await app.post('/api/registration', { username, password, email }), 201);
      await app.post('/api/reset', { email });
      const token = tokenOf((await smtp.mailTo(email, 1)).link);

      await expectError(
        await app.post('/api/reset_finalize', { password: 'short' }, bearer(token)),
        400,
        'ValidationError',
        /password/,
      );
      const fresh = strongPassword();
      const reset = await app.post('/api/reset_finalize', { password: fresh }, bearer(token));
      const body = await expectTokens(reset, 200);
      expect((body as unknown as Record<string, unknown>).user).to.equal(username);
      expect((await app.request('/api/protected', { headers: bearer(first.access_token) })).status).to.equal(403);
      expect((await app.request('/api/protected', { headers: bearer(body.access_token) })).status).to.equal(200);
      expect((await app.post('/api/login', { username, password })).status).to.equal(401);
      await expectTokens(await app.post('/api/login', { username, password: fresh }), 200);
      await expectError(
        await app.post('/api/reset_finalize', { password: strongPassword() }, bearer(token)),
        401,
        'InvalidTokenHeader',
      );
    });

    it('logs a reset request with its request id, client address and user agent, never the address asked for', async () => {
      const email = address('logged');
      const response = await app.post('/api/reset', { email }, { 'User-Agent': 'reset-test/1' });
      const requestId = response.headers.get('x-request-id');
      const line = app.logger.lines.find(
        (candidate) => candidate.fields.event === 'password_reset_request' && candidate.fields.request_id === requestId,
      );
      expect(line?.fields).to.deep.include({ client_ip: '127.0.0.1', user_agent: 'reset-test/1' });
      expect(JSON.stringify(app.logger.lines)).to.not.include(email);
    });

    it('invalidates an older link when a newer reset is asked for', async () => {
      const email = address();
      await app.post('/api/registration', { username: uniqueName(), password: strongPassword(), email });
      await app.post('/api/reset', { email });
      const older = tokenOf((await smtp.mailTo(email, 1)).link);
      await app.post('/api/reset', { email });
      const newer = tokenOf((await smtp.mailTo(email, 2)).link);
      await expectError(
        await app.post('/api/reset_finalize', { password: strongPassword() }, bearer(older)),
        401,
        'InvalidTokenHeader',
      );
      await expectTokens(await app.post('/api/reset_finalize', { password: strongPassword() }, bearer(newer)), 200);
    });

    it('expires a link after RESET_LIFESPAN (1 h)', async () => {
      const email = address();
      await app.post('/api/registration', { username: uniqueName(), password: strongPassword(), email });
      await app.post('/api/reset', { email });
      const token = tokenOf((await smtp.mailTo(email, 1)).link);
      app.clock.advanceSeconds(3601);
      try {
        await expectError(
          await app.post('/api/reset_finalize', { password: strongPassword() }, bearer(token)),
          401,
          'InvalidTokenHeader',
        );
      } finally {
        app.clock.advanceSeconds(-3601);
      }
    });
  });

  describe('a logged-in user', () => {
    it('sees their account and sessions, ends one, changes the password, and logs out everywhere', async () => {
      const user = await registerUser(app);
      const other = await expectTokens(
        await app.post('/api/login', { username: user.username, password: user.password }, { 'User-Agent': 'phone/1' }),
        200,
      );
      const me = await json(await app.request('/api/me', { headers: bearer(user.token) }));
      expect(me).to.deep.equal({
        id: user.id,
        username: user.username,
        email: null,
        email_verified: false,
        roles: ['user'],
      });

      const listed = (await json(await app.request('/api/sessions', { headers: bearer(user.token) }))) as {
        sessions: { id: string; current: boolean; user_agent: string | null; client_address: string }[];
      };
      expect(listed.sessions).to.have.length(2);
      expect(listed.sessions.filter((session) => session.current)).to.have.length(1);
      const phone = listed.sessions.find((session) => session.user_agent === 'phone/1')!;
      expect(phone.current).to.equal(false);
      expect(phone.client_address).to.equal('127.0.0.1');

      const stranger = await registerUser(app);
      const ended = await app.request(`/api/sessions/${phone.id}`, {
        method: 'DELETE',
        headers: bearer(stranger.token),
      });
      await expectError(ended, 404, 'NotFound');
      expect((await app.request('/api/protected', { headers: bearer(other.access_token) })).status).to.equal(200);
      expect(
        (await app.request(`/api/sessions/${phone.id}`, { method: 'DELETE', headers: bearer(user.token) })).status,
      ).to.equal(204);
      expect((await app.request('/api/protected', { headers: bearer(other.access_token) })).status).to.equal(403);

      const third = await expectTokens(await app.post('/api/login', user), 200);
      await expectError(
        await app.post(
          '/api/password',
          { current_password: 'wrong-password-1', new_password: strongPassword() },
          bearer(user.token),
        ),
        401,
        'AuthenticationError',
      );
      const fresh = strongPassword();
      const changed = await app.post(
        '/api/password',
        { current_password: user.password, new_password: fresh },
        bearer(user.token),
      );
      expect(changed.status).to.equal(204);
      expect(
        (await app.request('/api/protected', { headers: bearer(user.token) })).status,
        'this session stays',
      ).to.equal(200);
      expect((await app.request('/api/protected', { headers: bearer(third.access_token) })).status).to.equal(403);
      await expectTokens(await app.post('/api/login', { username: user.username, password: fresh }), 200);

      const everywhere = await app.post('/api/logout', { all: true }, bearer(user.token));
      expect(everywhere.status).to.equal(204);
      const left = await app.database.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
        SELECT count(*)::int AS count FROM sessions WHERE user_id = ${user.id} AND revoked_at IS NULL`);
      expect(left).to.equal(0);
    });

    it('counts a wrong current password toward the brute-force limit', async () => {
      const limited = await startTestApp({ env: { LOGIN_MAX_FAILURES: '2', SMTP_URL: smtp.url } });
      try {
        const user = await registerUser(limited);
        for (let i = 0; i < 2; i += 1) {
          const wrong = await limited.post(
            '/api/password',
            { current_password: `wrong-${i}-password`, new_password: strongPassword() },
            bearer(user.token),
          );
          expect(wrong.status).to.equal(401);
        }
        const locked = await limited.post(
          '/api/password',
          { current_password: user.password, new_password: strongPassword() },
          bearer(user.token),
        );
        expect(locked.status).to.equal(429);
        expect((await limited.post('/api/login', user)).status).to.equal(429);
      } finally {
        await limited.close();
      }
    });
  });

  describe('admin', () => {
    it('gets, resets and deletes a user; creates one while registration is closed', async () => {
      const admin = await registerUser(app);
      await setRoles(app, admin.username, 'admin,user');
      const adminToken = (await expectTokens(await app.post('/api/login', admin), 200)).access_token;
      const email = address('target');
      const target = await expectTokens(
        await app.post('/api/registration', { username: uniqueName(), password: strongPassword(), email }),
        201,
      );
      const id = (JSON.parse(Buffer.from(target.access_token.split('.')[1]!, 'base64url').toString()) as { id: number })
        .id;
      const shown = await json(await app.request(`/api/users/${id}`, { headers: bearer(adminToken) }));
      expect(shown).to.deep.include({ id, email, email_verified: false, is_active: true });
      expect(shown).to.not.have.property('password');

      const reset = await app.request(`/api/users/${id}/reset`, { method: 'POST', headers: bearer(adminToken) });
      expect(reset.status).to.equal(202);
      expect((await smtp.mailTo(email, 1)).subject).to.equal('Reset your password');

      expect(
        (await app.request(`/api/users/${id}`, { method: 'DELETE', headers: bearer(adminToken) })).status,
      ).to.equal(204);
      expect((await app.request('/api/protected', { headers: bearer(target.access_token) })).status).to.equal(403);
      await expectError(await app.request(`/api/users/${id}`, { headers: bearer(adminToken) }), 404, 'NotFound');
      await expectError(
        await app.request(`/api/users/${id}`, { method: 'DELETE', headers: bearer(adminToken) }),
        404,
        'NotFound',
      );
      const plain = await registerUser(app);
      await expectError(
        await app.request(`/api/users/${plain.id}`, { headers: bearer(plain.token) }),
        403,
        'MissingRoleError',
      );
    });

    it('REGISTRATION=closed refuses sign-up with 403, and admins still create users', async () => {
      const database = await createTestDatabase();
      const open = await startTestApp({ database });
      const closed = await startTestApp({ database, env: { REGISTRATION: 'closed' } });
      try {
        const admin = await registerUser(open);
        await setRoles(closed, admin.username, 'admin');
        const adminToken = (await expectTokens(await closed.post('/api/login', admin), 200)).access_token;
        await expectError(
          await closed.post('/api/registration', { username: uniqueName(), password: strongPassword() }),
          403,
          'RegistrationClosed',
          /closed/,
        );
        const username = uniqueName();
        const password = strongPassword();
        const created = await closed.post(
          '/api/users',
          { username, password, roles: ['user', 'staff'] },
          bearer(adminToken),
        );
        expect(created.status).to.equal(201);
        expect(await json(created)).to.deep.include({ username, roles: ['user', 'staff'], is_active: true });
        await expectTokens(await closed.post('/api/login', { username, password }), 200);
      } finally {
        await closed.close();
        await open.close();
        await database.drop();
      }
    });
  });
});

describe('HTTP: EMAIL_CONFIRMATION=required (issue 8, point 1)', function () {
  this.timeout(60_000);
  const smtp = new SmtpSink();
  let app: TestApp;

  before(async () => {
    await smtp.start();
    app = await startTestApp({ env: { SMTP_URL: smtp.url, EMAIL_CONFIRMATION: 'required' } });
  });
  after(async () => {
    await app?.close();
    await smtp.stop();
  });

  it('keeps the account inactive until confirmed, then logs in', async () => {
    const email = address();
    const username = uniqueName();
    const password = strongPassword();
    const response = await app.post('/api/registration', { username, password, email });
    expect(response.status).to.equal(201);
    const body = await json(response);
    expect(Object.keys(body)).to.deep.equal(['message']);
    await expectError(await app.post('/api/login', { username, password }), 403, 'InvalidUserError');
    const confirmed = await expectTokens(await finalize(app, tokenOf((await smtp.mailTo(email)).link)), 200);
    expect((confirmed as unknown as Record<string, unknown>).user).to.equal(username);
    await expectTokens(await app.post('/api/login', { username, password }), 200);
  });

  it('answers a taken address byte for byte as a new one, and mails its owner a notice instead', async () => {
    const email = address('owner');
    const fresh = await app.post('/api/registration', { username: uniqueName(), password: strongPassword(), email });
    const again = await app.post('/api/registration', {
      username: uniqueName(),
      password: strongPassword(),
      email: email.toLowerCase(),
    });
    expect(again.status).to.equal(fresh.status);
    expect(await again.text()).to.equal(await fresh.text());
    const notice = await smtp.mailTo(email, 1);
    expect(notice.subject).to.equal('Someone tried to register with your e-mail address');
    expect(notice.link, 'a notice carries no token').to.equal(undefined);
  });

  it('a deactivation by an admin spends a pending confirmation link: it cannot reactivate the account', async () => {
    const admin = await registerUser(app);
    await setRoles(app, admin.username, 'admin,user');
    const adminToken = (await expectTokens(await app.post('/api/login', admin), 200)).access_token;
    const email = address('pending');
    const username = uniqueName();
    await app.post('/api/registration', { username, password: strongPassword(), email });
    const token = tokenOf((await smtp.mailTo(email)).link);
    const id = await app.database.pool.oneFirst(sql.type(z.object({ id: z.number() }))`
      SELECT id FROM users WHERE username = ${username}`);
    const patched = await app.request(`/api/users/${id}`, {
      method: 'PATCH',
      headers: { ...bearer(adminToken), 'Content-Type': 'application/json' },
      body: JSON.stringify({ is_active: false }),
    });
    expect(patched.status).to.equal(200);
    await expectError(await finalize(app, token), 401, 'InvalidTokenHeader');
  });

  it('registers without an address as before: active, with tokens', async () => {
    await expectTokens(
      await app.post('/api/registration', { username: uniqueName(), password: strongPassword() }),
      201,
    );
  });

  it('limits mails per address: over the limit, the answer is the same and no mail goes', async () => {
    const email = address('flooded');
    await app.post('/api/registration', { username: uniqueName(), password: strongPassword(), email });
    await finalize(app, tokenOf((await smtp.mailTo(email)).link));
    const answers = new Set<string>();
    for (let i = 0; i < 5; i += 1) answers.add(await (await app.post('/api/reset', { email })).text());
    expect(answers.size).to.equal(1);
    await smtp.mailTo(email, 3);
    // Nothing more is queued for this address than the confirmation and the 3 resets MAIL_RATE_LIMIT_PER_ADDRESS allows.
    expect(await outboxRows(app, email)).to.have.length(4);
  });
});

describe('HTTP: the mail outbox (issue 8, point 6)', function () {
  this.timeout(60_000);

  it('loses nothing and sends nothing twice while the SMTP server is down at send time, with two instances', async () => {
    const smtp = new SmtpSink();
    await smtp.start();
    await smtp.stop();
    const database: TestDatabase = await createTestDatabase();
    const env = { SMTP_URL: smtp.url, MAIL_POLL_INTERVAL: '1s' };
    const a = await startTestApp({ database, env });
    const b = await startTestApp({ database, env });
    try {
      const emails = Array.from({ length: 6 }, () => address('outage'));
      for (const [index, email] of emails.entries()) {
        const to = index % 2 === 0 ? a : b;
        await expectTokens(
          await to.post('/api/registration', { username: uniqueName(), password: strongPassword(), email }),
          201,
        );
      }
      // Every mail has been tried and is waiting for its retry, its body (and token) still kept.
      for (const email of emails) {
        for (let rows = await outboxRows(a, email); rows[0]?.attempts === 0; rows = await outboxRows(a, email)) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const [row] = await outboxRows(a, email);
        expect(row).to.deep.include({ sent: false });
        expect(row!.body).to.include('token=');
      }
      expect(a.logger.lines.some((line) => line.fields.event === 'mail_failed')).to.equal(true);
      expect(JSON.stringify(a.logger.lines)).to.not.match(/token=/);

      await smtp.start();
      // The backoff has passed (as if the clock had moved on).
      await a.database.pool.query(sql.unsafe`UPDATE mail_outbox SET next_attempt_at = now() WHERE sent_at IS NULL`);
      for (const email of emails) await smtp.mailTo(email);
      for (const email of emails) {
        const [row] = await outboxRows(a, email);
        expect(row).to.deep.include({ sent: true, body: null });
      }
      // A while later, still one of each.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      for (const email of emails) expect(smtp.count(email), email).to.equal(1);
    } finally {
      await a.close();
      await b.close();
      await database.drop();
      await smtp.stop();
    }
  });

  it('writes mails as .eml files under DATA_DIR/mail without SMTP_URL, and logs where, never the token', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'jwt-login-mail-'));
    const app = await startTestApp({ env: { DATA_DIR: dataDir, MAIL_POLL_INTERVAL: '1s' } });
    try {
      const email = address('file');
      await app.post('/api/registration', { username: uniqueName(), password: strongPassword(), email });
      const directory = path.join(dataDir, 'mail');
      let files: string[] = [];
      while (files.length === 0) {
        files = await readdir(directory).catch(() => []);
        if (files.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const eml = await readFile(path.join(directory, files[0]!), 'utf8');
      expect(eml).to.match(/^Subject: Confirm your e-mail address$/m);
      expect(eml.toLowerCase()).to.include(email.toLowerCase());
      const logs = JSON.stringify(app.logger.lines);
      expect(logs).to.include(directory);
      expect(logs).to.not.match(/token=/);
    } finally {
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
