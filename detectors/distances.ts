/**
 * CDF-based distances between two numeric samples: Wasserstein-1 and energy distance,
 * each one merge pass over sorted inputs (scipy's `_cdf_distance` without the pooled
 * concatenate-and-sort).
 */
import { infinitiesIn, sortedFinite, stdDdof0, type NumericInput } from './numeric-input.js';
import { computed, notComputable, type TestResult } from './result.js';

/** Floor for the normalising std, as the well-known tool does: W1 / max(std0(ref), 0.001). */
export const WASSERSTEIN_STD_FLOOR = 0.001;

/**
 * ∫ |F_a - F_b|^p dx over sorted samples (p = 1 or 2), evaluated between consecutive pooled
 * values exactly like scipy: deltas of the pooled sorted values times the CDF gap.
 *
 * Every step consumes one element of a sample that still has one, so the loop ends after
 * n1 + n2 steps whatever the values (an exhausted sample is never stood in for by +Infinity,
 * which a real +Infinity would tie with forever). Infinite values give an infinite or NaN
 * integral, as in scipy; the public distances refuse them before getting here.
 */
export function cdfGapIntegralSorted(a: Float64Array, b: Float64Array, power: 1 | 2): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let sum = 0;
  let prev = Math.min(a[0] as number, b[0] as number);
  while (i < n1 || j < n2) {
    // Ties take from `a` first; which one does not matter, the delta between them is 0.
    const fromA = j >= n2 || (i < n1 && (a[i] as number) <= (b[j] as number));
    const v = fromA ? (a[i] as number) : (b[j] as number);
    if (i + j > 0) {
      const gap = Math.abs(i / n1 - j / n2);
      sum += (power === 1 ? gap : gap * gap) * (v - prev);
    }
    // Consume one element at a time (not the tie block) so the pooled deltas match scipy.
    if (fromA) i++;
    else j++;
    prev = v;
  }
  return sum;
}

/**
 * Why a CDF distance between these sorted samples has no finite value, or undefined. With an
 * infinity in either sample the integral is infinite — scipy returns inf, or nan when the same
 * infinity occurs more than once across the two samples (inf - inf between pooled values) —
 * and the reference's std, hence the normalised value, is undefined: refused, not returned.
 */
function whyNotComputable(name: string, reference: Float64Array, current: Float64Array): string | undefined {
  if (reference.length === 0) return 'empty reference sample';
  if (current.length === 0) return 'empty current window';
  const inReference = infinitiesIn(reference);
  const inCurrent = infinitiesIn(current);
  if (inReference === undefined && inCurrent === undefined) return undefined;
  const where = [
    inReference === undefined ? '' : `the reference sample contains ${inReference}`,
    inCurrent === undefined ? '' : `the current window contains ${inCurrent}`,
  ]
    .filter((s) => s !== '')
    .join(' and ');
  return `${where}: the ${name} is infinite or undefined (scipy returns inf or nan); drop or clip infinite values, or use ks / cramer_von_mises, which only rank them`;
}

export function wassersteinSorted(reference: Float64Array, current: Float64Array): TestResult {
  const why = whyNotComputable('Wasserstein distance', reference, current);
  if (why !== undefined) return notComputable('wasserstein', why);
  const w1 = cdfGapIntegralSorted(reference, current, 1);
  const scale = Math.max(stdDdof0(reference), WASSERSTEIN_STD_FLOOR);
  return computed('wasserstein', w1, undefined, 'distance', { normalized: w1 / scale, referenceStd: scale });
}

/**
 * Wasserstein-1 distance. `statistic` is the raw W1; `details.normalized` is W1 divided by
 * max(std_ddof0(reference), 0.001), the scale-free value the default threshold applies to.
 * NaN is missing and dropped; ±Infinity in either sample, or a W1 beyond float64, is refused.
 */
export function wasserstein(reference: NumericInput, current: NumericInput): TestResult {
  return wassersteinSorted(sortedFinite(reference), sortedFinite(current));
}

export function energySorted(reference: Float64Array, current: Float64Array): TestResult {
  const why = whyNotComputable('energy distance', reference, current);
  if (why !== undefined) return notComputable('energy', why);
  const value = Math.sqrt(2 * cdfGapIntegralSorted(reference, current, 2));
  const scale = Math.max(stdDdof0(reference), WASSERSTEIN_STD_FLOOR);
  return computed('energy', value, undefined, 'distance', {
    normalized: value / Math.sqrt(scale),
    referenceStd: scale,
  });
}

/**
 * Energy distance sqrt(2 ∫ (F - G)^2), scipy's `energy_distance`. It scales like sqrt(x), so
 * `details.normalized` divides by sqrt(max(std_ddof0(reference), 0.001)). Refuses what
 * `wasserstein` refuses.
 */
export function energy(reference: NumericInput, current: NumericInput): TestResult {
  return energySorted(sortedFinite(reference), sortedFinite(current));
}
