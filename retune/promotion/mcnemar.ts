/**
 * McNemar's test for two classifiers scored on the same holdout rows. Only the discordant rows
 * carry information: `b` rows the champion got right and the challenger wrong, `c` rows the
 * challenger got right and the champion wrong. Under H0 (equal error rates) each discordant row
 * is a fair coin.
 *
 * Rule: when b + c < `exactBelow` (default 25, the usual textbook threshold below which the
 * chi-square approximation is poor) the exact two-sided binomial test is used; otherwise the
 * chi-square statistic with Edwards' continuity correction, (|b - c| - 1)^2 / (b + c), on one
 * degree of freedom.
 */
import { binomialTwoSidedHalf, chiSquare1Sf } from './special.js';

export interface McNemarOptions {
  /** Discordant counts below this use the exact binomial test. @default 25 */
  exactBelow?: number;
}

export interface McNemarResult {
  /** Champion right, challenger wrong. */
  readonly b: number;
  /** Challenger right, champion wrong. */
  readonly c: number;
  readonly method: 'exact' | 'chi2-cc';
  /** The chi-square statistic (chi2-cc), or the smaller discordant count (exact). */
  readonly statistic: number;
  /** Two-sided p-value. */
  readonly pValue: number;
}

export const MCNEMAR_EXACT_BELOW = 25;

export function mcnemarTest(b: number, c: number, options: McNemarOptions = {}): McNemarResult {
  if (!Number.isSafeInteger(b) || !Number.isSafeInteger(c) || b < 0 || c < 0) {
    throw new RangeError(`McNemar counts must be non-negative integers, got b=${b}, c=${c}`);
  }
  const exactBelow = options.exactBelow ?? MCNEMAR_EXACT_BELOW;
  const n = b + c;
  // No discordant rows: nothing speaks for either model, p = 1 whatever the threshold (the
  // chi-square form would divide 1 by 0 and report p = 0).
  if (n < exactBelow || n === 0) {
    return { b, c, method: 'exact', statistic: Math.min(b, c), pValue: binomialTwoSidedHalf(b, n) };
  }
  const statistic = (Math.abs(b - c) - 1) ** 2 / n;
  return { b, c, method: 'chi2-cc', statistic, pValue: chiSquare1Sf(statistic) };
}

/** Counts the discordant rows of two prediction lists against the true labels. */
export function discordantCounts(
  labels: readonly (string | number)[],
  champion: readonly (string | number)[],
  challenger: readonly (string | number)[],
): { b: number; c: number } {
  checkSameLength(labels.length, champion.length, challenger.length);
  let b = 0;
  let c = 0;
  for (let i = 0; i < labels.length; i++) {
    const truth = String(labels[i]);
    const championRight = String(champion[i]) === truth;
    const challengerRight = String(challenger[i]) === truth;
    if (championRight && !challengerRight) b++;
    else if (!championRight && challengerRight) c++;
  }
  return { b, c };
}

export function checkSameLength(labels: number, champion: number, challenger: number): void {
  if (labels !== champion || labels !== challenger) {
    throw new RangeError(
      `paired tests need one prediction per holdout row: ${labels} labels, ${champion} champion and ${challenger} challenger predictions`,
    );
  }
  if (labels === 0) throw new RangeError('paired tests need at least one holdout row, got none');
}
