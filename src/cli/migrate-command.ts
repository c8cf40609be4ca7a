import type { Command } from 'commander';
import { createLogger } from '../../kernel/logger.js';
import { openStore } from '../store/open-store.js';
import { migrate } from '../../kernel/migrations.js';
import { ALL_MIGRATIONS } from '../store/schema.js';
import { configFromOptions, withConfigOption } from './config-loading.js';

/** `driftguard migrate`: applies pending schema migrations and exits. */
export function registerMigrateCommand(program: Command): void {
  withConfigOption(
    program.command('migrate').description('Apply pending schema migrations to the store, then exit'),
  )
    .option('--json', 'machine-readable output')
    .action(async (options: { config?: string; json?: boolean }) => {
      const config = configFromOptions(options);
      const logger = createLogger(config.logLevel);
      const store = await openStore(config);
      try {
        const result = await migrate(store, logger.child({ component: 'migrate' }), ALL_MIGRATIONS);
        if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        else
          process.stdout.write(
            `database ${store.database} (${store.engine}, ${store.location}): schema version ${result.current}${result.applied.length ? ` (applied ${result.applied.join(', ')})` : ' (up to date)'}\n`,
          );
      } finally {
        await store.close();
      }
    });
}
