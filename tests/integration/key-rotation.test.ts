import { type Run, cliProcess } from '../support/run-process.js';
import { expect } from 'chai';
import { resolve } from '../../src/composition-root.js';
import { ListSigningKeys } from '../../src/application/use-cases/rotate-signing-key.js';
import { FixedClock } from '../fakes/fixed-clock.js';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { TEST_SECRET, type TestApp, startTestApp } from '../support/test-app.js';
import { bearer, decodeJwt, expectNo5xx, registerAccount } from '../http/helpers.js';

const KEY_ENCRYPTION_SECRET = 'rotation-test-key-encryption-secret-32b+';
const PUBLISH_DELAY_SECONDS = 120;
const ACCESS_SECONDS = 900;
const ENV = {
  JWT_ALGORITHM: 'ES256',
  KEY_ENCRYPTION_SECRET,
  KEY_PUBLISH_DELAY: `${PUBLISH_DELAY_SECONDS}s`,
  JWKS_MAX_AGE: '60s',
  JWT_ACCESS_LIFESPAN: `${ACCESS_SECONDS}s`,
};

/** `npm run keys -- ...` as the npm script runs it (from source here), on `database`. */
function keysCli(database: TestDatabase, args: string[], env: Record<string, string> = ENV): Promise<Run> {
  return cliProcess(['keys', ...args], {
    PATH: process.env.PATH,
    DATABASE_URL: database.uri,
    JWT_SECRET: TEST_SECRET,
    ...env,
  });
}

const kidsOf = async (app: TestApp) =>
  ((await (await app.request('/.well-known/jwks.json')).json()) as { keys: { kid: string }[] }).keys.map(
    (key) => key.kid,
  );

