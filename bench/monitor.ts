/**
 * `npm run bench:monitor`: what one monitor cycle costs, on each store, as traffic grows and as
 * the fleet grows — against a bare ClickHouse scan of the same columns in the same run.
 *
 * Sweep: a model with 20 numeric features and N predictions spread over one day (window: 25 h,
 * so every row is in it), for each N of `--rows` (default 10M and 50M). The rows are generated
 * inside ClickHouse (`INSERT ... SELECT ... FROM numbers(N)`), never pushed through Node; the
 * first 100,000 are stored first and the reference is built from them (so its grid exists before
 * the rest arrive, as in production), then the rest. The first cycle after
 * the load proves the rollups against the rows (in the background; timed apart), then steady
 * cycles are timed (best of 3), interleaved with the bare scan (count, sum, min, max per feature,
 * no FINAL) of the window's rows. The cycle should stay flat as N grows, and far below the scan.
 *
 * Fleet: `--fleet-models` models (default 1000) of 20 features with `--fleet-events` events each
 * in the last hour (window 1 h): one cycle evaluates them all; also the Prometheus series the
 * monitor exports (per-feature series are bounded by `monitoring.featureMetrics`).
 *
 * With `--cluster` the same runs also on the local ClickHouse cluster (2 shards × 2 replicas,
 * `dev-services up --cluster`; summary keys prefixed `cluster_`): on one 2-core machine no speed-up
 * is expected; it shows what replication costs the load and the cycle.
 *
 * Usage: node --import tsx bench/monitor.ts [--rows 10000000,50000000] [--features 20]
 *   [--store both|server|embedded] [--cluster] [--fleet-models 1000] [--fleet-events 200]
 *   [--no-sweep] [--no-fleet] [--keep] [--profile]
 * `--profile` logs (stderr) the seconds each store operation took in each timed cycle (queries
 * of one group run four at a time, so their times overlap).
 * Lines: one per store and size, one per store's fleet; the last line sums it up:
 * {"bench":"monitor","rows":[...],"features":F,"cycle_s":[...],"scan_s":[...],"flatness":a/b,
 *  "ratio_at_largest":c/s,"fleet_models":M,"fleet_cycle_s":f,"fleet_series":k, "embedded_...": ...}
 */
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { createLogger } from '../kernel/logger.js';
import { migrate } from '../kernel/migrations.js';
import { sqlIdentifier } from '../kernel/sql.js';
import type { Store } from '../kernel/store.js';
import { endpointsFromEnv, servicesUp } from '../src/dev-services/index.js';
import { createMonitorMetrics, Monitor, monitorSources } from '../src/monitor/monitor.js';
import { monitoringSchema, type MonitoringInput } from '../src/monitor/options.js';
import { openServerStore } from '../src/store/clickhouse-server.js';
import { openEmbeddedStore } from '../src/store/embedded-store.js';
import { ALL_MIGRATIONS } from '../src/store/schema.js';
import { timedStore, type OperationTime } from './timed-store.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000,50000000' },
    features: { type: 'string', default: '20' },
    store: { type: 'string', default: 'both' },
    'fleet-models': { type: 'string', default: '1000' },
    'fleet-events': { type: 'string', default: '200' },
    'no-sweep': { type: 'boolean', default: false },
    'no-fleet': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    cluster: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
  },
});
if (!['both', 'server', 'embedded'].includes(args.store))
  throw new Error('--store is both, server or embedded');
type Engine = 'server' | 'embedded' | 'cluster';
const ENGINES: Engine[] = [
  ...((args.store === 'both' ? ['server', 'embedded'] : [args.store]) as Engine[]),
  ...(args.cluster ? (['cluster'] as const) : []),
];
const SIZES = args.rows.split(',').map(Number);
const FEATURES = Number(args.features);
const FLEET_MODELS = Number(args['fleet-models']);
const FLEET_EVENTS = Number(args['fleet-events']);
const REFERENCE_ROWS = 100_000;
const DAY_S = 86_000;
const logger = createLogger('warn');

