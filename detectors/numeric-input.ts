/**
 * Turning raw numeric input into the one representation the tests work on: a sorted
 * Float64Array without NaN, sorted by the radix sort of radix-sort.ts.
 */
import { sortFloat64InPlace } from './radix-sort.js';

export type NumericInput = ArrayLike<number>;

/** Copies `values` into a new ascending Float64Array, dropping NaN (treated as missing). */
export function sortedFinite(values: NumericInput): Float64Array {
  const out = new Float64Array(values.length);
  let kept = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v === v) out[kept++] = v;
  }
  return sortFloat64InPlace(kept === out.length ? out : out.slice(0, kept));
}

export function meanOf(sorted: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i] as number;
  return sum / sorted.length;
}

/**
 * The infinities an ascending sample holds, as a phrase for a refusal ('+Infinity',
 * '-Infinity', '-Infinity and +Infinity'); undefined when it has none.
 */
export function infinitiesIn(sorted: ArrayLike<number>): string | undefined {
  const n = sorted.length;
  const low = n > 0 && sorted[0] === -Infinity;
  const high = n > 0 && sorted[n - 1] === Infinity;
  if (low && high) return '-Infinity and +Infinity';
  return low ? '-Infinity' : high ? '+Infinity' : undefined;
}

/** sqrt(Σ (x·k - shift - m)² / n) / k, m the mean of x·k - shift: two passes. */
function shiftedStd(values: ArrayLike<number>, shift: number, k: number): number {
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (values[i] as number) * k - shift;
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = (values[i] as number) * k - shift - mean;
    ss += d * d;
  }
  return Math.sqrt(ss / n) / k;
}

/**
 * Population standard deviation (ddof = 0), two-pass, accurate where the plain formula is not:
 * - deviations are taken from one of the values first (the middle one: the median of a sorted
 *   sample), so at 1e15 + noise — where one ulp is 0.125 and a float64 mean cannot hold the
 *   true mean — the mean of the small differences carries the precision (np.std is off by
 *   ~5e-5 relative there; this stays within rounding of the exact value);
 * - when the squares overflow although every value is finite (|x| beyond ~1e154), it
 *   recomputes on the values times a power of two (exact) and scales back: std([-1e200,
 *   1e200]) is 1e200, where np.std says inf.
 * Infinite values give a non-finite result.
 */
export function stdDdof0(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const middle = values[n >> 1] as number;
  if (!Number.isFinite(middle)) return Number.NaN;
  const std = shiftedStd(values, middle, 1);
  if (Number.isFinite(std)) return std;
  let maxAbs = 0;
  for (let i = 0; i < n; i++) maxAbs = Math.max(maxAbs, Math.abs(values[i] as number));
  if (!Number.isFinite(maxAbs)) return std;
  // |x·k| <= 2 with k = 2^-floor(log2 max|x|): nothing left to overflow.
  const k = 2 ** -Math.floor(Math.log2(maxAbs));
  return shiftedStd(values, middle * k, k);
}

/** Round half to even, as numpy's `np.round` does; scipy rounds lattice heights this way. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function gcd(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  while (y !== 0) {
    const t = x % y;
    x = y;
    y = t;
  }
  return x;
}
