import type { Command } from 'commander';
import { createLogger } from '../logger.js';
import { createClickHouse } from '../store/clickhouse.js';
import { migrate } from '../store/migrations.js';
import { ALL_MIGRATIONS } from '../store/schema.js';
import { configFromOptions, withConfigOption } from './config-loading.js';

/** `driftguard migrate`: applies pending schema migrations and exits. */
export function registerMigrateCommand(program: Command): void {
  withConfigOption(
    program.command('migrate').description('Apply pending ClickHouse schema migrations, then exit'),
  )
    .option('--json', 'machine-readable output')
    .action(async (options: { config?: string; json?: boolean }) => {
      const config = configFromOptions(options);
      const logger = createLogger(config.logLevel);
      const client = createClickHouse(config.clickhouse);
      try {
        const result = await migrate(
          client,
          config.clickhouse.database,
          logger.child({ component: 'migrate' }),
          ALL_MIGRATIONS,
        );
        if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        else
          process.stdout.write(
            `database ${config.clickhouse.database}: schema version ${result.current}${result.applied.length ? ` (applied ${result.applied.join(', ')})` : ' (up to date)'}\n`,
          );
      } finally {
        await client.close();
      }
    });
}
