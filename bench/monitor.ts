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
 * With `--cluster` the same bench then runs on the local ClickHouse cluster (2 shards × 2
 * replicas, `dev-services up --cluster`) and a last line compares the two: on one 2-core machine no
 * speed-up is expected; it shows what replication costs the load and how the scan work spread over
 * shards compares.
 *
 * Usage: node --import tsx bench/monitor.ts [--rows 10000000] [--features 20] [--grid-cells N] [--keep] [--cluster]
 * Last line: {"bench":"monitor","rows":N,"features":F,"cycle_s":a,"scan_s":b,"ratio":a/b}
 * With --cluster, then: {"bench":"monitor-cluster","rows":N,"single_node":{…},"cluster":{…},"cycle_ratio":c/s,"load_ratio":c/s}
 */
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { createLogger } from '../kernel/logger.js';
import { endpointsFromEnv, servicesUp } from '../src/dev-services/index.js';
import { openServerStore } from '../src/store/clickhouse-server.js';
import { migrate } from '../kernel/migrations.js';
import { ALL_MIGRATIONS } from '../src/store/schema.js';
import { createMonitorMetrics, Monitor } from '../src/monitor/monitor.js';
import { MonitorStore } from '../src/monitor/monitor-store.js';
import { monitoringSchema } from '../src/monitor/options.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    features: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
    'grid-cells': { type: 'string' },
    cluster: { type: 'boolean', default: false },
  },
});
const ROWS = Number(args.rows);
const FEATURES = Number(args.features);
const MODEL = 'bench';
const logger = createLogger('warn');

interface MonitorResult {
  bench: string;
  rows: number;
  features: number;
  cycle_s: number;
  scan_s: number;
  ratio: number;
  load_s: number;
}

async function main(): Promise<void> {
  const info = await servicesUp({ logger, cluster: args.cluster });
  const services = endpointsFromEnv(info.env);
  const single = await benchOn(services.clickhouseUrl, undefined);
  if (info.cluster === undefined) return;
  const cluster = await benchOn(info.cluster.clickhouseUrl, info.cluster.cluster);
  console.log(
    JSON.stringify({
      bench: 'monitor-cluster',
      rows: ROWS,
      features: FEATURES,
      shards: 2,
      replicas_per_shard: 2,
      single_node: pick(single),
      cluster: pick(cluster),
      cycle_ratio: round(cluster.cycle_s / single.cycle_s),
      scan_ratio: round(cluster.scan_s / single.scan_s),
      load_ratio: round(cluster.load_s / single.load_s),
    }),
  );
}

function pick({ cycle_s, scan_s, load_s }: MonitorResult): Record<string, number> {
  return { load_s, cycle_s, scan_s };
}

/** The bench on one ClickHouse: a server, or a cluster (Distributed tables over 2 × 2 nodes). */
async function benchOn(url: string, cluster: string | undefined): Promise<MonitorResult> {
  const database = `bench_monitor_${Date.now()}`;
  const store = openServerStore({
    url,
    database,
    username: 'default',
    password: '',
    requestTimeoutMs: 600_000,
    cluster,
  });
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
        store: new MonitorStore(store),
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
    console.log(
      JSON.stringify({
        load_s: round(loadS),
        reference_build_s: round(referenceS),
        window_events: windowEvents,
        cold_cycle_s: round(coldCycleS),
        cycles_s: cycles.map(round),
        scans_final_s: scansFinal.map(round),
        scans_no_final_s: scansPlain.map(round),
        ratio_vs_scan_with_final: round(cycleS / finalS),
      }),
    );
    const result = {
      bench: cluster === undefined ? 'monitor' : 'monitor (cluster)',
      rows: ROWS,
      features: FEATURES,
      cycle_s: round(cycleS),
      scan_s: round(scanS),
      ratio: round(cycleS / scanS),
    };
    console.log(JSON.stringify(result));
    return { ...result, load_s: round(loadS) };
  } finally {
    const onCluster = cluster === undefined ? '' : ` ON CLUSTER ${cluster}`;
    if (!args.keep) await store.command('drop', `DROP DATABASE IF EXISTS ${database}${onCluster}`);
    await store.close();
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

await main();
