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

/** Population standard deviation (ddof = 0), two-pass for accuracy. */
export function stdDdof0(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const mean = meanOf(values);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = (values[i] as number) - mean;
    ss += d * d;
  }
  return Math.sqrt(ss / n);
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
