/**
 * Isotonic (non-decreasing) regression by pool-adjacent-violators, as scikit-learn's
 * `IsotonicRegression(out_of_bounds='clip')` fits and predicts (checked against sklearn on
 * fixtures): rows sorted by (x, y); x values closer than 1e-15 are merged into one point with
 * the weighted mean y; PAV with sklearn's single-pass backtracking; interior points whose y
 * equals both neighbours' are dropped; prediction interpolates linearly between the kept
 * points and clips x to the fitted range.
 *
 * Used as the CBPE calibrator: x = the model's score, y = 1 when the row's class is the
 * tracked class. The fitted function is continuous, non-decreasing and piecewise linear with
 * knots at `x`, which is what lets a window's Σ calibrated probability be computed exactly
 * from per-cell (count, Σ score) wherever a cell holds no knot (see score-grid.ts).
 */

export interface IsotonicFit {
  /** Knots, ascending (sklearn's X_thresholds_). */
  readonly x: readonly number[];
  /** Fitted values at the knots (sklearn's y_thresholds_). */
  readonly y: readonly number[];
}

/** numpy's float64 resolution: sklearn merges x values closer than this. */
const MERGE_RESOLUTION = 1e-15;

export function fitIsotonic(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  weights?: ArrayLike<number>,
): IsotonicFit {
  const n = x.length;
  if (y.length !== n) throw new RangeError(`isotonic: x and y differ in length (${n} vs ${y.length})`);
  if (weights !== undefined && weights.length !== n) {
    throw new RangeError(`isotonic: weights have length ${weights.length}, expected ${n}`);
  }
  if (n === 0) throw new RangeError('isotonic: no points to fit');
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) {
      throw new RangeError(`isotonic: non-finite point (${String(x[i])}, ${String(y[i])}) at index ${i}`);
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (x[a] as number) - (x[b] as number) || (y[a] as number) - (y[b] as number),
  );
  const [ux, uy, uw] = mergeTies(order, x, y, weights);
  pav(uy, uw);
  return trim(ux, uy);
}

/** sklearn's `_make_unique`: one point per distinct x (within 1e-15), weighted mean of y. */
function mergeTies(
  order: readonly number[],
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  weights: ArrayLike<number> | undefined,
): [number[], number[], number[]] {
  const ux: number[] = [];
  const uy: number[] = [];
  const uw: number[] = [];
  let currentX = x[order[0] as number] as number;
  let sumWY = 0;
  let sumW = 0;
  for (const i of order) {
    const xi = x[i] as number;
    const wi = weights === undefined ? 1 : (weights[i] as number);
    if (xi - currentX >= MERGE_RESOLUTION) {
      ux.push(currentX);
      uy.push(sumWY / sumW);
      uw.push(sumW);
      currentX = xi;
      sumWY = 0;
      sumW = 0;
    }
    sumWY += (y[i] as number) * wi;
    sumW += wi;
  }
  ux.push(currentX);
  uy.push(sumWY / sumW);
  uw.push(sumW);
  return [ux, uy, uw];
}

/** sklearn's `_inplace_contiguous_isotonic_regression`, line for line. */
function pav(y: number[], w: number[]): void {
  const n = y.length;
  const target = Array.from({ length: n }, (_, i) => i);
  let i = 0;
  while (i < n) {
    let k = (target[i] as number) + 1;
    if (k === n) break;
    if ((y[i] as number) < (y[k] as number)) {
      i = k;
      continue;
    }
    let sumWY = (w[i] as number) * (y[i] as number);
    let sumW = w[i] as number;
    for (;;) {
      const prevY = y[k] as number;
      sumWY += (w[k] as number) * (y[k] as number);
      sumW += w[k] as number;
      k = (target[k] as number) + 1;
      if (k === n || prevY < (y[k] as number)) {
        y[i] = sumWY / sumW;
        w[i] = sumW;
        target[i] = k - 1;
        target[k - 1] = i;
        if (i > 0) i = target[i - 1] as number;
        break;
      }
    }
  }
  i = 0;
  while (i < n) {
    const k = (target[i] as number) + 1;
    for (let j = i + 1; j < k; j++) y[j] = y[i] as number;
    i = k;
  }
}

/** Keeps the first and last point and every point whose y differs from a neighbour's. */
function trim(x: number[], y: number[]): IsotonicFit {
  const keptX: number[] = [];
  const keptY: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const interior = i > 0 && i < x.length - 1;
    if (interior && y[i] === y[i - 1] && y[i] === y[i + 1]) continue;
    keptX.push(x[i] as number);
    keptY.push(y[i] as number);
  }
  return { x: keptX, y: keptY };
}

/** The fitted function at t: clip to [x_0, x_last], then scipy `interp1d` linear interpolation. */
export function predictIsotonic(fit: IsotonicFit, t: number): number {
  const { x, y } = fit;
  const n = x.length;
  if (n === 1) return y[0] as number;
  const clipped = Math.min(Math.max(t, x[0] as number), x[n - 1] as number);
  // interp1d: hi = searchsorted(x, t, side='left') clipped to [1, n - 1]; lo = hi - 1.
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((x[mid] as number) < clipped) lo = mid + 1;
    else hi = mid;
  }
  const h = Math.min(Math.max(lo, 1), n - 1);
  const x0 = x[h - 1] as number;
  const x1 = x[h] as number;
  const y0 = y[h - 1] as number;
  const y1 = y[h] as number;
  const slope = (y1 - y0) / (x1 - x0);
  return slope * (clipped - x0) + y0;
}
