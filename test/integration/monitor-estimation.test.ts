import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Alerting } from '../../src/alerts/index.js';
import type { RuleEvaluation } from '../../src/alerts/types.js';
import { compileConfig } from '../../src/config/compile.js';
import { createRetuneWiring } from '../../src/daemon/retune-wiring.js';
import { createKafka } from '../../src/kafka/client.js';
import { monitorReadRoutes } from '../../src/http/monitor-routes.js';
import { performanceRoutes } from '../../src/http/performance-routes.js';
import { createHttpApp } from '../../src/http/app.js';
import { createMetrics } from '../../src/metrics.js';
import { createLogger } from '../../kernel/logger.js';
import type { Store } from '../../kernel/store.js';
import { EstimationStore } from '../../src/monitor/estimation/estimation-store.js';
import type { ModelEvaluation } from '../../src/monitor/evaluate.js';
import { createMonitorMetrics } from '../../src/monitor/metrics.js';
import { Monitor, monitorSources, type MonitorDeps } from '../../src/monitor/monitor.js';
import { monitoringSchema, type CompiledMonitoring } from '../../src/monitor/options.js';
import { ALL_MIGRATIONS } from '../../src/store/schema.js';
import { cleanupsAfterEach, ENGINES, migratedDatabase, rng, servicesEnv, waitFor } from '../support/index.js';
import {
  binaryEvent,
  correlatedEvent,
  emptyRows,
  regressionEvent,
  type StreamRows,
} from '../support/estimation-streams.js';

/**
 * Issue 15 through the real monitor on every backend: one cycle per window over events inserted
 * directly (no Kafka needed), then the evaluations, the stored rows, the gauges, the alert rules
 * and the API are checked.
 */

const cleanups = cleanupsAfterEach();
const logger = createLogger(process.env['DRIFTGUARD_TEST_LOGS'] === '1' ? 'debug' : 'silent');
const MINUTE = 60_000;
const WINDOW_MS = 10 * MINUTE;

interface Harness {
  readonly monitor: Monitor;
  readonly registry: Registry;
  readonly rules: RuleEvaluation[];
  readonly clock: { nowMs: number };
  cycle(atMs: number): Promise<Map<string, ModelEvaluation>>;
}

function harness(port: Store, config: CompiledMonitoring, onEvaluated?: MonitorDeps['onEvaluated']): Harness {
  const registry = new Registry();
  const rules: RuleEvaluation[] = [];
  const clock = { nowMs: 0 };
  const monitor = new Monitor({
    ...monitorSources(port, config, logger),
    config,
    alerting: {
      handle: (evaluations) => {
        rules.push(...evaluations);
        return Promise.resolve([]);
      },
      release: () => undefined,
    },
    ownership: { owns: () => true },
    metrics: createMonitorMetrics(registry),
    logger,
    replica: 'test-replica',
    now: () => clock.nowMs,
    ...(onEvaluated === undefined ? {} : { onEvaluated }),
  });
  return {
    monitor,
    registry,
    rules,
    clock,
    async cycle(atMs) {
      clock.nowMs = atMs;
      return new Map((await monitor.runCycle()).map((e) => [e.model, e]));
    },
  };
}

async function serve(app: express.Express): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const breaching = (e: ModelEvaluation | undefined, rule: string): boolean =>
  e?.rules.some((r) => r.rule === rule && r.breaching && (r.segment ?? '') === '') ?? false;

