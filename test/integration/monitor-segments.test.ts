import type { AddressInfo } from 'node:net';
import express from 'express';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { alertFingerprint } from '../../src/alerts/fingerprint.js';
import { applyEvaluations, emptyPolicyState } from '../../src/alerts/policy.js';
import type { RuleEvaluation } from '../../src/alerts/types.js';
import type { PredictionEvent } from '../../src/events/types.js';
import { monitorReadRoutes } from '../../src/http/monitor-routes.js';
import { createLogger } from '../../kernel/logger.js';
import { createMonitorMetrics } from '../../src/monitor/metrics.js';
import { Monitor, monitorSources } from '../../src/monitor/monitor.js';
import { monitoringSchema } from '../../src/monitor/options.js';
import { outcomeRow, predictionRow } from '../../src/store/event-rows.js';
import { ALL_MIGRATIONS } from '../../src/store/schema.js';
import { cleanupsAfterEach, ENGINES, migratedDatabase, normal, rng } from '../support/index.js';

/**
 * Segments on every backend: one model whose `x` shifts in one country only (a shift the
 * whole model's verdict does not see), and a stationary model that also rolls out a new version.
 * One monitor cycle over events inserted directly (no Kafka needed), then the stored rows, the
 * gauges, the alert rules and the API are checked.
 */

const cleanups = cleanupsAfterEach();

/** US 40 %, FR 30 %, DE 12 %, IT 10 %, ES 8 %: the top 3 are US, FR, DE; IT and ES are __other__. */
function country(r: () => number): string {
  const u = r();
  return u < 0.4 ? 'US' : u < 0.7 ? 'FR' : u < 0.82 ? 'DE' : u < 0.92 ? 'IT' : 'ES';
}