const round = (x: number): number => Math.round(x * 1000) / 1000;
const log = (message: string): void => void process.stderr.write(`[bench:monitor] ${message}\n`);

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, (performance.now() - started) / 1000];
}

async function openBenchStore(engine: Engine, database: string): Promise<Store> {
  const store = await openRawBenchStore(engine, database);
  return args.profile ? timedStore(store, profile) : store;
}

/** Seconds spent in each store operation since the last `takeProfile()` (`--profile`). */
const profile = new Map<string, OperationTime>();

/** The profile gathered since the last call, largest first, then cleared (`--profile`). */
function takeProfile(): Record<string, string> | undefined {
  if (!args.profile) return undefined;
  const entries = [...profile.entries()].sort((a, b) => b[1].seconds - a[1].seconds);
  profile.clear();
  return Object.fromEntries(
    entries.map(([op, { seconds, calls }]) => [op, `${round(seconds)} s / ${calls}`]),
  );
}

/** Logs the store operations' times since the last call, with `--profile`. */
function logProfile(label: string): void {
  const taken = takeProfile();
  if (taken !== undefined) log(`profile ${label}: ${JSON.stringify(taken)}`);
}

async function openRawBenchStore(engine: Engine, database: string): Promise<Store> {
  if (engine === 'embedded')
    return openEmbeddedStore({ path: '.driftguard/bench-monitor-store', database, sessions: 4 });
  const info = await servicesUp({ logger, cluster: engine === 'cluster' });
  const cluster = engine === 'cluster' ? info.cluster : undefined;
  return openServerStore({
    url: cluster?.clickhouseUrl ?? endpointsFromEnv(info.env).clickhouseUrl,
    database,
    username: 'default',
    password: '',
    requestTimeoutMs: 1_800_000,
    cluster: cluster?.cluster,
  });
}

/** Drops a bench database (on every node of the cluster). */
async function dropBenchDatabase(store: Store, engine: Engine, db: string): Promise<void> {
  const onCluster =
    engine === 'cluster'
      ? ` ON CLUSTER ${(await servicesUp({ logger, cluster: true })).cluster?.cluster ?? ''}`
      : '';
  await store.command('drop', `DROP DATABASE IF EXISTS ${db}${onCluster}`);
}

/** A replica's monitor over `store` (its own caches), at a fixed clock. */
function monitorOn(store: Store, input: MonitoringInput, nowMs: number, registry = new Registry()) {
  const config = monitoringSchema.parse(input);
  const sources = monitorSources(store, config, logger);
  const monitor = new Monitor({
    ...sources,
    config,
    alerting: undefined,
    ownership: { owns: () => true },
    metrics: createMonitorMetrics(registry),
    logger,
    replica: 'bench',
    now: () => nowMs,
  });
  return { monitor, settled: () => sources.rollups?.settled() ?? Promise.resolve(), registry };
}

/** How generated rows are spread: SQL expressions over `number` (a row of `numbers()`). */
interface Spread {
  readonly model: string;
  readonly seconds: string;
}

/**
 * Loads rows with `insert` (an INSERT ... SELECT over `numbers(from, to - from)`), then writes
 * their counts per (model, minute) to the ingest ledger, as the daemon's ingest does after every
 * insert: the rollups learn from the ledger which proved minutes changed (docs/monitoring.md,
 * "Writers other than the daemon"). The counts come from the same numbers, not from a scan.
 */
async function loadWithLedger(
  store: Store,
  db: string,
  insert: string,
  spread: Spread,
  from: number,
  to: number,
): Promise<void> {
  await store.command('load', insert);
  await store.command(
    'load ledger',
    `INSERT INTO ${db}.rollup_ledger (model, bucket, n)
SELECT ${spread.model} AS m, toStartOfMinute(toDateTime(${spread.seconds})) AS b, toInt64(count())
FROM numbers(${from}, ${to - from}) GROUP BY m, b`,
    { repeatsRows: true },
  );
}

