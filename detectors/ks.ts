/**
 * Two-sample Kolmogorov–Smirnov test, two-sided, matching
 * `scipy.stats.ks_2samp(a, b, method='auto')`: exact null distribution when
 * max(n1, n2) <= 10000 (falling back to asymptotic if the exact recursion fails, as scipy
 * does), else `kstwo.sf(D, round(n1*n2/(n1+n2)))`.
 */
import { kstwoSf } from './distributions/kolmogorov.js';
import { exactTwoSampleKs } from './distributions/smirnov-two-sample.js';
import { gcd, roundHalfEven, sortedFinite, type NumericInput } from './numeric-input.js';
import { computed, notComputable, type TestResult } from './result.js';

/** scipy's MAX_AUTO_N: above this, 'auto' goes asymptotic. */
export const KS_EXACT_MAX_N = 10_000;

export type KsMethod = 'auto' | 'exact' | 'asymptotic';

export interface KsOptions {
  /** @default 'auto' */
  readonly method?: KsMethod;
}

/** max_x |F_a(x) - F_b(x)| over sorted inputs, one merge pass, scipy's sign convention. */
export function ksStatisticSorted(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let maxS = -Infinity;
  let minS = Infinity;
  while (i < n1 || j < n2) {
    const va = i < n1 ? (a[i] as number) : Infinity;
    const vb = j < n2 ? (b[j] as number) : Infinity;
    const v = va <= vb ? va : vb;
    while (i < n1 && (a[i] as number) <= v) i++;
    while (j < n2 && (b[j] as number) <= v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxS) maxS = diff;
    if (diff < minS) minS = diff;
  }
  const minClipped = Math.min(1, Math.max(0, -minS));
  return minClipped > maxS ? minClipped : maxS;
}

export interface KsPValue {
  /** D as the p-value's method sees it (exact KS snaps D to the lattice h / lcm(n1, n2)). */
  readonly d: number;
  readonly pValue: number;
  readonly method: 'exact' | 'asymptotic';
}

/**
 * p-value for an observed D with sizes n1, n2 under scipy's method selection — or, as a
 * string, why there is none: the asymptotic distribution is kstwo(round(n1 n2 / (n1 + n2))),
 * and with one value per sample that is kstwo(0), which has no distribution (scipy returns
 * nan). 'auto' never asks for it there (it goes exact).
 */
export function ksPValue(d: number, n1: number, n2: number, method: KsMethod = 'auto'): KsPValue | string {
  let mode = method === 'auto' ? (Math.max(n1, n2) <= KS_EXACT_MAX_N ? 'exact' : 'asymptotic') : method;
  const g = gcd(n1, n2);
  if (mode === 'exact' && n1 / g >= 2147483647 / (n2 / g)) mode = 'asymptotic';
  let stat = d;
  if (mode === 'exact') {
    const exact = exactTwoSampleKs(n1, n2, g, d);
    stat = exact.d;
    if (exact.success) return { d: stat, pValue: exact.pValue, method: 'exact' };
  }
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const en = roundHalfEven((m * n) / (m + n));
  if (en < 1) {
    return (
      `the asymptotic KS distribution needs round(n1·n2/(n1+n2)) >= 1, got ${en} for n1 = ${n1}, n2 = ${n2} ` +
      `(scipy returns nan); use method 'exact' or 'auto'`
    );
  }
  const p = kstwoSf(en, stat);
  return { d: stat, pValue: Math.min(1, Math.max(0, p)), method: 'asymptotic' };
}

/** KS on already-sorted Float64Arrays (no copy); use `ks` for arbitrary input. */
export function ksSorted(
  reference: Float64Array,
  current: Float64Array,
  options: KsOptions = {},
): TestResult {
  if (reference.length === 0 || current.length === 0) {
    return notComputable('ks', reference.length === 0 ? 'empty reference sample' : 'empty current window');
  }
  const d = ksStatisticSorted(reference, current);
  const r = ksPValue(d, reference.length, current.length, options.method ?? 'auto');
  if (typeof r === 'string') return notComputable('ks', r);
  return computed('ks', r.d, r.pValue, r.method, { n1: reference.length, n2: current.length });
}

export function ks(reference: NumericInput, current: NumericInput, options: KsOptions = {}): TestResult {
  return ksSorted(sortedFinite(reference), sortedFinite(current), options);
}
