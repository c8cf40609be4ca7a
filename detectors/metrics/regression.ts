/**
 * Regression performance once labels arrive: MAE, RMSE, MAPE, R², from raw arrays or from
 * the sums ClickHouse can aggregate. Undefined (not NaN) when a metric has no value.
 */

export interface RegressionSums {
  readonly count: number;
  readonly sumAbsError: number;
  readonly sumSquaredError: number;
  /** Σ |y - ŷ| / max(|y|, eps), scikit-learn's MAPE numerator. */
  readonly sumAbsPercentageError: number;
  readonly sumY: number;
  readonly sumYSquared: number;
}

export interface RegressionReport {
  readonly count: number;
  readonly mae: number | undefined;
  readonly rmse: number | undefined;
  /** A fraction (0.1 = 10 %), as scikit-learn's mean_absolute_percentage_error. */
  readonly mape: number | undefined;
  /** Undefined for fewer than two samples; scikit-learn's force_finite rule when y is constant. */
  readonly r2: number | undefined;
}

export function regressionSums(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): RegressionSums {
  if (yTrue.length !== yPred.length) {
    throw new RangeError(`yTrue and yPred differ in length (${yTrue.length} vs ${yPred.length})`);
  }
  let sumAbsError = 0;
  let sumSquaredError = 0;
  let sumAbsPercentageError = 0;
  let sumY = 0;
  let sumYSquared = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const y = yTrue[i] as number;
    const e = (yPred[i] as number) - y;
    sumAbsError += Math.abs(e);
    sumSquaredError += e * e;
    sumAbsPercentageError += Math.abs(e) / Math.max(Math.abs(y), Number.EPSILON);
    sumY += y;
    sumYSquared += y * y;
  }
  return { count: yTrue.length, sumAbsError, sumSquaredError, sumAbsPercentageError, sumY, sumYSquared };
}

/**
 * From sums. R² uses Σ(y - ȳ)² = Σy² - (Σy)²/n, which loses precision when |ȳ| >> std(y);
 * the raw-array `regressionReport` uses a two-pass total sum of squares instead.
 */
export function regressionReportFromSums(s: RegressionSums, totalSumOfSquares?: number): RegressionReport {
  if (s.count === 0) return { count: 0, mae: undefined, rmse: undefined, mape: undefined, r2: undefined };
  const ssTot = totalSumOfSquares ?? Math.max(0, s.sumYSquared - (s.sumY * s.sumY) / s.count);
  let r2: number | undefined;
  if (s.count < 2) r2 = undefined;
  else if (ssTot === 0) r2 = s.sumSquaredError === 0 ? 1 : 0;
  else r2 = 1 - s.sumSquaredError / ssTot;
  return {
    count: s.count,
    mae: s.sumAbsError / s.count,
    rmse: Math.sqrt(s.sumSquaredError / s.count),
    mape: s.sumAbsPercentageError / s.count,
    r2,
  };
}

export function regressionReport(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): RegressionReport {
  const sums = regressionSums(yTrue, yPred);
  let ssTot = 0;
  if (sums.count > 0) {
    const mean = sums.sumY / sums.count;
    for (let i = 0; i < yTrue.length; i++) ssTot += ((yTrue[i] as number) - mean) ** 2;
  }
  return regressionReportFromSums(sums, ssTot);
}
