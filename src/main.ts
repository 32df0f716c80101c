import cluster from 'node:cluster';
import { ConfigError, type Config, loadConfig, loadEnvFile } from './infrastructure/config/config.js';
import { type RunningService, startService } from './service.js';
import { supervise } from './supervisor.js';

/** A worker still draining past this is cut off, and exits 1. */
const DRAIN_DEADLINE_MS = 15_000;

function configOrExit(): Config {
  try {
    loadEnvFile();
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`jwt-login: invalid configuration: ${error.message}\n`);
    process.exit(1);
  }
}

/** A server process: {@link startService}, stopped gracefully by SIGTERM (from the supervisor) or SIGINT. */
async function serve(config: Config): Promise<void> {
  const service: RunningService = await startService(config);
  process.on('unhandledRejection', (reason) => {
    service.logger.error('unhandled rejection', { err: reason instanceof Error ? reason.message : String(reason) });
  });
  const shutdown = async (signal: string): Promise<void> => {
    service.logger.info('shutting down', { signal });
    setTimeout(() => {
      service.logger.error('shutdown deadline passed: exiting', { signal });
      process.exit(1);
    }, DRAIN_DEADLINE_MS + 5_000).unref();
    await service.stop({ drainMs: DRAIN_DEADLINE_MS });
    process.exit(0);
  };
  // A repeated signal (the supervisor's SIGTERM after a terminal's SIGINT, an impatient operator) must not cut the
  // drain short: the default action would kill the process mid-request. A third one forces the exit.
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals === 1) void shutdown(signal);
    else if (signals === 2) service.logger.warn('already shutting down; a third signal forces the exit', { signal });
    else {
      service.logger.error('forced exit', { signal });
      process.exit(1);
    }
  };
  process.on('SIGTERM', onSignal);
  // A terminal's Ctrl-C reaches the whole process group: the supervisor takes it and sends this process SIGTERM, so
  // SIGINT here is not counted again (two Ctrl-C would otherwise make three signals and force the exit).
  process.on('SIGINT', () => undefined);
}

const config = configOrExit();
(cluster.isPrimary ? supervise(config, process.env) : serve(config)).catch((error: unknown) => {
  process.stderr.write(`jwt-login: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
