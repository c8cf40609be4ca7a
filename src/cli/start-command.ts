import type { Command } from 'commander';
import { Daemon } from '../daemon/daemon.js';
import { createLogger } from '../../kernel/logger.js';
import { openStore } from '../store/open-store.js';
import { configFromOptions, withConfigOption } from './config-loading.js';

/**
 * `driftguard start`: runs the daemon until SIGTERM/SIGINT. This is the one place that handles
 * signals: the first one drains gracefully within `shutdownGraceMs`, a second one (or the grace
 * period running out) forces the exit. Exit 0 after a clean drain, 1 after a fatal error or a
 * forced stop, so a supervisor restarts us.
 */
export function registerStartCommand(program: Command): void {
  withConfigOption(program.command('start').description('Run the daemon: ingest, HTTP API, metrics')).action(
    async (options: { config?: string }) => {
      const config = configFromOptions(options);
      const logger = createLogger(config.logLevel);
      let exiting = false;
      const exit = (code: number): void => {
        // Set first: once stopped, the daemon may hold nothing that keeps the event loop alive,
        // and Node then ends the process before the timer below, with this code (0 if unset,
        // which a supervisor takes for a clean stop after a fatal error).
        process.exitCode = code;
        logger.flush();
        // Give pino's async destination a moment to write the last lines.
        setTimeout(() => process.exit(code), 50).unref();
      };
      const store = await openStore(config);
      const daemon = new Daemon(config, logger, store, {
        onFatal: () => {
          if (exiting) return;
          exiting = true;
          const forced = setTimeout(() => exit(1), config.shutdownGraceMs);
          forced.unref();
          daemon
            .stop()
            .catch((error: unknown) =>
              logger.error({ err: error }, 'error while stopping after a fatal error'),
            )
            .finally(() => exit(1));
        },
      });
      const shutdown = (signal: NodeJS.Signals): void => {
        if (exiting) {
          logger.warn({ signal }, 'second signal: forcing exit');
          daemon.forceStop();
          exit(1);
          return;
        }
        exiting = true;
        logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down');
        const forced = setTimeout(() => {
          logger.error(
            { graceMs: config.shutdownGraceMs },
            'grace period over; forcing exit (uncommitted records will be replayed)',
          );
          daemon.forceStop();
          exit(1);
        }, config.shutdownGraceMs);
        forced.unref();
        daemon.stop().then(
          () => {
            clearTimeout(forced);
            exit(0);
          },
          (error: unknown) => {
            logger.error({ err: error }, 'error during shutdown');
            exit(1);
          },
        );
      };
      process.on('SIGTERM', shutdown);
      process.on('SIGINT', shutdown);
      await daemon.start();
    },
  );
}
