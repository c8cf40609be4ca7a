/**
 * Alpha spending over a champion's lifetime. A critical model is retuned every cooldown, and each
 * study tests a new challenger against the same champion on a mostly overlapping holdout; at a
 * fixed level alpha per test the chance that some null challenger is promoted grows with every
 * study (about 1 - (1 - alpha)^k). Giving the k-th test of one champion the level
 *
 *     alpha_k = alpha * 6 / (pi^2 k^2),     sum over k >= 1 of alpha_k = alpha,
 *
 * bounds the probability of any false promotion over the champion's whole life by alpha (union
 * bound: it holds however the tests depend on each other, overlapping holdouts included). The
 * count restarts when a new champion is crowned.
 */

export const ALPHA_SPENDING_RULES = ['inverse-square', 'none'] as const;
export type AlphaSpendingRule = (typeof ALPHA_SPENDING_RULES)[number];

const SIX_OVER_PI_SQUARED = 6 / (Math.PI * Math.PI);

/** The level of the `testIndex`-th test (1-based) of one champion. */
export function spentAlpha(alpha: number, testIndex: number, rule: AlphaSpendingRule): number {
  if (!Number.isSafeInteger(testIndex) || testIndex < 1)
    throw new RangeError(`the test index counts from 1, got ${testIndex}`);
  if (rule === 'none') return alpha;
  return (alpha * SIX_OVER_PI_SQUARED) / (testIndex * testIndex);
}
