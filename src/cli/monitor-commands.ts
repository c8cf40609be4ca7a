import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { createLogger } from '../logger.js';
import { MonitorStore } from '../monitor/monitor-store.js';
import { buildReferenceProfile, parseSample } from '../monitor/reference.js';
import { createClickHouse } from '../store/clickhouse.js';
import { migrate } from '../store/migrations.js';
import { ALL_MIGRATIONS } from '../store/schema.js';
import { configFromOptions, withConfigOption } from './config-loading.js';

/**
 * `driftguard reference set <model> --file f`: profiles an uploaded sample (JSON lines, a JSON
 * array, or CSV with a header) and stores it as the model's reference. Running daemons pick it
 * up when they next load the model's reference (immediately on the replica that serves
 * `POST /v1/models/:model/reference`, otherwise after a restart).
 */
export function registerMonitorCommands(program: Command): void {
  const reference = program.command('reference').description("Manage models' drift references");
  withConfigOption(
    reference
      .command('set')
      .description("Store a sample file as the model's reference profile")
      .argument('<model>', 'model name')
      .requiredOption('-f, --file <file>', 'JSON lines, JSON array or CSV (header) of feature values'),
  )
    .option('--json', 'machine-readable output')
    .action(async (model: string, options: { config?: string; file: string; json?: boolean }) => {
      if (!/^[A-Za-z0-9_.-]{1,128}$/.test(model)) {
        throw new Error(`invalid model name ${JSON.stringify(model)}: use letters, digits, ".", "_" and "-"`);
      }
      const config = configFromOptions(options);
      const logger = createLogger(config.logLevel);
      const rows = parseSample(await readFile(options.file, 'utf8'));
      if (rows.length < 2)
        throw new Error(`${options.file} holds ${rows.length} rows; a reference needs at least 2`);
      const profile = buildReferenceProfile(rows, config.monitoring.models[model]?.features ?? {}, 'upload');
      const client = createClickHouse(config.clickhouse);
      try {
        await migrate(
          client,
          config.clickhouse.database,
          logger.child({ component: 'migrate' }),
          ALL_MIGRATIONS,
        );
        await new MonitorStore(client, config.clickhouse.database).saveReference(model, profile, Date.now());
      } finally {
        await client.close();
      }
      const kinds = Object.fromEntries(Object.entries(profile.features).map(([f, p]) => [f, p.kind]));
      if (options.json)
        process.stdout.write(`${JSON.stringify({ model, rows: profile.rows, features: kinds })}\n`);
      else
        process.stdout.write(
          `reference of ${model}: ${profile.rows} rows, features ${Object.entries(kinds)
            .map(([f, k]) => `${f} (${k})`)
            .join(', ')}\n`,
        );
    });
}
