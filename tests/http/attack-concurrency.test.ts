import { expect } from 'chai';
import { sql } from 'slonik';
import { z } from 'zod';
import { type TestApp, startTestApp } from '../support/test-app.js';
import { expectError, expectNo5xx, expectTokens, fullwidth, strongPassword, uniqueName } from './helpers.js';

const CONCURRENT = 50;

/** Flips the case of each letter at random: "bob_1a" -> "bOB_1A". */
function randomCase(text: string): string {
  return [...text].map((char) => (Math.random() < 0.5 ? char.toUpperCase() : char.toLowerCase())).join('');
}

describe('Attack: concurrent registrations of one username (issue 4, item 7)', function () {
  this.timeout(30_000);
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });

  after(async () => {
    await app?.close();
  });

  /** Rows whose username compares equal to `name` (NFKC, case-folded), as the unique index sees them. */
  const rowsLike = (name: string) =>
    app.database.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
      SELECT count(*)::int AS count FROM users WHERE lower(normalize(username, NFKC)) = lower(normalize(${name}, NFKC))`);

  async function race(usernames: readonly string[]) {
    const passwords = usernames.map(() => strongPassword());
    const responses = await Promise.all(
      usernames.map((username, i) => app.post('/api/registration', { username, password: passwords[i] })),
    );
    const statuses = responses.map((response) => response.status);
    const created = responses.flatMap((response, i) => (response.status === 201 ? [{ response, i }] : []));
    const refused = responses.filter((response) => response.status === 409);
    for (const response of refused) await expectError(response, 409, 'UserExistsError');
    return { statuses, created, refused, passwords };
  }

  const tally = (statuses: number[]) =>
    statuses.reduce<Record<number, number>>(
      (counts, status) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }),
      {},
    );

  it(`lets exactly one of ${CONCURRENT} concurrent registrations of one username win: one 201, ${CONCURRENT - 1} × 409, one row`, async () => {
    const username = uniqueName('race');
    const { statuses, created, passwords } = await race(Array.from({ length: CONCURRENT }, () => username));
    console.log(`      ${CONCURRENT} concurrent registrations of "${username}": ${JSON.stringify(tally(statuses))}`);
    expect(tally(statuses)).to.deep.equal({ 201: 1, 409: CONCURRENT - 1 });
    expect(await rowsLike(username)).to.equal(1);

    // The winner's password is the stored one: the winner logs in, and a loser's password does not.
    const winner = created[0]!;
    await expectTokens(winner.response, 201);
    await expectTokens(await app.post('/api/login', { username, password: passwords[winner.i] }), 200);
    const loser = passwords.find((_, i) => i !== winner.i)!;
    await expectError(await app.post('/api/login', { username, password: loser }), 401, 'AuthenticationError');
  });

  it(`lets exactly one of ${CONCURRENT} concurrent case and NFKC variants ("Bob", "BOB", "bob", fullwidth...) win`, async () => {
    const base = `bob${uniqueName('').replace('_', '')}`;
    const variants = Array.from({ length: CONCURRENT }, (_, i) => {
      if (i === 0) return base;
      if (i === 1) return base.toUpperCase();
      if (i % 5 === 0) return fullwidth(randomCase(base));
      return randomCase(base);
    });
    const { statuses, created } = await race(variants);
    console.log(`      ${CONCURRENT} concurrent case/NFKC variants of "${base}": ${JSON.stringify(tally(statuses))}`);
    expect(tally(statuses)).to.deep.equal({ 201: 1, 409: CONCURRENT - 1 });
    expect(await rowsLike(base)).to.equal(1);
    // Stored as given by the winner.
    const stored = await app.database.pool.oneFirst(sql.type(z.object({ username: z.string() }))`
      SELECT username FROM users WHERE lower(normalize(username, NFKC)) = lower(normalize(${base}, NFKC))`);
    expect(stored).to.equal(variants[created[0]!.i]);
  });

  it('keeps serving and answered none of the races with a 5xx', async () => {
    expect((await app.request('/api/ready')).status).to.equal(200);
    expectNo5xx(app);
  });
});
