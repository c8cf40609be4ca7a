/**
 * One-sided superiority with a margin: is the challenger better than the champion by more than
 * `margin`? Each test gives the one-sided (1 - alpha) lower confidence bound of the improvement
 * and the p-value of H0: improvement <= margin; the two agree (bound > margin exactly when
 * p < alpha), and both are reported.
 *
 * - Right/wrong outcomes (accuracy, error rate): Tango's asymptotic score test for the difference
 *   of paired proportions (Tango 1998, Stat Med 17:891; the interval Fagerland, Lydersen and
 *   Laake 2014 recommend), with a continuity correction that keeps the one-sided level (the plain
 *   score test runs 1-2 % over it at the margin; scripts/retune/simulate-gate.ts computes the
 *   exact sizes). With no margin it is McNemar's test with Edwards' correction.
 * - Means of per-row losses (MSE, MAE): the paired t test on the per-row differences
 *   (`scipy.stats.ttest_1samp(d, margin, alternative='greater')` and its confidence interval).
 * - RMSE, a square root of a mean: the same t bound on the delta-method linearisation.
 *
 * Checked against scipy / the published examples in test/unit/retune/promotion.
 */
import { normalQuantile, normalSf } from './special.js';
import { studentTIsf, studentTSf } from './student-t.js';

export interface SuperiorityResult {
  /** Point estimate of the improvement (positive = challenger better). */
  readonly estimate: number;
  /** One-sided (1 - alpha) lower confidence bound of the improvement. */
  readonly lowerBound: number;
  /** p-value of H0: improvement <= margin (one-sided). */
  readonly pValue: number;
  /** The test statistic at the margin (z or t). */
  readonly statistic: number;
}

/**
 * Tango's score statistic for H0: p(challenger right) - p(champion right) = delta0, from
 * `c` rows only the challenger got right, `b` rows only the champion got right, `n` rows in all.
 * In Tango's notation x12 = c and x21 = b. `continuity` is subtracted from c - b - n delta0: 1
 * (half the step of c - b) reads the upper tail P(C - B >= observed) of the discrete count, which
 * keeps the one-sided test at or below its level (at delta0 = 0 it is McNemar's statistic with
 * Edwards' correction); 0 is Tango's plain statistic, as published.
 */
export function tangoScore(b: number, c: number, n: number, delta0: number, continuity = 0): number {
  // Constrained MLE of p21 (champion-only right) under the null, the positive root of
  // 2n p² + B p + C = 0 (Tango 1998, eq. 6).
  const B = -c - b + (2 * n - c + b) * delta0;
  const C = -b * delta0 * (1 - delta0);
  const p21 = (Math.sqrt(Math.max(0, B * B - 8 * n * C)) - B) / (4 * n);
  const variance = n * (2 * p21 + delta0 * (1 - delta0));
  const numerator = c - b - n * delta0 - continuity;
  if (!(variance > 0)) return numerator === 0 ? NaN : numerator > 0 ? Infinity : -Infinity;
  return numerator / Math.sqrt(variance);
}

/**
 * Tango's one-sided score test of H0: improvement <= margin, and the (1 - alpha) lower bound, with
 * the continuity correction the gate uses (1) unless told otherwise.
 */
export function pairedProportionSuperiority(
  b: number,
  c: number,
  n: number,
  margin: number,
  alpha: number,
  continuity = 1,
): SuperiorityResult {
  checkCounts(b, c, n);
  checkAlpha(alpha);
  const estimate = (c - b) / n;
  const statistic =
    margin >= 1 ? -Infinity : margin <= -1 ? Infinity : tangoScore(b, c, n, margin, continuity);
  // No discordant rows and no margin or correction: nothing speaks for either model (0/0); the
  // exact conditional test gives p = 1 there, and so does this.
  const pValue = Number.isNaN(statistic) ? 1 : normalSf(statistic);
  return { estimate, lowerBound: tangoLowerBound(b, c, n, alpha, continuity), pValue, statistic };
}

/**
 * The delta0 where the score equals z_(1-alpha). The score falls as delta0 rises (+inf at -1, 0
 * where its numerator vanishes), so bisection finds the one crossing below that point.
 */
