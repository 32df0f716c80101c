import { spawn } from 'node:child_process';

/**
 * Runs `script` in a child Node process with `argument` as its JSON argv[1], and parses what it prints as JSON. A load
 * generator runs apart from the bench's own process so that its work does not slow the measuring.
 */
export function runChildJson<T>(what: string, script: string, argument: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, JSON.stringify(argument)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`${what} exited with ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout) as T);
    });
  });
}
