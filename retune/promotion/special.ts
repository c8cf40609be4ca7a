/**
 * The two distributions the promotion gate needs, to double precision: the chi-square tail with
 * one degree of freedom (through erfc) and the two-sided binomial tail at p = 1/2. Checked
 * against scipy in test/unit/retune/promotion (fixtures from scripts/retune/gen-promotion-fixtures.py).
 */

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const ONE_OVER_SQRT_PI = 1 / Math.sqrt(Math.PI);

/**
 * Complementary error function. |x| < 2: the Maclaurin series of erf (terms shrink fast enough
 * that cancellation costs at most two digits); x >= 2: the continued fraction of erfc evaluated
 * with the modified Lentz method, which keeps full relative precision in the far tail.
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 2) {
    const z2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= -z2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - TWO_OVER_SQRT_PI * sum;
  }
  if (x > 27) return 0;
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), a_k = k/2.
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? 1 / tiny : 1 / d;
    c = x + a / c;
    if (Math.abs(c) < tiny) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (Math.exp(-x * x) * ONE_OVER_SQRT_PI) / f;
}

/** Survival function of the chi-square distribution with one degree of freedom: P(X >= x). */
export function chiSquare1Sf(x: number): number {
  if (!(x > 0)) return 1;
  return erfc(Math.sqrt(x / 2));
}

function logSumExp(values: readonly number[]): number {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const v of values) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

/**
 * Two-sided exact binomial test of k successes in n trials against p = 1/2, as
 * `scipy.stats.binomtest(k, n, 0.5).pvalue`: the distribution is symmetric, so the outcomes at
 * most as likely as k are the two tails beyond min(k, n-k), and p = min(1, 2 P(X <= min(k, n-k))).
 * Summed in log space so n in the thousands does not underflow 2^-n.
 */
export function binomialTwoSidedHalf(k: number, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0 || !Number.isSafeInteger(k) || k < 0 || k > n) {
    throw new RangeError(`binomial test needs integers 0 <= k <= n, got k=${k}, n=${n}`);
  }
  if (n === 0) return 1;
  const low = Math.min(k, n - k);
  if (2 * low === n) return 1;
  const logs: number[] = [];
  let logPmf = -n * Math.LN2;
  for (let i = 0; i <= low; i++) {
    logs.push(logPmf);
    logPmf += Math.log((n - i) / (i + 1));
  }
  return Math.min(1, 2 * Math.exp(logSumExp(logs)));
}

/** P(Z > z) for the standard normal, from the erfc above (full relative precision in the tail). */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** P(Z <= z) for the standard normal. */
export function normalCdf(z: number): number {
  return normalSf(-z);
}

const ACKLAM_A = [
  -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
  2.506628277459239,
];
const ACKLAM_B = [
  -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
];
const ACKLAM_C = [
  -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const ACKLAM_D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];

function poly(coefficients: readonly number[], x: number): number {
  let value = 0;
  for (const c of coefficients) value = value * x + c;
  return value;
}

/**
 * The standard normal quantile Φ⁻¹(p), 0 < p < 1: Acklam's rational approximation (relative
 * error 1.2e-9), then two Halley steps against the erfc above, which bring it to double precision.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`a probability must be in (0, 1), got ${p}`);
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = poly(ACKLAM_C, q) / (poly(ACKLAM_D, q) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x = (poly(ACKLAM_A, r) * q) / (poly(ACKLAM_B, r) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log1p(-p));
    x = -poly(ACKLAM_C, q) / (poly(ACKLAM_D, q) * q + 1);
  }
  for (let i = 0; i < 2; i++) {
    // Work in the tail that holds p, so the error e is relative, not swamped by 1 - p.
    const e = p < 0.5 ? normalCdf(x) - p : 1 - p - normalSf(x);
    const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
    x -= u / (1 + (x * u) / 2);
  }
  return x;
}

/**
 * One-sided exact binomial tail at p = 1/2: P(X >= k) for X ~ Bin(n, 1/2), as
 * `scipy.stats.binomtest(k, n, 0.5, alternative='greater').pvalue`. Summed in log space.
 */
export function binomialUpperTailHalf(k: number, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0 || !Number.isSafeInteger(k) || k < 0 || k > n) {
    throw new RangeError(`binomial test needs integers 0 <= k <= n, got k=${k}, n=${n}`);
  }
  if (k === 0) return 1;
  const logs: number[] = [];
  // log C(n, i) 2^-n for i = n, n-1, ..., k (the small terms first: no overflow for large n).
  let logPmf = -n * Math.LN2;
  for (let i = n; i >= k; i--) {
    logs.push(logPmf);
    logPmf += Math.log(i / (n - i + 1));
  }
  return Math.min(1, Math.exp(logSumExp(logs)));
}
