/**
 * What each estimator needs from one window: the aggregates ClickHouse computes, never rows.
 *
 * Every shape here is O(cells), O(bins) or O(columns²) in size and is a plain sum over the
 * window's rows, so it can also be built from per-minute partial aggregates by adding them
 * (all of them are additive: counts and sums). The fitted models (CbpeModel, DleModel,
 * ReconstructionModel) carry the constants a query needs — grid bounds, bin edges, category
 * lists, means and scales — so the SQL is a fixed expression per column. `*-from-rows`
 * helpers in this folder compute the same aggregates from rows: they are the specification
 * the SQL must reproduce (and what the tests and the simulation use).
 */

/**
 * Score histogram of one class over the model's score grid: cell c holds the rows whose
 * score s of this class falls in it, with s clamped into [grid.lo, grid.hi] and
 * c = min(floor((s - lo) / (hi - lo) * cells), cells - 1). Both arrays have `cells` entries.
 */
export interface ScoreHistogram {
  /** Rows per cell. */
  readonly counts: readonly number[];
  /** Σ score per cell, of the clamped score (the same value that chose the cell). */
  readonly sumScores: readonly number[];
}

/**
 * CBPE, one tracked class k (binary: the positive class only; multiclass: every class):
 * the histogram of the class's score s_k over rows the model PREDICTED to be k, and over
 * rows it predicted to be another class. Rows without a score for k are not counted.
 */
export interface ClassScoreAggregates {
  readonly predicted: ScoreHistogram;
  readonly other: ScoreHistogram;
}

/** Per window: `count` scored rows, and per tracked class (CbpeModel.trackedClasses order). */
export interface CbpeWindowAggregates {
  readonly count: number;
  readonly classes: readonly ClassScoreAggregates[];
}

/**
 * Realized ROC AUC from labelled rows, over the same score grid: per tracked class k, cell
 * counts of labelled rows whose true class is k (`positives`) and is not k (`negatives`).
 */
export interface LabelledScoreAggregates {
  readonly classes: readonly {
    readonly positives: readonly number[];
    readonly negatives: readonly number[];
  }[];
}

/**
 * The additive loss models (DLE for regression, the error model used for attribution): per
 * input (AdditiveModel.inputs order; DLE: the features, then the prediction), the window's
 * row counts per bin, and for numeric inputs Σ value per value bin. Numeric input:
 * `edges.length + 1` value bins, bin b holds (edges[b-1], edges[b]] (ClickHouse: the bin index
 * is `arraySum(arrayMap(e -> x > e, edges))`), then one bin for missing. Categorical input: one
 * bin per category of the model's list, then `other` (a value outside the list), then missing.
 * Every input's counts sum to `count`.
 */
export interface BinnedInputAggregates {
  readonly count: number;
  readonly binCounts: readonly (readonly number[])[];
  /** Numeric input: Σ x per value bin (edges.length + 1 entries, missing excluded); categorical: []. */
  readonly binSums: readonly (readonly number[])[];
}

/**
 * Multivariate drift (PCA reconstruction): moments of the window's ENCODED rows z (d =
 * ReconstructionModel.columns.length). Numeric column: z = (x - mean) / scale, 0 when
 * missing. Categorical column: z = (frequency(x) - mean) / scale, where frequency is the
 * category's reference share (0 for a category outside the list; missing is the category
 * `__missing__`). `sum[i]` = Σ z_i; `sumOfProducts` = Σ z_i z_j for i <= j, packed row by
 * row: (0,0), (0,1) … (0,d-1), (1,1), (1,2) … (d-1,d-1), d(d+1)/2 entries.
 */
export interface MomentAggregates {
  readonly count: number;
  readonly sum: readonly number[];
  readonly sumOfProducts: readonly number[];
}

/** Index of (i, j), i <= j, in a packed upper triangle of a d × d symmetric matrix. */
export function packedIndex(d: number, i: number, j: number): number {
  const [a, b] = i <= j ? [i, j] : [j, i];
  return a * d - (a * (a - 1)) / 2 + (b - a);
}
