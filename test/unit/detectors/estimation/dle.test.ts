/** DLE (additive loss models over reference bins) against the numpy reference implementation. */
import { describe, expect, it } from 'vitest';
import {
  additiveMean,
  additiveReferenceMean,
  dleAggregatesFromRows,
  estimateDle,
  fitDle,
  windowTerms,
  type InputBins,
} from '../../../../detectors/estimation/index.js';
import { expectAllClose, expectClose, loadCases, toColumn, type JsonColumn } from './fixtures.js';

interface Fit {
  intercept: number;
  coefficients: number[][];
  slopes: number[][];
}
interface Bands {
  estimated: number;
  modelStd: number;
  estimatedLower: number;
  estimatedUpper: number;
  referenceLower: number;
  referenceUpper: number;
}
interface DleCase {
  id: string;
  reference: { features: JsonColumn[]; predictions: number[]; actual: number[] };
  window: { features: JsonColumn[]; predictions: number[] };
  inputs: InputBins[];
  absoluteError: Fit;
  squaredError: Fit;
  jackknifeFirst: { absoluteError: Fit; squaredError: Fit };
  referenceShares: number[][];
  spreads: Record<'mae' | 'rmse', { referenceValue: number; chunkStd: number; chunkRows: number }>;
  windowBinCounts: number[][];
  windowBinSums: number[][];
  mae: Bands;
  rmse: Bands;
  maeContributions: number[];
}

const cases = loadCases<DleCase>('dle-cases.json');

describe.each(cases.map((c) => [c.id, c] as const))('DLE %s', (_id, c) => {
  const model = fitDle({
    features: c.reference.features.map(toColumn),
    predictions: c.reference.predictions,
    actual: c.reference.actual,
  });
  const window = dleAggregatesFromRows(model, {
    features: c.window.features.map(toColumn),
    predictions: c.window.predictions,
  });
  const estimate = estimateDle(model, window);

  it('bins the inputs as numpy does (quantile edges, top categories, other, missing)', () => {
    expect(model.inputs.map((i) => i.name)).toEqual(c.inputs.map((i) => i.name));
    c.inputs.forEach((input, j) => {
      const ours = model.inputs[j] as InputBins;
      if (input.kind === 'numeric' && ours.kind === 'numeric')
        expectAllClose(ours.edges, input.edges, `${input.name} edges`, 0, 0);
      else expect(ours).toEqual(input);
    });
    expect(window.binCounts).toEqual(c.windowBinCounts);
    c.windowBinSums.forEach((sums, j) =>
      expectAllClose(window.binSums[j] ?? [], sums, `bin sums ${j}`, 1e-9, 1e-9),
    );
  });

  it('fits the ridge coefficients numpy.linalg.solve finds', () => {
    expect(model.jackknife.length).toBe(20);
    for (const [ours, theirs, name] of [
      [model.absoluteError, c.absoluteError, 'abs'],
      [model.squaredError, c.squaredError, 'sq'],
      [model.jackknife[0]?.absoluteError, c.jackknifeFirst.absoluteError, 'jackknife 0 abs'],
      [model.jackknife[0]?.squaredError, c.jackknifeFirst.squaredError, 'jackknife 0 sq'],
    ] as const) {
      if (ours === undefined) throw new Error(`${name}: not fitted`);
      // Coefficients of one design: compare relative to the largest, so a coefficient near 0 is not held to 1e-9 of itself.
      const scale = Math.max(
        Math.abs(theirs.intercept),
        ...theirs.coefficients.flat().map(Math.abs),
        ...theirs.slopes.flat().map(Math.abs),
      );
      expectClose(ours.intercept, theirs.intercept, `${name} intercept`, 0, 1e-9 * scale);
      theirs.coefficients.forEach((beta, j) =>
        expectAllClose(ours.coefficients[j] ?? [], beta, `${name} β[${j}]`, 0, 1e-9 * scale),
      );
      theirs.slopes.forEach((gamma, j) =>
        expectAllClose(ours.slopes[j] ?? [], gamma, `${name} γ[${j}]`, 0, 1e-9 * scale),
      );
    }
    c.referenceShares.forEach((s, j) =>
      expectAllClose(model.absoluteError.referenceShares[j] ?? [], s, `shares ${j}`),
    );
  });

  it('estimates MAE and RMSE with their bands, and decomposes the MAE change by input', () => {
    expectClose(model.spreads.mae?.referenceValue, c.spreads.mae.referenceValue, 'mae reference');
    expectClose(model.spreads.mae?.chunkStd, c.spreads.mae.chunkStd, 'mae chunk std');
    expectClose(model.spreads.rmse?.chunkStd, c.spreads.rmse.chunkStd, 'rmse chunk std');
    for (const [metric, want] of [
      ['mae', c.mae],
      ['rmse', c.rmse],
    ] as const) {
      const m = estimate.metrics.find((x) => x.metric === metric);
      expectClose(m?.estimated, want.estimated, `${metric} estimated`);
      expectClose(m?.modelStd, want.modelStd, `${metric} model std`);
      expectClose(m?.estimatedLower, want.estimatedLower, `${metric} lower`);
      expectClose(m?.estimatedUpper, want.estimatedUpper, `${metric} upper`);
      expectClose(m?.referenceLower, want.referenceLower, `${metric} reference lower`);
      expectClose(m?.referenceUpper, want.referenceUpper, `${metric} reference upper`);
    }
    expectAllClose(
      estimate.maeContributions.map((x) => x.value),
      c.maeContributions,
      'contributions',
      1e-9,
      1e-12,
    );
    // The contributions add up to the change of the model's mean from the reference's.
    const refMean = additiveReferenceMean(model.absoluteError);
    const total = estimate.maeContributions.reduce((s, x) => s + x.value, 0);
    const windowMean = additiveMean(model.absoluteError, windowTerms(model.absoluteError, window));
    expect(Math.abs(total - (windowMean - refMean))).toBeLessThan(1e-12);
  });
});