describe.each(ENGINES)('estimation in the monitor on the %s backend', (engine) => {
  it('a correlation flip with identical marginals: every univariate verdict silent, multivariate drift fires within two windows, explained by the two features', async () => {
    const { db, store: port, drop } = await migratedDatabase('monest_flip', ALL_MIGRATIONS, engine);
    cleanups.push(drop);
    const nowMs = Math.floor(Date.now() / 60_000) * 60_000;
    const r = rng(5);
    const rows: StreamRows = emptyRows();
    let seq = 0;
    // References: 5,000 events with corr(x1, x2) = 0.8, hours before the windows.
    for (let i = 0; i < 5_000; i++) {
      const ts = nowMs - 6 * 3_600_000 + i * 400;
      correlatedEvent(rows, r, 'joint', `j${seq++}`, ts, nowMs, 0.8);
      correlatedEvent(rows, r, 'steady', `s${seq++}`, ts, nowMs, 0.8);
    }
    // Three windows of 5,000 events: the first as the reference; then joint's correlation flips.
    const ends = [nowMs - 2 * WINDOW_MS, nowMs - WINDOW_MS, nowMs];
    ends.forEach((end, w) => {
      for (let i = 0; i < 5_000; i++) {
        const ts = end - WINDOW_MS + i * 120;
        correlatedEvent(rows, r, 'joint', `j${seq++}`, ts, nowMs, w === 0 ? 0.8 : -0.8);
        correlatedEvent(rows, r, 'steady', `s${seq++}`, ts, nowMs, 0.8);
      }
    });
    await port.insert('predictions', rows.predictions);

    const model = {
      window: { type: 'time', durationMs: WINDOW_MS },
      reference: { type: 'first_events', count: 5_000 },
    };
    const config = monitoringSchema.parse({ models: { joint: model, steady: model } });
    const h = harness(port, config);
    const windows: Array<Map<string, ModelEvaluation>> = [];
    for (const end of ends) windows.push(await h.cycle(end));

    // Univariate: the default decision rule and every feature's verdict stay silent throughout.
    for (const w of windows) {
      for (const name of ['joint', 'steady']) {
        const e = w.get(name);
        expect(e?.events, name).toBe(5_000);
        expect(breaching(e, 'model:drift'), `${name} model:drift`).toBe(false);
        expect(e?.rules.filter((x) => x.rule.startsWith('drift:') && x.breaching).map((x) => x.rule)).toEqual(
          [],
        );
        expect(e?.drift.filter((d) => d.detector === 'default' && d.drifted)).toEqual([]);
      }
      // The stationary model never fires, not even multivariately.
      expect(breaching(w.get('steady'), 'model:multivariate_drift')).toBe(false);
      expect(w.get('steady')?.status).toBe('ok');
    }
    // Multivariate: silent on the stationary first window, fires within two flipped windows.
    const fired = windows.map((w) => breaching(w.get('joint'), 'model:multivariate_drift'));
    expect(fired[0]).toBe(false);
    expect(fired[1] || fired[2]).toBe(true);
    const flipped = windows[2]?.get('joint');
    const mv = flipped?.estimation?.multivariate;
    expect(mv?.alert).toBe(true);
    expect(mv?.error).toBeGreaterThan(mv?.upper ?? Infinity);
    // ... and its two features explain it.
    expect(flipped?.status).toBe('warning');
    expect(
      flipped?.attribution?.features
        .slice(0, 2)
        .map((a) => a.feature)
        .sort(),
    ).toEqual(['x1', 'x2']);
    expect(flipped?.reasons.some((x) => x.startsWith('multivariate drift: the joint distribution'))).toBe(
      true,
    );
    expect(flipped?.reasons.at(-1)).toMatch(/^explained by: x[12] 0\.\d+, x[12] 0\.\d+/);
    const rule = flipped?.rules.find((x) => x.rule === 'model:multivariate_drift');
    expect(rule?.severity).toBe('warning');
    expect(
      (rule?.details?.['attribution'] as Array<{ feature: string }>)
        .map((a) => a.feature)
        .slice(0, 2)
        .sort(),
    ).toEqual(['x1', 'x2']);

    // Stored: a drift result like any other, the ranked features beside the health.
    const stored = await port.select<{ drifted: number; n: string }>(
      'check',
      `SELECT drifted, count() AS n FROM ${db}.drift_results WHERE model = 'joint' AND feature = '__multivariate__' AND detector = 'pca_reconstruction' GROUP BY drifted ORDER BY drifted`,
    );
    expect(stored.map((s) => [Number(s.drifted), Number(s.n)])).toEqual(
      fired[1]
        ? [
            [0, 1],
            [1, 2],
          ]
        : [
            [0, 2],
            [1, 1],
          ],
    );
    const ranked = await port.select<{ feature: string; rank: number }>(
      'check',
      `SELECT feature, rank FROM ${db}.feature_attribution WHERE model = 'joint' AND evaluated_at = toDateTime(${Math.floor(nowMs / 1000)}) ORDER BY rank`,
    );
    expect(
      ranked
        .slice(0, 2)
        .map((x) => x.feature)
        .sort(),
    ).toEqual(['x1', 'x2']);
    const fitted = await port.select<{ status: string }>(
      'check',
      `SELECT status FROM ${db}.reference_estimators WHERE model = 'joint'`,
    );
    expect(JSON.parse(fitted[0]?.status ?? '{}')).toMatchObject({
      rows: 5_000,
      estimators: { reconstruction: 'fitted', outputs: 'fitted' },
    });

    // Gauges, and the health API with the ranked features.
    const metrics = await h.registry.metrics();
    expect(metrics).toMatch(/driftguard_multivariate_drift_error\{model="joint"\} \d/);
    expect(metrics).toMatch(/driftguard_feature_attribution_score\{model="joint",feature="x1"\} 0\.\d+/);
    expect(metrics).not.toMatch(/driftguard_feature_attribution_score\{model="steady"/);
    const base = await serve(
      express().use(
        monitorReadRoutes({
          store: monitorSources(port, config, logger).store,
          estimation: new EstimationStore(port),
          alerting: { listAlerts: () => Promise.resolve([]) },
          config,
          maxBodyBytes: 1_000_000,
          now: () => nowMs + 1_000,
        }),
      ),
    );
    const health = (await (await fetch(`${base}/v1/models/joint/health`)).json()) as {
      status: string;
      attribution: Array<{
        rank: number;
        feature: string;
        score: number;
        reconstruction: number | null;
        basis: string[];
      }>;
    };
    expect(health.status).toBe('warning');
    expect(
      health.attribution
        .slice(0, 2)
        .map((a) => a.feature)
        .sort(),
    ).toEqual(['x1', 'x2']);
    expect(health.attribution[0]?.basis).toEqual(['reconstruction']);
    expect(health.attribution[0]?.reconstruction).toBeGreaterThan(0.1);
    const steady = (await (await fetch(`${base}/v1/models/steady/health`)).json()) as {
      attribution: unknown[];
    };
    expect(steady.attribution).toEqual([]);
  });

  it('estimated performance tracks the realized one under covariate shift, with bands, realized ROC AUC and coverage; stored, exported and served', async () => {
    const { db, store: port, drop } = await migratedDatabase('monest_perf', ALL_MIGRATIONS, engine);
    cleanups.push(drop);
    const nowMs = Math.floor(Date.now() / 60_000) * 60_000;
    const r = rng(17);
    const rows: StreamRows = emptyRows();
    let seq = 0;
    for (let i = 0; i < 10_000; i++) {
      const ts = nowMs - 8 * 3_600_000 + i * 500;
      binaryEvent(rows, r, 'fraud', `f${seq++}`, ts, nowMs);
      regressionEvent(rows, r, 'demand', `d${seq++}`, ts, nowMs);
      // Outcomes arrive for one in twenty of this model's reference only: its estimators wait for labels.
      binaryEvent(rows, r, 'late', `l${seq++}`, ts, nowMs, { labelled: 0.05 });
    }
    // Four windows: covariate shift growing; the last one has no labels yet.
    const shifts = [0, 0.6, 1.2, 0.6];
    const ends = [nowMs - 3 * WINDOW_MS, nowMs - 2 * WINDOW_MS, nowMs - WINDOW_MS, nowMs];
    ends.forEach((end, w) => {
      const labelled = w === 3 ? 0 : 1;
      for (let i = 0; i < 5_000; i++) {
        const ts = end - WINDOW_MS + i * 120;
        binaryEvent(rows, r, 'fraud', `f${seq++}`, ts, nowMs, {
          shift: shifts[w],
          labelled,
          labelDelayMs: 30_000,
        });
        regressionEvent(rows, r, 'demand', `d${seq++}`, ts, nowMs, { shift: shifts[w], labelled });
        if (i % 10 === 0) binaryEvent(rows, r, 'late', `l${seq++}`, ts, nowMs, { labelled: 0 });
      }
    });
    await port.insert('predictions', rows.predictions);
    await port.insert('outcomes', rows.outcomes);

    const window = { type: 'time', durationMs: WINDOW_MS };
    const config = monitoringSchema.parse({
      models: {
        fraud: {
          task: { type: 'classification', classes: ['fraud', 'ok'] },
          window,
          reference: { type: 'first_events', count: 10_000 },
          performance: [{ metric: 'roc_auc', min: 0.5 }],
          estimation: { performance: [{ metric: 'accuracy', min: 0.5 }] },
        },
        demand: { task: { type: 'regression' }, window, reference: { type: 'first_events', count: 10_000 } },
        late: {
          task: { type: 'classification', classes: ['fraud', 'ok'] },
          window,
          reference: { type: 'first_events', count: 10_000 },
        },
      },
    });
    const h = harness(port, config);
    const windows: Array<Map<string, ModelEvaluation>> = [];
    for (const end of ends) windows.push(await h.cycle(end));

    const figures: unknown[] = [];
    windows.forEach((w, i) => {
      const fraud = w.get('fraud')?.estimation;
      const demand = w.get('demand')?.estimation;
      expect(fraud?.available).toEqual(
        expect.arrayContaining(['cbpe', 'error_model', 'reconstruction', 'outputs']),
      );
      expect(demand?.available).toEqual(expect.arrayContaining(['dle', 'reconstruction', 'outputs']));
      expect(fraud?.metrics.map((m) => m.metric)).toEqual([
        'accuracy',
        'precision',
        'recall',
        'f1',
        'roc_auc',
      ]);
      expect(demand?.metrics.map((m) => m.metric)).toEqual(['mae', 'rmse']);
      for (const m of [...(fraud?.metrics ?? []), ...(demand?.metrics ?? [])]) {
        figures.push({
          window: i,
          shift: shifts[i],
          metric: m.metric,
          estimated: m.estimated,
          realized: m.realized,
        });
        if (i === 3) {
          // No labels yet: the estimate stands alone, realized is unknown.
          expect(m.realized, m.metric).toBeNull();
          expect(m.estimated).not.toBeNull();
          continue;
        }
        const estimated = m.estimated as number;
        const realized = m.realized as number;
        if (m.metric === 'accuracy' || m.metric === 'roc_auc')
          expect(Math.abs(estimated - realized), `${m.metric} window ${i}`).toBeLessThanOrEqual(0.03);
        if (m.method === 'dle')
          expect(Math.abs(estimated - realized) / realized, `${m.metric} window ${i}`).toBeLessThanOrEqual(
            0.08,
          );
        // The band says where the realized value is expected: it is there.
        expect(realized, `${m.metric} window ${i} band`).toBeGreaterThanOrEqual(m.estimatedLower as number);
        expect(realized, `${m.metric} window ${i} band`).toBeLessThanOrEqual(m.estimatedUpper as number);
      }
      expect(w.get('fraud')?.coverage).toBe(i === 3 ? 0 : 1);
    });
    console.log(JSON.stringify({ engine, figures }));
    // Covariate shift moved the realized accuracy, and the estimate followed it.
    const accuracy = (i: number) =>
      windows[i]?.get('fraud')?.estimation?.metrics.find((m) => m.metric === 'accuracy');
    expect(Math.abs((accuracy(2)?.realized ?? 0) - (accuracy(0)?.realized ?? 0))).toBeGreaterThan(0.03);
    // Realized ROC AUC is a performance result like the others, with its configured threshold.
    const auc = windows[0]?.get('fraud')?.performance.find((p) => p.metric === 'roc_auc');
    expect(auc?.threshold).toBe(0.5);
    expect(windows[0]?.get('fraud')?.rules.find((x) => x.rule === 'performance:roc_auc')?.breaching).toBe(
      false,
    );
    expect(
      windows[0]?.get('fraud')?.rules.find((x) => x.rule === 'estimated:accuracy:threshold')?.breaching,
    ).toBe(false);
    expect(windows[0]?.get('fraud')?.rules.find((x) => x.rule === 'estimated:accuracy')?.severity).toBe(
      'warning',
    );

    // The late model: estimators that need labels wait for them, reported as such.
    const late = windows[3]?.get('late')?.estimation;
    expect(late?.available).not.toContain('cbpe');
    expect(late?.unavailable.cbpe).toMatch(
      /labelled rows with scores of known classes in the reference, 1000 needed \(\d+ of its 10000 rows have no outcome yet; fitted again when they arrive\)/,
    );
    expect(late?.available).toContain('reconstruction');

    // Stored for Grafana: one row per window and metric, realized NULL while unknown.
    const stored = await port.select<{ model: string; n: string; unknown: string; auc: string }>(
      'check',
      `SELECT model, count() AS n, countIf(isNull(realized)) AS unknown, countIf(metric = 'roc_auc') AS auc FROM ${db}.estimation_results GROUP BY model ORDER BY model`,
    );
    expect(stored).toEqual([
      { model: 'demand', n: '8', unknown: '2', auc: '0' },
      { model: 'fraud', n: '20', unknown: '5', auc: '4' },
    ]);
    const realizedAuc = await port.select<{ n: string }>(
      'check',
      `SELECT count() AS n FROM ${db}.performance_results WHERE model = 'fraud' AND metric = 'roc_auc'`,
    );
    expect(Number(realizedAuc[0]?.n)).toBe(3);

    // Prometheus: bounded series per model and metric.
    const metrics = await h.registry.metrics();
    expect(metrics).toMatch(/driftguard_estimated_performance\{model="fraud",metric="accuracy"\} 0\.\d+/);
    expect(metrics).toMatch(/driftguard_estimated_performance_lower\{model="demand",metric="mae"\} \d/);
    expect(metrics).toMatch(/driftguard_estimator_available\{model="fraud",estimator="cbpe"\} 1/);
    expect(metrics).toMatch(/driftguard_estimator_available\{model="late",estimator="cbpe"\} 0/);
    expect(metrics.match(/^driftguard_estimated_performance\{/gm)).toHaveLength(7);

    // The API: per window, estimated with its band, realized (null while unknown) and coverage.
    const base = await serve(
      createHttpApp({
        logger,
        metrics: createMetrics(),
        apiToken: undefined,
        protectReads: false,
        protectMetrics: false,
        readiness: () => Promise.resolve([]),
        writeRoutes: [],
        readRoutes: [performanceRoutes({ estimation: new EstimationStore(port), now: () => nowMs + 1_000 })],
      }),
    );
    type Body = {
      estimators: { estimators: Record<string, string>; waitingForLabels: boolean } | null;
      results: Array<Record<string, unknown>>;
      nextOffset: number | null;
    };
    const get = async (path: string): Promise<{ status: number; body: Body }> => {
      const response = await fetch(`${base}${path}`);
      return { status: response.status, body: (await response.json()) as Body };
    };
    const all = await get(`/v1/models/fraud/performance?from=${nowMs - 3_600_000}&to=${nowMs + 1_000}`);
    expect(all.status).toBe(200);
    expect(all.body.results).toHaveLength(20);
    expect(all.body.estimators?.estimators).toMatchObject({
      cbpe: 'fitted',
      error_model: 'fitted',
      reconstruction: 'fitted',
    });
    const newest = all.body.results.filter((x) => x['windowEndMs'] === nowMs);
    expect(newest.map((x) => x['metric']).sort()).toEqual([
      'accuracy',
      'f1',
      'precision',
      'recall',
      'roc_auc',
    ]);
    for (const x of newest) {
      expect(x).toMatchObject({ method: 'cbpe', realized: null, labelCoverage: 0, events: 5_000 });
      expect(x['estimatedLower'] as number).toBeLessThan(x['estimated'] as number);
      expect(x['estimatedUpper'] as number).toBeGreaterThan(x['estimated'] as number);
    }
    const first = all.body.results.find((x) => x['windowEndMs'] === ends[0] && x['metric'] === 'accuracy');
    expect(first).toMatchObject({ labelCoverage: 1, labelled: 5_000 });
    expect(typeof first?.['realized']).toBe('number');
    const paged = await get(`/v1/models/demand/performance?metric=mae&limit=3&from=${nowMs - 3_600_000}`);
    expect(paged.body.results.map((x) => x['metric'])).toEqual(['mae', 'mae', 'mae']);
    expect(paged.body.nextOffset).toBe(3);
    const lateStatus = await get('/v1/models/late/performance');
    expect(lateStatus.body.estimators?.waitingForLabels).toBe(true);
    expect(lateStatus.body.estimators?.estimators['cbpe']).toMatch(/1000 needed/);
    const bad = await fetch(`${base}/v1/models/fraud/performance?metric=bogus`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'invalid_query',
      message: expect.stringMatching(/metric/) as unknown,
    });
  });

  it('retunes on estimated performance before any label arrives (retune.triggers.rules), and not on a drift that makes the model better', async () => {
    const { store: port, drop } = await migratedDatabase('monest_retune', ALL_MIGRATIONS, engine);
    cleanups.push(drop);
    const dir = await mkdtemp(path.join(tmpdir(), 'monest-retune-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const nowMs = Math.floor(Date.now() / 60_000) * 60_000;
    const r = rng(23);
    const rows: StreamRows = emptyRows();
    let seq = 0;
    const models = ['fraud', 'shifted', 'steady'];
    for (let i = 0; i < 10_000; i++) {
      const ts = nowMs - 8 * 3_600_000 + i * 500;
      for (const m of models) binaryEvent(rows, r, m, `${m}-${seq++}`, ts, nowMs);
    }
    // Two windows without labels: as the reference; then fraud's inputs crowd at its decision
    // boundary (its accuracy falls, labels will tell in weeks) and shifted's move away from it
    // (every feature drifts, the model gets better).
    const ends = [nowMs - WINDOW_MS, nowMs];
    ends.forEach((end, w) => {
      for (let i = 0; i < 5_000; i++) {
        const ts = end - WINDOW_MS + i * 120;
        binaryEvent(rows, r, 'fraud', `f-${seq++}`, ts, nowMs, { labelled: 0, scale: w === 1 ? 0.25 : 1 });
        binaryEvent(rows, r, 'shifted', `s-${seq++}`, ts, nowMs, { labelled: 0, shift: w === 1 ? 1.2 : 0 });
        binaryEvent(rows, r, 'steady', `t-${seq++}`, ts, nowMs, { labelled: 0 });
      }
    });
    await port.insert('predictions', rows.predictions);
    await port.insert('outcomes', rows.outcomes);

    const model = {
      task: { type: 'classification', classes: ['fraud', 'ok'] },
      window: { type: 'time', durationMs: WINDOW_MS },
      reference: { type: 'first_events', count: 10_000 },
    };
    const script = path.resolve(
      path.dirname(fileURLToPath(import.meta.url)),
      '..',
      'fixtures',
      'trainers',
      'softmax-regression.js',
    );
    const config = compileConfig({
      kafka: { brokers: servicesEnv().kafkaBrokers.split(',') },
      monitoring: { models: Object.fromEntries(models.map((m) => [m, model])) },
      retune: {
        enabled: true,
        trainer: { kind: 'command', argv: [process.execPath, script, 'train', '{params_file}'] },
        // No health state starts a study here: only a breaching estimate does.
        triggers: { states: [], rules: ['estimated:*'], cooldownMs: 0 },
        data: { afterDrift: { minLabelledRows: 800, pollIntervalMs: 200, maxWaitMs: 600_000 } },
        modelStoreDir: path.join(dir, 'models'),
        workDir: path.join(dir, 'work'),
      },
    });
    const registry = new Registry();
    const wiring = createRetuneWiring({
      config,
      store: port,
      kafka: createKafka(config.kafka, logger),
      alerting: new Alerting({ store: port, config: config.alerts, logger, registry }),
      logger,
      registry,
      taskOf: () => 'classification',
    });
    await wiring.retuner.start();
    cleanups.push(() => wiring.retuner.stop());
    const h = harness(port, config.monitoring, (e, health) => wiring.onEvaluated(e, health));

    const first = await h.cycle(ends[0] as number);
    for (const m of models) expect(first.get(m)?.status, m).toBe('ok');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await wiring.retuner.listStudies({})).toEqual([]);

    const second = await h.cycle(nowMs);
    const fraud = second.get('fraud');
    const accuracy = fraud?.estimation?.metrics.find((m) => m.metric === 'accuracy');
    expect(accuracy?.breaching).toBe(true);
    expect(accuracy?.estimated).toBeLessThan(accuracy?.referenceLower ?? 0);
    expect(accuracy?.realized).toBeNull();
    expect(fraud?.labelled).toBe(0);
    expect(breaching(fraud, 'estimated:accuracy')).toBe(true);
    // shifted drifted on every input (critical), but its estimate did not get worse.
    const shifted = second.get('shifted');
    expect(shifted?.status).toBe('critical');
    expect(breaching(shifted, 'model:drift')).toBe(true);
    expect(shifted?.rules.filter((x) => x.rule.startsWith('estimated:') && x.breaching)).toEqual([]);

    const studies = await waitFor(
      async () => {
        const listed = await wiring.retuner.listStudies({});
        return listed.length > 0 ? listed : undefined;
      },
      { timeoutMs: 10_000, description: 'the estimate to start a study' },
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await wiring.retuner.listStudies({})).map((s) => s.model)).toEqual(['fraud']);
    expect(studies[0]).toMatchObject({ model: 'fraud', trigger: 'monitor', state: 'waiting' });
    // It learns from the world after the estimate fell, once labels for it arrive.
    expect(JSON.parse(studies[0]?.window ?? '{}')).toMatchObject({
      policy: 'drift-onset',
      onsetMs: nowMs - WINDOW_MS,
    });
  });
});
