/** PCA reconstruction from moments against the numpy reference (eigh, explicit rows). */
import { describe, expect, it } from 'vitest';
import {
  evaluateReconstruction,
  fitReconstruction,
  momentsFromRows,
  packedIndex,
  type EncodedColumn,
  type FeatureColumn,
  type MomentAggregates,
} from '../../../../detectors/estimation/index.js';
import { expectAllClose, expectClose, loadCases, toColumn, type JsonColumn } from './fixtures.js';

interface PcaCase {
  id: string;
  varianceThreshold: number;
  reference: JsonColumn[];
  window: JsonColumn[];
  columns: EncodedColumn[];
  center: number[];
  eigenvalues: number[];
  kept: number;
  projector: number[][];
  spread: { referenceValue: number; chunkStd: number; chunkRows: number };
  observedChunkStd: number;
  rowStd: number;
  referenceContributions: number[];
  moments: MomentAggregates;
  error: number;
  band: { lower: number; upper: number };
  alert: boolean;
  contributions: number[];
}

const cases = loadCases<PcaCase>('reconstruction-cases.json');

describe.each(cases.map((c) => [c.id, c] as const))('PCA reconstruction %s', (_id, c) => {
  const model = fitReconstruction(c.reference.map(toColumn), { varianceThreshold: c.varianceThreshold });
  const moments = momentsFromRows(model, c.window.map(toColumn));
  const result = evaluateReconstruction(model, moments);

  it('encodes (standardised numerics, frequency-encoded categories) as the reference does', () => {
    c.columns.forEach((want, j) => {
      const ours = model.columns[j] as EncodedColumn;
      expect(ours.name).toBe(want.name);
      expect(ours.kind).toBe(want.kind);
      expectClose(ours.mean, want.mean, `${want.name} mean`, 1e-9, 1e-12);
      expectClose(ours.scale, want.scale, `${want.name} scale`);
      if (want.kind === 'categorical' && ours.kind === 'categorical') {
        expect(Object.keys(ours.frequencies).sort()).toEqual(Object.keys(want.frequencies).sort());
        for (const [k, f] of Object.entries(want.frequencies))
          expectClose(ours.frequencies[k], f, `${want.name}=${k}`);
      }
    });
    expectAllClose(model.center, c.center, 'center', 0, 1e-12);
  });

  it('finds the eigenvalues, kept components and projector numpy finds', () => {
    expectAllClose(model.eigenvalues, c.eigenvalues, 'eigenvalues', 0, 1e-12 * (c.eigenvalues[0] as number));
    expect(model.components.length).toBe(c.kept);
    c.projector.forEach((row, i) => expectAllClose(model.projector[i] ?? [], row, `P[${i}]`, 0, 1e-10));
    expectAllClose(
      model.referenceContributions,
      c.referenceContributions,
      'reference contributions',
      1e-9,
      1e-10,
    );
    expectClose(model.spread.referenceValue, c.spread.referenceValue, 'reference error');
    expectClose(model.spread.chunkStd, c.spread.chunkStd, 'band chunk std');
    expectClose(model.observedChunkStd, c.observedChunkStd, 'observed chunk std');
    expectClose(model.rowStd, c.rowStd, 'row std');
  });

  it('computes the window error from moments exactly as from rows', () => {
    expect(moments.count).toBe(c.moments.count);
    expectAllClose(moments.sum, c.moments.sum, 'Σz', 1e-9, 1e-9);
    expectAllClose(moments.sumOfProducts, c.moments.sumOfProducts, 'Σzzᵀ', 1e-9, 1e-9);
    expectClose(result.error, c.error, 'window error');
    expectClose(result.band.lower, c.band.lower, 'band lower');
    expectClose(result.band.upper, c.band.upper, 'band upper');
    expect(result.alert).toBe(c.alert);
    expectAllClose(
      result.contributions.map((x) => x.value),
      c.contributions,
      'contributions',
      1e-9,
      1e-10,
    );
    const total = result.contributions.reduce((s, x) => s + x.value, 0);
    expect(Math.abs(total - (result.error - result.referenceValue))).toBeLessThan(1e-10);
  });
});

describe('PCA reconstruction', () => {
  const flip = cases.find((c) => c.id === 'correlation-flip') as PcaCase;
  const model = fitReconstruction(flip.reference.map(toColumn));

  it('fires on a flipped correlation and blames the two features whose correlation flipped', () => {
    const r = evaluateReconstruction(model, momentsFromRows(model, flip.window.map(toColumn)));
    expect(r.alert).toBe(true);
    const top = [...r.contributions].sort((a, b) => Math.abs(b.value) - Math.abs(a.value)).slice(0, 2);
    expect(top.map((t) => t.feature).sort()).toEqual(['x1', 'x2']);
  });

  it('adds moments: two halves of a window give the whole window', () => {
    const cols = flip.window.map(toColumn);
    const half = (from: number, to: number): FeatureColumn[] =>
      cols.map((c) =>
        c.kind === 'numeric'
          ? { ...c, values: Float64Array.prototype.slice.call(c.values, from, to) }
          : { ...c, values: c.values.slice(from, to) },
      );
    const a = momentsFromRows(model, half(0, 400));
    const b = momentsFromRows(model, half(400, 1000));
    const merged: MomentAggregates = {
      count: a.count + b.count,
      sum: a.sum.map((v, i) => v + (b.sum[i] as number)),
      sumOfProducts: a.sumOfProducts.map((v, i) => v + (b.sumOfProducts[i] as number)),
    };
    const whole = evaluateReconstruction(model, momentsFromRows(model, cols));
    expect(Math.abs(evaluateReconstruction(model, merged).error - whole.error)).toBeLessThan(1e-12);
  });

  it('packs the upper triangle row by row', () => {
    expect([
      packedIndex(3, 0, 0),
      packedIndex(3, 0, 2),
      packedIndex(3, 1, 1),
      packedIndex(3, 2, 1),
      packedIndex(3, 2, 2),
    ]).toEqual([0, 2, 3, 4, 5]);
  });

  it('refuses inputs it cannot use, saying what was expected', () => {
    const ref = flip.reference.map(toColumn);
    expect(() => fitReconstruction(ref.slice(0, 1))).toThrow(/at least 2 features/);
    expect(() => fitReconstruction(ref, { varianceThreshold: 1 })).toThrow(
      /varianceThreshold must be in \(0, 1\)/,
    );
    const m = momentsFromRows(model, flip.window.map(toColumn));
    expect(() => evaluateReconstruction(model, { ...m, sum: m.sum.slice(1) })).toThrow(
      /the model has 6 columns, so 6 and 21/,
    );
    expect(() => evaluateReconstruction(model, { ...m, count: 0 })).toThrow(/count must be > 0/);
    expect(() => evaluateReconstruction(model, { ...m, sum: m.sum.map(() => Number.NaN) })).toThrow(
      /must be finite/,
    );
    expect(() => momentsFromRows(model, [...flip.window.map(toColumn)].reverse())).toThrow(
      /the model expects numeric x1/,
    );
  });
});

describe('reconstruction model as JSON', () => {
  it('evaluates the same after a round trip through a JSON string', () => {
    const c = cases[0] as PcaCase;
    const model = fitReconstruction(c.reference.map(toColumn));
    const m = momentsFromRows(model, c.window.map(toColumn));
    const restored = JSON.parse(JSON.stringify(model)) as typeof model;
    expect(evaluateReconstruction(restored, m)).toEqual(evaluateReconstruction(model, m));
  });
});
