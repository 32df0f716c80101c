import { expect } from 'chai';
import { type TestApp, startTestApp } from '../support/test-app.js';
import { expectNo5xx, registerUser, uniqueName } from './helpers.js';

const BAD_CREDENTIALS = 'The username and/or password are incorrect';

interface Captured {
  readonly status: number;
  readonly text: string;
  readonly headers: Record<string, string>;
}

async function capture(response: Response): Promise<Captured> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'date') headers[name] = value;
  });
  return { status: response.status, text: await response.text(), headers };
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

describe('Attack: user enumeration through login answers (issue 4, item 2)', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });

  after(async () => {
    await app?.close();
  });

  it('answers unknown user, wrong password and empty password with byte-identical bodies and the same headers', async () => {
    const user = await registerUser(app);
    const requestId = 'enumeration-probe-1';
    const attempt = (username: string, password: string) =>
      app.post('/api/login', { username, password }, { 'X-Request-Id': requestId }).then(capture);

    const unknown = await attempt(uniqueName('ghost'), 'Some-Password-1');
    const wrong = await attempt(user.username, 'Some-Password-1');
    const empty = await attempt(user.username, '');
    const emptyUnknown = await attempt(uniqueName('ghost'), '');

    expect(unknown.status).to.equal(401);
    expect(JSON.parse(unknown.text)).to.deep.equal({
      status_code: 401,
      error: 'AuthenticationError',
      message: BAD_CREDENTIALS,
      request_id: requestId,
    });
    for (const [name, other] of [
      ['wrong password', wrong],
      ['empty password', empty],
      ['empty password, unknown user', emptyUnknown],
    ] as const) {
      expect(other.status, name).to.equal(401);
      expect(other.text, `${name}: body bytes`).to.equal(unknown.text);
      expect(other.headers, `${name}: headers except Date`).to.deep.equal(unknown.headers);
    }
  });

  it('answers a username differing only by case or trailing space from an existing one like any unknown user', async () => {
    const user = await registerUser(app);
    const requestId = 'enumeration-probe-2';
    const attempt = (username: string) =>
      app.post('/api/login', { username, password: 'Wrong-Password-9' }, { 'X-Request-Id': requestId }).then(capture);
    const reference = await attempt(uniqueName('ghost'));
    for (const probe of [user.username, user.username.toUpperCase(), `${user.username} `, `${user.username}x`]) {
      const answer = await attempt(probe);
      expect(answer.text, probe).to.equal(reference.text);
      expect(answer.headers, probe).to.deep.equal(reference.headers);
    }
  });

  it('answered none of the above with a 5xx', () => {
    expectNo5xx(app);
  });
});

describe('Attack: user enumeration through login timing (issue 4, item 2)', function () {
  this.timeout(60_000);
  let app: TestApp;

  before(async () => {
    // Hashing must dominate a login for the comparison to be about hash work, not about noise.
    app = await startTestApp({ env: { ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '2' } });
  });

  after(async () => {
    await app?.close();
  });

  it('takes the same time for an unknown user as for a wrong password (ratio of medians within [0.7, 1.4])', async () => {
    const user = await registerUser(app);
    const unknownNames = Array.from({ length: 60 }, () => uniqueName('ghost'));
    const timeLogin = async (username: string): Promise<number> => {
      const started = process.hrtime.bigint();
      const response = await app.post('/api/login', { username, password: 'Wrong-Password-9' });
      await response.arrayBuffer();
      const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      expect(response.status).to.equal(401);
      return elapsed;
    };

    const WARM_UP = 5;
    const SAMPLES = 40;
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < WARM_UP + SAMPLES; i += 1) {
      // Alternate which kind goes first, so neither always follows the other.
      let u: number;
      let w: number;
      if (i % 2 === 0) {
        u = await timeLogin(unknownNames[i]!);
        w = await timeLogin(user.username);
      } else {
        w = await timeLogin(user.username);
        u = await timeLogin(unknownNames[i]!);
      }
      if (i < WARM_UP) continue;
      unknown.push(u);
      wrong.push(w);
    }
    const unknownMedian = median(unknown);
    const wrongMedian = median(wrong);
    const ratio = unknownMedian / wrongMedian;
    console.log(
      `      enumeration timing over ${SAMPLES} interleaved pairs: unknown user median ${unknownMedian.toFixed(2)} ms, ` +
        `wrong password median ${wrongMedian.toFixed(2)} ms, ratio ${ratio.toFixed(3)}`,
    );
    expect(wrongMedian, 'a wrong password costs an argon2 verification (m=8 MiB, t=2)').to.be.greaterThan(2);
    expect(ratio).to.be.within(0.7, 1.4);
  });
});
