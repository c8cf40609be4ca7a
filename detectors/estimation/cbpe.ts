/**
 * Confidence-based performance estimation (CBPE): a classifier's accuracy, precision, recall,
 * F1 and ROC AUC on a window whose labels have not arrived, from the model's own scores.
 *
 * Fit (once, on the labelled reference rows): for each tracked class k (binary: the positive
 * class; multiclass: every class) two isotonic calibrators of the class's score s_k,
 * C⁺_k(s) ≈ P(y = k | s_k = s, predicted k) fitted on the rows predicted k, and
 * C⁻_k(s) ≈ P(y = k | s_k = s, predicted another class) on the others. Splitting by the
 * prediction keeps the expected one-vs-rest counts unbiased when the prediction is not a
 * threshold of s_k alone (multiclass argmax, or a label the server chose): conditioning on s_k
 * only would move probability between TP and FN. A group with fewer than `minGroupRows` rows
 * uses the class's pooled calibrator instead. Then σ of every realized metric over reference
 * chunks (band.ts), and the calibrators once more for each chunk left out (a delete-a-group
 * jackknife over the same chunks).
 *
 * Per window (from CbpeWindowAggregates, see aggregates.ts and score-grid.ts):
 *   TP_k = Σ_{predicted k} C⁺_k(s),  FP_k = #predicted k - TP_k,
 *   FN_k = Σ_{predicted other} C⁻_k(s), TN_k = #predicted other - FN_k,
 * the metrics from those expected counts (confusion-metrics.ts), and ROC AUC from the expected
 * positives and negatives per score cell (cells as tie groups; macro over classes when
 * multiclass). The band counts two errors: the realized metric's sampling error (σ_n from the
 * reference chunks) and the calibrators' own, σ_cal² = (K-1)/K Σ_j (θ_j - θ̄)² over the K
 * jackknife calibrator sets applied to the same window — large where the window's scores lie
 * where the reference had few rows (isotonic fits are noisy in the score tails, and that noise
 * inflates the estimated ROC AUC there).
 *
 * Assumptions (say them wherever the estimate is shown): no concept drift — P(y | score,
 * prediction) in the window is the reference's; the reference is representative enough to
 * calibrate on; the window is large enough for its band. Covariate shift is what CBPE is for;
 * concept drift makes the estimate wrong in a direction it cannot see.
 */
import type { CbpeWindowAggregates, LabelledScoreAggregates } from './aggregates.js';
import {
  chunkBounds,
  chunkSpread,
  jackknifeStd,
  DEFAULT_BAND_CHUNKS,
  DEFAULT_BAND_SIGMAS,
  estimateBand,
  referenceBand,
  type ChunkSpread,
} from './band.js';
import {
  binnedAuc,
  CBPE_METRICS,
  confusionMetrics,
  type CbpeMetric,
  type OneVsRestCounts,
} from './confusion-metrics.js';
import { fitIsotonic, type IsotonicFit } from './isotonic.js';
import { rocAuc } from '../metrics/classification.js';
import {
  checkHistogram,
  DEFAULT_SCORE_CELLS,
  expectedPositives,
  scoreGridFor,
  scoreHistogram,
  type ScoreGrid,
} from './score-grid.js';

/** Labelled reference rows for CBPE (column arrays, one entry per row). */
export interface ClassificationReference {
  /** Class names; binary: exactly two, the positive class first. */
  readonly classes: readonly string[];
  /**
   * Scores per tracked class: binary, one column (the positive class's score); multiclass,
   * one column per class in `classes` order.
   */
  readonly scores: readonly ArrayLike<number>[];
  /** Index (into `classes`) of the class the model predicted. */
  readonly predicted: ArrayLike<number>;
  /** Index of the true class. */
  readonly actual: ArrayLike<number>;
}