/** The sweep's spread: `rows` rows over one day ending at endS. */
function sweepSpread(rows: number, endS: number): Spread {
  return { model: "'bench'", seconds: `(${endS - DAY_S} + intDiv(number * ${DAY_S}, ${rows}))` };
}

/** Rows `from..to` of `rows` over one day ending at endS, 20 features of different shapes. */
function loadSql(db: string, model: string, from: number, to: number, rows: number, endS: number): string {
  const names = `[${Array.from({ length: FEATURES }, (_, i) => `'f${i}'`).join(', ')}]`;
  const t = sweepSpread(rows, endS).seconds;
  return `INSERT INTO ${db}.predictions (model, ts, ts_ms, id, version, num_names, num_values, prediction_label, ingested_at)
SELECT '${model}', toDateTime(${t}), ${t} * 1000 + number % 1000, toString(number), '1', ${names},
 arrayMap(i -> multiIf(i % 3 = 0, (cityHash64(number, i) % 1000000) / 1000000.0 * (i + 1),
              i % 3 = 1, -log((cityHash64(number, i) % 1000000 + 1) / 1000001.0),
              ((cityHash64(number, i) % 1000) + (cityHash64(number, i + 100) % 1000)) / 100.0), range(${FEATURES})),
 if(number % 3 = 0, 'yes', 'no'), now()
FROM numbers(${from}, ${to - from})`;
}

interface SweepPoint {
  readonly rows: number;
  readonly cycleS: number;
  readonly scanS: number;
  /** The same cycle with the estimation step off (drift, quality and labels only). */
  readonly driftCycleS: number;
}

/**
 * `input` with the estimation step off for every model: the estimation step (issue 15) still
 * reads the window's rows, so its cost is shown apart from the rest of the cycle's.
 */
function withoutEstimation(input: MonitoringInput, models: readonly string[]): MonitoringInput {
  return {
    ...input,
    models: Object.fromEntries(models.map((m) => [m, { estimation: { enabled: false } }])),
  };
}

/** The best of three cycles of `run`, in seconds. */
async function bestOfThree(run: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) times.push((await timed(run))[1]);
  return times;
}

