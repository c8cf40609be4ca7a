/**
 * Null distribution of the two-sample Cramér–von Mises statistic, ported from scipy's
 * `_hypotests.py`: the exact enumeration of Xiao, Gordon & Yakovlev (2006) for small
 * samples and Anderson's (1962) normalised statistic against the one-sample limiting
 * distribution (Csörgő & Faraway 1996) otherwise.
 */
import { besselK } from './bessel-k.js';
import { logGamma } from './log-gamma.js';
import { gcd } from '../numeric-input.js';

/** Limiting CDF of the one-sample CvM statistic; series summed until a term < 1e-7 like scipy. */
export function cvmLimitingCdf(x: number): number {
  let total = 0;
  for (let k = 0; ; k++) {
    const u = Math.exp(logGamma(k + 0.5) - logGamma(k + 1)) / (Math.PI ** 1.5 * Math.sqrt(x));
    const y = 4 * k + 1;
    const q = (y * y) / (16 * x);
    const z = u * Math.sqrt(y) * Math.exp(-q) * besselK(0.25, q);
    total += z;
    if (!(Math.abs(z) >= 1e-7)) break;
  }
  return total;
}

export function cvmAsymptoticPValue(t: number, nx: number, ny: number): number {
  const N = nx + ny;
  const k = nx * ny;
  const et = (1 + 1 / N) / 6;
  let vt = (N + 1) * (4 * k * N - 3 * (nx ** 2 + ny ** 2) - 2 * k);
  vt = vt / (45 * N ** 2 * 4 * k);
  const tn = 1 / 6 + (t - et) / Math.sqrt(45 * vt);
  if (tn < 0.003) return 1;
  return Math.max(1 - cvmLimitingCdf(tn), 0);
}

/** Python's float floor division (`a // b` on floats), so zeta lands on the same lattice point. */
function pyFloorDiv(a: number, b: number): number {
  let mod = a % b;
  let div = (a - mod) / b;
  if (mod !== 0) {
    if (b < 0 !== mod < 0) {
      mod += b;
      div -= 1;
    }
  }
  if (div === 0) return 0;
  let floordiv = Math.floor(div);
  if (div - floordiv > 0.5) floordiv += 1;
  return floordiv;
}

/**
 * Exact p-value P(U >= u) by enumerating the frequency table of U over lattice paths.
 * Cost grows fast: scipy only uses it when both samples have <= 20 observations.
 */
export function cvmExactPValue(u: number, m: number, n: number): number {
  const lcm = (m / gcd(m, n)) * n;
  const a = lcm / m;
  const b = lcm / n;
  const mn = m * n;
  const zeta = pyFloorDiv(lcm ** 2 * (m + n) * (6 * u - mn * (4 * mn - 1)), 6 * mn ** 2);
  let gs: Map<number, number>[] = [new Map([[0, 1]])];
  for (let v = 0; v < m; v++) gs.push(new Map());
  for (let uu = 0; uu <= n; uu++) {
    const next: Map<number, number>[] = [];
    let tmp = new Map<number, number>();
    for (let v = 0; v <= m; v++) {
      const g = gs[v] as Map<number, number>;
      const merged = new Map<number, number>();
      const shift = (a * v - b * uu) ** 2;
      for (const [value, freq] of tmp) merged.set(value + shift, freq);
      for (const [value, freq] of g) merged.set(value + shift, (merged.get(value + shift) ?? 0) + freq);
      tmp = merged;
      next.push(tmp);
    }
    gs = next;
  }
  let tail = 0;
  for (const [value, freq] of gs[m] as Map<number, number>) if (value >= zeta) tail += freq;
  return tail / binomialExact(m + n, m);
}

/** C(n, k) by the multiplicative formula; every partial product is an integer below 2^53 here. */
function binomialExact(n: number, k: number): number {
  let c = 1;
  for (let i = 0; i < k; i++) c = (c * (n - i)) / (i + 1);
  return c;
}