export interface CbpeOptions {
  /** Cells of the score grid. @default 1000 */
  readonly scoreCells?: number;
  /** Contiguous reference chunks for the sampling-error band. @default 20 */
  readonly bandChunks?: number;
  /** Fewest rows of a prediction group to fit its own calibrator. @default 50 */
  readonly minGroupRows?: number;
}

export interface ClassCalibrators {
  readonly predicted: IsotonicFit;
  readonly other: IsotonicFit;
  /** 'pooled' where a group had fewer than minGroupRows reference rows. */
  readonly predictedSource: 'group' | 'pooled';
  readonly otherSource: 'group' | 'pooled';
}

/** The fitted estimator: plain JSON, stored beside the reference profile. */
export interface CbpeModel {
  readonly kind: 'cbpe';
  readonly classes: readonly string[];
  readonly binary: boolean;
  /** Class indices whose scores are aggregated, in CbpeWindowAggregates.classes order. */
  readonly trackedClasses: readonly number[];
  readonly grid: ScoreGrid;
  readonly calibrators: readonly ClassCalibrators[];
  /** The calibrators refitted with reference chunk j left out, j = 0 … K-1 (the jackknife). */
  readonly jackknife: readonly (readonly ClassCalibrators[])[];
  /** Spread of each realized metric over reference chunks (absent when not computable). */
  readonly spreads: Partial<Record<CbpeMetric, ChunkSpread>>;
  readonly referenceRows: number;
}

export const DEFAULT_MIN_GROUP_ROWS = 50;

export function fitCbpe(reference: ClassificationReference, options: CbpeOptions = {}): CbpeModel {
  const binary = checkReference(reference);
  const n = reference.predicted.length;
  const tracked = binary ? [0] : reference.classes.map((_, k) => k);
  const grid = scoreGridFor(reference.scores, options.scoreCells ?? DEFAULT_SCORE_CELLS);
  const minGroupRows = options.minGroupRows ?? DEFAULT_MIN_GROUP_ROWS;
  const chunks = options.bandChunks ?? DEFAULT_BAND_CHUNKS;
  const fitAll = (leaveOut?: readonly [number, number]) =>
    tracked.map((k, column) =>
      fitClassCalibrators(
        reference,
        k,
        reference.scores[column] as ArrayLike<number>,
        minGroupRows,
        leaveOut,
      ),
    );
  const calibrators = fitAll();
  const jackknife = chunkBounds(n, chunks).map((bounds) => fitAll(bounds));
  const realized = (start: number, end: number) => realizedMetricsOfRows(reference, binary, start, end);
  const whole = realized(0, n);
  const spreads: Partial<Record<CbpeMetric, ChunkSpread>> = {};
  for (const metric of CBPE_METRICS) {
    const value = whole[metric];
    if (value === undefined) continue;
    const spread = chunkSpread(value, n, chunks, (s, e) => realized(s, e)[metric]);
    if (spread !== undefined) spreads[metric] = spread;
  }
  return {
    kind: 'cbpe',
    classes: [...reference.classes],
    binary,
    trackedClasses: tracked,
    grid,
    calibrators,
    jackknife,
    spreads,
    referenceRows: n,
  };
}

function checkReference(r: ClassificationReference): boolean {
  const k = r.classes.length;
  if (k < 2) throw new RangeError(`CBPE needs at least two classes, got ${k}`);
  if (new Set(r.classes).size !== k)
    throw new RangeError(`CBPE classes must be distinct: ${r.classes.join(', ')}`);
  const binary = k === 2;
  const wantColumns = binary ? 1 : k;
  if (r.scores.length !== wantColumns) {
    throw new RangeError(
      binary
        ? `binary CBPE takes one score column (the positive class ${r.classes[0]}), got ${r.scores.length}`
        : `multiclass CBPE takes one score column per class (${k}), got ${r.scores.length}`,
    );
  }
  const n = r.predicted.length;
  if (r.actual.length !== n)
    throw new RangeError(`predicted has ${n} rows but actual has ${r.actual.length}`);
  r.scores.forEach((column, c) => {
    if (column.length !== n)
      throw new RangeError(`score column ${c} has ${column.length} rows, expected ${n}`);
  });
  for (let i = 0; i < n; i++) {
    for (const [name, v] of [
      ['predicted', r.predicted[i]],
      ['actual', r.actual[i]],
    ] as const) {
      if (!Number.isInteger(v) || (v as number) < 0 || (v as number) >= k) {
        throw new RangeError(
          `${name} class index at row ${i} is ${String(v)}; expected an integer in [0, ${k - 1}]`,
        );
      }
    }
  }
  return binary;
}

