import { spawn } from 'node:child_process';

/** How a child process ended, with all it wrote. */
export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command` with `args` to its end, collecting its output; `input` is piped to its stdin (none: stdin closed). */
export function runProcess(
  command: string,
  args: readonly string[],
  options: { readonly env: NodeJS.ProcessEnv; readonly input?: string },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

/** `src/cli.ts` as the npm scripts run it (from source here). */
export const cliProcess = (args: readonly string[], env: NodeJS.ProcessEnv, input?: string): Promise<Run> =>
  runProcess(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env, input });
