import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { TEST_SECRET } from '../support/test-app.js';
import { freePort } from '../support/free-port.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The process's open-file limit in this test: a client holding more half-sent requests would exhaust it. */
const DESCRIPTORS = 256;
const HOG_CONNECTIONS = 400;
/** MAX_CONNECTIONS_PER_CLIENT, set for the service below: the hog's share. */
const PER_CLIENT = 100;

/** How many descriptors process `pid` has open (Linux), or -1 when that cannot be read. */
function openDescriptors(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

describe(`one client cannot take every file descriptor (ulimit -n ${DESCRIPTORS}; issue 9, point 8)`, function () {
  this.timeout(90_000);
  let database: TestDatabase;
  let child: ChildProcess;
  let port: number;
  let stderr = '';
  const hog: net.Socket[] = [];

  before(async () => {
    expect(spawnSync('prlimit', ['--version']).error, 'prlimit (util-linux) is needed').to.equal(undefined);
    database = await createTestDatabase();
    port = await freePort();
    child = spawn(
      'prlimit',
      [`--nofile=${DESCRIPTORS}:${DESCRIPTORS}`, process.execPath, '--import', 'tsx', 'src/main.ts'],
      {
        cwd: PROJECT_ROOT,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          HOST: '127.0.0.1',
          METRICS_PORT: 'off',
          MAX_CONNECTIONS_PER_CLIENT: String(PER_CLIENT),
          PORT: String(port),
          DATABASE_URL: database.uri,
          JWT_SECRET: TEST_SECRET,
          ARGON2_MEMORY_KIB: '1024',
          ARGON2_TIME_COST: '1',
          ARGON2_PARALLELISM: '1',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    for (const deadline = Date.now() + 30_000; ;) {
      if (Date.now() > deadline) throw new Error(`service not up: ${stderr}`);
      try {
        if ((await fetch(`http://127.0.0.1:${port}/api/health`)).ok) break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  });

  after(async () => {
    for (const socket of hog) socket.destroy();
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await database?.drop();
  });

  it(`serves a second client while another holds ${HOG_CONNECTIONS} half-sent requests`, async () => {
    let refused = 0;
    await Promise.all(
      Array.from(
        { length: HOG_CONNECTIONS },
        () =>
          new Promise<void>((resolve) => {
            const socket = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
            hog.push(socket);
            socket.on('error', () => resolve());
            // Reads (and drops) what it is sent: a paused socket would never see the server's FIN after a refusal.
            socket.resume();
            // Refused: answered 429 (or 503) and closed, or closed outright; either way it holds no descriptor.
            socket.on('close', () => (refused += 1));
            socket.on('connect', () => {
              socket.write('GET /api/health HTTP/1.1\r\nHost: x\r\n');
              resolve();
            });
          }),
      ),
    );
    const base = `http://127.0.0.1:${port}`;
    const asSecondClient = (path: string, init: RequestInit = {}) =>
      new Promise<number>((resolve, reject) => {
        const url = new URL(path, base);
        const body = init.body as string | undefined;
        const request = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.3' }, () => {
          request.write(
            `${init.method ?? 'GET'} ${url.pathname} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n` +
              (body ? `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` : '') +
              `\r\n${body ?? ''}`,
          );
        });
        let answer = '';
        request.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
        request.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
        request.on('error', reject);
      });
    // The hog's flood is answered first (past its share, each connection is refused and closed), so the second client
    // arrives while the hog holds its full share of half-sent requests, not in the middle of the flood.
    for (const deadline = Date.now() + 30_000; refused < HOG_CONNECTIONS - PER_CLIENT && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(refused, 'the hog was refused past its share').to.be.at.least(HOG_CONNECTIONS - PER_CLIENT);
    const state = () =>
      `service ${child.exitCode === null ? 'running' : `exited ${child.exitCode}`}, ` +
      `${openDescriptors(child.pid!)} descriptors open, stderr: ${stderr.slice(-2000)}`;
    const user = JSON.stringify({ username: 'second_client', password: 'Tr0ub4dor&3-second-client' });
    expect(await asSecondClient('/api/health'), `health (${state()})`).to.equal(200);
    expect(
      await asSecondClient('/api/registration', { method: 'POST', body: user }),
      `registration (${state()})`,
    ).to.equal(201);
    expect(await asSecondClient('/api/login', { method: 'POST', body: user }), `login (${state()})`).to.equal(200);
    expect(stderr).to.not.match(/EMFILE/);
  });
});