function fitClassCalibrators(
  r: ClassificationReference,
  k: number,
  scores: ArrayLike<number>,
  minGroupRows: number,
  leaveOut: readonly [number, number] = [0, 0],
): ClassCalibrators {
  const n = r.predicted.length;
  const groups: { x: number[]; y: number[] }[] = [
    { x: [], y: [] },
    { x: [], y: [] },
  ];
  const pooledX: number[] = [];
  const pooledY: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i >= leaveOut[0] && i < leaveOut[1]) continue;
    const y = r.actual[i] === k ? 1 : 0;
    const g = groups[r.predicted[i] === k ? 0 : 1] as { x: number[]; y: number[] };
    g.x.push(scores[i] as number);
    g.y.push(y);
    pooledX.push(scores[i] as number);
    pooledY.push(y);
  }
  let pooled: IsotonicFit | undefined;
  const pooledFit = () => (pooled ??= fitIsotonic(pooledX, pooledY));
  const fitGroup = (g: { x: number[]; y: number[] }) =>
    g.x.length >= minGroupRows
      ? { fit: fitIsotonic(g.x, g.y), source: 'group' as const }
      : { fit: pooledFit(), source: 'pooled' as const };
  const predicted = fitGroup(groups[0] as { x: number[]; y: number[] });
  const other = fitGroup(groups[1] as { x: number[]; y: number[] });
  return {
    predicted: predicted.fit,
    other: other.fit,
    predictedSource: predicted.source,
    otherSource: other.source,
  };
}

/** Realized metrics of labelled rows [start, end) (ROC AUC exact, from ranks). */
export function realizedMetricsOfRows(
  r: ClassificationReference,
  binary: boolean,
  start = 0,
  end = r.predicted.length,
): Record<CbpeMetric, number | undefined> {
  const tracked = binary ? [0] : r.classes.map((_, k) => k);
  const counts: OneVsRestCounts[] = [];
  let aucSum = 0;
  let aucDefined = true;
  tracked.forEach((k, column) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    let tn = 0;
    const y = new Float64Array(end - start);
    const s = new Float64Array(end - start);
    for (let i = start; i < end; i++) {
      const isK = r.actual[i] === k;
      const predK = r.predicted[i] === k;
      if (predK) {
        if (isK) tp++;
        else fp++;
      } else if (isK) fn++;
      else tn++;
      y[i - start] = isK ? 1 : 0;
      s[i - start] = (r.scores[column] as ArrayLike<number>)[i] as number;
    }
    counts.push({ tp, fp, fn, tn });
    const auc = rocAuc(y, s);
    if (auc === undefined) aucDefined = false;
    else aucSum += auc;
  });
  const m = confusionMetrics(counts, end - start, binary);
  return { ...m, roc_auc: aucDefined ? aucSum / tracked.length : undefined };
}

export interface EstimatedMetric {
  readonly metric: CbpeMetric;
  /** undefined when the window cannot give one (no rows; AUC without expected positives). */
  readonly estimated: number | undefined;
  /** estimate ± sigmas · σ_n: where the realized value is expected (band.ts). */
  readonly estimatedLower: number | undefined;
  readonly estimatedUpper: number | undefined;
  /** The realized metric on the reference and its alert limits for a window of this size. */
  readonly referenceValue: number | undefined;
  readonly referenceLower: number | undefined;
  readonly referenceUpper: number | undefined;
  /** The estimate lies outside the reference band. */
  readonly alert: boolean;
  /** The calibrators' jackknife standard error of the estimate (in the bands, in quadrature). */
  readonly calibrationStd: number;
}

