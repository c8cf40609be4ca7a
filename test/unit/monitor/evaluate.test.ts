import { describe, expect, it } from 'vitest';
import {
  binIndex,
  buildNumericProfile,
  buildNumericReferenceProfile,
  gridOf,
} from '../../../detectors/index.js';
import { partitionOf } from '../../../src/coordination/ownership.js';
import {
  evaluateModel,
  numericAggregatesFromCells,
  type FeatureMoments,
} from '../../../src/monitor/evaluate.js';
import { modelSettings, monitoringSchema } from '../../../src/monitor/options.js';
import { featureGrid } from '../../../src/monitor/queries.js';
import { buildReferenceProfile, parseSample } from '../../../src/monitor/reference.js';
import { normal, rng } from '../../support/random.js';

/** What ClickHouse computes in numericHistogramQuery and numericMomentsQuery, done in JS. */
function cellsOf(
  values: readonly number[],
  grid: ReturnType<typeof featureGrid>,
  cells: number,
): Map<number, number> {
  const acc = new Map<number, number>();
  for (const v of values) {
    const cell = Math.max(-1, Math.min(cells, Math.floor((v - grid.lo) * grid.inverseWidth))) + 1;
    acc.set(cell, (acc.get(cell) ?? 0) + 1);
  }
  return acc;
}
function momentsOf(values: readonly number[]): FeatureMoments {
  return {
    count: values.length,
    sum: values.reduce((a, b) => a + b, 0),
    sumSquares: values.reduce((a, b) => a + b * b, 0),
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

describe('binIndex (maps grid cells to reference bins)', () => {
  it('counts edges strictly below', () => {
    expect(binIndex([], 1)).toBe(0);
    expect(binIndex([1, 2, 3], 0)).toBe(0);
    expect(binIndex([1, 2, 3], 2)).toBe(1);
    expect(binIndex([1, 2, 3], 2.5)).toBe(2);
    expect(binIndex([1, 2, 3], 9)).toBe(3);
  });
});

describe('numericAggregatesFromCells', () => {
  it('matches the exact profile closely for continuous data (grid approximation)', () => {
    const r = rng(1);
    const ref = buildNumericReferenceProfile(Array.from({ length: 5000 }, () => normal(r)));
    const cur = Array.from({ length: 5000 }, () => normal(r) + 0.1);
    const grid = featureGrid('x', ref, 4096);
    const got = numericAggregatesFromCells(ref, grid, 4096, cellsOf(cur, grid, 4096), momentsOf(cur), 0);
    const exact = buildNumericProfile(cur, gridOf(ref));
    expect(got.count).toBe(exact.count);
    expect(got.min).toBe(exact.min);
    expect(got.max).toBe(exact.max);
    expect(got.mean).toBeCloseTo(exact.mean, 9);
    expect(got.m2 / got.count).toBeCloseTo(exact.m2 / exact.count, 6);
    const diffBins = got.binCounts.reduce((s, c, i) => s + Math.abs(c - (exact.binCounts[i] ?? 0)), 0);
    expect(diffBins / exact.count).toBeLessThan(0.005);
    // A value can only move to the neighbouring sketch cell, so the CDF at every sketch edge is off
    // by at most one grid cell's mass: that is the error KS and W1 from profiles inherit.
    let cumGot = 0;
    let cumExact = 0;
    let worst = 0;
    got.sketchCounts.forEach((c, i) => {
      cumGot += c;
      cumExact += exact.sketchCounts[i] ?? 0;
      worst = Math.max(worst, Math.abs(cumGot - cumExact));
    });
    expect(worst / exact.count).toBeLessThan(0.002);
  });

  it('is exact for a discrete feature (values on the distinct grid)', () => {
    const r = rng(2);
    const ref = buildNumericReferenceProfile(Array.from({ length: 2000 }, () => Math.floor(r() * 20)));
    expect(ref.sketchKind).toBe('distinct');
    const cur = Array.from({ length: 3000 }, () => Math.floor(r() * 25) - 2);
    const grid = featureGrid('x', ref, 4096);
    const got = numericAggregatesFromCells(ref, grid, 4096, cellsOf(cur, grid, 4096), momentsOf(cur), 0);
    const exact = buildNumericProfile(cur, gridOf(ref));
    expect(got.sketchCounts).toEqual(exact.sketchCounts);
    expect(got.binCounts).toEqual(exact.binCounts);
  });

  it('handles an empty window and a constant reference', () => {
    const ref = buildNumericReferenceProfile([5, 5, 5, 5]);
    const grid = featureGrid('x', ref, 64);
    const empty = numericAggregatesFromCells(ref, grid, 64, new Map(), undefined, 3);
    expect(empty.count).toBe(0);
    expect(empty.missing).toBe(3);
    const some = numericAggregatesFromCells(
      ref,
      grid,
      64,
      cellsOf([5, 5, 6, 4], grid, 64),
      momentsOf([5, 5, 6, 4]),
      0,
    );
    expect(some.sketchCounts).toEqual(buildNumericProfile([5, 5, 6, 4], gridOf(ref)).sketchCounts);
  });
});

describe('evaluateModel', () => {
  const config = monitoringSchema.parse({});
  const settings = modelSettings(config, 'm');
  const r = rng(3);
  const sample = Array.from({ length: 3000 }, () => ({
    features: { x: normal(r), c: ['a', 'b', 'c'][Math.floor(r() * 3)] ?? 'a' },
  }));
  const reference = buildReferenceProfile(sample, {}, 'test');
  const xProfile = reference.features['x'];
  if (xProfile?.kind !== 'numeric') throw new Error('x should be numeric');
  const grid = featureGrid('x', xProfile.profile, 4096);
  const run = (
    shift: number,
    categories: Record<string, number>,
    extra: Partial<{ newFeatures: string[]; missingX: number }> = {},
  ) => {
    const xs = Array.from({ length: 3000 }, () => normal(r) + shift);
    return evaluateModel({
      model: 'm',
      settings,
      reference,
      grids: new Map([['x', grid]]),
      cells: 4096,
      window: { startMs: 0, endMs: 1000 },
      evaluatedAtMs: 1000,
      aggregates: {
        events: 3000,
        numericCells: new Map([['x', cellsOf(xs, grid, 4096)]]),
        numericMoments: new Map([['x', momentsOf(xs)]]),
        categories: new Map([['c', new Map(Object.entries(categories))]]),
        missing: new Map([['x', extra.missingX ?? 0]]),
        newFeatures: extra.newFeatures ?? [],
      },
    });
  };

  it('is ok on a stationary window and emits the rule evaluations', () => {
    const e = run(0, { a: 1000, b: 1000, c: 1000 });
    expect(e.status).toBe('ok');
    expect(e.rules.find((x) => x.rule === 'model:drift')?.breaching).toBe(false);
    expect(e.rules.map((x) => x.rule)).toContain('drift:x:default');
    expect(e.drift.filter((d) => d.feature === 'x').map((d) => d.detector)).toEqual([
      'ks',
      'wasserstein',
      'psi',
      'default',
    ]);
  });

  it('goes critical on a shift, names the feature, and flags quality problems as warnings', () => {
    const e = run(1, { a: 1000, b: 1000, c: 1000 });
    expect(e.status).toBe('critical');
    expect(e.reasons[0]).toContain('x');
    expect(e.rules.find((x) => x.rule === 'model:drift')).toMatchObject({
      breaching: true,
      severity: 'critical',
    });
    const q = run(0, { a: 1000, b: 1000, zz: 1000 }, { newFeatures: ['y'], missingX: 1500 });
    const breaching = q.quality.filter((x) => x.breaching).map((x) => `${x.rule}:${x.feature}`);
    expect(breaching).toEqual(
      expect.arrayContaining(['unseen_category:c', 'missing_rate:x', 'new_feature:y']),
    );
  });

  it('computes performance from confusion counts with coverage', () => {
    const s = modelSettings(
      monitoringSchema.parse({
        models: {
          m: {
            task: { type: 'classification', classes: ['yes', 'no'] },
            performance: [{ metric: 'accuracy', min: 0.9 }],
          },
        },
      }),
      'm',
    );
    const e = evaluateModel({
      model: 'm',
      settings: s,
      reference,
      grids: new Map([['x', grid]]),
      cells: 4096,
      window: { startMs: 0, endMs: 1000 },
      evaluatedAtMs: 1000,
      aggregates: {
        events: 200,
        numericCells: new Map(),
        numericMoments: new Map(),
        categories: new Map(),
        missing: new Map(),
        newFeatures: [],
        labels: {
          kind: 'classification',
          confusion: new Map([
            [
              'yes',
              new Map([
                ['yes', 40],
                ['no', 10],
              ]),
            ],
            [
              'no',
              new Map([
                ['yes', 10],
                ['no', 40],
              ]),
            ],
          ]),
        },
      },
    });
    expect(e.labelled).toBe(100);
    expect(e.coverage).toBe(0.5);
    expect(e.performance.find((p) => p.metric === 'accuracy')).toMatchObject({ value: 0.8, breaching: true });
    expect(e.rules.find((x) => x.rule === 'performance:accuracy')?.breaching).toBe(true);
  });
});

describe('samples and ownership', () => {
  it('parses JSON lines and CSV samples', () => {
    expect(parseSample('{"features":{"a":1,"b":"x"}}\n{"a":2,"b":null}\n')).toEqual([
      { features: { a: 1, b: 'x' } },
      { features: { a: 2, b: null } },
    ]);
    expect(parseSample('a,b\n1,x\n,y\n')).toEqual([
      { features: { a: 1, b: 'x' } },
      { features: { a: null, b: 'y' } },
    ]);
    expect(() => parseSample('a,b\n1\n')).toThrow(/2 cells|1 cells/);
  });

  it('hashes a model to a stable partition', () => {
    expect(partitionOf('credit', 16)).toBe(partitionOf('credit', 16));
    const spread = new Set(Array.from({ length: 100 }, (_, i) => partitionOf(`m${i}`, 4)));
    expect(spread.size).toBe(4);
  });
});