/** Waits (on a condition, not a time) until `check` holds. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('key rotation without downtime (issue 10, point 4)', function () {
  this.timeout(120_000);
  let database: TestDatabase;
  let clock: FixedClock;
  let a: TestApp;
  let b: TestApp;

  before(async () => {
    database = await createTestDatabase();
    clock = new FixedClock(Date.now());
    a = await startTestApp({ database, clock, env: ENV });
    b = await startTestApp({ database, clock, env: ENV });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  it('two instances under load: rotate, publish, switch, retire, and not one refused request', async () => {
    const [firstKid] = await kidsOf(a);
    expect(await kidsOf(b)).to.deep.equal([firstKid]);

    // Tokens from both instances, and guarded requests to both with every live token, until told to stop.
    const tokens: string[] = [];
    const statuses = new Map<string, number>();
    let requests = 0;
    let stopping = false;
    // The clock jumps only between batches: a token taken as live must still be when the request is answered.
    let paused = false;
    let inFlight = 0;
    const jump = async (ms: number) => {
      paused = true;
      await until(() => Promise.resolve(inFlight === 0), 'the batches in flight are answered');
      clock.set(ms);
      paused = false;
    };
    const login = async (app: TestApp) => tokens.push((await registerAccount(app, 'rot')).access);
    for (const app of [a, b, a, b]) await login(app);
    const live = () => tokens.filter((token) => (decodeJwt(token).payload.exp as number) > clock.now() / 1000 + 1);
    const load = async () => {
      while (!stopping) {
        const batch = paused ? [] : live();
        // Nothing to send for a moment: yield, or this loop would starve the event loop.
        if (batch.length === 0) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          continue;
        }
        inFlight += 1;
        try {
          const answers = await Promise.all(
            batch.flatMap((token) => [a, b].map((app) => app.request('/api/protected', { headers: bearer(token) }))),
          );
          for (const answer of answers) {
            const text = await answer.text();
            const outcome = answer.status === 200 ? '200' : `${answer.status} ${text}`;
            statuses.set(outcome, (statuses.get(outcome) ?? 0) + 1);
          }
          requests += answers.length;
        } finally {
          inFlight -= 1;
        }
      }
    };
    const loaders = [load(), load()];
    try {
      // Rotate from the admin CLI, a third process: both instances pick the new key up without a restart.
      const rotated = await keysCli(database, ['rotate']);
      expect(rotated.code, rotated.stderr).to.equal(0);
      const [, newKid, signsFrom, retiresAt] = /key (\S+): published now, signs from (\S+); .* until (\S+)$/m.exec(
        rotated.stdout,
      )!;
      // The CLI runs on the real clock: the instances' clock is moved to its instants, never by a guess of how long it took.
      expect(Date.parse(signsFrom!) - Date.now()).to.be.within(0, PUBLISH_DELAY_SECONDS * 1000);
      expect(newKid).to.not.equal(firstKid);
      await until(
        async () => (await kidsOf(a)).length === 2 && (await kidsOf(b)).length === 2,
        'both publish two keys',
      );
      expect((await kidsOf(a)).sort()).to.deep.equal([firstKid, newKid].sort());
      expect((await kidsOf(b)).sort()).to.deep.equal([firstKid, newKid].sort());

      // Published, not signing yet: a token made now still carries the old kid.
      await login(a);
      await login(b);
      expect(tokens.slice(-2).map((token) => decodeJwt(token).header.kid)).to.deep.equal([firstKid, firstKid]);

      // After the publish delay, both sign with the new key; the old key's tokens still verify everywhere.
      await jump(Date.parse(signsFrom!) + 1000);
      await login(a);
      await login(b);
      expect(tokens.slice(-2).map((token) => decodeJwt(token).header.kid)).to.deep.equal([newKid, newKid]);
      const before = requests;
      await until(async () => Promise.resolve(requests > before + 40), 'requests ran with tokens of both keys');

      const states = async () =>
        (await resolve(a.service.container, ListSigningKeys).execute()).map((key) => `${key.kid}:${key.state}`);
      expect(await states()).to.deep.equal([`${newKid}:signing`, `${firstKid}:verifying`]);

      // Once the last token the old key can have signed has expired, it is retired and no longer published.
      expect(Date.parse(retiresAt!) - Date.parse(signsFrom!)).to.equal((ACCESS_SECONDS + 60) * 1000);
      await jump(Date.parse(retiresAt!) + 1000);
      await login(a);
      await login(b);
      expect(await kidsOf(a)).to.deep.equal([newKid]);
      expect(await kidsOf(b)).to.deep.equal([newKid]);
      expect(await states()).to.deep.equal([`${newKid}:signing`, `${firstKid}:retired`]);
      const after = requests;
      await until(async () => Promise.resolve(requests > after + 20), 'requests ran after the retirement');
    } finally {
      stopping = true;
      await Promise.allSettled(loaders);
    }
    await Promise.all(loaders);
    expect(Object.fromEntries(statuses)).to.have.keys('200');
    expect(requests).to.be.greaterThan(100);
    expectNo5xx(a);
    expectNo5xx(b);
  });

  it("npm run keys -- list shows each key with its state; rotate is refused where keys are not the service's", async () => {
    const listed = await keysCli(database, ['list']);
    expect(listed.code, listed.stderr).to.equal(0);
    const lines = listed.stdout.trim().split('\n');
    expect(lines[0]).to.equal('kid\talgorithm\tstate\tcreated\tsigns from\tretires');
    expect(lines.slice(1)).to.have.length(2);
    for (const line of lines.slice(1)) expect(line).to.match(/^\S+\tES256\t(pending|signing|verifying|retired)\t/);

    const refused = await keysCli(database, ['rotate'], { JWT_ALGORITHM: 'HS256' });
    expect(refused.code).to.equal(3);
    expect(refused.stderr).to.match(/cannot rotate: .*JWT_ALGORITHM ES256 or RS256/);
    const usage = await keysCli(database, ['spin']);
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.contain('npm run keys -- rotate');
  });
});
