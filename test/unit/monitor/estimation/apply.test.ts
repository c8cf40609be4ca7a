import { describe, expect, it } from 'vitest';
import {
  binnedAggregatesFromRows,
  cbpeAggregatesFromRows,
  confusionMetrics,
  dleAggregatesFromRows,
  labelledScoreAggregatesFromRows,
  momentsFromRows,
} from '../../../../detectors/index.js';
import { applyEstimation } from '../../../../src/monitor/estimation/apply.js';
import { featureColumns, fitEstimators, scoreOf } from '../../../../src/monitor/estimation/fit.js';
import type { EstimationRow } from '../../../../src/monitor/estimation/reference-rows.js';
import type { EstimationAggregates, FittedEstimators } from '../../../../src/monitor/estimation/types.js';
import { outputGrids } from '../../../../src/monitor/estimation/window-reads.js';
import type { DriftRow, LabelAggregates, ModelEvaluation } from '../../../../src/monitor/evaluate.js';
import {
  modelSettings,
  monitoringSchema,
  type MonitoringInput,
  type ResolvedModelSettings,
} from '../../../../src/monitor/options.js';
import { buildReferenceProfile } from '../../../../src/monitor/reference.js';
import { binaryRows, correlatedRows, regressionRows } from './rows.js';

const GRID = 4_096;

function settingsOf(model: NonNullable<MonitoringInput['models']>[string]): ResolvedModelSettings {
  return modelSettings(monitoringSchema.parse({ models: { m: model } }), 'm');
}

function fitted(
  rows: EstimationRow[],
  settings: ResolvedModelSettings,
  task: 'classification' | 'regression' | undefined,
) {
  return fitEstimators({
    rows,
    profile: buildReferenceProfile(
      rows.map((r) => ({ features: r.features })),
      {},
      'first_events',
    ),
    settings,
    task,
    referenceCreatedAtMs: 1,
    nowMs: 2,
  });
}

/** What ClickHouse would return for these window rows (the SQL's specification). */
function aggregatesOf(e: FittedEstimators, rows: readonly EstimationRow[]): EstimationAggregates {
  const out: { -readonly [K in keyof EstimationAggregates]: EstimationAggregates[K] } = {};
  const kindsOf = (inputs: ReadonlyArray<{ name: string; kind: 'numeric' | 'categorical' }>) =>
    new Map(inputs.map((i) => [i.name, i.kind] as const));
  if (e.cbpe !== undefined) {
    const { model, scores } = e.cbpe;
    const scored = rows.filter((r) => scores.classes.every((c) => scoreOf(r, c, scores) !== undefined));
    const columns = scores.classes.map((c) =>
      Float64Array.from(scored, (r) => scoreOf(r, c, scores) as number),
    );
    out.cbpe = cbpeAggregatesFromRows(model, {
      scores: columns,
      predicted: Int32Array.from(scored, (r) => model.classes.indexOf(r.predictionLabel)),
    });
    const labelled = scored.filter((r) => r.label !== null);
    out.labelled = labelledScoreAggregatesFromRows(model, {
      scores: scores.classes.map((c) => Float64Array.from(labelled, (r) => scoreOf(r, c, scores) as number)),
      actual: Int32Array.from(labelled, (r) => model.classes.indexOf(r.label as string)),
    });
  }
  if (e.errorModel !== undefined) {
    const inputs = e.errorModel.inputs;
    out.binned = binnedAggregatesFromRows(
      inputs,
      featureColumns(
        rows,
        inputs.map((i) => i.name),
        kindsOf(inputs),
      ),
    );
  }
  if (e.dle !== undefined) {
    const features = e.dle.inputs.slice(0, -1);
    out.binned = dleAggregatesFromRows(e.dle, {
      features: featureColumns(
        rows,
        features.map((i) => i.name),
        kindsOf(features),
      ),
      predictions: Float64Array.from(rows, (r) => r.predictionNumber ?? Number.NaN),
    });
  }
  if (e.reconstruction !== undefined) {
    const columns = e.reconstruction.columns;
    out.moments = momentsFromRows(
      e.reconstruction,
      featureColumns(
        rows,
        columns.map((c) => c.name),
        kindsOf(columns),
      ),
    );
  }
  const { grids, cells } = outputGrids(e.outputs, GRID);
  const cellCounts = new Map<string, Map<number, number>>();
  const moments = new Map<
    string,
    { count: number; sum: number; sumSquares: number; min: number; max: number }
  >();
  const labels = new Map<string, number>();
  for (const row of rows) {
    if (row.predictionLabel !== '')
      labels.set(row.predictionLabel, (labels.get(row.predictionLabel) ?? 0) + 1);
    for (const spec of e.outputs) {
      const grid = grids.get(spec.name);
      const v =
        spec.source === 'class_score'
          ? row.scores[spec.cls ?? '']
          : spec.source === 'number'
            ? row.predictionNumber
            : spec.source === 'score'
              ? row.score
              : undefined;
      if (grid === undefined || v === undefined || v === null) continue;
      const cell = Math.max(-1, Math.min(cells, Math.floor((v - grid.lo) * grid.inverseWidth))) + 1;
      const c = cellCounts.get(spec.name) ?? new Map<number, number>();
      c.set(cell, (c.get(cell) ?? 0) + 1);
      cellCounts.set(spec.name, c);
      const m = moments.get(spec.name) ?? { count: 0, sum: 0, sumSquares: 0, min: Infinity, max: -Infinity };
      moments.set(spec.name, {
        count: m.count + 1,
        sum: m.sum + v,
        sumSquares: m.sumSquares + v * v,
        min: Math.min(m.min, v),
        max: Math.max(m.max, v),
      });
    }
  }
  out.outputs = { rows: rows.length, cells: cellCounts, moments, labels };
  return out;
}

