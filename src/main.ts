import { ConfigError, loadConfig } from './infrastructure/config/config.js';
import { type RunningService, startService } from './service.js';

/** Past this, connections still open are cut and the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 15_000;

/** The server: configuration from the environment, {@link startService}, and the signals that stop it. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`jwt-login: invalid configuration: ${error.message}\n`);
    process.exit(1);
  }
  const service: RunningService = await startService(config);
  process.on('unhandledRejection', (reason) => {
    service.logger.error('unhandled rejection', { err: reason instanceof Error ? reason.message : String(reason) });
  });
  const shutdown = async (signal: string): Promise<void> => {
    service.logger.info('shutting down', { signal });
    setTimeout(() => {
      service.logger.error('shutdown deadline passed: exiting', { signal });
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS + 5_000).unref();
    await service.stop({ drainMs: SHUTDOWN_DEADLINE_MS });
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`jwt-login: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
