/**
 * Standard normal helpers for truncated Gaussian kernels. Everything that can underflow is
 * computed in log space, because TPE compares log densities of points far in a kernel's tail.
 */

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const SQRT1_2 = Math.SQRT1_2;

/**
 * log(erfc(x)) for x >= 0, from the Chebyshev fit in Numerical Recipes (`erfcc`, relative error
 * below 1.2e-7 everywhere). Written as a log so it never underflows in the far tail.
 */
function logErfcNonNegative(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.log(t) - x * x + poly;
}

function erfc(x: number): number {
  return x >= 0 ? Math.exp(logErfcNonNegative(x)) : 2 - Math.exp(logErfcNonNegative(-x));
}

/** Standard normal CDF. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z * SQRT1_2);
}

/** log of the standard normal CDF, accurate in the lower tail. */
export function logNormalCdf(z: number): number {
  if (z < 0) return Math.log(0.5) + logErfcNonNegative(-z * SQRT1_2);
  return Math.log1p(-0.5 * Math.exp(logErfcNonNegative(z * SQRT1_2)));
}

/** log of the standard normal density. */
export function logNormalPdf(z: number): number {
  return -0.5 * z * z - LOG_SQRT_2PI;
}

/** log(Phi(upper) - Phi(lower)) for lower < upper, stable when both lie in the same tail. */
export function logNormalMass(lower: number, upper: number): number {
  if (!(upper > lower)) return -Infinity;
  if (lower >= 0) return logNormalMass(-upper, -lower);
  // Narrow intervals (fine integer grids in log space): the midpoint rule is exact to O(width^2)
  // and avoids cancellation between two nearly equal CDF values.
  const width = upper - lower;
  if (width < 1e-3) return logNormalPdf(0.5 * (lower + upper)) + Math.log(width);
  if (upper <= 0) {
    const logUpper = logNormalCdf(upper);
    const logLower = logNormalCdf(lower);
    return logUpper + Math.log1p(-Math.exp(logLower - logUpper));
  }
  // lower < 0 < upper: the mass is at least Phi(upper) - 1/2, no cancellation worth handling.
  return Math.log(normalCdf(upper) - normalCdf(lower));
}

/**
 * Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9).
 */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const pLow = 0.02425;
  if (p < pLow || p > 1 - pLow) {
    const q = Math.sqrt(-2 * Math.log(p < pLow ? p : 1 - p));
    const num =
      ((((-0.007784894002430293 * q - 0.3223964580411365) * q - 2.400758277161838) * q - 2.549732539343734) *
        q +
        4.374664141464968) *
        q +
      2.938163982698783;
    const den =
      (((0.007784695709041462 * q + 0.3224671290700398) * q + 2.445134137142996) * q + 3.754408661907416) *
        q +
      1;
    return p < pLow ? num / den : -num / den;
  }
  const q = p - 0.5;
  const r = q * q;
  const num =
    ((((-39.69683028665376 * r + 220.9460984245205) * r - 275.9285104469687) * r + 138.357751867269) * r -
      30.66479806614716) *
      r +
    2.506628274631;
  const den =
    ((((-54.47609879822406 * r + 161.5858368580409) * r - 155.6989798598866) * r + 66.80131188771972) * r -
      13.28068155288572) *
      r +
    1;
  return (q * num) / den;
}

/** log(sum(exp(values))) without overflow. */
export function logSumExp(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i] ?? -Infinity);
  if (max === -Infinity || !Number.isFinite(max)) return max;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.exp((values[i] ?? -Infinity) - max);
  return max + Math.log(sum);
}