describe.each(ENGINES)('monitor segments on the %s backend', (engine) => {
  it('flags only the shifted segment, names it, and keeps other segments and a stationary model quiet', async () => {
    const { db, store: port, drop } = await migratedDatabase('monseg', ALL_MIGRATIONS, engine);
    cleanups.push(drop);
    const logger = createLogger(process.env['DRIFTGUARD_TEST_LOGS'] === '1' ? 'debug' : 'silent');

    const nowMs = Math.floor(Date.now() / 1000) * 1000;
    const r = rng(7);
    const predictions: string[] = [];
    const outcomes: string[] = [];
    let seq = 0;
    const add = (model: string, tsMs: number, shiftDE: number, version: string): void => {
      const c = country(r);
      const id = `${model}-${seq++}`;
      const prediction = r() < 0.5 ? 'yes' : 'no';
      const event: PredictionEvent = {
        model,
        version,
        id,
        timestampMs: tsMs,
        features: { x: normal(r) + (c === 'DE' ? shiftDE : 0), y: normal(r) * 2 + 5, country: c },
        prediction,
        scores: null,
        extra: '',
      };
      predictions.push(`${JSON.stringify(predictionRow(event, 'test', nowMs))}\n`);
      // 90 % of the outcomes agree with the prediction, in every country.
      const label = r() < 0.9 ? prediction : prediction === 'yes' ? 'no' : 'yes';
      outcomes.push(
        `${JSON.stringify(outcomeRow({ model, id, timestampMs: tsMs + 1_000, label, extra: '' }, 'test', nowMs))}\n`,
      );
    };
    // References: the first 2000 events, two hours ago, all version v1.
    for (let i = 0; i < 2_000; i++) {
      add('shop', nowMs - 3 * 3_600_000 + i * 1_000, 0, 'v1');
      add('steady', nowMs - 3 * 3_600_000 + i * 1_000, 0, 'v1');
    }
    // The window (last 10 minutes): shop's DE events have x shifted by one standard deviation;
    // steady sends a quarter of its events from a new version v2, unchanged in distribution.
    for (let i = 0; i < 4_000; i++) {
      const ts = nowMs - 540_000 + i * 120;
      add('shop', ts, 1, 'v1');
      add('steady', ts, 0, i % 4 === 0 ? 'v2' : 'v1');
    }
    await port.insert('predictions', predictions);
    await port.insert('outcomes', outcomes);

    const model = {
      features: { x: 'numeric', y: 'numeric', country: 'categorical' },
      task: { type: 'classification', classes: ['yes', 'no'] },
      performance: [{ metric: 'accuracy', min: 0.7 }],
      reference: { type: 'first_events', count: 2_000 },
      window: { type: 'time', durationMs: 600_000 },
      alpha: 0.01,
      numericEffectThreshold: 0.2,
      categoricalEffectThreshold: 0.1,
    };
    const config = monitoringSchema.parse({
      models: {
        shop: { ...model, segments: [{ feature: 'country', maxValues: 3, minEvents: 150 }] },
        steady: {
          ...model,
          segments: [
            { feature: 'country', maxValues: 3, minEvents: 150 },
            { tag: 'version', minEvents: 150 },
          ],
        },
      },
    });
    const sources = monitorSources(port, config, logger);
    const store = sources.store;
    const registry = new Registry();
    const rules: RuleEvaluation[] = [];
    const owned = new Set(['shop', 'steady']);
    const released: string[] = [];
    const releasedToAlerting: string[] = [];
    const monitor = new Monitor({
      ...sources,
      config,
      alerting: {
        handle: (evaluations) => {
          rules.push(...evaluations);
          return Promise.resolve([]);
        },
        release: (model) => void releasedToAlerting.push(model),
      },
      onReleased: (model) => void released.push(model),
      ownership: { owns: (m) => owned.has(m) },
      metrics: createMonitorMetrics(registry),
      logger,
      replica: 'test-replica',
      now: () => nowMs,
    });

    const evaluations = await monitor.runCycle();
    const shop = evaluations.find((e) => e.model === 'shop');
    const steady = evaluations.find((e) => e.model === 'steady');
    if (shop === undefined || steady === undefined) throw new Error('both models should be evaluated');

    // shop: only DE drifted; the whole model's own verdict does not see a 12 % segment's shift.
    expect(shop.segments.map((s) => [s.segment, s.status, s.reference])).toEqual([
      ['country=US', 'ok', 'segment'],
      ['country=FR', 'ok', 'segment'],
      ['country=DE', 'critical', 'segment'],
      ['country=__other__', 'ok', 'segment'],
    ]);
    expect(shop.drift.find((d) => d.feature === 'x' && d.detector === 'default')?.drifted).toBe(false);
    expect(shop.status).toBe('critical');
    // The critical model's reasons end with the features that explain it (x, shifted in DE).
    expect(shop.reasons).toEqual([
      expect.stringMatching(/^segment country=DE: 1 of 2 features drifted: x$/),
      expect.stringMatching(/^explained by: x (0\.\d+|1)\b.* \(drift of segment country=DE\)$/),
    ]);
    const de = shop.segments.find((s) => s.segment === 'country=DE');
    expect(de?.events).toBeGreaterThan(400);
    expect(de?.drift.map((d) => d.feature)).not.toContain('country');

    // steady: every segment quiet; v2 has no reference rows of its own, so the whole reference.
    expect(steady.status).toBe('ok');
    expect(steady.reasons).toEqual([]);
    expect(steady.segments.map((s) => s.segment)).toEqual([
      'country=US',
      'country=FR',
      'country=DE',
      'country=__other__',
      'version=v1',
      'version=v2',
    ]);
    expect(steady.segments.every((s) => s.status === 'ok')).toBe(true);
    const v2 = steady.segments.find((s) => s.segment === 'version=v2');
    expect(v2?.reference).toBe('whole');
    expect(v2?.referenceNote).toMatch(/0 events of version=v2 \(fewer than minEvents 150\)/);

    // Stored rows carry the segment; quality rows of segments have their own table.
    const drifted = await port.select<{ model: string; segment: string; feature: string }>(
      'check',
      `SELECT model, segment, feature FROM ${db}.drift_results WHERE detector = 'default' AND drifted = 1 ORDER BY model, segment, feature`,
    );
    expect(drifted).toEqual([{ model: 'shop', segment: 'country=DE', feature: 'x' }]);
    const segmentsStored = await port.select<{ segment: string; n: string }>(
      'check',
      `SELECT segment, count() AS n FROM ${db}.performance_results WHERE model = 'steady' AND metric = 'accuracy' GROUP BY segment ORDER BY segment`,
    );
    expect(segmentsStored.map((s) => s.segment)).toEqual([
      '',
      'country=DE',
      'country=FR',
      'country=US',
      'country=__other__',
      'version=v1',
      'version=v2',
    ]);
    const fallback = await port.select<{ details: string }>(
      'check',
      `SELECT details FROM ${db}.drift_results WHERE model = 'steady' AND segment = 'version=v2' AND feature = 'x' AND detector = 'default'`,
    );
    expect(JSON.parse(fallback[0]?.details ?? '{}')).toMatchObject({ reference: 'whole' });
    const quality = await port.select<{ n: string }>(
      'check',
      `SELECT count() AS n FROM ${db}.segment_quality_results WHERE model = 'shop' AND segment = 'country=DE' AND rule = 'missing_rate'`,
    );
    expect(Number(quality[0]?.n)).toBe(2);
    const health = await port.select<{ model: string; status: string }>(
      'check',
      `SELECT model, status FROM ${db}.model_health ORDER BY model`,
    );
    expect(health).toEqual([
      { model: 'shop', status: 'critical' },
      { model: 'steady', status: 'ok' },
    ]);

    // Alert rules: the segment's breach is its own alert, grouped with its model.
    const breaching = rules.filter((x) => x.breaching && x.rule === 'model:drift');
    expect(breaching.map((x) => [x.model, x.segment])).toEqual([['shop', 'country=DE']]);
    expect(breaching[0]?.summary).toMatch(/^\[country=DE\] 1 of 2 features drifted: x/);
    const policy = applyEvaluations(emptyPolicyState(), rules, nowMs, {
      forWindows: { warning: 2, critical: 1 },
      resolveAfterWindows: 2,
      cooldownMs: 0,
      staleAfterMs: 0,
    });
    expect(policy.notifications.map((n) => n.model)).toEqual(['shop']);
    expect(policy.notifications[0]?.alerts.map((a) => [a.fingerprint, a.labels['segment']])).toEqual([
      [alertFingerprint('shop', 'model:drift', 'country=DE'), 'country=DE'],
    ]);

    // Gauges: bounded segment labels, the fallback visible.
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/driftguard_segment_health\{model="shop",segment="country=DE"\} 2/);
    expect(metrics).toMatch(
      /driftguard_segment_feature_drifted\{model="shop",segment="country=DE",feature="x"\} 1/,
    );
    expect(metrics).toMatch(/driftguard_segment_whole_reference\{model="steady",segment="version=v2"\} 1/);
    expect(metrics).toMatch(
      /driftguard_segment_performance_metric\{model="steady",segment="version=v2",metric="accuracy"\}/,
    );
    expect(metrics.match(/^driftguard_segment_health\{/gm)).toHaveLength(10);

    // API: drift history of one segment; the health names the segment.
    const app = express().use(
      monitorReadRoutes({
        store,
        alerting: { listAlerts: () => Promise.resolve([]) },
        config,
        maxBodyBytes: 1_000_000,
        now: () => nowMs + 1_000,
      }),
    );
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const get = async <T>(path: string): Promise<T> => (await (await fetch(`${base}${path}`)).json()) as T;
    const ofDE = await get<{ results: Array<{ segment: string; feature: string; drifted: number }> }>(
      `/v1/models/shop/drift?segment=${encodeURIComponent('country=DE')}&feature=x&limit=50`,
    );
    expect(ofDE.results.length).toBeGreaterThan(0);
    expect(new Set(ofDE.results.map((x) => x.segment))).toEqual(new Set(['country=DE']));
    const whole = await get<{ results: Array<{ segment: string }> }>('/v1/models/shop/drift?limit=500');
    expect(new Set(whole.results.map((x) => x.segment))).toEqual(new Set(['']));
    const shopHealth = await get<{ status: string; reasons: string[] }>('/v1/models/shop/health');
    expect(shopHealth.status).toBe('critical');
    expect(shopHealth.reasons[0]).toContain('segment country=DE');

    // Ownership moves: the gauges of shop go at the next scrape.
    owned.delete('shop');
    expect(await registry.metrics()).not.toMatch(/^driftguard_(segment|model|feature)\w*\{model="shop"/m);
    // ... and alerting and the retuner hear of it once.
    await monitor.runCycle();
    expect(releasedToAlerting).toEqual(['shop']);
    expect(released).toEqual(['shop']);
  });
});