export interface CbpeEstimate {
  readonly count: number;
  readonly metrics: readonly EstimatedMetric[];
  /** Expected one-vs-rest counts per tracked class. */
  readonly expectedCounts: readonly OneVsRestCounts[];
  /**
   * Worst-case error of the expected counts from the score grid, as a share of the window's
   * rows: |estimated accuracy - accuracy with row-level calibration| <= this.
   */
  readonly gridErrorShare: number;
  /** Bound on the ROC AUC's tie treatment within cells (largest over classes). */
  readonly aucTieBound: number;
}

export function estimateCbpe(
  model: CbpeModel,
  window: CbpeWindowAggregates,
  sigmas = DEFAULT_BAND_SIGMAS,
): CbpeEstimate {
  if (window.classes.length !== model.trackedClasses.length) {
    throw new RangeError(
      `CBPE window has ${window.classes.length} class histograms, the model tracks ${model.trackedClasses.length} (${model.trackedClasses
        .map((k) => model.classes[k])
        .join(', ')})`,
    );
  }
  const n = window.count;
  window.classes.forEach((h, t) => {
    checkHistogram(model.grid, h.predicted);
    checkHistogram(model.grid, h.other);
    const rows = sum(h.predicted.counts) + sum(h.other.counts);
    if (rows !== n) {
      throw new RangeError(
        `CBPE window: class ${model.classes[model.trackedClasses[t] as number]} histograms hold ${rows} rows but count is ${n}`,
      );
    }
  });
  const point = evaluate(model, model.calibrators, window);
  const replicates = model.jackknife.map((calibrators) => evaluate(model, calibrators, window).values);
  return {
    count: n,
    metrics: CBPE_METRICS.map((metric) =>
      withBands(
        metric,
        point.values[metric],
        model.spreads[metric],
        n,
        sigmas,
        jackknifeStd(replicates.map((r) => r[metric])),
      ),
    ),
    expectedCounts: point.counts,
    gridErrorShare: n > 0 ? point.gridError / n : 0,
    aucTieBound: point.aucTieBound,
  };
}

/** The metrics of one window under one set of calibrators. */
function evaluate(model: CbpeModel, calibrators: readonly ClassCalibrators[], window: CbpeWindowAggregates) {
  const n = window.count;
  const counts: OneVsRestCounts[] = [];
  let gridError = 0;
  let aucSum = 0;
  let aucDefined = true;
  let aucTieBound = 0;
  window.classes.forEach((h, t) => {
    const cal = calibrators[t] as ClassCalibrators;
    const tp = expectedPositives(model.grid, cal.predicted, h.predicted);
    const fn = expectedPositives(model.grid, cal.other, h.other);
    const nPredicted = sum(h.predicted.counts);
    const nOther = sum(h.other.counts);
    counts.push({ tp: tp.total, fp: nPredicted - tp.total, fn: fn.total, tn: nOther - fn.total });
    gridError += tp.errorBound + fn.errorBound;
    const positives = new Float64Array(model.grid.cells);
    const negatives = new Float64Array(model.grid.cells);
    for (let c = 0; c < model.grid.cells; c++) {
      const p = (tp.perCell[c] as number) + (fn.perCell[c] as number);
      positives[c] = p;
      negatives[c] = (h.predicted.counts[c] as number) + (h.other.counts[c] as number) - p;
    }
    const auc = binnedAuc(positives, negatives);
    if (auc === undefined) aucDefined = false;
    else {
      aucSum += auc.auc;
      aucTieBound = Math.max(aucTieBound, auc.tieBound);
    }
  });
  const values: Record<CbpeMetric, number | undefined> = {
    ...confusionMetrics(counts, n, model.binary),
    roc_auc: aucDefined && n > 0 ? aucSum / counts.length : undefined,
  };
  return { counts, values, gridError, aucTieBound };
}

