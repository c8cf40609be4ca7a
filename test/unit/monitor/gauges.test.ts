import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { WindowAggregates } from '../../../src/monitor/evaluate.js';
import { createMonitorMetrics, ExportedSeries } from '../../../src/monitor/metrics.js';
import {
  Monitor,
  type MonitorSources,
  type MonitorStorePort,
  type RowReadsPort,
} from '../../../src/monitor/monitor.js';
import { monitoringSchema } from '../../../src/monitor/options.js';
import { buildReferenceProfile } from '../../../src/monitor/reference.js';

const logger = pino({ level: 'silent' });

/** Source fakes: two models seen, a stored reference, an empty-ish window, writes dropped. */
function fakeSources(): MonitorSources {
  const profile = buildReferenceProfile(
    Array.from({ length: 50 }, (_, i) => ({ features: { c: i % 2 === 0 ? 'a' : 'b' } })),
    {},
    'test',
  );
  const aggregates: WindowAggregates = {
    events: 50,
    numericCells: new Map(),
    numericMoments: new Map(),
    categories: new Map([
      [
        'c',
        new Map([
          ['a', 25],
          ['b', 25],
        ]),
      ],
    ]),
    missing: new Map(),
    newFeatures: [],
  };
  const store: MonitorStorePort = {
    seenModels: () =>
      Promise.resolve([
        { model: 'a', events: 50, lastMs: 0 },
        { model: 'b', events: 50, lastMs: 0 },
      ]),
    referencesCreatedAt: (models: readonly string[]) =>
      Promise.resolve(new Map(models.map((m) => [m, 1_000]))),
    loadReferences: (models: readonly string[]) =>
      Promise.resolve(new Map(models.map((m) => [m, { profile, createdAtMs: 1_000 }]))),
    firstEvents: () => Promise.resolve(new Map()),
    inferTasks: () => Promise.resolve(new Map()),
    writeEvaluations: () => Promise.resolve(),
    saveReferences: () => Promise.resolve(),
    sample: () => Promise.resolve([]),
    tagCounts: () => Promise.resolve(new Map()),
    lastEventsWindow: () => Promise.resolve(undefined),
  };
  const rows: RowReadsPort = {
    aggregates: () => Promise.resolve(aggregates),
    labelsOf: () => Promise.resolve(new Map()),
    forget: () => undefined,
  };
  return { store, rows, rollups: undefined };
}

function setup() {
  const registry = new Registry();
  const owned = new Set(['a', 'b']);
  const monitor = new Monitor({
    ...fakeSources(),
    config: monitoringSchema.parse({}),
    alerting: undefined,
    ownership: { owns: (model) => owned.has(model) },
    metrics: createMonitorMetrics(registry),
    logger,
    replica: 'r1',
    now: () => 100_000,
  });
  return { registry, owned, monitor };
}

const modelsIn = (text: string): string[] =>
  [...new Set([...text.matchAll(/model="([^"]+)"/g)].map((m) => m[1] ?? ''))].sort();

describe('monitor gauges and ownership', () => {
  it("removes a model's gauges at the next scrape once another replica owns it", async () => {
    const { registry, owned, monitor } = setup();
    await monitor.runCycle();
    const before = await registry.metrics();
    expect(before).toMatch(/driftguard_model_health\{model="b"\} 0/);
    expect(before).toMatch(/driftguard_feature_drifted\{model="b",feature="c",detector="default"\} 0/);

    owned.delete('b'); // a rebalance gave b's partition to another replica
    const after = await registry.metrics();
    expect(after).toMatch(/driftguard_model_health\{model="a"\} 0/);
    // Every gauge series of b is gone; counters are totals of work this replica did: they stay.
    const lines = after.split('\n');
    expect(
      modelsIn(lines.filter((l) => !l.startsWith('driftguard_monitor_evaluations_total')).join('\n')),
    ).toEqual(['a']);
    expect(after).toMatch(/driftguard_monitor_evaluations_total\{model="b",result="ok"\} 1/);
  });

  it('also removes them at the next cycle, and exports them again when ownership comes back', async () => {
    const { registry, owned, monitor } = setup();
    await monitor.runCycle();
    owned.clear(); // e.g. the coordination consumer crashed
    await monitor.runCycle();
    const gauges = (await registry.getMetricsAsJSON()).filter((m) => String(m.type) === 'gauge');
    expect(gauges.flatMap((m) => m.values)).toEqual([]);
    owned.add('b');
    await monitor.runCycle();
    expect(modelsIn(await registry.metrics())).toContain('b');
  });
});

describe('ExportedSeries', () => {
  it("replaces a model's series as a whole and leaves other models alone", async () => {
    const registry = new Registry();
    const m = createMonitorMetrics(registry);
    const series = new ExportedSeries();
    series.replace('x', [
      [m.performance, { model: 'x', metric: 'accuracy' }, 0.9],
      [m.performance, { model: 'x', metric: 'macro_f1' }, 0.8],
    ]);
    series.replace('y', [[m.performance, { model: 'y', metric: 'accuracy' }, 0.7]]);
    // macro_f1 is no longer computed for x (labels order does not matter): its series goes.
    series.replace('x', [[m.performance, { metric: 'accuracy', model: 'x' }, 0.95]]);
    const values = (await m.performance.get()).values.map((v) => [
      v.labels['model'],
      v.labels['metric'],
      v.value,
    ]);
    expect(values).toEqual([
      ['x', 'accuracy', 0.95],
      ['y', 'accuracy', 0.7],
    ]);
    expect(series.release('x')).toBe(true);
    expect(series.release('x')).toBe(false);
    expect((await m.performance.get()).values).toHaveLength(1);
  });
});
