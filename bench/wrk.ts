import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runLoad } from './http-load.js';

export interface WrkOptions {
  readonly url: string;
  readonly seconds: number;
  readonly connections?: number;
  readonly threads?: number;
  readonly headers?: Record<string, string>;
  /** POST this body (JSON) instead of GET. */
  readonly postJson?: unknown;
}

export interface WrkResult {
  readonly requestsPerSecond: number;
  readonly requests: number;
  /** Answers other than 2xx/3xx. */
  readonly non2xx: number;
  /** 2xx answers per second. */
  readonly okPerSecond: number;
}

export const haveWrk = spawnSync('wrk', ['--version']).error === undefined;

/** wrk's `-s` script for a POST with a JSON body. */
function postScript(body: unknown): string {
  const directory = mkdtempSync(path.join(tmpdir(), 'jwt-login-bench-'));
  const file = path.join(directory, 'post.lua');
  writeFileSync(
    file,
    `wrk.method = "POST"\nwrk.body = ${JSON.stringify(JSON.stringify(body))}\n` +
      `wrk.headers["Content-Type"] = "application/json"\n`,
  );
  return file;
}

/**
 * Closed-loop load (each connection sends its next request when the previous is answered): wrk, as the issue's
 * figures were taken (`wrk -t2 -c50`); without wrk, the project's node load generator at the same concurrency.
 */
export async function wrk(options: WrkOptions): Promise<WrkResult> {
  const connections = options.connections ?? 50;
  if (!haveWrk) {
    if (options.postJson !== undefined) throw new Error('POST load needs wrk (apt-get install wrk)');
    const run = await runLoad({
      url: options.url,
      requests: Math.round(options.seconds * 5000),
      concurrency: connections,
      headers: options.headers ?? {},
    });
    const requestsPerSecond = (run.latencies.length / run.elapsedMs) * 1000;
    return {
      requestsPerSecond,
      requests: run.latencies.length,
      non2xx: run.failures,
      okPerSecond: ((run.latencies.length - run.failures) / run.elapsedMs) * 1000,
    };
  }
  const args = [`-t${options.threads ?? 2}`, `-c${connections}`, `-d${options.seconds}s`, '--latency'];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}: ${value}`);
  if (options.postJson !== undefined) args.push('-s', postScript(options.postJson));
  args.push(options.url);
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`))));
  });
  const requests = Number(/(\d+) requests in/.exec(output)?.[1] ?? NaN);
  const requestsPerSecond = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
  if (!Number.isFinite(requestsPerSecond)) throw new Error(`cannot read wrk's output:\n${output}`);
  return { requestsPerSecond, requests, non2xx, okPerSecond: (requestsPerSecond * (requests - non2xx)) / requests };
}
