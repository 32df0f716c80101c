import { expect } from 'chai';
import { sql } from 'slonik';
import { type TestApp, startTestApp } from '../support/test-app.js';
import { PRAETORIAN_SCHEMES, type LegacyHashes, legacyHashes, wrongPassword } from '../support/passlib.js';
import { decodeJwt, expectError, expectNo5xx, expectTokens, uniqueName, userRowByName } from './helpers.js';

const BAD_CREDENTIALS = 'The username and/or password are incorrect';

/** A user row as the Flask seed (or any tool) wrote it: a passlib hash in `password`. */
async function seedUser(app: TestApp, passwordHash: string): Promise<{ username: string; id: number }> {
  const username = uniqueName('flask');
  await app.database.pool.query(sql.unsafe`
    INSERT INTO users (username, password, roles, is_active) VALUES (${username}, ${passwordHash}, 'user', true)`);
  const { id } = await userRowByName(app, username);
  return { username, id };
}

/** Issue 13, points 1 and 2: flask-praetorian's users log in with the passwords they have, and are upgraded. */
describe('HTTP: logins with flask-praetorian (passlib) hashes', function () {
  // passlib's default SHA-crypt rounds cost seconds in JavaScript (unixcrypt), more on a loaded machine.
  this.timeout(180_000);
  let app: TestApp;
  let made: LegacyHashes;

  before(async () => {
    made = legacyHashes();
    if (made.source === 'vectors') {
      console.log(
        '    passlib (python3 with python3-passlib, -argon2, -bcrypt) is missing: using the committed vectors',
      );
    }
    // A legacy hash may take seconds: the queue must not shed the logins of this suite for waiting behind one.
    // argon2 t=2: above passlib's cheap argon2 hashes (t=1), as the defaults (t=3) are above passlib's (t=2).
    app = await startTestApp({ env: { HASH_QUEUE_MAX_WAIT: '120s', HASH_CONCURRENCY: '2', ARGON2_TIME_COST: '2' } });
  });

  after(async () => {
    await app?.close();
  });

  for (const scheme of PRAETORIAN_SCHEMES) {
    it(`logs in with a ${scheme} hash made by passlib, refuses a wrong password, and stores argon2id after`, async () => {
      for (const entry of made.hashes.filter((candidate) => candidate.scheme === scheme)) {
        const user = await seedUser(app, entry.hash);
        const wrong = await app.post('/api/login', {
          username: user.username,
          password: wrongPassword(entry.password),
        });
        await expectError(wrong, 401, 'AuthenticationError', BAD_CREDENTIALS);
        expect((await userRowByName(app, user.username)).password, 'a failed login changes nothing').to.equal(
          entry.hash,
        );

        const body = await expectTokens(
          await app.post('/api/login', { username: user.username, password: entry.password }),
          200,
        );
        expect(decodeJwt(body.access_token).payload.id).to.equal(user.id);
        const upgraded = (await userRowByName(app, user.username)).password;
        expect(upgraded, `${entry.cost} ${scheme}`).to.match(/^\$argon2id\$v=19\$/);
        await expectTokens(await app.post('/api/login', { username: user.username, password: entry.password }), 200);
        expect((await userRowByName(app, user.username)).password).to.equal(upgraded);
        // Every scheme but passlib's argon2 at its defaults (m=100 MiB, p=8: not weaker) is rehashed with the current
        // parameters, of the normalized password as registration hashes it, so that both typings log in from then on.
        if (scheme === 'argon2' && entry.cost === 'default') continue;
        expect(upgraded).to.match(/^\$argon2id\$v=19\$m=1024,(?=.*t=2)/);
        await expectTokens(
          await app.post('/api/login', { username: user.username, password: entry.password.normalize('NFKC') }),
          200,
        );
      }
    });
  }

  it('upgrades once when two logins of one legacy user race: one argon2id hash, both logins answered', async () => {
    const entry = made.hashes.find((candidate) => candidate.scheme === 'pbkdf2_sha512')!;
    const user = await seedUser(app, entry.hash);
    const responses = await Promise.all(
      [1, 2].map(() => app.post('/api/login', { username: user.username, password: entry.password })),
    );
    for (const response of responses) await expectTokens(response, 200);
    const stored = (await userRowByName(app, user.username)).password;
    expect(stored).to.match(/^\$argon2id\$/);
    await expectTokens(await app.post('/api/login', { username: user.username, password: entry.password }), 200);
    expect((await userRowByName(app, user.username)).password).to.equal(stored);
  });

  it('answers a legacy hash that does not parse as a wrong password, and logs it without the hash', async () => {
    const entry = made.hashes.find((candidate) => candidate.scheme === 'pbkdf2_sha512')!;
    const broken = entry.hash.slice(0, -3);
    const user = await seedUser(app, broken);
    const unknown = await app.post('/api/login', { username: uniqueName('nobody'), password: entry.password });
    const refused = await app.post('/api/login', { username: user.username, password: entry.password });
    const unknownBody = await expectError(unknown, 401, 'AuthenticationError', BAD_CREDENTIALS);
    const refusedBody = await expectError(refused, 401, 'AuthenticationError', BAD_CREDENTIALS);
    expect({ ...refusedBody, request_id: '' }).to.deep.equal({ ...unknownBody, request_id: '' });
    const logged = app.logger.events('password_hash_unreadable');
    expect(logged.map((line) => line.fields.user_id)).to.deep.equal([user.id]);
    const everything = JSON.stringify(app.logger.lines);
    expect(everything).to.not.include(broken.split('$').at(-1));
    expect(everything).to.not.include(broken);
    expect((await userRowByName(app, user.username)).password).to.equal(broken);
  });

  describe('after every request above', () => {
    it('answered none with a 5xx', () => {
      expectNo5xx(app);
    });
  });
});
