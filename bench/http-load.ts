import { runChildJson } from './child-json.js';

export interface LoadOptions {
  readonly url: string;
  readonly requests: number;
  readonly concurrency: number;
  readonly headers?: Record<string, string>;
}

export interface LoadResult {
  readonly elapsedMs: number;
  /** Milliseconds per request, in completion order. */
  readonly latencies: number[];
  /** Answers other than 200 (counted, not retried). */
  readonly failures: number;
}

/**
 * The load generator, run in its own process so that it does not share the server's event loop: keep-alive
 * node:http, `concurrency` connections each sending its next request as soon as the previous one is answered.
 */
const CLIENT = `
const http = require('node:http');
const { url, requests, concurrency, headers } = JSON.parse(process.argv[1]);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const latencies = new Array(requests);
let next = 0;
let failures = 0;
const one = (index) => new Promise((resolve, reject) => {
  const started = process.hrtime.bigint();
  const request = http.request(url, { agent, headers }, (response) => {
    response.resume();
    response.on('end', () => {
      if (response.statusCode !== 200) failures += 1;
      latencies[index] = Number(process.hrtime.bigint() - started) / 1e6;
      resolve();
    });
  });
  request.on('error', reject);
  request.end();
});
(async () => {
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let index = next++; index < requests; index = next++) await one(index);
  }));
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  agent.destroy();
  process.stdout.write(JSON.stringify({ elapsedMs, latencies, failures }));
})().catch((error) => {
  process.stderr.write(String(error && error.stack || error));
  process.exit(1);
});
`;

/** Sends `requests` GETs to `url` from a child process and returns what it measured. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return runChildJson<LoadResult>('load generator', CLIENT, { headers: {}, ...options });
}
