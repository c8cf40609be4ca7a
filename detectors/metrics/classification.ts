/**
 * Classification performance once labels arrive. Formulas follow scikit-learn's defaults
 * (checked against numpy re-implementations in the fixtures). Every metric also has a form
 * over aggregates — confusion counts, per-bin counts — because the monitor computes those in
 * ClickHouse. A metric that is undefined for the input (no positives for ROC AUC, an empty
 * input) returns `undefined`, never NaN.
 */

export type Label = string | number;

export interface ClassMetrics {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Number of true instances of the class. */
  readonly support: number;
}

export interface ClassificationReport {
  readonly accuracy: number | undefined;
  readonly perClass: ReadonlyMap<string, ClassMetrics>;
  readonly macroPrecision: number | undefined;
  readonly macroRecall: number | undefined;
  readonly macroF1: number | undefined;
  readonly count: number;
}

/** Confusion counts: counts.get(trueLabel).get(predictedLabel). */
export type ConfusionCounts = ReadonlyMap<string, ReadonlyMap<string, number>>;

export function confusionCounts(
  yTrue: readonly Label[],
  yPred: readonly Label[],
): Map<string, Map<string, number>> {
  if (yTrue.length !== yPred.length) {
    throw new RangeError(`yTrue and yPred differ in length (${yTrue.length} vs ${yPred.length})`);
  }
  const out = new Map<string, Map<string, number>>();
  for (let i = 0; i < yTrue.length; i++) {
    const t = String(yTrue[i]);
    const p = String(yPred[i]);
    let row = out.get(t);
    if (!row) out.set(t, (row = new Map<string, number>()));
    row.set(p, (row.get(p) ?? 0) + 1);
  }
  return out;
}

/**
 * Accuracy, per-class precision/recall/F1 and their unweighted (macro) means over the union
 * of true and predicted labels. Like scikit-learn's `zero_division=0`, a 0/0 ratio is 0.
 */
export function classificationReportFromConfusion(confusion: ConfusionCounts): ClassificationReport {
  const labels = new Set<string>();
  let total = 0;
  let correct = 0;
  const predicted = new Map<string, number>();
  const actual = new Map<string, number>();
  for (const [t, row] of confusion) {
    labels.add(t);
    for (const [p, c] of row) {
      labels.add(p);
      total += c;
      if (p === t) correct += c;
      predicted.set(p, (predicted.get(p) ?? 0) + c);
      actual.set(t, (actual.get(t) ?? 0) + c);
    }
  }
  const perClass = new Map<string, ClassMetrics>();
  for (const label of [...labels].sort()) {
    const tp = confusion.get(label)?.get(label) ?? 0;
    const predictedCount = predicted.get(label) ?? 0;
    const support = actual.get(label) ?? 0;
    const precision = predictedCount > 0 ? tp / predictedCount : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass.set(label, { precision, recall, f1, support });
  }
  const mean = (f: (m: ClassMetrics) => number): number | undefined =>
    perClass.size === 0 ? undefined : [...perClass.values()].reduce((s, m) => s + f(m), 0) / perClass.size;
  return {
    accuracy: total > 0 ? correct / total : undefined,
    perClass,
    macroPrecision: mean((m) => m.precision),
    macroRecall: mean((m) => m.recall),
    macroF1: mean((m) => m.f1),
    count: total,
  };
}

export function classificationReport(yTrue: readonly Label[], yPred: readonly Label[]): ClassificationReport {
  return classificationReportFromConfusion(confusionCounts(yTrue, yPred));
}

/** Binary confusion counts, e.g. from `countIf` in ClickHouse. */
export interface BinaryCounts {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly tn: number;
}

export function binaryReportFromCounts(c: BinaryCounts): ClassificationReport {
  return classificationReportFromConfusion(
    new Map([
      [
        '1',
        new Map([
          ['1', c.tp],
          ['0', c.fn],
        ]),
      ],
      [
        '0',
        new Map([
          ['1', c.fp],
          ['0', c.tn],
        ]),
      ],
    ]),
  );
}

function assertBinary(yTrue: ArrayLike<number>, scores: ArrayLike<number>): void {
  if (yTrue.length !== scores.length) {
    throw new RangeError(`labels and scores differ in length (${yTrue.length} vs ${scores.length})`);
  }
  for (let i = 0; i < yTrue.length; i++) {
    const y = yTrue[i];
    if (y !== 0 && y !== 1)
      throw new RangeError(`binary labels must be 0 or 1, got ${String(y)} at index ${i}`);
  }
}

/**
 * ROC AUC for binary labels (1 = positive) by the Mann–Whitney rank formula with mid-ranks
 * for tied scores — equal to scikit-learn's trapezoidal `roc_auc_score`. Undefined when only
 * one class is present.
 */
