/**
 * `npm run bench:estimation`: what the monitor's estimation step (issue 15) costs per cycle, on
 * each store, against a bare ClickHouse scan of the same columns in the same run.
 *
 * A binary classifier with `--features` numeric features (default 20), scores for both classes
 * and outcomes for one prediction in ten, N predictions over one day for each N of `--rows`
 * (default 1M and 10M), generated inside ClickHouse (`INSERT ... SELECT ... FROM numbers(N)`).
 * The estimators are fitted on the first 100,000 rows (CBPE, the error model, PCA over every
 * feature, the outputs), then the window's aggregates (score histogram, labelled scores, bins,
 * moments, outputs, predicted labels; window-reads.ts) are read for the whole day, best of 3,
 * timed per query, as the step reads them (on a sample of about `estimation.maxWindowRows` =
 * 200,000 rows beyond that) and on every row, beside the bare scan (count, sum, min, max per
 * feature, no FINAL). Only the
 * event tables are created: the rollups' views are not this bench's subject.
 *
 * Usage: node --import tsx bench/estimation.ts [--rows 1000000,10000000] [--features 20]
 *   [--store both|server|embedded] [--keep]
 * One JSON line per store and size, then a summary line.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../kernel/logger.js';
import { migrate } from '../kernel/migrations.js';
import { sqlIdentifier } from '../kernel/sql.js';
import type { Store } from '../kernel/store.js';
import { endpointsFromEnv, servicesUp } from '../src/dev-services/index.js';
import { EstimationStore } from '../src/monitor/estimation/estimation-store.js';
import { fitEstimators } from '../src/monitor/estimation/fit.js';
import { readEstimationAggregates } from '../src/monitor/estimation/window-reads.js';
import { modelSettings, monitoringSchema } from '../src/monitor/options.js';
import { buildReferenceProfile } from '../src/monitor/reference.js';
import { timedStore, type OperationTime } from './timed-store.js';
import { openServerStore } from '../src/store/clickhouse-server.js';
import { openEmbeddedStore } from '../src/store/embedded-store.js';
import { EVENT_MIGRATIONS } from '../src/store/event-migrations.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000,10000000' },
    features: { type: 'string', default: '20' },
    store: { type: 'string', default: 'both' },
    keep: { type: 'boolean', default: false },
  },
});
if (!['both', 'server', 'embedded'].includes(args.store))
  throw new Error('--store is both, server or embedded');
const ENGINES = (args.store === 'both' ? ['server', 'embedded'] : [args.store]) as Array<
  'server' | 'embedded'
>;
const SIZES = args.rows.split(',').map(Number);
const FEATURES = Number(args.features);
const REFERENCE_ROWS = 100_000;
const DAY_S = 86_000;
const GRID_CELLS = 4_096;
const logger = createLogger('warn');
const round = (x: number): number => Math.round(x * 1000) / 1000;
const log = (message: string): void => void process.stderr.write(`[bench:estimation] ${message}\n`);

async function openBenchStore(engine: 'server' | 'embedded', database: string): Promise<Store> {
  if (engine === 'embedded')
    return openEmbeddedStore({ path: '.driftguard/bench-estimation-store', database, sessions: 4 });
  const services = endpointsFromEnv((await servicesUp({ logger })).env);
  return openServerStore({
    url: services.clickhouseUrl,
    database,
    username: 'default',
    password: '',
    requestTimeoutMs: 1_800_000,
  });
}

function loadSql(db: string, rows: number, endS: number): string {
  const names = `[${Array.from({ length: FEATURES }, (_, i) => `'f${i}'`).join(', ')}]`;
  const t = `(${endS - DAY_S} + intDiv(number * ${DAY_S}, ${rows}))`;
  // Features: uniform, exponential and bell-shaped ones; the score a logistic of three of them.
  const value = (
    i: string,
  ) => `multiIf(${i} % 3 = 0, (cityHash64(number, ${i}) % 1000000) / 1000000.0 * (${i} + 1),
              ${i} % 3 = 1, -log((cityHash64(number, ${i}) % 1000000 + 1) / 1000001.0),
              ((cityHash64(number, ${i}) % 1000) + (cityHash64(number, ${i} + 100) % 1000)) / 100.0)`;
  return `INSERT INTO ${db}.predictions (model, ts, ts_ms, id, version, num_names, num_values, prediction_label, score_classes, score_values, ingested_at)
SELECT 'bench', toDateTime(${t}), ${t} * 1000 + number % 1000, toString(number), '1', ${names}, xs,
 if(s >= 0.5, 'yes', 'no'), ['yes', 'no'], [s, 1 - s], now()
FROM (SELECT number, arrayMap(i -> ${value('i')}, range(${FEATURES})) AS xs,
 1 / (1 + exp(-(xs[1] - 0.5 + xs[2] - 1 + (xs[3] - 10) / 3))) AS s FROM numbers(${rows}))`;
}

function outcomesSql(db: string, rows: number, endS: number): string {
  const t = `(${endS - DAY_S} + intDiv(number * ${DAY_S}, ${rows}))`;
  return `INSERT INTO ${db}.outcomes (model, ts, ts_ms, id, label, ingested_at)
SELECT 'bench', toDateTime(${t} + 60), (${t} + 60) * 1000, toString(number),
 if((cityHash64(number, 999) % 1000) / 1000.0 < 0.8, if(number % 7 < 4, 'yes', 'no'), 'no'), now()
FROM numbers(${rows}) WHERE number % 10 = 0`;
}

async function point(engine: 'server' | 'embedded', rows: number) {
  const database = `bench_estimation_${Date.now()}`;
  const store = await openBenchStore(engine, database);
  const db = sqlIdentifier(database);
  try {
    await migrate(store, logger, EVENT_MIGRATIONS);
    const endS = Math.floor(Date.now() / 1000);
    await store.command('load', loadSql(db, rows, endS));
    await store.command('load', outcomesSql(db, rows, endS));
    const config = monitoringSchema.parse({
      models: {
        bench: {
          task: { type: 'classification', classes: ['yes', 'no'] },
          estimation: { maxFeatures: FEATURES },
        },
      },
    });
    const settings = modelSettings(config, 'bench');
    const fitStarted = performance.now();
    const reference = await new EstimationStore(store).referenceRows(
      'bench',
      settings.estimation.maxFitRows,
      undefined,
    );
    const referenceS = (performance.now() - fitStarted) / 1000;
    const estimators = fitEstimators({
      rows: reference,
      profile: buildReferenceProfile(
        reference.slice(0, REFERENCE_ROWS).map((r) => ({ features: r.features })),
        {},
        'first_events',
      ),
      settings,
      task: 'classification',
      referenceCreatedAtMs: 0,
      nowMs: Date.now(),
    });
    const fitS = (performance.now() - fitStarted) / 1000;
    const window = { startMs: (endS - DAY_S - 10) * 1000, endMs: (endS + 10) * 1000 };
    // As the step reads it: one row in ceil(N / maxWindowRows) beyond maxWindowRows (default 200k).
    const sampleEvery = Math.max(1, Math.ceil(rows / settings.estimation.maxWindowRows));
    const cycles: number[] = [];
    const everyRow: number[] = [];
    const scans: number[] = [];
    let byQuery = new Map<string, OperationTime>();
    let count = 0;
    const perFeature = Array.from(
      { length: FEATURES },
      (_, i) => `sum(num_values[${i + 1}]), min(num_values[${i + 1}]), max(num_values[${i + 1}])`,
    ).join(', ');
    for (let i = 0; i < 3; i++) {
      const spent = new Map<string, OperationTime>();
      const started = performance.now();
      const read = await readEstimationAggregates(
        timedStore(store, spent),
        window,
        7 * 86_400_000,
        GRID_CELLS,
        [{ model: 'bench', estimators, sampleEvery }],
      );
      const cycleS = (performance.now() - started) / 1000;
      if (cycles.length === 0 || cycleS < Math.min(...cycles)) byQuery = spent;
      cycles.push(cycleS);
      count = read.get('bench')?.moments?.count ?? 0;
      const allStarted = performance.now();
      await readEstimationAggregates(store, window, 7 * 86_400_000, GRID_CELLS, [
        { model: 'bench', estimators },
      ]);
      everyRow.push((performance.now() - allStarted) / 1000);
      const scanStarted = performance.now();
      await store.select(
        'scan',
        `SELECT count(), ${perFeature} FROM ${db}.predictions WHERE model = 'bench'`,
      );
      scans.push((performance.now() - scanStarted) / 1000);
    }
    if (Math.abs(count - rows / sampleEvery) > 0.05 * (rows / sampleEvery))
      throw new Error(`the moments counted ${count} rows, expected about ${rows / sampleEvery}`);
    const result = {
      store: engine,
      rows,
      features: FEATURES,
      fitted: ['cbpe', 'error_model', 'reconstruction', 'outputs'].filter((n) =>
        n === 'cbpe'
          ? estimators.cbpe
          : n === 'error_model'
            ? estimators.errorModel
            : n === 'reconstruction'
              ? estimators.reconstruction
              : estimators.outputs.length > 0,
      ),
      fit_s: round(fitS),
      reference_rows_s: round(referenceS),
      sample_every: sampleEvery,
      rows_read: count,
      estimation_s: round(Math.min(...cycles)),
      every_row_s: round(Math.min(...everyRow)),
      by_query_s: Object.fromEntries([...byQuery].map(([k, v]) => [k, round(v.seconds)])),
      scan_s: round(Math.min(...scans)),
      ratio: round(Math.min(...cycles) / Math.min(...scans)),
    };
    console.log(JSON.stringify(result));
    return result;
  } finally {
    if (!args.keep) await store.command('drop', `DROP DATABASE IF EXISTS ${db}`);
    await store.close();
  }
}

async function main(): Promise<void> {
  const summary: Record<string, unknown> = { bench: 'estimation', rows: SIZES, features: FEATURES };
  for (const engine of ENGINES) {
    const prefix = engine === 'server' ? '' : 'embedded_';
    const points = [];
    for (const rows of SIZES) {
      log(`${engine}: ${rows} rows`);
      points.push(await point(engine, rows));
    }
    summary[`${prefix}estimation_s`] = points.map((p) => p.estimation_s);
    summary[`${prefix}every_row_s`] = points.map((p) => p.every_row_s);
    summary[`${prefix}scan_s`] = points.map((p) => p.scan_s);
    summary[`${prefix}ratio`] = points.map((p) => p.ratio);
  }
  console.log(JSON.stringify(summary));
}

await main();
