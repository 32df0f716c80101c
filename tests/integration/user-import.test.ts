import { type Run, cliProcess } from '../support/run-process.js';
import { expect } from 'chai';
import pg from 'pg';
import { sql } from 'slonik';
import { z } from 'zod';
import { type TestDatabase, createEmptyDatabase, createTestDatabase } from '../support/database.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

/** The example of issue 13: flask-praetorian's default hash (pbkdf2_sha512, passlib 1.7.4) of `Correct-Horse-9!`. */
const PRAETORIAN_HASH =
  '$pbkdf2-sha512$25000$7/1fq7XWGkMIoXROiVFqbQ$01lBBbPcJ2S8oucXLaMPnRaG2FnMtE/UHNOpiYovk6TG/qLZ.co6E/1JpTZiwJyfazySKES4QWuxPKqLBj6omw';
const PRAETORIAN_PASSWORD = 'Correct-Horse-9!';

const targetRow = z.object({
  id: z.number(),
  username: z.string(),
  password: z.string(),
  roles: z.string().nullable(),
  is_active: z.boolean().nullable(),
});

/** Issue 13, point 4: `npm run user -- import --from <url>` copies a Flask seed's users from its own database. */
describe('admin CLI: npm run user -- import --from <seed database>', function () {
  this.timeout(120_000);
  let target: TestDatabase;
  let source: { uri: string; drop(): Promise<void> };
  let seed: pg.Client;

  /** Runs src/cli.ts as the npm script does (from source here), on the target database. */
  const run = async (args: string[]): Promise<Run> => {
    const ran = await cliProcess(args, {
      ...process.env,
      DATABASE_URL: target.uri,
      JWT_SECRET: 'cli-test-secret-that-is-at-least-32-bytes',
      ARGON2_MEMORY_KIB: '1024',
      ARGON2_TIME_COST: '1',
      ARGON2_PARALLELISM: '1',
    });
    // The line naming the database (tested in user-cli.test.ts) is not what these tests read.
    return { ...ran, stderr: ran.stderr.replace(/^jwt-login: using [^\n]*\n/, '') };
  };
  const importSeed = () => run(['import', '--from', source.uri]);
  const rows = () =>
    target.pool.any(sql.type(targetRow)`SELECT id, username, password, roles, is_active FROM users ORDER BY id`);

  beforeEach(async () => {
    target = await createTestDatabase();
    source = await createEmptyDatabase();
    seed = new pg.Client({ connectionString: source.uri });
    await seed.connect();
    // The seed's table, exactly as flask-praetorian's example made it, with an email column as some seeds have.
    await seed.query(`CREATE TABLE users (id serial PRIMARY KEY, username text NOT NULL UNIQUE, password text NOT NULL,
      roles text, is_active boolean, email text)`);
  });

  afterEach(async () => {
    await seed?.end();
    await source?.drop();
    await target?.drop();
  });

  const seedUsers = async (users: readonly (readonly [number, string, string, string | null, boolean | null])[]) => {
    for (const [id, username, password, roles, active] of users) {
      await seed.query(
        'INSERT INTO users (id, username, password, roles, is_active, email) VALUES ($1, $2, $3, $4, $5, $6)',
        [id, username, password, roles, active, `${id}@seed.example`],
      );
    }
    await seed.query(`SELECT setval('users_id_seq', (SELECT max(id) FROM users))`);
  };

  it('copies ids, names, hashes, roles and flags; the imported user logs in; new users get new ids', async () => {
    await seedUsers([
      [3, 'alice', PRAETORIAN_HASH, 'admin,user', true],
      [7, 'bob', PRAETORIAN_HASH, null, null],
      [12, 'carol', PRAETORIAN_HASH, 'user', false],
    ]);
    const result = await importSeed();
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.equal('');
    expect(result.stdout).to.equal('imported 3 of 3 users; 0 already there, 0 skipped, 0 conflicts reported\n');
    expect(await rows()).to.deep.equal([
      { id: 3, username: 'alice', password: PRAETORIAN_HASH, roles: 'admin,user', is_active: true },
      { id: 7, username: 'bob', password: PRAETORIAN_HASH, roles: null, is_active: null },
      { id: 12, username: 'carol', password: PRAETORIAN_HASH, roles: 'user', is_active: false },
    ]);

    const app: TestApp = await startTestApp({ database: target });
    try {
      const login = await app.post('/api/login', { username: 'alice', password: PRAETORIAN_PASSWORD });
      expect(login.status, await login.clone().text()).to.equal(200);
      const registered = await app.post('/api/registration', { username: 'dave', password: 'a fresh long password 1' });
      expect(registered.status).to.equal(201);
    } finally {
      await app.close();
    }
    const after = await rows();
    expect(after.find((row) => row.username === 'alice')?.password).to.match(/^\$argon2id\$/);
    expect(after.find((row) => row.username === 'dave')?.id).to.equal(13);
  });

  it('is idempotent, and a second run never undoes an upgrade made since', async () => {
    await seedUsers([
      [1, 'alice', PRAETORIAN_HASH, 'user', true],
      [2, 'bob', PRAETORIAN_HASH, 'user', true],
    ]);
    expect((await importSeed()).stdout).to.equal(
      'imported 2 of 2 users; 0 already there, 0 skipped, 0 conflicts reported\n',
    );
    await target.pool.query(sql.unsafe`UPDATE users SET password = '$argon2id$upgraded' WHERE id = 1`);
    const before = await rows();
    const again = await importSeed();
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.equal('imported 0 of 2 users; 2 already there, 0 skipped, 0 conflicts reported\n');
    expect(await rows()).to.deep.equal(before);
  });

  it('reports each conflict on one line, imports the rest, and ends with the count', async () => {
    // The target already has a user of its own, with id 1.
    await target.pool.query(sql.unsafe`INSERT INTO users (id, username, password, roles, is_active)
      VALUES (1, 'root', 'argon2-hash', 'admin', true)`);
    await seedUsers([
      [1, 'flask-admin', PRAETORIAN_HASH, 'admin', true],
      [2, 'Alice', PRAETORIAN_HASH, 'user', true],
      [3, 'ALICE', PRAETORIAN_HASH, 'user', true],
      [4, 'ROOT', PRAETORIAN_HASH, 'user', true],
      [5, 'bob\u3164', PRAETORIAN_HASH, 'user', true],
      [6, '\u0430lice', PRAETORIAN_HASH, 'user', true],
      [7, 'carol', PRAETORIAN_HASH, 'user', true],
    ]);
    const result = await importSeed();
    expect(result.code, result.stderr).to.equal(0);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).to.have.length(5);
    expect(lines[0]).to.equal('conflict: user 1 "flask-admin": id 1 is "root"\'s here: skipped');
    expect(lines[1]).to.equal('conflict: user 3 "ALICE" is the same name, once folded, as user 2 "Alice": skipped');
    expect(lines[2]).to.equal('conflict: user 4 "ROOT" is the same name, once folded, as user 1 "root": skipped');
    expect(lines[3]).to.match(
      /^conflict: user 5 "bob\u3164" is refused by the username rules \(.*U\+3164.*\): imported as it is$/,
    );
    expect(lines[4]).to.equal('conflict: user 6 "\u0430lice" looks like user 2\'s name: imported; it keeps logging in');
    expect(result.stdout).to.equal('imported 4 of 7 users; 0 already there, 3 skipped, 5 conflicts reported\n');
    expect((await rows()).map((row) => [row.id, row.username])).to.deep.equal([
      [1, 'root'],
      [2, 'Alice'],
      [5, 'bob\u3164'],
      [6, '\u0430lice'],
      [7, 'carol'],
    ]);

    // The names imported despite the rules log in, as rows from before the rules do.
    const app = await startTestApp({ database: target });
    try {
      for (const username of ['bob\u3164', '\u0430lice', 'Alice']) {
        const login = await app.post('/api/login', { username, password: PRAETORIAN_PASSWORD });
        expect(login.status, `${username}: ${await login.clone().text()}`).to.equal(200);
      }
    } finally {
      await app.close();
    }
  });

  it('copies emails, leaves out one another user has, and goes on past a row it cannot write', async () => {
    // A rule of this target's table that a seed row breaks.
    await target.pool.query(
      sql.unsafe`ALTER TABLE users ADD CONSTRAINT import_test_email CHECK (email IS NULL OR email LIKE '%@%')`,
    );
    await seedUsers([
      [1, 'alice', PRAETORIAN_HASH, 'user', true],
      [2, 'bob', PRAETORIAN_HASH, 'user', true],
      [3, 'carol', PRAETORIAN_HASH, 'user', true],
      [4, 'dave', PRAETORIAN_HASH, 'user', true],
    ]);
    await seed.query(`UPDATE users SET email = 'not an address' WHERE id = 2`);
    await seed.query(`UPDATE users SET email = ' 1@SEED.example' WHERE id = 4`);
    const result = await importSeed();
    expect(result.code, result.stderr).to.equal(0);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).to.match(/^conflict: user 2 "bob" could not be written \(.+\): skipped$/);
    expect(lines[1]).to.equal('conflict: user 4 "dave": its email is user 1\'s here: imported without it');
    expect(lines).to.have.length(2);
    expect(result.stdout).to.equal('imported 3 of 4 users; 0 already there, 1 skipped, 2 conflicts reported\n');
    const emails = await target.pool.any(
      sql.type(z.object({ id: z.number(), email: z.string().nullable() }))`SELECT id, email FROM users ORDER BY id`,
    );
    expect(emails).to.deep.equal([
      { id: 1, email: '1@seed.example' },
      { id: 3, email: '3@seed.example' },
      { id: 4, email: null },
    ]);
  });

  it('leaves emails behind when the target has no email column, and reads a seed without one', async () => {
    await target.pool.query(sql.unsafe`ALTER TABLE users DROP COLUMN email CASCADE`);
    await seedUsers([[1, 'alice', PRAETORIAN_HASH, 'user', true]]);
    expect((await importSeed()).stdout).to.equal(
      'imported 1 of 1 users; 0 already there, 0 skipped, 0 conflicts reported\n',
    );
    await seed.query('ALTER TABLE users DROP COLUMN email');
    await seed.query(`INSERT INTO users (id, username, password) VALUES (2, 'bob', 'x')`);
    const result = await importSeed();
    expect(result.stdout).to.equal('imported 1 of 2 users; 1 already there, 0 skipped, 0 conflicts reported\n');
  });

  it('fails with exit code 1, without the URL, when the seed database cannot be read', async () => {
    const url = new URL(source.uri);
    url.password = 'secret-in-url';
    url.pathname = '/no_such_database_here';
    const result = await run(['import', '--from', url.toString()]);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.match(/^cannot import: /);
    expect(result.stderr).to.not.include('secret-in-url');
  });

  it('answers a usage error to a missing or non-PostgreSQL --from', async () => {
    for (const args of [['import'], ['import', '--from'], ['import', '--from', 'mysql://x/y'], ['import', 'x', 'y']]) {
      const result = await run(args);
      expect(result.code, args.join(' ')).to.equal(2);
      expect(result.stderr).to.contain('import takes --from');
    }
  });
});