describe('DLE on a shifted window', () => {
  it('sees the larger error where x1 moved (the noise grows with |x1|) and blames x1 first', () => {
    const c = cases.find((x) => x.id === 'regression-shift-x1') as DleCase;
    const model = fitDle({
      features: c.reference.features.map(toColumn),
      predictions: c.reference.predictions,
      actual: c.reference.actual,
    });
    const e = estimateDle(
      model,
      dleAggregatesFromRows(model, {
        features: c.window.features.map(toColumn),
        predictions: c.window.predictions,
      }),
    );
    expect(e.metrics[0]?.estimated).toBeGreaterThan(model.spreads.mae?.referenceValue as number);
    const top = [...e.maeContributions].sort((a, b) => Math.abs(b.value) - Math.abs(a.value))[0];
    expect(['x1', '__prediction__']).toContain(top?.input);
  });
});

describe('DLE input checks', () => {
  const c = cases[0] as DleCase;
  const model = fitDle({
    features: c.reference.features.map(toColumn),
    predictions: c.reference.predictions,
    actual: c.reference.actual,
  });
  it('refuses bin counts that do not fit the model', () => {
    const w = dleAggregatesFromRows(model, {
      features: c.window.features.map(toColumn),
      predictions: c.window.predictions,
    });
    expect(() => estimateDle(model, { ...w, count: w.count + 1 })).toThrow(
      /bin counts sum to \d+, the window has/,
    );
    expect(() => estimateDle(model, { ...w, binCounts: w.binCounts.slice(1) })).toThrow(
      /bin counts for 3 and bin sums for 4 inputs, the model has 4/,
    );
    expect(() => estimateDle(model, { ...w, binCounts: [[1], ...w.binCounts.slice(1)] })).toThrow(
      /input x1: 1 bin counts, expected 11/,
    );
    expect(() => estimateDle(model, { ...w, count: 0 })).toThrow(/count must be > 0/);
    expect(() => estimateDle(model, { ...w, binSums: [[], ...w.binSums.slice(1)] })).toThrow(
      /x1: 0 bin sums, expected 10/,
    );
    expect(() =>
      estimateDle(model, { ...w, binSums: [...w.binSums.slice(0, 2), [1], w.binSums[3] ?? []] }),
    ).toThrow(/region is categorical: its bin sums must be \[\]/);
  });
  it('refuses references with non-finite targets or ragged columns', () => {
    const ref = {
      features: c.reference.features.map(toColumn),
      predictions: c.reference.predictions,
      actual: c.reference.actual,
    };
    expect(() => fitDle({ ...ref, actual: [Number.NaN, ...c.reference.actual.slice(1)] })).toThrow(
      /row 0: actual NaN/,
    );
    expect(() => fitDle({ ...ref, predictions: c.reference.predictions.slice(1) })).toThrow(
      /__prediction__ has \d+ values/,
    );
  });
});

describe('DLE model as JSON', () => {
  it('estimates the same after a round trip through a JSON string', () => {
    const c = cases[0] as DleCase;
    const model = fitDle({
      features: c.reference.features.map(toColumn),
      predictions: c.reference.predictions,
      actual: c.reference.actual,
    });
    const w = dleAggregatesFromRows(model, {
      features: c.window.features.map(toColumn),
      predictions: c.window.predictions,
    });
    const restored = JSON.parse(JSON.stringify(model)) as typeof model;
    expect(estimateDle(restored, w)).toEqual(estimateDle(model, w));
  });
});
