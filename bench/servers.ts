import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from '../tests/support/free-port.js';

export const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface Server {
  readonly url: string;
  readonly child: ChildProcess;
  /** Resident memory of the process and of its children (the server processes of a supervisor), in bytes. */
  rss(): { readonly total: number; readonly largest: number };
  stop(): Promise<void>;
}

/** Resident memory of `pid` from /proc, in bytes; 0 once it is gone. */
function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function waitFor(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${stderr()}`);
    if (Date.now() > deadline) throw new Error(`server not up in time: ${stderr()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function start(args: string[], env: Record<string, string>, healthPath: string, port: number): Promise<Server> {
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: String(port) },
    // stdout (the log lines) goes to /dev/null: writing them is the server's cost; reading them is a log collector's,
    // which would otherwise share these cores with the load generator.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const url = `http://127.0.0.1:${port}`;
  const server: Server = {
    url,
    child,
    rss: () => {
      const sizes = [child.pid!, ...childrenOf(child.pid!)].map(rssOf);
      return { total: sizes.reduce((sum, size) => sum + size, 0), largest: Math.max(...sizes) };
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
  return waitFor(`${url}${healthPath}`, child, () => stderr).then(() => server);
}

/** jwt-login as `npm start` runs it (dist/main.js: the supervisor and its server processes). */
export async function startJwtLogin(env: Record<string, string>, nodeArgs: string[] = []): Promise<Server> {
  return start([...nodeArgs, 'dist/main.js'], { HOST: '127.0.0.1', ...env }, '/api/health', await freePort());
}

/** The 5-line Koa app of the same Koa version, the yardstick. */
const BARE_KOA = `
const Koa = require('koa');
const app = new Koa();
app.use((ctx) => { ctx.body = { 'JWT Server Application': 'Running!' }; });
app.listen(Number(process.env.PORT), '127.0.0.1');
`;

export async function startBareKoa(): Promise<Server> {
  return start(['-e', BARE_KOA], {}, '/api/', await freePort());
}
