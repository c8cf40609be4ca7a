/**
 * Categorical drift tests on category counts: chi-square homogeneity (2 x K contingency)
 * and goodness-of-fit, PSI, Jensen–Shannon and total variation on category shares.
 *
 * Inputs are counts keyed by category (a Map, a plain record, or raw label arrays via
 * `countCategories`), aligned here over the union of categories so a category unseen in
 * the reference is a column with reference count 0 — never a crash or a division by zero.
 */
import { chiSquareSf } from './distributions/chi-square.js';
import {
  jensenShannonFromCounts,
  psiFromCounts,
  PSI_EMPTY_BIN_FLOOR,
  sumCounts,
  totalVariationFromCounts,
} from './divergences.js';
import { computed, notComputable, type TestResult } from './result.js';

export type CategoryCounts = ReadonlyMap<string, number> | Readonly<Record<string, number>>;

export interface AlignedCounts {
  readonly categories: readonly string[];
  readonly reference: Float64Array;
  readonly current: Float64Array;
}

function entries(counts: CategoryCounts): Iterable<[string, number]> {
  return counts instanceof Map ? counts.entries() : Object.entries(counts);
}

/** Counts of raw labels; null/undefined are skipped (the caller counts them as missing). */
export function countCategories(values: Iterable<string | null | undefined>): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of values) if (v !== null && v !== undefined) out.set(v, (out.get(v) ?? 0) + 1);
  return out;
}

/** Both count sets over the sorted union of categories with a positive count on either side. */
export function alignCategories(reference: CategoryCounts, current: CategoryCounts): AlignedCounts {
  const ref = new Map<string, number>();
  const cur = new Map<string, number>();
  for (const [k, v] of entries(reference)) if (v > 0) ref.set(k, (ref.get(k) ?? 0) + v);
  for (const [k, v] of entries(current)) if (v > 0) cur.set(k, (cur.get(k) ?? 0) + v);
  const categories = [...new Set([...ref.keys(), ...cur.keys()])].sort();
  return {
    categories,
    reference: Float64Array.from(categories, (c) => ref.get(c) ?? 0),
    current: Float64Array.from(categories, (c) => cur.get(c) ?? 0),
  };
}

function emptyReason(aligned: AlignedCounts): string | undefined {
  if (sumCounts(aligned.reference) === 0) return 'empty reference (no counts)';
  if (sumCounts(aligned.current) === 0) return 'empty current window (no counts)';
  return undefined;
}

export interface ChiSquareOptions {
  /** Yates' continuity correction when dof = 1, as scipy's chi2_contingency does. @default true */
  readonly yatesCorrection?: boolean;
}

/**
 * Chi-square test of homogeneity on the 2 x K table [reference; current], matching
 * `scipy.stats.chi2_contingency(table)` (dof = K - 1, Yates when dof = 1).
 */
export function chiSquareContingency(
  reference: CategoryCounts,
  current: CategoryCounts,
  options: ChiSquareOptions = {},
): TestResult {
  const aligned = alignCategories(reference, current);
  const empty = emptyReason(aligned);
  if (empty !== undefined) return notComputable('chi_square', empty);
  const k = aligned.categories.length;
  if (k < 2) return notComputable('chi_square', 'only one category observed: no test of shares is possible');
  const rows = [aligned.reference, aligned.current];
  const rowTotals = rows.map((r) => sumCounts(r));
  const n = (rowTotals[0] as number) + (rowTotals[1] as number);
  const dof = k - 1;
  const yates = (options.yatesCorrection ?? true) && dof === 1;
  let stat = 0;
  for (let r = 0; r < 2; r++) {
    const row = rows[r] as Float64Array;
    for (let c = 0; c < k; c++) {
      const colTotal = (aligned.reference[c] as number) + (aligned.current[c] as number);
      const expected = ((rowTotals[r] as number) * colTotal) / n;
      let observed = row[c] as number;
      if (yates) {
        const diff = expected - observed;
        observed += Math.sign(diff) * Math.min(0.5, Math.abs(diff));
      }
      stat += (observed - expected) ** 2 / expected;
    }
  }
  return computed('chi_square', stat, chiSquareSf(stat, dof), 'chi-square', { dof, categories: k });
}

