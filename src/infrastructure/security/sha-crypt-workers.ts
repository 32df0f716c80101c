import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * What each worker runs: unixcrypt's `verify`, imported by URL (an eval worker resolves no bare specifier), answering
 * `{id, ok}` or `{id, error}` for each `{id, hash, password}` (messages sent before the import is done wait in the
 * port). Evaluated code rather than a file, so that the same code runs from `dist/` and from the TypeScript sources
 * under tsx (whose loader Node 20 does not give worker threads).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.unixcrypt).then(({ verify }) => {
  parentPort.on('message', ({ id, hash, password }) => {
    try {
      parentPort.postMessage({ id, ok: verify(password, hash) === true });
    } catch (error) {
      parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
    }
  });
});
`;

/**
 * unixcrypt's entry point, as a URL the worker can import: `import.meta.resolve` where this module runs as ESM (the
 * service); where it runs transpiled to CommonJS (tsx under mocha), the package's ESM entry found where `require`
 * would look.
 */
function unixcryptUrl(): string {
  if (typeof import.meta.resolve === 'function') return import.meta.resolve('unixcrypt');
  for (const directory of createRequire(import.meta.url).resolve.paths('unixcrypt') ?? []) {
    const manifest = join(directory, 'unixcrypt', 'package.json');
    if (!existsSync(manifest)) continue;
    const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as {
      exports: { '.': { import: { default: string } } };
    };
    return pathToFileURL(join(directory, 'unixcrypt', exports['.'].import.default)).href;
  }
  throw new Error('the unixcrypt package is not installed');
}

interface Task {
  readonly id: number;
  readonly hash: string;
  readonly password: string;
  readonly resolve: (matches: boolean) => void;
  readonly reject: (error: Error) => void;
}

interface Reply {
  readonly id: number;
  readonly ok?: boolean;
  readonly error?: string;
}

/** One worker thread and the task it runs, if any. */
interface Slot {
  readonly worker: Worker;
  task: Task | undefined;
  /** Stops the worker once it has been idle for a while. */
  idleTimer: NodeJS.Timeout | undefined;
}

/** How long an idle worker is kept: legacy logins come in bursts at the cutover, then fade away. */
const IDLE_MS = 30_000;

/**
 * SHA-crypt (`$5$` sha256_crypt, `$6$` sha512_crypt) verification off the event loop. unixcrypt (the maintained
 * pure-JS implementation) is synchronous, and passlib's default 535,000 / 656,000 rounds take a CPU for seconds (the
 * bench's legacy part measures it): run on the main thread they would stall every request meanwhile. So each verification runs on one of
 * at most `size` worker threads, started when first needed; further ones wait their turn here (the password-hashing
 * admission queue in front already bounds how many there are). Idle workers do not keep the process alive, and
 * stop after a while.
 */
export class ShaCryptWorkers {
  private readonly slots: Slot[] = [];
  private readonly waiting: Task[] = [];
  private nextId = 0;
  private closed = false;
  private entry: string | undefined;

  constructor(private readonly size: number) {}

  /**
   * @returns whether `password` matches the SHA-crypt `hash`.
   * @throws when unixcrypt cannot read the hash, or the worker died.
   */
  verify(hash: string, password: string): Promise<boolean> {
    if (this.closed) return Promise.reject(new Error('the SHA-crypt workers are closed'));
    return new Promise<boolean>((resolve, reject) => {
      this.waiting.push({ id: (this.nextId += 1), hash, password, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every worker; verifications still pending are refused. */
  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.waiting.splice(0)) task.reject(new Error('the SHA-crypt workers are closed'));
    await Promise.all(this.slots.splice(0).map((slot) => slot.worker.terminate()));
  }

  private dispatch(): void {
    while (this.waiting.length > 0) {
      const slot = this.slots.find((candidate) => candidate.task === undefined) ?? this.spawn();
      if (!slot) return;
      const task = this.waiting.shift()!;
      slot.task = task;
      clearTimeout(slot.idleTimer);
      slot.worker.ref();
      slot.worker.postMessage({ id: task.id, hash: task.hash, password: task.password });
    }
  }

  private spawn(): Slot | undefined {
    if (this.slots.length >= this.size) return undefined;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { unixcrypt: (this.entry ??= unixcryptUrl()) },
    });
    const slot: Slot = { worker, task: undefined, idleTimer: undefined };
    worker.on('message', (reply: Reply) => {
      const task = slot.task;
      if (!task || task.id !== reply.id) return;
      slot.task = undefined;
      worker.unref();
      slot.idleTimer = setTimeout(() => void worker.terminate(), IDLE_MS).unref();
      if (reply.error !== undefined) task.reject(new Error(reply.error));
      else task.resolve(reply.ok === true);
      this.dispatch();
    });
    // A worker that dies takes its task with it; the next verification starts a new one.
    const died = (error: Error) => {
      clearTimeout(slot.idleTimer);
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots.splice(index, 1);
      slot.task?.reject(error);
      slot.task = undefined;
      if (!this.closed) this.dispatch();
    };
    worker.on('error', died);
    worker.on('exit', (code) => died(new Error(`SHA-crypt worker exited with code ${code}`)));
    worker.unref();
    this.slots.push(slot);
    return slot;
  }
}
