/** CBPE against the numpy/sklearn reference implementation (scripts/estimation/gen-fixtures.py). */
import { describe, expect, it } from 'vitest';
import {
  cbpeAggregatesFromRows,
  estimateCbpe,
  fitCbpe,
  labelledScoreAggregatesFromRows,
  realizedRocAucFromAggregates,
  type CbpeMetric,
  type ClassCalibrators,
  type ClassificationReference,
} from '../../../../detectors/estimation/index.js';
import { expectAllClose, expectClose, loadCases } from './fixtures.js';

interface Rows {
  scores: number[][];
  predicted: number[];
  actual: number[];
}
interface Spread {
  referenceValue: number;
  chunkRows: number;
  chunkStd: number;
  chunks: number;
  referenceRows: number;
}
interface Calibrators {
  predicted: { x: number[]; y: number[] };
  other: { x: number[]; y: number[] };
  predictedSource: string;
  otherSource: string;
}
interface CbpeCase {
  id: string;
  classes: string[];
  scoreCells: number;
  minGroupRows: number;
  reference: Rows;
  window: Rows;
  model: {
    grid: { lo: number; hi: number; cells: number };
    calibrators: Calibrators[];
    jackknifeFirst: Calibrators[];
    spreads: Partial<Record<CbpeMetric, Spread>>;
  };
  windowAggregates: {
    count: number;
    classes: {
      predicted: { counts: number[]; sumScores: number[] };
      other: { counts: number[]; sumScores: number[] };
    }[];
  };
  expectedCounts: { tp: number; fp: number; fn: number; tn: number }[];
  gridErrorShare: number;
  aucTieBound: number;
  metrics: {
    metric: CbpeMetric;
    estimated: number | null;
    rowLevel: number;
    calibrationStd: number;
    estimatedLower?: number;
    estimatedUpper?: number;
    referenceLower?: number;
    referenceUpper?: number;
  }[];
  realized: { rocAucBinned: number; tieBound: number } & Record<CbpeMetric, number | null>;
}

const cases = loadCases<CbpeCase>('cbpe-cases.json');

function compareCalibrators(name: string, fitted: readonly ClassCalibrators[], want: Calibrators[]): void {
  expect(fitted.length, name).toBe(want.length);
  want.forEach((cal, k) => {
    const ours = fitted[k];
    expect(ours?.predictedSource, `${name} class ${k}`).toBe(cal.predictedSource);
    expect(ours?.otherSource, `${name} class ${k}`).toBe(cal.otherSource);
    expectAllClose(ours?.predicted.x ?? [], cal.predicted.x, `${name} class ${k} predicted knots`, 0, 0);
    expectAllClose(ours?.predicted.y ?? [], cal.predicted.y, `${name} class ${k} predicted values`);
    expectAllClose(ours?.other.x ?? [], cal.other.x, `${name} class ${k} other knots`, 0, 0);
    expectAllClose(ours?.other.y ?? [], cal.other.y, `${name} class ${k} other values`);
  });
}
const reference = (c: CbpeCase): ClassificationReference => ({
  classes: c.classes,
  scores: c.reference.scores,
  predicted: c.reference.predicted,
  actual: c.reference.actual,
});