export function tangoLowerBound(b: number, c: number, n: number, alpha: number, continuity = 1): number {
  const z = -normalQuantile(alpha);
  let low = -1;
  let high = Math.max(-1, (c - b - continuity) / n);
  if (z <= 0) return high;
  for (let i = 0; i < 200 && high - low > 1e-15; i++) {
    const mid = (low + high) / 2;
    const score = tangoScore(b, c, n, mid, continuity);
    // NaN only at mid = 0 with b = c = 0 and no correction, where the limit from below is 0 < z.
    if (score > z) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/**
 * Paired t test of H0: mean(d) <= margin on per-row improvements `d` (positive = challenger
 * better), and the one-sided (1 - alpha) lower bound of the mean. Needs at least 2 rows. With
 * no spread at all the bound is the mean itself (every row improved by exactly that much).
 */
export function pairedMeanSuperiority(
  d: ArrayLike<number>,
  margin: number,
  alpha: number,
): SuperiorityResult & { readonly standardError: number; readonly df: number } {
  checkAlpha(alpha);
  const n = d.length;
  if (n < 2) throw new RangeError(`a paired t bound needs at least 2 rows, got ${n}`);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += d[i] as number;
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += ((d[i] as number) - mean) ** 2;
  const standardError = Math.sqrt(ss / (n - 1) / n);
  return { ...tBound(mean, standardError, n - 1, margin, alpha), standardError, df: n - 1 };
}

/**
 * RMSE improvement sqrt(mse_champion) - sqrt(mse_challenger) from per-row squared errors, with
 * the delta-method standard error: the per-row linearisation
 * u_i = e1_i / (2 sqrt(m1)) - e2_i / (2 sqrt(m2)) has the improvement's variance, var(u) / n.
 */
export function rmseSuperiority(
  championSquared: ArrayLike<number>,
  challengerSquared: ArrayLike<number>,
  margin: number,
  alpha: number,
): SuperiorityResult & { readonly standardError: number; readonly df: number } {
  checkAlpha(alpha);
  const n = championSquared.length;
  if (n < 2 || challengerSquared.length !== n)
    throw new RangeError(`an RMSE bound needs the same >= 2 rows for both models, got ${n}`);
  let m1 = 0;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    m1 += championSquared[i] as number;
    m2 += challengerSquared[i] as number;
  }
  m1 /= n;
  m2 /= n;
  // A model with zero error on every row contributes no variance (its term is identically 0).
  const w1 = m1 > 0 ? 1 / (2 * Math.sqrt(m1)) : 0;
  const w2 = m2 > 0 ? 1 / (2 * Math.sqrt(m2)) : 0;
  const u = new Float64Array(n);
  for (let i = 0; i < n; i++)
    u[i] = w1 * (championSquared[i] as number) - w2 * (challengerSquared[i] as number);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += u[i] as number;
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += ((u[i] as number) - mean) ** 2;
  const standardError = Math.sqrt(ss / (n - 1) / n);
  const estimate = Math.sqrt(m1) - Math.sqrt(m2);
  return { ...tBound(estimate, standardError, n - 1, margin, alpha), standardError, df: n - 1 };
}

function tBound(
  estimate: number,
  standardError: number,
  df: number,
  margin: number,
  alpha: number,
): SuperiorityResult {
  if (standardError === 0) {
    const above = estimate > margin;
    return { estimate, lowerBound: estimate, pValue: above ? 0 : 1, statistic: above ? Infinity : -Infinity };
  }
  const statistic = (estimate - margin) / standardError;
  return {
    estimate,
    lowerBound: estimate - studentTIsf(alpha, df) * standardError,
    pValue: studentTSf(statistic, df),
    statistic,
  };
}

function checkCounts(b: number, c: number, n: number): void {
  if (![b, c, n].every((v) => Number.isSafeInteger(v) && v >= 0) || b + c > n || n === 0)
    throw new RangeError(
      `paired counts need integers 0 <= b + c <= n with n > 0, got b=${b}, c=${c}, n=${n}`,
    );
}

function checkAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
}
