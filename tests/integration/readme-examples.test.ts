import { type Run, runProcess } from '../support/run-process.js';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { type TestApp, TEST_SECRET, startTestApp } from '../support/test-app.js';

/** The ```sh blocks of the README's Quick start, in order. */
function quickStartBlocks(): string[] {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(
    readme.indexOf('## Quick start'),
    readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1),
  );
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

/** Runs `script` with bash (-e, pipefail), as a person pasting it would, but against the test service. */
function bash(script: string, env: Record<string, string>): Promise<Run> {
  return runProcess('bash', ['-e', '-o', 'pipefail', '-c', script], { env: { ...process.env, ...env } });
}

describe("README: the Quick start's examples run as pasted", function () {
  this.timeout(120_000);
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });

  after(async () => {
    await app?.close();
  });

  it('registers alice, takes the token from the answer and calls the protected endpoint with it', async () => {
    const [, calls] = quickStartBlocks();
    expect(calls).to.contain('ACCESS_TOKEN=$(curl');
    const script = calls!.replaceAll('localhost:8000', new URL(app.baseUrl).host);
    const run = await bash(script, {});
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.equal('{"message":"protected endpoint (allowed usr alice)"}');
  });

  it('creates an admin with a real password piped to the CLI, who can log in with it', async () => {
    const [, , admin] = quickStartBlocks();
    expect(admin).to.contain('--password-stdin');
    // Up to the role change: the lines after it (list, reset, delete, import from a Flask host) show other commands.
    const lines = admin!.split('\n');
    const upToRoles = lines.slice(0, lines.findIndex((line) => line.includes('set-roles')) + 1).join('\n');
    const script = upToRoles.replaceAll('npm run user --', `${process.execPath} --import tsx src/cli.ts`);
    const run = await bash(script, {
      DATABASE_URL: app.database.uri,
      JWT_SECRET: TEST_SECRET,
      ARGON2_MEMORY_KIB: '1024',
      ARGON2_TIME_COST: '1',
      ARGON2_PARALLELISM: '1',
    });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^created user \d+ "root" with roles admin,user\n/);
    expect(run.stdout).to.contain('user ').and.contain('"alice" is inactive').and.contain('has roles user,auditor');
    const password = /^root's password: (\S+)$/m.exec(run.stdout)?.[1];
    expect(password, 'the password it printed').to.be.a('string').with.length.at.least(20);
    const login = await app.post('/api/login', { username: 'root', password });
    expect(login.status).to.equal(200);
  });
});