export interface ChiSquareGofOptions {
  /**
   * Pseudo-count added to every reference category when the current window has a category
   * the reference never saw (its expected count would be 0 and the statistic infinite).
   * @default 0.5
   */
  readonly unseenSmoothing?: number;
}

/**
 * Chi-square goodness of fit: current counts against expected = reference shares x current
 * total, matching `scipy.stats.chisquare(f_obs, f_exp)`. If the window has categories unseen
 * in the reference, reference counts are smoothed by `unseenSmoothing` first
 * (`details.smoothed = 1`), so the result stays finite and says so.
 */
export function chiSquareGoodnessOfFit(
  reference: CategoryCounts,
  current: CategoryCounts,
  options: ChiSquareGofOptions = {},
): TestResult {
  const aligned = alignCategories(reference, current);
  const empty = emptyReason(aligned);
  if (empty !== undefined) return notComputable('chi_square_gof', empty);
  const k = aligned.categories.length;
  if (k < 2)
    return notComputable('chi_square_gof', 'only one category observed: no test of shares is possible');
  let ref = aligned.reference;
  const unseen = ref.some((r, i) => r === 0 && (aligned.current[i] as number) > 0);
  if (unseen) {
    const pseudo = options.unseenSmoothing ?? 0.5;
    if (!(pseudo > 0)) {
      return notComputable(
        'chi_square_gof',
        'window has categories unseen in the reference and smoothing is off',
      );
    }
    ref = ref.map((r) => r + pseudo);
  }
  const refTotal = sumCounts(ref);
  const curTotal = sumCounts(aligned.current);
  let stat = 0;
  for (let c = 0; c < k; c++) {
    const expected = ((ref[c] as number) / refTotal) * curTotal;
    stat += ((aligned.current[c] as number) - expected) ** 2 / expected;
  }
  const dof = k - 1;
  return computed('chi_square_gof', stat, chiSquareSf(stat, dof), 'chi-square', {
    dof,
    categories: k,
    smoothed: unseen ? 1 : 0,
  });
}

export interface CategoricalPsiOptions {
  /** @default 1e-4 */
  readonly emptyBinFloor?: number;
}

export function categoricalPsi(
  reference: CategoryCounts,
  current: CategoryCounts,
  options: CategoricalPsiOptions = {},
): TestResult {
  const aligned = alignCategories(reference, current);
  const empty = emptyReason(aligned);
  if (empty !== undefined) return notComputable('psi', empty);
  const value = psiFromCounts(
    aligned.reference,
    aligned.current,
    options.emptyBinFloor ?? PSI_EMPTY_BIN_FLOOR,
  );
  return computed('psi', value, undefined, 'distance', { categories: aligned.categories.length });
}

export function categoricalJensenShannon(
  reference: CategoryCounts,
  current: CategoryCounts,
  options: { readonly base?: 'e' | 2 } = {},
): TestResult {
  const aligned = alignCategories(reference, current);
  const empty = emptyReason(aligned);
  if (empty !== undefined) return notComputable('jensen_shannon', empty);
  const value = jensenShannonFromCounts(aligned.reference, aligned.current, options.base ?? 'e');
  return computed('jensen_shannon', value, undefined, 'distance', { categories: aligned.categories.length });
}

export function totalVariation(reference: CategoryCounts, current: CategoryCounts): TestResult {
  const aligned = alignCategories(reference, current);
  const empty = emptyReason(aligned);
  if (empty !== undefined) return notComputable('tvd', empty);
  const value = totalVariationFromCounts(aligned.reference, aligned.current);
  return computed('tvd', value, undefined, 'distance', { categories: aligned.categories.length });
}
