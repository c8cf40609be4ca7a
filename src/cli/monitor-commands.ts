import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { createLogger } from '../../kernel/logger.js';
import { migrate } from '../../kernel/migrations.js';
import { MonitorStore } from '../monitor/monitor-store.js';
import { buildReferenceProfile, parseSample } from '../monitor/reference.js';
import { openStore } from '../store/open-store.js';
import { ALL_MIGRATIONS } from '../store/schema.js';
import { ApiClient, modelPath } from './api-client.js';
import { configFromOptions, withConfigOption } from './config-loading.js';

interface StoredReference {
  readonly model: string;
  readonly rows: number;
  readonly features: Record<string, string>;
}

/**
 * `driftguard reference set <model> --file f`: profiles an uploaded sample (JSON lines, a JSON
 * array, or CSV with a header) and stores it as the model's reference. With `--url` the sample
 * goes through a running daemon's API (which profiles and stores it, and re-reads it at once);
 * without, the command opens the store itself — which an embedded store refuses while a daemon
 * has it open, with a message that names `--url`. Other running daemons pick the reference up
 * when they next load the model's reference.
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
    .option('--url <url>', 'send the sample through the running daemon at this HTTP API URL')
    .option('--json', 'machine-readable output')
    .action(
      async (model: string, options: { config?: string; file: string; url?: string; json?: boolean }) => {
        // Checked first: a sample stored under a bad name would reach ClickHouse directly.
        modelPath(model);
        const sample = await readFile(options.file, 'utf8');
        const stored =
          options.url === undefined
            ? await storeDirectly(model, sample, options)
            : await new ApiClient(options.url).call<StoredReference>(
                'POST',
                `${modelPath(model)}/reference`,
                sample,
              );
        if (options.json) process.stdout.write(`${JSON.stringify(stored)}\n`);
        else
          process.stdout.write(
            `reference of ${model}: ${stored.rows} rows, features ${Object.entries(stored.features)
              .map(([f, k]) => `${f} (${k})`)
              .join(', ')}\n`,
          );
      },
    );
}

async function storeDirectly(
  model: string,
  sample: string,
  options: { config?: string; file: string },
): Promise<StoredReference> {
  const config = configFromOptions(options);
  const logger = createLogger(config.logLevel);
  const rows = parseSample(sample);
  if (rows.length < 2)
    throw new Error(`${options.file} holds ${rows.length} rows; a reference needs at least 2`);
  const profile = buildReferenceProfile(rows, config.monitoring.models[model]?.features ?? {}, 'upload');
  const store = await openStore(config);
  try {
    await migrate(store, logger.child({ component: 'migrate' }), ALL_MIGRATIONS);
    await new MonitorStore(store).saveReference(model, profile, Date.now());
  } finally {
    await store.close();
  }
  return {
    model,
    rows: profile.rows,
    features: Object.fromEntries(Object.entries(profile.features).map(([f, p]) => [f, p.kind])),
  };
}