function confusionOf(rows: readonly EstimationRow[]): LabelAggregates {
  const confusion = new Map<string, Map<string, number>>();
  for (const r of rows) {
    if (r.label === null) continue;
    const row = confusion.get(r.label) ?? new Map<string, number>();
    row.set(r.predictionLabel, (row.get(r.predictionLabel) ?? 0) + 1);
    confusion.set(r.label, row);
  }
  return { kind: 'classification', confusion };
}

function evaluation(rows: number, overrides: Partial<ModelEvaluation> = {}): ModelEvaluation {
  return {
    model: 'm',
    windowStartMs: 0,
    windowEndMs: 600_000,
    evaluatedAtMs: 600_000,
    events: rows,
    drift: [],
    quality: [],
    performance: [],
    labelled: 0,
    coverage: 0,
    status: 'ok',
    reasons: [],
    features: 0,
    driftedFeatures: 0,
    rules: [],
    segment: '',
    segments: [],
    ...overrides,
  };
}

const binaryModel: NonNullable<MonitoringInput['models']>[string] = {
  task: { type: 'classification', classes: ['fraud', 'ok'] },
  performance: [{ metric: 'roc_auc', min: 0.7 }],
};

describe('applying the estimators to a window', () => {
  const settings = settingsOf(binaryModel);
  const estimators = fitted(binaryRows(5_000, { seed: 1 }), settings, 'classification');

  it('on a stationary window without labels: estimates inside their bands, realized unknown, nothing raised', () => {
    const rows = binaryRows(4_000, { seed: 7, labelled: 0 });
    const e = applyEstimation({
      evaluation: evaluation(rows.length),
      settings,
      estimators,
      aggregates: aggregatesOf(estimators, rows),
      labels: confusionOf(rows),
      gridCells: GRID,
    });
    expect(e.status).toBe('ok');
    expect(e.reasons).toEqual([]);
    expect(e.attribution).toBeUndefined();
    expect(e.estimation?.available).toEqual(['cbpe', 'error_model', 'reconstruction', 'outputs']);
    expect(e.estimation?.metrics.map((m) => [m.metric, m.realized, m.breaching])).toEqual([
      ['accuracy', null, false],
      ['precision', null, false],
      ['recall', null, false],
      ['f1', null, false],
      ['roc_auc', null, false],
    ]);
    const accuracy = e.estimation?.metrics[0];
    expect(accuracy?.estimatedLower).toBeLessThan(accuracy?.estimated ?? 0);
    expect(e.rules.find((r) => r.rule === 'estimated:accuracy')).toMatchObject({
      severity: 'warning',
      breaching: false,
    });
    expect(e.rules.find((r) => r.rule === 'model:multivariate_drift')?.breaching).toBe(false);
    expect(e.rules.filter((r) => r.rule.startsWith('drift:__')).map((r) => [r.rule, r.breaching])).toEqual([
      ['drift:__prediction__:default', false],
      ['drift:__score__:fraud:default', false],
      ['drift:__score__:ok:default', false],
    ]);
    expect(e.drift.find((d) => d.feature === '__multivariate__')).toMatchObject({
      kind: 'multivariate',
      detector: 'pca_reconstruction',
      drifted: false,
      windowCount: 4_000,
    });
    // No labels: no realized ROC AUC row.
    expect(e.performance).toEqual([]);
  });

  it('on a window crowded at the decision boundary: the estimate falls out of its band (warning), below its threshold (critical), and features explain it', () => {
    const withThreshold = settingsOf({
      ...binaryModel,
      estimation: { performance: [{ metric: 'accuracy', min: 0.7 }] },
    });
    const rows = binaryRows(4_000, { seed: 8, scale: 0.25 });
    const labels = confusionOf(rows);
    const e = applyEstimation({
      evaluation: evaluation(rows.length, { labelled: rows.length, coverage: 1 }),
      settings: withThreshold,
      estimators,
      aggregates: aggregatesOf(estimators, rows),
      labels,
      gridCells: GRID,
    });
    const accuracy = e.estimation?.metrics.find((m) => m.metric === 'accuracy');
    expect(accuracy?.estimated).toBeLessThan(accuracy?.referenceLower ?? 0);
    expect(accuracy?.estimated).toBeLessThan(0.7);
    expect(accuracy?.breaching).toBe(true);
    // Realized with the estimator's own definitions (binary: the positive class), from the labels.
    const counts = { tp: 0, fp: 0, fn: 0, tn: 0 };
    for (const r of rows) {
      const p = r.predictionLabel === 'fraud';
      const y = r.label === 'fraud';
      counts[p ? (y ? 'tp' : 'fp') : y ? 'fn' : 'tn'] += 1;
    }
    const realized = confusionMetrics([counts], rows.length, true);
    expect(accuracy?.realized).toBeCloseTo(realized.accuracy ?? 0, 12);
    expect(e.estimation?.metrics.find((m) => m.metric === 'f1')?.realized).toBeCloseTo(realized.f1 ?? 0, 12);
    expect(Math.abs((accuracy?.estimated ?? 0) - (accuracy?.realized ?? 0))).toBeLessThan(0.03);
    expect(e.rules.find((r) => r.rule === 'estimated:accuracy')).toMatchObject({
      severity: 'warning',
      breaching: true,
    });
    expect(e.rules.find((r) => r.rule === 'estimated:accuracy:threshold')).toMatchObject({
      severity: 'critical',
      breaching: true,
      threshold: 0.7,
    });
    expect(e.status).toBe('critical');
    expect(e.reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^estimated accuracy 0\.\d+ \(CBPE\) is below its reference band \[0\.\d+, 0\.\d+\]; labels for 100 % of the window$/,
        ),
        expect.stringMatching(/^estimated accuracy 0\.\d+ \(CBPE\) crosses its threshold 0\.7/),
      ]),
    );
    // Realized ROC AUC is a performance row with its configured threshold.
    const auc = e.performance.find((p) => p.metric === 'roc_auc');
    expect(auc?.threshold).toBe(0.7);
    expect(e.rules.find((r) => r.rule === 'performance:roc_auc')?.breaching).toBe(auc?.breaching);
    // Attribution: the top features with their numbers, in a reason and on every breaching rule.
    expect(e.attribution?.features.length).toBeGreaterThan(0);
    expect(e.attribution?.features.length).toBeLessThanOrEqual(5);
    expect(e.attribution?.basis).toContain('performance');
    expect(e.reasons.at(-1)).toMatch(/^explained by: \w+ \d/);
    for (const r of e.rules.filter((x) => x.breaching))
      expect(r.details?.['attribution']).toHaveLength(e.attribution?.features.length ?? -1);
    for (const r of e.rules.filter((x) => !x.breaching)) expect(r.details?.['attribution']).toBeUndefined();
  });

  it('regression: DLE’s losses breach above their band, and the prediction is no feature to blame', () => {
    const reg = settingsOf({ task: { type: 'regression' } });
    const dle = fitted(regressionRows(4_000, { seed: 3 }), reg, 'regression');
    const rows = regressionRows(4_000, { seed: 4, shift: 1.2, labelled: 0 });
    const e = applyEstimation({
      evaluation: evaluation(rows.length),
      settings: reg,
      estimators: dle,
      aggregates: aggregatesOf(dle, rows),
      labels: {
        kind: 'regression',
        sums: {
          count: 0,
          sumAbsError: 0,
          sumSquaredError: 0,
          sumAbsPercentageError: 0,
          sumY: 0,
          sumYSquared: 0,
        },
      },
      gridCells: GRID,
    });
    const mae = e.estimation?.metrics.find((m) => m.metric === 'mae');
    expect(mae?.method).toBe('dle');
    expect(mae?.estimated).toBeGreaterThan(mae?.referenceUpper ?? Infinity);
    expect(mae?.realized).toBeNull();
    expect(e.rules.find((r) => r.rule === 'estimated:mae')?.summary).toMatch(/is above its reference band/);
    expect(e.status).toBe('warning');
    expect(e.attribution?.features[0]?.feature).toBe('x1');
    expect(e.attribution?.features.map((f) => f.feature)).not.toContain('__prediction__');
  });

  it('multivariate drift raises its configured severity and is explained by the features whose correlation changed', () => {
    const s = settingsOf({ estimation: { multivariate: { severity: 'critical' } } });
    const pca = fitted(correlatedRows(3_000, 0.8, 1), s, undefined);
    const rows = correlatedRows(3_000, -0.8, 2);
    const e = applyEstimation({
      evaluation: evaluation(rows.length),
      settings: s,
      estimators: pca,
      aggregates: aggregatesOf(pca, rows),
      labels: undefined,
      gridCells: GRID,
    });
    expect(e.estimation?.multivariate?.alert).toBe(true);
    expect(e.rules.find((r) => r.rule === 'model:multivariate_drift')).toMatchObject({
      severity: 'critical',
      breaching: true,
    });
    expect(e.status).toBe('critical');
    expect(e.attribution?.basis).toEqual(['reconstruction']);
    expect(
      e.attribution?.features
        .slice(0, 2)
        .map((f) => f.feature)
        .sort(),
    ).toEqual(['x1', 'x2']);
  });

  it('without estimators (or without aggregates) a critical model is still explained, by its drift effects', () => {
    const drift = (feature: string, effect: number, drifted: boolean): DriftRow => ({
      feature,
      kind: 'numeric',
      detector: 'default',
      statistic: effect,
      pValue: drifted ? 1e-9 : 0.5,
      effect,
      threshold: 0.05,
      drifted,
      status: drifted ? 'drifted' : 'ok',
      windowCount: 100,
      referenceCount: 100,
      details: {},
    });
    const critical = evaluation(100, {
      status: 'critical',
      reasons: ['1 of 2 features drifted: a'],
      drift: [drift('a', 0.4, true), drift('b', 0.1, false)],
      rules: [
        {
          model: 'm',
          rule: 'model:drift',
          severity: 'critical',
          breaching: true,
          value: 1,
          threshold: 1,
          summary: 'drift',
          windowStartMs: 0,
          windowEndMs: 1,
          evaluatedAtMs: 1,
        },
      ],
    });
    const e = applyEstimation({
      evaluation: critical,
      settings,
      estimators: undefined,
      unavailable: { cbpe: 'the reference was uploaded' },
      aggregates: undefined,
      labels: undefined,
      gridCells: GRID,
    });
    expect(e.estimation).toMatchObject({
      available: [],
      unavailable: { cbpe: 'the reference was uploaded' },
      metrics: [],
    });
    expect(e.attribution?.basis).toEqual(['effect']);
    expect(e.attribution?.features.map((f) => [f.feature, f.score, f.effect])).toEqual([
      ['a', 0.8, 0.4],
      ['b', expect.closeTo(0.2, 12), 0.1],
    ]);
    expect(e.reasons).toEqual(['1 of 2 features drifted: a', 'explained by: a 0.8000, b 0.2000']);
    expect(e.rules[0]?.details?.['attribution']).toHaveLength(2);
    // An ok model is left as it was, with its (empty) report.
    const ok = applyEstimation({
      evaluation: evaluation(100),
      settings,
      estimators,
      aggregates: undefined,
      labels: undefined,
      gridCells: GRID,
    });
    expect(ok).toEqual({
      ...evaluation(100),
      estimation: { available: [], unavailable: {}, metrics: [], estimatedRows: 0, sampleEvery: 1 },
    });
  });
});