async function sweepPoint(engine: Engine, rows: number): Promise<SweepPoint> {
  const database = `bench_monitor_${Date.now()}`;
  const store = await openBenchStore(engine, database);
  const db = sqlIdentifier(database);
  try {
    await migrate(store, logger, ALL_MIGRATIONS);
    const endS = Math.floor(Date.now() / 1000);
    const nowMs = (endS + 10) * 1000;
    const input: MonitoringInput = {
      defaults: {
        window: { type: 'time', durationMs: 90_000_000 },
        reference: { type: 'first_events', count: REFERENCE_ROWS },
      },
      discoverLookbackMs: 2 * 86_400_000,
    };
    const live = monitorOn(store, input, nowMs);
    // The reference's rows first: its grid exists before the rest arrive, as in production.
    const spread = sweepSpread(rows, endS);
    await loadWithLedger(
      store,
      db,
      loadSql(db, 'bench', 0, REFERENCE_ROWS, rows, endS),
      spread,
      0,
      REFERENCE_ROWS,
    );
    const [, referenceS] = await timed(() => live.monitor.evaluate('bench', nowMs));
    const [, loadS] = await timed(() =>
      loadWithLedger(
        store,
        db,
        loadSql(db, 'bench', REFERENCE_ROWS, rows, rows, endS),
        spread,
        REFERENCE_ROWS,
        rows,
      ),
    );
    // The first cycle after the load proves every minute against the rows (in the background).
    const [, proveS] = await timed(async () => {
      await live.monitor.evaluate('bench', nowMs);
      await live.settled();
    });
    const perFeature = Array.from(
      { length: FEATURES },
      (_, i) => `sum(num_values[${i + 1}]), min(num_values[${i + 1}]), max(num_values[${i + 1}])`,
    ).join(', ');
    const scan = (): Promise<unknown> =>
      store.select(
        'scan',
        `SELECT count(), ${perFeature}, sum(length(num_names)) FROM ${db}.predictions WHERE model = 'bench'`,
      );
    const cycles: number[] = [];
    const scans: number[] = [];
    let events = 0;
    takeProfile();
    for (let i = 0; i < 3; i++) {
      const [evaluation, cycleS] = await timed(() => live.monitor.evaluate('bench', nowMs));
      events = evaluation?.events ?? 0;
      cycles.push(cycleS);
      logProfile(`${engine} ${rows} rows, cycle ${i + 1}`);
      scans.push((await timed(scan))[1]);
    }
    // A replica that just took the model over: no proofs cached, hours sealed already.
    const [, coldS] = await timed(() => monitorOn(store, input, nowMs).monitor.evaluate('bench', nowMs));
    const drift = monitorOn(store, withoutEstimation(input, ['bench']), nowMs);
    takeProfile();
    const driftCycles = await bestOfThree(() => drift.monitor.evaluate('bench', nowMs));
    logProfile(`${engine} ${rows} rows, 3 cycles without estimation`);
    const point = {
      rows,
      cycleS: Math.min(...cycles),
      scanS: Math.min(...scans),
      driftCycleS: Math.min(...driftCycles),
    };
    console.log(
      JSON.stringify({
        store: engine,
        rows,
        features: FEATURES,
        window_events: events,
        load_s: round(loadS),
        reference_build_s: round(referenceS),
        first_cycle_with_proofs_s: round(proveS),
        cold_replica_cycle_s: round(coldS),
        cycles_s: cycles.map(round),
        scans_s: scans.map(round),
        cycle_s: round(point.cycleS),
        scan_s: round(point.scanS),
        ratio: round(point.cycleS / point.scanS),
        cycles_without_estimation_s: driftCycles.map(round),
        cycle_without_estimation_s: round(point.driftCycleS),
        ratio_without_estimation: round(point.driftCycleS / point.scanS),
      }),
    );
    if (events !== rows) throw new Error(`the cycle saw ${events} events, expected ${rows}`);
    return point;
  } finally {
    if (!args.keep) await dropBenchDatabase(store, engine, db);
    await store.close();
  }
}

interface FleetResult {
  readonly cycleS: number;
  readonly series: number;
  readonly driftCycleS: number;
}

