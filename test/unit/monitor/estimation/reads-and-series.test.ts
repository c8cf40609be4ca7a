import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  binnedAggregates,
  cbpeAggregates,
  labelledAggregates,
  momentAggregates,
} from '../../../../src/monitor/estimation/window-reads.js';
import { estimationSeries } from '../../../../src/monitor/estimation/series.js';
import { cbpeHistogramBranch, sqlFloat, unionAll } from '../../../../src/monitor/estimation/window-sql.js';
import type { ModelEvaluation } from '../../../../src/monitor/evaluate.js';
import { createMonitorMetrics } from '../../../../src/monitor/metrics.js';

describe('estimation aggregates from ClickHouse rows', () => {
  it('places score-histogram rows by class, prediction and cell; the count is the first class’s rows', () => {
    const got = cbpeAggregates(
      [
        { t: 0, predicted: 1, cell: 2, n: '3', s: 1.5 },
        { t: 0, predicted: 0, cell: 0, n: '1', s: 0.01 },
        { t: 1, predicted: 1, cell: 3, n: '4', s: 2.9 },
        { t: 5, predicted: 1, cell: 1, n: '9', s: 9 }, // no such class: ignored
        { t: 0, predicted: 1, cell: 4, n: '9', s: 9 }, // outside the grid: ignored
      ],
      2,
      4,
    );
    expect(got.count).toBe(4);
    expect(got.classes[0]?.predicted).toEqual({ counts: [0, 0, 3, 0], sumScores: [0, 0, 1.5, 0] });
    expect(got.classes[0]?.other).toEqual({ counts: [1, 0, 0, 0], sumScores: [0.01, 0, 0, 0] });
    expect(got.classes[1]?.predicted.counts).toEqual([0, 0, 0, 4]);
    expect(labelledAggregates([{ t: 0, cell: 1, positives: '2', negatives: 5 }], 1, 3)).toEqual({
      classes: [{ positives: [0, 2, 0], negatives: [0, 5, 0] }],
    });
  });

  it('places bins by 1-based input; categorical inputs have no sums; an empty window has zero moments', () => {
    const got = binnedAggregates(
      [
        { j: 1, b: 0, n: '2', s: -3 },
        { j: 1, b: 2, n: '1', s: 0 }, // the missing bin: a count, no sum
        { j: 2, b: 1, n: '3', s: 0 },
      ],
      [
        { name: 'x', kind: 'numeric', edges: [0], centers: [-1, 1], scale: 1 },
        { name: 'c', kind: 'categorical', categories: ['a'] },
      ],
    );
    expect(got).toEqual({
      count: 3,
      binCounts: [
        [2, 0, 1],
        [0, 3, 0],
      ],
      binSums: [[-3, 0], []],
    });
    expect(momentAggregates({ n: '0', s: [], p: [] }, 2)).toEqual({
      count: 0,
      sum: [0, 0],
      sumOfProducts: [0, 0, 0],
    });
    expect(momentAggregates({ n: '2', s: [1, 2], p: [3, 4, 5] }, 2)).toEqual({
      count: 2,
      sum: [1, 2],
      sumOfProducts: [3, 4, 5],
    });
  });

  it('binds names and numbers through kernel/sql.ts: quotes escaped, floats at full precision', () => {
    const sql = cbpeHistogramBranch(
      '`db`',
      { model: "o'brien", window: { startMs: 0, endMs: 60_000 }, sampleEvery: 3 },
      { classes: ["it's"], singleScore: true },
      { lo: 0, hi: 1, cells: 1000 },
    );
    expect(sql).toContain("'o\\'brien' AS model");
    expect(sql).toContain("['it\\'s']");
    expect(sql).not.toMatch(/[^\\]'s'/);
    // A window larger than maxWindowRows is read on the deterministic sample by time slices.
    expect(sql).toContain('ts_ms % 1248 < 416 AND ((ts >= toDateTime(0) AND ts <= toDateTime(0)) OR');
    expect(sqlFloat(1)).toBe('1.');
    expect(sqlFloat(0.1)).toBe('0.10000000000000001');
    expect(Number(sqlFloat(0.1))).toBe(0.1);
    expect(unionAll(['SELECT 1', 'SELECT 2'])).toBe(
      'SELECT * FROM (SELECT 1)\nUNION ALL\nSELECT * FROM (SELECT 2)',
    );
  });
});

describe('estimation gauges', () => {
  it('are bounded per model: metrics and bounds, the reconstruction error, estimators, at most 5 features', async () => {
    const registry = new Registry();
    const m = createMonitorMetrics(registry);
    const e = {
      model: 'fraud',
      estimation: {
        available: ['cbpe', 'reconstruction'],
        unavailable: { error_model: 'too few labels', cbpe: 'x' },
        metrics: [
          {
            metric: 'accuracy',
            method: 'cbpe',
            estimated: 0.8,
            estimatedLower: 0.78,
            estimatedUpper: 0.82,
            referenceValue: 0.9,
            referenceLower: 0.88,
            referenceUpper: 0.92,
            realized: null,
            threshold: null,
            breaching: true,
            details: {},
          },
          {
            metric: 'roc_auc',
            method: 'cbpe',
            estimated: null,
            estimatedLower: null,
            estimatedUpper: null,
            referenceValue: null,
            referenceLower: null,
            referenceUpper: null,
            realized: null,
            threshold: null,
            breaching: false,
            details: {},
          },
        ],
        multivariate: {
          error: 1.2,
          referenceValue: 1,
          lower: 0.9,
          upper: 1.1,
          alert: true,
          count: 10,
          contributions: [],
        },
        estimatedRows: 10,
      },
      attribution: {
        basis: ['reconstruction'],
        features: [
          {
            feature: 'x1',
            rank: 1,
            score: 0.6,
            effect: undefined,
            reconstruction: 0.3,
            performance: undefined,
          },
        ],
      },
    } as unknown as ModelEvaluation;
    const text = await (async () => {
      for (const [gauge, labels, value] of estimationSeries(e, m)) gauge.set(labels, value);
      return registry.metrics();
    })();
    expect(text).toMatch(/driftguard_estimated_performance\{model="fraud",metric="accuracy"\} 0\.8/);
    expect(text).toMatch(/driftguard_estimated_performance_breaching\{model="fraud",metric="accuracy"\} 1/);
    expect(text).not.toMatch(/metric="roc_auc"/);
    expect(text).toMatch(/driftguard_multivariate_drift_band_upper\{model="fraud"\} 1\.1/);
    expect(text).toMatch(/driftguard_estimator_available\{model="fraud",estimator="cbpe"\} 1/);
    expect(text).toMatch(/driftguard_estimator_available\{model="fraud",estimator="error_model"\} 0/);
    expect(text).toMatch(/driftguard_feature_attribution_score\{model="fraud",feature="x1"\} 0\.6/);
    expect(estimationSeries(e, m)).toHaveLength(4 + 3 + 3 + 1);
  });
});
