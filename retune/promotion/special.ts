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
