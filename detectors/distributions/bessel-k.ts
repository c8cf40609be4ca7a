/**
 * Modified Bessel function of the second kind K_nu(x), x > 0, for the Cramér–von Mises
 * limiting distribution (which needs K_{1/4}). We integrate
 * K_nu(x) = ∫_0^∞ exp(-x cosh t) cosh(nu t) dt with the trapezoid rule: the integrand is
 * analytic and decays double-exponentially, so a step of 0.05 is accurate to ~1e-15
 * relative — simpler and safer than porting a series/continued-fraction code.
 */
const STEP = 0.05;
const MAX_EXPONENT = 745;

export function besselK(nu: number, x: number): number {
  if (!(x > 0)) return x === 0 ? Infinity : Number.NaN;
  // exp(-x cosh t) underflows once x cosh t > 745; stop there.
  const tMax = Math.acosh(Math.max(1, MAX_EXPONENT / x)) + STEP;
  let sum = 0.5 * Math.exp(-x);
  for (let t = STEP; t <= tMax; t += STEP) sum += Math.exp(-x * Math.cosh(t)) * Math.cosh(nu * t);
  return sum * STEP;
}