describe.each(cases.map((c) => [c.id, c] as const))('CBPE %s', (_id, c) => {
  const model = fitCbpe(reference(c), { scoreCells: c.scoreCells, minGroupRows: c.minGroupRows });
  const window = cbpeAggregatesFromRows(model, { scores: c.window.scores, predicted: c.window.predicted });
  const estimate = estimateCbpe(model, window);

  it('fits the same grid, calibrators (sklearn isotonic per prediction group), jackknife and chunk spreads', () => {
    expect(model.grid).toEqual(c.model.grid);
    expect(model.jackknife.length).toBe(20);
    compareCalibrators('fit', model.calibrators, c.model.calibrators);
    compareCalibrators('jackknife 0', model.jackknife[0] ?? [], c.model.jackknifeFirst);
    for (const [metric, spread] of Object.entries(c.model.spreads) as [CbpeMetric, Spread][]) {
      const ours = model.spreads[metric];
      expect(ours?.chunkRows).toBe(spread.chunkRows);
      expect(ours?.chunks).toBe(spread.chunks);
      expectClose(ours?.referenceValue, spread.referenceValue, `${metric} reference value`);
      expectClose(ours?.chunkStd, spread.chunkStd, `${metric} chunk std`);
    }
    expect(Object.keys(model.spreads).sort()).toEqual(Object.keys(c.model.spreads).sort());
  });

  it('builds the window histograms the SQL must produce', () => {
    expect(window.count).toBe(c.windowAggregates.count);
    c.windowAggregates.classes.forEach((h, k) => {
      expect(window.classes[k]?.predicted.counts).toEqual(h.predicted.counts);
      expect(window.classes[k]?.other.counts).toEqual(h.other.counts);
      expectAllClose(window.classes[k]?.predicted.sumScores ?? [], h.predicted.sumScores, 'predicted sums');
      expectAllClose(window.classes[k]?.other.sumScores ?? [], h.other.sumScores, 'other sums');
    });
  });

  it('estimates the expected confusion counts, metrics and bands of the reference implementation', () => {
    c.expectedCounts.forEach((e, k) => {
      const ours = estimate.expectedCounts[k];
      expectClose(ours?.tp, e.tp, `tp[${k}]`);
      expectClose(ours?.fp, e.fp, `fp[${k}]`);
      expectClose(ours?.fn, e.fn, `fn[${k}]`);
      expectClose(ours?.tn, e.tn, `tn[${k}]`);
    });
    expectClose(estimate.gridErrorShare, c.gridErrorShare, 'grid error share');
    expectClose(estimate.aucTieBound, c.aucTieBound, 'AUC tie bound');
    for (const m of c.metrics) {
      const ours = estimate.metrics.find((x) => x.metric === m.metric);
      expectClose(ours?.estimated, m.estimated, `${m.metric} estimated`);
      expectClose(ours?.calibrationStd, m.calibrationStd, `${m.metric} calibration std`);
      expectClose(ours?.estimatedLower, m.estimatedLower, `${m.metric} lower`);
      expectClose(ours?.estimatedUpper, m.estimatedUpper, `${m.metric} upper`);
      expectClose(ours?.referenceLower, m.referenceLower, `${m.metric} reference lower`);
      expectClose(ours?.referenceUpper, m.referenceUpper, `${m.metric} reference upper`);
    }
  });

  it('stays within its stated grid bounds of row-level CBPE (every row calibrated, no grid)', () => {
    const acc = c.metrics.find((m) => m.metric === 'accuracy');
    const ours = estimate.metrics.find((m) => m.metric === 'accuracy')?.estimated as number;
    expect(Math.abs(ours - (acc?.rowLevel as number))).toBeLessThanOrEqual(estimate.gridErrorShare + 1e-12);
    // AUC: the tie treatment within cells, plus the grid error moving expected positives
    // between cells (|ΔW| <= E · n and |Δ(PN)| <= E · n for E expected rows moved).
    const auc = c.metrics.find((m) => m.metric === 'roc_auc');
    const e = estimate.expectedCounts;
    const n = estimate.count;
    const minPN = Math.min(...e.map((x) => (x.tp + x.fn) * (x.fp + x.tn)));
    const bound = estimate.aucTieBound + (2 * estimate.gridErrorShare * n * n) / minPN;
    const oursAuc = estimate.metrics.find((m) => m.metric === 'roc_auc')?.estimated as number;
    expect(Math.abs(oursAuc - (auc?.rowLevel as number))).toBeLessThanOrEqual(bound);
  });

  it('computes realized ROC AUC from labelled aggregates, within its tie bound of the exact AUC', () => {
    const labelled = labelledScoreAggregatesFromRows(model, {
      scores: c.window.scores,
      actual: c.window.actual,
    });
    const realized = realizedRocAucFromAggregates(model, labelled);
    expectClose(realized?.auc, c.realized.rocAucBinned, 'binned realized AUC');
    expectClose(realized?.tieBound, c.realized.tieBound, 'tie bound');
    expect(Math.abs((realized?.auc as number) - (c.realized.roc_auc as number))).toBeLessThanOrEqual(
      (realized?.tieBound as number) + 1e-12,
    );
  });
});

describe('CBPE under concept drift', () => {
  it('cannot see it: the estimate stays in its reference band while the realized metrics leave it', () => {
    const c = cases.find((x) => x.id === 'binary-concept-drift') as CbpeCase;
    const model = fitCbpe(reference(c));
    const estimate = estimateCbpe(model, cbpeAggregatesFromRows(model, c.window));
    for (const metric of ['accuracy', 'roc_auc'] as const) {
      const m = estimate.metrics.find((x) => x.metric === metric);
      expect(m?.alert, metric).toBe(false);
      expect(c.realized[metric] as number).toBeLessThan(m?.referenceLower as number);
    }
  });
});

describe('CBPE input checks', () => {
  const c = cases[0] as CbpeCase;
  const model = fitCbpe(reference(c));
  it('refuses references it cannot fit', () => {
    expect(() => fitCbpe({ ...reference(c), classes: ['only'] })).toThrow(/at least two classes/);
    expect(() => fitCbpe({ ...reference(c), scores: [c.reference.scores[0] as number[], []] })).toThrow(
      /binary CBPE takes one score column/,
    );
    expect(() => fitCbpe({ ...reference(c), predicted: c.reference.predicted.map(() => 2) })).toThrow(
      /predicted class index at row 0 is 2/,
    );
    expect(() => fitCbpe({ ...reference(c), actual: [0] })).toThrow(/actual has 1/);
    expect(() =>
      fitCbpe({ ...reference(c), predicted: [0, 1, 0], actual: [0, 1, 0], scores: [[0.1, 0.5, 0.9]] }),
    ).toThrow(/too small/);
  });
  it('refuses window aggregates that do not fit the model', () => {
    const w = cbpeAggregatesFromRows(model, c.window);
    expect(() => estimateCbpe(model, { ...w, count: w.count + 1 })).toThrow(/hold \d+ rows but count is/);
    expect(() => estimateCbpe(model, { ...w, classes: [] })).toThrow(/0 class histograms/);
    const short = { counts: [1], sumScores: [0.5] };
    expect(() => estimateCbpe(model, { count: 1, classes: [{ predicted: short, other: short }] })).toThrow(
      /expected 1000 each/,
    );
  });
  it('returns undefined metrics for an empty window rather than NaN', () => {
    const empty = { counts: new Array<number>(1000).fill(0), sumScores: new Array<number>(1000).fill(0) };
    const e = estimateCbpe(model, { count: 0, classes: [{ predicted: empty, other: empty }] });
    for (const m of e.metrics) {
      expect(m.estimated).toBeUndefined();
      expect(m.alert).toBe(false);
    }
  });
});

describe('fitted models are plain JSON', () => {
  it('estimates the same after a round trip through a JSON string (stored beside the reference)', () => {
    const c = cases[0] as CbpeCase;
    const model = fitCbpe(reference(c));
    const restored = JSON.parse(JSON.stringify(model)) as typeof model;
    const w = cbpeAggregatesFromRows(model, c.window);
    expect(estimateCbpe(restored, w)).toEqual(estimateCbpe(model, w));
  });
});