export function withBands(
  metric: CbpeMetric,
  estimated: number | undefined,
  spread: ChunkSpread | undefined,
  n: number,
  sigmas: number,
  calibrationStd = 0,
): EstimatedMetric {
  if (spread === undefined || !(n > 0)) {
    return {
      metric,
      estimated,
      estimatedLower: undefined,
      estimatedUpper: undefined,
      referenceValue: spread?.referenceValue,
      referenceLower: undefined,
      referenceUpper: undefined,
      alert: false,
      calibrationStd,
    };
  }
  const ref = referenceBand(spread, n, sigmas, calibrationStd);
  const est =
    estimated === undefined ? undefined : estimateBand(spread, estimated, n, sigmas, calibrationStd);
  return {
    metric,
    estimated,
    estimatedLower: est?.lower,
    estimatedUpper: est?.upper,
    referenceValue: spread.referenceValue,
    referenceLower: ref.lower,
    referenceUpper: ref.upper,
    alert: estimated !== undefined && (estimated < ref.lower || estimated > ref.upper),
    calibrationStd,
  };
}

function sum(a: readonly number[]): number {
  let s = 0;
  for (const v of a) s += v;
  return s;
}

/** Rows to the window aggregates ClickHouse computes (the specification; tests and simulation). */
export function cbpeAggregatesFromRows(
  model: CbpeModel,
  rows: { readonly scores: readonly ArrayLike<number>[]; readonly predicted: ArrayLike<number> },
): CbpeWindowAggregates {
  const n = rows.predicted.length;
  return {
    count: n,
    classes: model.trackedClasses.map((k, column) => {
      const scores = rows.scores[column] as ArrayLike<number>;
      return {
        predicted: scoreHistogram(model.grid, scores, (i) => rows.predicted[i] === k),
        other: scoreHistogram(model.grid, scores, (i) => rows.predicted[i] !== k),
      };
    }),
  };
}

/** Labelled rows to the realized-AUC aggregates over the model's grid. */
export function labelledScoreAggregatesFromRows(
  model: CbpeModel,
  rows: { readonly scores: readonly ArrayLike<number>[]; readonly actual: ArrayLike<number> },
): LabelledScoreAggregates {
  return {
    classes: model.trackedClasses.map((k, column) => {
      const scores = rows.scores[column] as ArrayLike<number>;
      return {
        positives: scoreHistogram(model.grid, scores, (i) => rows.actual[i] === k).counts,
        negatives: scoreHistogram(model.grid, scores, (i) => rows.actual[i] !== k).counts,
      };
    }),
  };
}

/**
 * Realized ROC AUC from labelled aggregates over the score grid (macro one-vs-rest when
 * multiclass). Scores within a cell count as ties: `tieBound` (largest over classes) bounds
 * the distance from the exact, row-level AUC.
 */
export function realizedRocAucFromAggregates(
  model: CbpeModel,
  labelled: LabelledScoreAggregates,
): { auc: number; tieBound: number } | undefined {
  if (labelled.classes.length !== model.trackedClasses.length) {
    throw new RangeError(
      `labelled aggregates have ${labelled.classes.length} classes, the model tracks ${model.trackedClasses.length}`,
    );
  }
  let total = 0;
  let tieBound = 0;
  for (const c of labelled.classes) {
    if (c.positives.length !== model.grid.cells || c.negatives.length !== model.grid.cells) {
      throw new RangeError(
        `labelled aggregates must have ${model.grid.cells} cells (the model's score grid)`,
      );
    }
    const auc = binnedAuc(c.positives, c.negatives);
    if (auc === undefined) return undefined;
    total += auc.auc;
    tieBound = Math.max(tieBound, auc.tieBound);
  }
  return { auc: total / labelled.classes.length, tieBound };
}
