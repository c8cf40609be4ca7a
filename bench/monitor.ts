/**
 * `npm run bench:monitor`: one full monitor evaluation cycle of a model with 10 million
 * predictions and 20 numeric features (window = all of them), against a bare ClickHouse scan of
 * the same columns (simple aggregates: count, sum, min, max per feature) in the same run. The
 * scan in the last line is without FINAL, like the cycle when no duplicates are pending; the
 * scan with FINAL is printed on the line before.
 *
 * The rows are generated inside ClickHouse (`INSERT ... SELECT ... FROM numbers(N)`), never
 * pushed through Node. The reference (the first 100,000 events) is built by a first, untimed
 * cycle; the timed cycle is what runs every interval: window aggregation in ClickHouse (FINAL,
 * grid histogram, categories, overview), statistics here, results written back.
 *
 * The same is done on each store (`--store both`, the default: the ClickHouse server, then the
 * embedded engine in this process, which is how the daemon uses it), each against its own scan.
 *
 * Usage: node --import tsx bench/monitor.ts [--rows 10000000] [--features 20] [--grid-cells N]
 *   [--store both|server|embedded] [--keep]
 * Last line: {"bench":"monitor","rows":N,"features":F,"cycle_s":a,"scan_s":b,"ratio":a/b,
 *   "embedded_cycle_s":c,"embedded_scan_s":d,"embedded_ratio":c/d,"embedded_over_server":c/a}
 */
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { createLogger } from '../kernel/logger.js';
import { endpointsFromEnv, servicesUp } from '../src/dev-services/index.js';
import type { Store } from '../kernel/store.js';
import { openServerStore } from '../src/store/clickhouse-server.js';
import { openEmbeddedStore } from '../src/store/embedded-store.js';
import { migrate } from '../kernel/migrations.js';
import { ALL_MIGRATIONS } from '../src/store/schema.js';
import { createMonitorMetrics, Monitor, monitorSources } from '../src/monitor/monitor.js';
import { monitoringSchema } from '../src/monitor/options.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    features: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
    'grid-cells': { type: 'string' },
    store: { type: 'string', default: 'both' },
  },
});
if (!['both', 'server', 'embedded'].includes(args.store))
  throw new Error('--store is both, server or embedded');
const ENGINES = (args.store === 'both' ? ['server', 'embedded'] : [args.store]) as Array<
  'server' | 'embedded'
>;
const ROWS = Number(args.rows);
const FEATURES = Number(args.features);
const MODEL = 'bench';
const logger = createLogger('warn');

interface Measured {
  readonly cycleS: number;
  readonly scanS: number;
  readonly detail: Record<string, unknown>;
}

async function openBenchStore(engine: 'server' | 'embedded', database: string): Promise<Store> {
  if (engine === 'embedded')
    return openEmbeddedStore({ path: `.driftguard/bench-monitor-store`, database, sessions: 4 });
  const info = await servicesUp({ logger });
  const services = endpointsFromEnv(info.env);
  return openServerStore({
    url: services.clickhouseUrl,
    database,
    username: 'default',
    password: '',
    requestTimeoutMs: 600_000,
  });
}

async function main(): Promise<void> {
  const results = new Map<'server' | 'embedded', Measured>();
  for (const engine of ENGINES) {
    const measured = await measure(engine);
    results.set(engine, measured);
    console.log(JSON.stringify({ store: engine, ...measured.detail }));
  }
  const server = results.get('server');
  const embedded = results.get('embedded');
  console.log(
    JSON.stringify({
      bench: 'monitor',
      rows: ROWS,
      features: FEATURES,
      ...(server === undefined
        ? {}
        : {
            cycle_s: round(server.cycleS),
            scan_s: round(server.scanS),
            ratio: round(server.cycleS / server.scanS),
          }),
      ...(embedded === undefined
        ? {}
        : {
            embedded_cycle_s: round(embedded.cycleS),
            embedded_scan_s: round(embedded.scanS),
            embedded_ratio: round(embedded.cycleS / embedded.scanS),
          }),
      ...(server === undefined || embedded === undefined
        ? {}
        : { embedded_over_server: round(embedded.cycleS / server.cycleS) }),
    }),
  );
}