async function fleet(engine: Engine): Promise<FleetResult> {
  const database = `bench_fleet_${Date.now()}`;
  const store = await openBenchStore(engine, database);
  const db = sqlIdentifier(database);
  try {
    await migrate(store, logger, ALL_MIGRATIONS);
    const endS = Math.floor(Date.now() / 1000);
    const nowMs = (endS + 10) * 1000;
    const total = FLEET_MODELS * FLEET_EVENTS;
    const names = `[${Array.from({ length: FEATURES }, (_, i) => `'f${i}'`).join(', ')}]`;
    // Each model's events spread over the last hour; the first half of each model's events first.
    const spread: Spread = {
      model: `concat('m', toString(number % ${FLEET_MODELS}))`,
      seconds: `(${endS - 3600} + intDiv(number * 3590, ${total}))`,
    };
    const load = (
      from: number,
      to: number,
    ): string => `INSERT INTO ${db}.predictions (model, ts, ts_ms, id, version, num_names, num_values, prediction_label, ingested_at)
SELECT ${spread.model}, toDateTime(${spread.seconds}), ${spread.seconds} * 1000, toString(number), '1', ${names},
 arrayMap(i -> (cityHash64(number, i) % 10000) / 100.0, range(${FEATURES})), if(number % 2 = 0, 'yes', 'no'), now()
FROM numbers(${from}, ${to - from})`;
    const registry = new Registry();
    const input: MonitoringInput = {
      defaults: {
        window: { type: 'time', durationMs: 3_600_000 },
        reference: { type: 'first_events', count: FLEET_EVENTS / 4 },
      },
    };
    const { monitor, settled } = monitorOn(store, input, nowMs, registry);
    await loadWithLedger(store, db, load(0, total / 2), spread, 0, total / 2);
    const [first, referencesS] = await timed(() => monitor.runCycle());
    await loadWithLedger(store, db, load(total / 2, total), spread, total / 2, total);
    const [, proveS] = await timed(async () => {
      await monitor.runCycle();
      await settled();
    });
    const cycles: number[] = [];
    let evaluated = 0;
    takeProfile();
    for (let i = 0; i < 3; i++) {
      const [evaluations, cycleS] = await timed(() => monitor.runCycle());
      evaluated = evaluations.length;
      cycles.push(cycleS);
      logProfile(`${engine} fleet, cycle ${i + 1}`);
    }
    const text = await registry.metrics();
    const series = text
      .split('\n')
      .filter((line) => line.startsWith('driftguard_') && line.includes('model=')).length;
    const drift = monitorOn(
      store,
      withoutEstimation(
        input,
        Array.from({ length: FLEET_MODELS }, (_, i) => `m${i}`),
      ),
      nowMs,
    ).monitor;
    takeProfile();
    const driftCycles = await bestOfThree(() => drift.runCycle());
    logProfile(`${engine} fleet, 3 cycles without estimation`);
    const result = { cycleS: Math.min(...cycles), series, driftCycleS: Math.min(...driftCycles) };
    console.log(
      JSON.stringify({
        store: engine,
        fleet_models: FLEET_MODELS,
        features: FEATURES,
        events_per_model: FLEET_EVENTS,
        evaluated,
        first_cycle_builds_references_s: round(referencesS),
        references_built: first.length,
        cycle_with_proofs_s: round(proveS),
        cycles_s: cycles.map(round),
        cycle_s: round(result.cycleS),
        prometheus_series: series,
        cycles_without_estimation_s: driftCycles.map(round),
        cycle_without_estimation_s: round(result.driftCycleS),
      }),
    );
    if (evaluated !== FLEET_MODELS)
      throw new Error(`the cycle evaluated ${evaluated} models, expected ${FLEET_MODELS}`);
    return result;
  } finally {
    if (!args.keep) await dropBenchDatabase(store, engine, db);
    await store.close();
  }
}

async function main(): Promise<void> {
  const summary: Record<string, unknown> = { bench: 'monitor', rows: SIZES, features: FEATURES };
  for (const engine of ENGINES) {
    const prefix = engine === 'server' ? '' : `${engine}_`;
    if (!args['no-sweep']) {
      const points: SweepPoint[] = [];
      for (const rows of SIZES) {
        log(`${engine}: ${rows} rows`);
        points.push(await sweepPoint(engine, rows));
      }
      const first = points[0];
      const last = points[points.length - 1];
      if (first !== undefined && last !== undefined) {
        Object.assign(summary, {
          [`${prefix}cycle_s`]: points.map((p) => round(p.cycleS)),
          [`${prefix}scan_s`]: points.map((p) => round(p.scanS)),
          [`${prefix}flatness`]: round(last.cycleS / first.cycleS),
          [`${prefix}ratio_at_largest`]: round(last.cycleS / last.scanS),
          [`${prefix}cycle_without_estimation_s`]: points.map((p) => round(p.driftCycleS)),
          [`${prefix}flatness_without_estimation`]: round(last.driftCycleS / first.driftCycleS),
          [`${prefix}ratio_at_largest_without_estimation`]: round(last.driftCycleS / last.scanS),
        });
      }
    }
    if (!args['no-fleet']) {
      log(`${engine}: fleet of ${FLEET_MODELS} models`);
      const result = await fleet(engine);
      Object.assign(summary, {
        [`${prefix}fleet_models`]: FLEET_MODELS,
        [`${prefix}fleet_cycle_s`]: round(result.cycleS),
        [`${prefix}fleet_series`]: result.series,
        [`${prefix}fleet_cycle_without_estimation_s`]: round(result.driftCycleS),
      });
    }
  }
  summary['targets'] = { flatness: 1.5, ratio_at_largest: 0.2, fleet_cycle_s: 10 };
  console.log(JSON.stringify(summary));
}

await main();
