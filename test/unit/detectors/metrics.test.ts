/** Performance metrics against numpy re-implementations of scikit-learn's formulas. */
import { describe, expect, it } from 'vitest';
import {
  binaryReportFromCounts,
  brierScore,
  calibrationBins,
  classificationReport,
  eceFromBins,
  expectedCalibrationError,
  logLoss,
  multiclassLogLoss,
  rocAuc,
  rocAucFromBinnedCounts,
  rocAucOneVsRest,
} from '../../../detectors/metrics/classification.js';
import {
  regressionReport,
  regressionReportFromSums,
  regressionSums,
} from '../../../detectors/metrics/regression.js';
import { closeTo, loadFixture } from './fixtures.js';

interface ClassCase {
  id: string;
  y_true: (number | string)[];
  y_pred?: string[];
  score?: number[];
  threshold?: number;
  accuracy: number;
  per_class: Record<string, { precision: number; recall: number; f1: number }>;
  macro_f1: number;
  macro_precision: number;
  macro_recall: number;
  roc_auc?: number;
  log_loss?: number;
  brier?: number;
  ece?: number;
  confusion?: { tp: number; fp: number; fn: number; tn: number };
  labels?: string[];
  proba?: number[][];
  roc_auc_ovr_macro?: number;
}

interface RegressionCase {
  id: string;
  y_true: number[];
  y_pred: number[];
  mae: number;
  rmse: number;
  mape: number;
  r2: number | null;
}

describe('classification metrics', () => {
  const cases = loadFixture<ClassCase>('classification-cases.json');
  it.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const yPred = c.y_pred ?? (c.score as number[]).map((s) => (s >= (c.threshold as number) ? 1 : 0));
    const report = classificationReport(c.y_true, yPred);
    expect(closeTo(report.accuracy, c.accuracy)).toBe(true);
    expect(closeTo(report.macroF1, c.macro_f1)).toBe(true);
    expect(closeTo(report.macroPrecision, c.macro_precision)).toBe(true);
    expect(closeTo(report.macroRecall, c.macro_recall)).toBe(true);
    for (const [label, m] of Object.entries(c.per_class)) {
      const ours = report.perClass.get(label);
      expect(
        closeTo(ours?.precision, m.precision) && closeTo(ours?.recall, m.recall) && closeTo(ours?.f1, m.f1),
      ).toBe(true);
    }
    if (c.proba && c.labels) {
      expect(closeTo(multiclassLogLoss(c.y_true, c.proba, c.labels), c.log_loss as number)).toBe(true);
      expect(closeTo(rocAucOneVsRest(c.y_true, c.proba, c.labels), c.roc_auc_ovr_macro as number)).toBe(true);
    }
    if (c.score) {
      const y = c.y_true as number[];
      expect(closeTo(rocAuc(y, c.score), c.roc_auc as number)).toBe(true);
      expect(closeTo(logLoss(y, c.score), c.log_loss as number)).toBe(true);
      expect(closeTo(brierScore(y, c.score), c.brier as number)).toBe(true);
      expect(closeTo(expectedCalibrationError(y, c.score), c.ece as number)).toBe(true);
      expect(closeTo(eceFromBins(calibrationBins(y, c.score)), c.ece as number)).toBe(true);
      const fromCounts = binaryReportFromCounts(c.confusion as NonNullable<ClassCase['confusion']>);
      expect(closeTo(fromCounts.macroF1, c.macro_f1)).toBe(true);
      expect(closeTo(fromCounts.accuracy, c.accuracy)).toBe(true);
      // AUC from per-distinct-score counts is the exact AUC.
      const distinct = [...new Set(c.score)].sort((a, b) => a - b);
      const index = new Map(distinct.map((s, i) => [s, i]));
      const pos = new Array<number>(distinct.length).fill(0);
      const neg = new Array<number>(distinct.length).fill(0);
      c.score.forEach((s, i) => {
        const k = index.get(s) as number;
        if (y[i] === 1) pos[k] = (pos[k] as number) + 1;
        else neg[k] = (neg[k] as number) + 1;
      });
      expect(closeTo(rocAucFromBinnedCounts(pos, neg), c.roc_auc as number)).toBe(true);
    }
  });

  it('undefined, not NaN, when a metric has no value', () => {
    expect(rocAuc([1, 1, 1], [0.2, 0.5, 0.9])).toBeUndefined();
    expect(logLoss([], [])).toBeUndefined();
    expect(classificationReport([], []).accuracy).toBeUndefined();
    expect(() => rocAuc([2, 0], [0.1, 0.2])).toThrow(RangeError);
  });
});

describe('regression metrics', () => {
  const cases = loadFixture<RegressionCase>('regression-cases.json');
  it.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const r = regressionReport(c.y_true, c.y_pred);
    expect(closeTo(r.mae, c.mae)).toBe(true);
    expect(closeTo(r.rmse, c.rmse)).toBe(true);
    expect(closeTo(r.mape, c.mape)).toBe(true);
    if (c.r2 === null) expect(r.r2).toBeUndefined();
    else expect(closeTo(r.r2, c.r2)).toBe(true);
    const fromSums = regressionReportFromSums(regressionSums(c.y_true, c.y_pred));
    expect(closeTo(fromSums.mae, c.mae)).toBe(true);
    if (c.r2 !== null) expect(closeTo(fromSums.r2, c.r2, 1e-7)).toBe(true);
  });

  it('constant targets follow scikit-learn force_finite', () => {
    expect(regressionReport([2, 2, 2], [2, 2, 2]).r2).toBe(1);
    expect(regressionReport([2, 2, 2], [1, 2, 3]).r2).toBe(0);
    expect(regressionReport([], []).mae).toBeUndefined();
  });
});
