/**
 * Exact null distribution of the two-sample KS statistic, ported from scipy
 * (`_compute_prob_outside_square`, `_compute_outer_prob_inside_method`,
 * `_attempt_exact_2kssamp`), two-sided only.
 */
import { roundHalfEven } from '../numeric-input.js';

/** P(D_{n,n} >= h/n) for equal sizes: Horner-like alternating series (no cancellation). */
function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  let k = Math.floor(n / h);
  while (k >= 0) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
    k -= 1;
  }
  return 2 * P;
}

/**
 * Proportion of lattice paths from (0,0) to (m,n) leaving the band |x/m - y/n| < h/lcm,
 * computed as 1 - p directly (Viehmann 2021) with a sliding column window.
 */
function outerProbInsideMethod(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  for (let j = minj; j < maxj; j++) A[j] = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.max(Math.floor((ng * i - h) / mg) + 1, 0);
    minj = Math.min(minj, n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = ((A[jj + minj - lastminj] as number) * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) {
      const end = Math.min(maxj - minj + (lastlen - curlen), lenA);
      for (let t = maxj - minj; t < end; t++) A[t] = 1;
    }
  }
  return A[maxj - minj - 1] as number;
}

export interface ExactKsOutcome {
  readonly success: boolean;
  /** The statistic snapped to the lattice h / lcm(n1, n2), as scipy reports it. */
  readonly d: number;
  readonly pValue: number;
}

export function exactTwoSampleKs(n1: number, n2: number, g: number, d: number): ExactKsOutcome {
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(d * lcm);
  const snapped = h / lcm;
  if (h === 0) return { success: true, d: snapped, pValue: 1 };
  const prob = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInsideMethod(n1, n2, g, h);
  // scipy falls back to the asymptotic method when the recursion leaves [0, 1].
  if (!(prob >= 0 && prob <= 1)) return { success: false, d: snapped, pValue: prob };
  return { success: true, d: snapped, pValue: prob };
}
