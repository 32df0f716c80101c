import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { sql } from 'slonik';
import { z } from 'zod';
import { waitFor } from '../support/fake-logstash.js';
import { type TestApp, startTestApp } from '../support/test-app.js';
import { accountTokens, bearer, registerAccount } from '../http/helpers.js';

const counts = z.object({ sessions: z.number(), tokens: z.number(), spent: z.number() });

async function rowCounts(app: TestApp) {
  return await app.database.pool.one(sql.type(counts)`
    SELECT (SELECT count(*) FROM sessions)::float8 AS sessions,
           (SELECT count(*) FROM refresh_tokens)::float8 AS tokens,
           (SELECT count(*) FROM refresh_tokens WHERE spent_at IS NOT NULL)::float8 AS spent`);
}

describe('integration: ended sessions and spent refresh tokens are purged (issue 9, point 10)', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp({ env: { PURGE_INTERVAL: '1s', PURGE_AFTER: '1h', PURGE_BATCH_SIZE: '2' } });
  });
  after(async () => {
    await app?.close();
  });

  it('deletes them on the timer once older than PURGE_AFTER, in batches, and keeps live sessions working', async () => {
    // Five sessions logged out, and one live session refreshed five times (five spent tokens, one live).
    for (let i = 0; i < 5; i += 1) {
      const account = await registerAccount(app, 'purged');
      expect((await app.request('/api/logout', { method: 'POST', headers: bearer(account.access) })).status).to.equal(
        204,
      );
    }
    const keeper = await registerAccount(app, 'kept');
    let refresh = keeper.refresh;
    for (let i = 0; i < 5; i += 1) {
      refresh = (await accountTokens(await app.post('/api/refresh', { refresh_token: refresh }), 200)).refresh;
    }
    expect(await rowCounts(app)).to.deep.equal({ sessions: 6, tokens: 11, spent: 5 });

    // Nothing has ended an hour ago yet: a run leaves everything.
    const runs = () => app.logger.events('purge').length;
    await waitFor(() => runs() >= 1, 'a first purge run', 10_000);
    expect(await rowCounts(app)).to.deep.equal({ sessions: 6, tokens: 11, spent: 5 });

    app.clock.advanceSeconds(2 * 3600);
    const before = runs();
    await waitFor(
      () =>
        app.logger
          .events('purge')
          .slice(before)
          .some((line) => line.level === 'info'),
      'a purge',
      10_000,
    );
    expect(await rowCounts(app)).to.deep.equal({ sessions: 1, tokens: 1, spent: 0 });
    const deleted = app.logger
      .events('purge')
      .slice(before)
      .reduce((sum, line) => sum + Number(line.fields.sessions) + Number(line.fields.refresh_tokens), 0);
    expect(deleted).to.equal(10);

    // The live session still refreshes.
    expect((await app.post('/api/refresh', { refresh_token: refresh })).status).to.equal(200);
  });
});

describe('integration: spent or expired account tokens and finished mails are purged (issue 8 with issue 9, point 10)', () => {
  let app: TestApp;
  let dataDir: string;

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'jwt-login-purge-'));
    app = await startTestApp({
      env: { PURGE_INTERVAL: '1s', PURGE_AFTER: '1h', DATA_DIR: dataDir, MAIL_POLL_INTERVAL: '1s' },
    });
  });
  after(async () => {
    await app?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Waits, without a deadline of its own (mocha's timeout is the limit), until `condition` holds. */
  const until = async (condition: () => Promise<boolean>) => {
    while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  const mailCounts = z.object({ tokens: z.number(), mails: z.number(), sent: z.number() });
  const accountRows = () =>
    app.database.pool.one(sql.type(mailCounts)`
      SELECT (SELECT count(*) FROM account_tokens)::float8 AS tokens,
             (SELECT count(*) FROM mail_outbox)::float8 AS mails,
             (SELECT count(*) FROM mail_outbox WHERE sent_at IS NOT NULL)::float8 AS sent`);

  it('deletes them once older than PURGE_AFTER, and keeps a mail still waiting to be sent', async () => {
    const email = `purge_${Date.now()}@example.com`;
    await app.post('/api/registration', { username: `purge_${Date.now()}`, password: 'Tr0ub4dor&3-purge', email });
    await until(async () => (await accountRows()).sent === 1);
    // A mail that cannot be delivered yet (its next attempt is far off): it must survive every purge.
    await app.database.pool.query(sql.unsafe`
      INSERT INTO mail_outbox (kind, recipient, subject, body, next_attempt_at)
      VALUES ('reset', 'later@example.com', 'Reset your password', 'body', now() + interval '1 year')`);
    expect(await accountRows()).to.deep.equal({ tokens: 1, mails: 2, sent: 1 });

    // The confirmation token expires after 24 h; an hour after that, it and the sent mail go.
    app.clock.advanceSeconds(26 * 3600);
    await until(async () => (await accountRows()).tokens === 0);
    await until(async () => (await accountRows()).sent === 0);
    expect(await accountRows()).to.deep.equal({ tokens: 0, mails: 1, sent: 0 });
  });
});
