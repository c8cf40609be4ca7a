/**
 * Accuracy, precision, recall and F1 from (expected or realized) one-vs-rest confusion counts,
 * the same formulas for CBPE's expected counts and for labels, so the two are comparable.
 *
 * Binary: one tracked class, the positive one; accuracy = (TP + TN) / n; precision, recall
 * and F1 of the positive class. Multiclass: every class tracked; accuracy = Σ_k TP_k / n;
 * precision, recall and F1 are macro means of the per-class one-vs-rest values. A 0/0 ratio
 * is 0 (scikit-learn's zero_division = 0); F1 = 2TP / (2TP + FP + FN).
 */

export type CbpeMetric = 'accuracy' | 'precision' | 'recall' | 'f1' | 'roc_auc';
export const CBPE_METRICS: readonly CbpeMetric[] = ['accuracy', 'precision', 'recall', 'f1', 'roc_auc'];

/** One-vs-rest confusion counts of one tracked class (may be fractional: expected counts). */
export interface OneVsRestCounts {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly tn: number;
}

export interface ConfusionMetrics {
  readonly accuracy: number | undefined;
  readonly precision: number | undefined;
  readonly recall: number | undefined;
  readonly f1: number | undefined;
}

const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);

export function confusionMetrics(
  counts: readonly OneVsRestCounts[],
  n: number,
  binary: boolean,
): ConfusionMetrics {
  if (n <= 0 || counts.length === 0) {
    return { accuracy: undefined, precision: undefined, recall: undefined, f1: undefined };
  }
  let correct = 0;
  if (binary) {
    const c = counts[0] as OneVsRestCounts;
    correct = c.tp + c.tn;
  } else {
    for (const c of counts) correct += c.tp;
  }
  let precision = 0;
  let recall = 0;
  let f1 = 0;
  for (const c of counts) {
    precision += ratio(c.tp, c.tp + c.fp);
    recall += ratio(c.tp, c.tp + c.fn);
    f1 += ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn);
  }
  const k = counts.length;
  return { accuracy: correct / n, precision: precision / k, recall: recall / k, f1: f1 / k };
}

/**
 * ROC AUC over cells taken as tie groups: Σ_c P_c (N_below + N_c / 2) / (P · N), where P_c
 * and N_c are the (expected or counted) positives and negatives of cell c in ascending score
 * order. `tieBound` = Σ_c P_c N_c / (2 P N) bounds its distance from the AUC with the rows
 * ordered inside their cells (pairs within one cell count half either way).
 */
export function binnedAuc(
  positives: ArrayLike<number>,
  negatives: ArrayLike<number>,
): { auc: number; tieBound: number } | undefined {
  let p = 0;
  let q = 0;
  for (let c = 0; c < positives.length; c++) {
    p += positives[c] as number;
    q += negatives[c] as number;
  }
  if (!(p > 0) || !(q > 0)) return undefined;
  let below = 0;
  let wins = 0;
  let ties = 0;
  for (let c = 0; c < positives.length; c++) {
    const pc = positives[c] as number;
    const nc = negatives[c] as number;
    wins += pc * (below + nc / 2);
    ties += pc * nc;
    below += nc;
  }
  return { auc: wins / (p * q), tieBound: ties / (2 * p * q) };
}