export function rocAuc(yTrue: ArrayLike<number>, scores: ArrayLike<number>): number | undefined {
  assertBinary(yTrue, scores);
  const n = yTrue.length;
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (scores[a] as number) - (scores[b] as number),
  );
  let rankSumPos = 0;
  let nPos = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1] as number] === scores[order[i] as number]) j++;
    const midRank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) {
      if (yTrue[order[k] as number] === 1) {
        rankSumPos += midRank;
        nPos++;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return undefined;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * ROC AUC from score-bin counts (ascending score bins; scores inside one bin count as ties).
 * Exact when each bin is one distinct score, otherwise a lower-resolution AUC.
 */
export function rocAucFromBinnedCounts(
  positives: ArrayLike<number>,
  negatives: ArrayLike<number>,
): number | undefined {
  let nPos = 0;
  let nNeg = 0;
  for (let i = 0; i < positives.length; i++) nPos += positives[i] as number;
  for (let i = 0; i < negatives.length; i++) nNeg += negatives[i] as number;
  if (nPos === 0 || nNeg === 0) return undefined;
  let negBelow = 0;
  let wins = 0;
  for (let i = 0; i < positives.length; i++) {
    const p = positives[i] as number;
    const q = negatives[i] as number;
    wins += p * (negBelow + q / 2);
    negBelow += q;
  }
  return wins / (nPos * nNeg);
}

/** scikit-learn clips probabilities to [eps, 1 - eps] with eps = float64 machine epsilon. */
const LOG_LOSS_EPS = Number.EPSILON;

/** Binary log loss (cross-entropy), natural log, mean over samples. */
export function logLoss(yTrue: ArrayLike<number>, probabilities: ArrayLike<number>): number | undefined {
  assertBinary(yTrue, probabilities);
  if (yTrue.length === 0) return undefined;
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const p = Math.min(Math.max(probabilities[i] as number, LOG_LOSS_EPS), 1 - LOG_LOSS_EPS);
    sum += yTrue[i] === 1 ? -Math.log(p) : -Math.log(1 - p);
  }
  return sum / yTrue.length;
}

/** Brier score: mean squared difference between the positive-class probability and the label. */
export function brierScore(yTrue: ArrayLike<number>, probabilities: ArrayLike<number>): number | undefined {
  assertBinary(yTrue, probabilities);
  if (yTrue.length === 0) return undefined;
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) sum += ((probabilities[i] as number) - (yTrue[i] as number)) ** 2;
  return sum / yTrue.length;
}

/** One calibration bin's aggregates: how many predictions, Σ predicted probability, Σ labels. */
export interface CalibrationBin {
  readonly count: number;
  readonly sumProbability: number;
  readonly sumLabel: number;
}

/** Calibration bins over [0, 1] of equal width; bin k holds [k/b, (k+1)/b), the last includes 1. */
export function calibrationBins(
  yTrue: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  bins = 10,
): CalibrationBin[] {
  assertBinary(yTrue, probabilities);
  const counts = new Float64Array(bins);
  const sumProbability = new Float64Array(bins);
  const sumLabel = new Float64Array(bins);
  for (let i = 0; i < yTrue.length; i++) {
    const p = probabilities[i] as number;
    const b = Math.min(Math.floor(p * bins), bins - 1);
    counts[b] = (counts[b] as number) + 1;
    sumProbability[b] = (sumProbability[b] as number) + p;
    sumLabel[b] = (sumLabel[b] as number) + (yTrue[i] as number);
  }
  return Array.from(counts, (count, b) => ({
    count,
    sumProbability: sumProbability[b] as number,
    sumLabel: sumLabel[b] as number,
  }));
}

/** ECE = Σ_bins (n_b / n) |mean label_b - mean probability_b|. */
export function eceFromBins(bins: readonly CalibrationBin[]): number | undefined {
  const n = bins.reduce((s, b) => s + b.count, 0);
  if (n === 0) return undefined;
  let ece = 0;
  for (const b of bins) {
    if (b.count > 0) ece += (b.count / n) * Math.abs(b.sumLabel / b.count - b.sumProbability / b.count);
  }
  return ece;
}

/** Expected calibration error with `bins` equal-width bins (default 10) on the positive-class probability. */
export function expectedCalibrationError(
  yTrue: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  bins = 10,
): number | undefined {
  return eceFromBins(calibrationBins(yTrue, probabilities, bins));
}

/**
 * Multiclass log loss: -mean log p(true class), each probability clipped to [eps, 1 - eps]
 * (eps = float64 machine epsilon) without renormalising rows. `probabilities[i][k]` is the
 * probability of `labels[k]` for sample i. Undefined for an empty input.
 */
export function multiclassLogLoss(
  yTrue: readonly Label[],
  probabilities: readonly (readonly number[])[],
  labels: readonly Label[],
): number | undefined {
  if (yTrue.length !== probabilities.length) {
    throw new RangeError(
      `labels and probability rows differ in length (${yTrue.length} vs ${probabilities.length})`,
    );
  }
  if (yTrue.length === 0) return undefined;
  const column = new Map(labels.map((l, k) => [String(l), k]));
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const k = column.get(String(yTrue[i]));
    if (k === undefined) throw new RangeError(`label ${String(yTrue[i])} at index ${i} is not in labels`);
    const p = (probabilities[i] as readonly number[])[k] as number;
    sum -= Math.log(Math.min(Math.max(p, LOG_LOSS_EPS), 1 - LOG_LOSS_EPS));
  }
  return sum / yTrue.length;
}

/**
 * Multiclass ROC AUC, one-vs-rest, unweighted mean over classes (scikit-learn's
 * multi_class='ovr', average='macro'). Undefined if any class has no positives or no negatives.
 */
export function rocAucOneVsRest(
  yTrue: readonly Label[],
  probabilities: readonly (readonly number[])[],
  labels: readonly Label[],
): number | undefined {
  if (labels.length < 2) return undefined;
  let total = 0;
  for (let k = 0; k < labels.length; k++) {
    const positive = String(labels[k]);
    const y = yTrue.map((t) => (String(t) === positive ? 1 : 0));
    const auc = rocAuc(
      y,
      probabilities.map((row) => row[k] as number),
    );
    if (auc === undefined) return undefined;
    total += auc;
  }
  return total / labels.length;
}