async function measure(engine: 'server' | 'embedded'): Promise<Measured> {
  const database = `bench_monitor_${Date.now()}`;
  const store = await openBenchStore(engine, database);
  try {
    await migrate(store, logger, ALL_MIGRATIONS);
    // One day of event time ending now, 20 features with different shapes.
    const endS = Math.floor(Date.now() / 1000);
    const startS = endS - 86_000;
    const names = `[${Array.from({ length: FEATURES }, (_, i) => `'f${i}'`).join(', ')}]`;
    const loadStarted = performance.now();
    await store.command(
      'load',
      `INSERT INTO ${database}.predictions (model, ts, ts_ms, id, version, num_names, num_values, prediction_label, ingested_at)
SELECT '${MODEL}', toDateTime(${startS} + intDiv(number * 86000, ${ROWS})), (${startS} + intDiv(number * 86000, ${ROWS})) * 1000 + number % 1000,
 toString(number), '1', ${names},
 arrayMap(i -> multiIf(i % 3 = 0, (cityHash64(number, i) % 1000000) / 1000000.0 * (i + 1),
              i % 3 = 1, -log((cityHash64(number, i) % 1000000 + 1) / 1000001.0),
              ((cityHash64(number, i) % 1000) + (cityHash64(number, i + 100) % 1000)) / 100.0), range(${FEATURES})),
 if(number % 3 = 0, 'yes', 'no'), now()
FROM numbers(${ROWS})`,
    );
    const loadS = (performance.now() - loadStarted) / 1000;

    const config = monitoringSchema.parse({
      defaults: {
        window: { type: 'time', durationMs: 90_000_000 },
        reference: { type: 'first_events', count: 100_000 },
      },
      discoverLookbackMs: 2 * 86_400_000,
      ...(args['grid-cells'] === undefined ? {} : { gridCells: Number(args['grid-cells']) }),
    });
    /** A replica's monitor with its own store, hence its own caches. */
    const newMonitor = (replica: string): Monitor =>
      new Monitor({
        ...monitorSources(store, config, logger),
        config,
        alerting: undefined,
        ownership: { owns: () => true },
        metrics: createMonitorMetrics(new Registry()),
        logger,
        replica,
      });
    const monitor = newMonitor('bench');
    const nowMs = (endS + 10) * 1000;
    const refStarted = performance.now();
    await monitor.evaluate(MODEL, nowMs); // builds the reference (untimed)
    const referenceS = (performance.now() - refStarted) / 1000;

    const time = async (work: () => Promise<unknown>): Promise<number> => {
      const started = performance.now();
      await work();
      return (performance.now() - started) / 1000;
    };
    const perFeature = Array.from(
      { length: FEATURES },
      (_, i) => `sum(num_values[${i + 1}]), min(num_values[${i + 1}]), max(num_values[${i + 1}])`,
    ).join(', ');
    const scan = (final: string) => async () => {
      await store.select(
        'scan',
        `SELECT count(), ${perFeature}, sum(length(num_names)) FROM ${database}.predictions ${final} WHERE model = '${MODEL}'`,
      );
    };
    // A replica that just took the model over has none of the monitor's caches (layout names,
    // chunks proved free of duplicates, the model's task): its first cycle is printed too.
    const cold = newMonitor('bench-cold');
    const coldCycleS = await time(() => cold.evaluate(MODEL, nowMs));
    // Best of 3 for each, interleaved, after the untimed warm-up above.
    const cycles: number[] = [];
    const scansFinal: number[] = [];
    const scansPlain: number[] = [];
    let windowEvents = 0;
    for (let i = 0; i < 3; i++) {
      cycles.push(
        await time(async () => {
          const e = await monitor.evaluate(MODEL, nowMs);
          windowEvents = e?.events ?? 0;
        }),
      );
      scansFinal.push(await time(scan('FINAL')));
      scansPlain.push(await time(scan('')));
    }
    // The cycle reads without FINAL when the window holds no unmerged duplicates (the case here),
    // so the like-for-like baseline is the plain scan; the FINAL scan is printed beside it.
    const cycleS = Math.min(...cycles);
    const scanS = Math.min(...scansPlain);
    const finalS = Math.min(...scansFinal);
    return {
      cycleS,
      scanS,
      detail: {
        load_s: round(loadS),
        reference_build_s: round(referenceS),
        window_events: windowEvents,
        cold_cycle_s: round(coldCycleS),
        cycles_s: cycles.map(round),
        scans_final_s: scansFinal.map(round),
        scans_no_final_s: scansPlain.map(round),
        ratio_vs_scan_with_final: round(cycleS / finalS),
        cycle_s: round(cycleS),
        scan_s: round(scanS),
        ratio: round(cycleS / scanS),
      },
    };
  } finally {
    if (!args.keep) await store.command('drop', `DROP DATABASE IF EXISTS ${database}`);
    await store.close();
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

await main();
