import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DriftOnsets } from '../../../src/monitor/drift-onset.js';
import type { WindowAggregates } from '../../../src/monitor/evaluate.js';
import { createMonitorMetrics } from '../../../src/monitor/metrics.js';
import { Monitor, type MonitorStorePort, type RowReadsPort } from '../../../src/monitor/monitor.js';
import { monitoringSchema } from '../../../src/monitor/options.js';
import { buildReferenceProfile } from '../../../src/monitor/reference.js';

describe('drift onset', () => {
  it('is the start of the first window of the current non-ok streak', () => {
    const onsets = new DriftOnsets();
    expect(onsets.observe('m', 'ok', 100)).toBeUndefined();
    expect(onsets.observe('m', 'warning', 200)).toBe(200);
    expect(onsets.observe('m', 'critical', 300)).toBe(200);
    expect(onsets.observe('other', 'critical', 250)).toBe(250);
    expect(onsets.observe('m', 'ok', 400)).toBeUndefined();
    expect(onsets.observe('m', 'critical', 500)).toBe(500);
    onsets.forget('m');
    expect(onsets.observe('m', 'critical', 600)).toBe(600);
  });

  it('is handed to the retuner hook with every evaluation', async () => {
    const profile = buildReferenceProfile(
      Array.from({ length: 200 }, (_, i) => ({ features: { c: i % 2 === 0 ? 'a' : 'b' } })),
      {},
      'test',
    );
    let drifted = false;
    const aggregates = (): WindowAggregates => ({
      events: 200,
      numericCells: new Map(),
      numericMoments: new Map(),
      categories: new Map([
        [
          'c',
          new Map(
            drifted
              ? [
                  ['a', 200],
                  ['b', 0],
                ]
              : [
                  ['a', 100],
                  ['b', 100],
                ],
          ),
        ],
      ]),
      missing: new Map(),
      newFeatures: [],
    });
    const store: MonitorStorePort = {
      seenModels: () => Promise.resolve([{ model: 'm', events: 200, lastMs: 0 }]),
      referencesCreatedAt: (models) => Promise.resolve(new Map(models.map((m) => [m, 1_000]))),
      loadReferences: (models) =>
        Promise.resolve(new Map(models.map((m) => [m, { profile, createdAtMs: 1_000 }]))),
      firstEvents: () => Promise.resolve(new Map()),
      saveReferences: () => Promise.resolve(),
      sample: () => Promise.resolve([]),
      tagCounts: () => Promise.resolve(new Map()),
      inferTasks: () => Promise.resolve(new Map()),
      lastEventsWindow: () => Promise.resolve(undefined),
      writeEvaluations: () => Promise.resolve(),
    };
    const rows: RowReadsPort = {
      aggregates: () => Promise.resolve(aggregates()),
      labelsOf: () => Promise.resolve(new Map()),
      forget: () => undefined,
    };
    let now = 10_000_000;
    const seen: Array<[string, number | undefined]> = [];
    const monitor = new Monitor({
      store,
      rows,
      rollups: undefined,
      config: monitoringSchema.parse({}),
      alerting: undefined,
      ownership: { owns: () => true },
      metrics: createMonitorMetrics(new Registry()),
      logger: pino({ level: 'silent' }),
      replica: 'r1',
      now: () => now,
      onEvaluated: (evaluation, health) => seen.push([evaluation.status, health.driftOnsetMs]),
    });
    await monitor.runCycle();
    drifted = true;
    now += 60_000;
    const firstDrifted = now;
    await monitor.runCycle();
    now += 60_000;
    await monitor.runCycle();
    expect(seen[0]).toEqual(['ok', undefined]);
    expect(seen[1]?.[0]).not.toBe('ok');
    // The onset is the start of the first unhealthy window, and stays so while the streak lasts.
    expect(seen[1]?.[1]).toBeLessThan(firstDrifted);
    expect(seen[2]?.[1]).toBe(seen[1]?.[1]);
  });
});
