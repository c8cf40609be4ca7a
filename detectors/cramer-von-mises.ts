/**
 * Two-sample Cramér–von Mises test, matching `scipy.stats.cramervonmises_2samp(x, y,
 * method='auto')`: exact p-value when both samples have <= 20 observations, asymptotic
 * otherwise. Ties get mid-ranks. Needs raw samples (ranks), so it is not profile-capable.
 */
import { cvmAsymptoticPValue, cvmExactPValue } from './distributions/cramer-von-mises.js';
import { sortedFinite, type NumericInput } from './numeric-input.js';
import { computed, notComputable, type TestResult } from './result.js';

export const CVM_EXACT_MAX_N = 20;

export interface CramerVonMisesOptions {
  /** @default 'auto' */
  readonly method?: 'auto' | 'exact' | 'asymptotic';
}

/** U = nx Σ (r(x_i) - i)^2 + ny Σ (r(y_j) - j)^2 over sorted inputs, one merge pass. */
export function cvmUSorted(x: Float64Array, y: Float64Array): number {
  const nx = x.length;
  const ny = y.length;
  let i = 0;
  let j = 0;
  let sumX = 0;
  let sumY = 0;
  while (i < nx || j < ny) {
    const vx = i < nx ? (x[i] as number) : Infinity;
    const vy = j < ny ? (y[j] as number) : Infinity;
    const v = vx <= vy ? vx : vy;
    let ci = 0;
    let cj = 0;
    while (i + ci < nx && x[i + ci] === v) ci++;
    while (j + cj < ny && y[j + cj] === v) cj++;
    const midRank = i + j + (ci + cj + 1) / 2;
    for (let k = 1; k <= ci; k++) sumX += (midRank - (i + k)) ** 2;
    for (let k = 1; k <= cj; k++) sumY += (midRank - (j + k)) ** 2;
    i += ci;
    j += cj;
  }
  return nx * sumX + ny * sumY;
}

export function cramerVonMisesSorted(
  reference: Float64Array,
  current: Float64Array,
  options: CramerVonMisesOptions = {},
): TestResult {
  const nx = reference.length;
  const ny = current.length;
  if (nx < 2 || ny < 2) {
    return notComputable('cramer_von_mises', 'each sample needs at least two observations');
  }
  const u = cvmUSorted(reference, current);
  const k = nx * ny;
  const N = nx + ny;
  const t = u / (k * N) - (4 * k - 1) / (6 * N);
  const requested = options.method ?? 'auto';
  const method =
    requested === 'auto' ? (Math.max(nx, ny) > CVM_EXACT_MAX_N ? 'asymptotic' : 'exact') : requested;
  const p = method === 'exact' ? cvmExactPValue(u, nx, ny) : cvmAsymptoticPValue(t, nx, ny);
  return computed('cramer_von_mises', t, p, method, { n1: nx, n2: ny });
}

export function cramerVonMises(
  reference: NumericInput,
  current: NumericInput,
  options: CramerVonMisesOptions = {},
): TestResult {
  return cramerVonMisesSorted(sortedFinite(reference), sortedFinite(current), options);
}
