import { runChildJson } from './child-json.js';

export interface Stream {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Requests per second, sent on schedule whether or not earlier ones have been answered. */
  readonly rate: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

export interface Sample {
  /** Milliseconds since the load started. */
  readonly at: number;
  readonly ms: number;
  /** 0 when there was no answer (connection error, or still unanswered at the end). */
  readonly status: number;
}

/**
 * The generator, in its own process so that its timing does not share the server's event loop: each stream sends
 * requests at a fixed rate for `seconds`, each on a connection of its own pool (no cap), and records when each was
 * sent, how long it took and how it was answered. Open loop: a slow server gets more requests in flight, as it would
 * from real clients, instead of fewer (as wrk's closed loop would give it).
 */
const GENERATOR = `
const http = require('node:http');
const { base, streams, seconds, giveUpMs } = JSON.parse(process.argv[1]);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const results = Object.fromEntries(streams.map((s) => [s.name, []]));
const started = performance.now();
const pending = [];
for (const stream of streams) {
  const total = Math.round(stream.rate * seconds);
  const body = stream.body === undefined ? undefined : JSON.stringify(stream.body);
  for (let i = 0; i < total; i += 1) {
    const due = (i / stream.rate) * 1000;
    pending.push(new Promise((resolve) => setTimeout(() => {
      const at = performance.now() - started;
      const headers = { ...(stream.headers || {}), ...(body ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } : {}) };
      const request = http.request(base + stream.path, { method: stream.method, agent, headers, timeout: giveUpMs }, (response) => {
        response.resume();
        response.on('end', () => { results[stream.name].push({ at, ms: performance.now() - started - at, status: response.statusCode }); resolve(); });
      });
      request.on('timeout', () => request.destroy(new Error('gave up')));
      request.on('error', () => { results[stream.name].push({ at, ms: performance.now() - started - at, status: 0 }); resolve(); });
      if (body) request.write(body);
      request.end();
    }, due)));
  }
}
Promise.all(pending).then(() => { agent.destroy(); process.stdout.write(JSON.stringify(results)); });
`;

/** Runs the streams at once, open loop, from a child process. */
export function openLoop(
  base: string,
  streams: readonly Stream[],
  seconds: number,
  giveUpMs = 30_000,
): Promise<Record<string, Sample[]>> {
  return runChildJson<Record<string, Sample[]>>('open-loop generator', GENERATOR, { base, streams, seconds, giveUpMs });
}
