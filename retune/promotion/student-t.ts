/**
 * Student's t distribution to double precision, for the paired t lower bound of the promotion
 * gate: the survival function through the regularized incomplete beta function (continued
 * fraction, modified Lentz) and its inverse by safeguarded Newton steps. Checked against
 * `scipy.stats.t.sf` / `t.ppf` in test/unit/retune/promotion (fixtures from
 * scripts/retune/gen-promotion-fixtures.py).
 */
import { logGamma } from '../../detectors/distributions/log-gamma.js';
import { normalQuantile } from './special.js';

const EPS = 1e-16;
const TINY = 1e-300;

/**
 * Stirling's error term ln Γ(x) - [(x - ½) ln x - x + ½ ln 2π] for x >= 10 (five terms of the
 * asymptotic series; the first omitted one is below 1e-15 there).
 */
function stirlingError(x: number): number {
  const x2 = x * x;
  return (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - 1 / (1188 * x2)) / x2) / x2) / x2) / x;
}

/**
 * ln B(a, b). With a large (many degrees of freedom) ln Γ(a) - ln Γ(a + b) is a difference of
 * two numbers near 10^4 whose Lanczos values carry absolute errors ~1e-11: written through
 * log1p and Stirling's error terms instead, it keeps full precision.
 */
export function logBeta(a: number, b: number): number {
  const [small, large] = a < b ? [a, b] : [b, a];
  if (large < 10) return logGamma(small) + logGamma(large) - logGamma(small + large);
  const sum = small + large;
  const ratio =
    -(large - 0.5) * Math.log1p(small / large) -
    small * Math.log(sum) +
    small +
    stirlingError(large) -
    stirlingError(sum);
  return logGamma(small) + ratio;
}

/** Continued fraction of I_x(a, b) (Numerical Recipes `betacf`), valid for x < (a+1)/(a+b+2). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < 100_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return h;
}

/**
 * Regularized incomplete beta I_x(a, b), given x and 1 - x separately so that callers can pass
 * a complement they computed without cancellation.
 */
export function regularizedBeta(a: number, b: number, x: number, oneMinusX = 1 - x): number {
  if (x <= 0) return 0;
  if (oneMinusX <= 0) return 1;
  const logFront = a * Math.log(x) + b * Math.log(oneMinusX) - logBeta(a, b);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(a, b, x)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(b, a, oneMinusX)) / b;
}

/** P(T > t) for Student's t with `df` degrees of freedom (df > 0). */
export function studentTSf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`Student's t needs df > 0, got ${df}`);
  if (Number.isNaN(t)) return NaN;
  if (t === Infinity) return 0;
  if (t === -Infinity) return 1;
  const t2 = t * t;
  // P(|T| > |t|) = I_{df/(df+t²)}(df/2, 1/2); both the argument and its complement are exact ratios.
  const tail = 0.5 * regularizedBeta(df / 2, 0.5, df / (df + t2), t2 / (df + t2));
  return t >= 0 ? tail : 1 - tail;
}

/** Density of Student's t. */
function studentTPdf(t: number, df: number): number {
  return Math.exp(-((df + 1) / 2) * Math.log1p((t * t) / df) - 0.5 * Math.log(df) - logBeta(df / 2, 0.5));
}

/** The t with P(T > t) = p (the upper quantile), 0 < p < 1. */
export function studentTIsf(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`a tail probability must be in (0, 1), got ${p}`);
  if (p > 0.5) return -studentTIsf(1 - p, df);
  if (p === 0.5) return 0;
  // Start from the normal quantile, widened for few degrees of freedom; then Newton on the log
  // of the tail, kept inside a bracket that only shrinks (bisection when a step leaves it).
  let low = 0;
  let high = Infinity;
  let t = -normalQuantile(p) * (1 + 1 / Math.max(df, 1));
  for (let i = 0; i < 200; i++) {
    const sf = studentTSf(t, df);
    if (sf > p) low = t;
    else high = t;
    const step = (sf - p) / studentTPdf(t, df);
    let next = t + step;
    if (!(next > low && next < high)) next = high === Infinity ? Math.max(2 * t, t + 1) : (low + high) / 2;
    if (Math.abs(next - t) <= 1e-15 * Math.max(1, Math.abs(t))) return next;
    t = next;
  }
  return t;
}
