/**
 * Drift tests computed from profiles only (what the monitor gets from ClickHouse: counts
 * of the current window over the reference profile's edges), without raw samples.
 *
 * Exact vs approximate:
 * - PSI, Jensen–Shannon, Hellinger use the PSI bins: identical to the raw-sample versions.
 * - Categorical tests use vocabulary counts plus "other": exact on those counts.
 * - KS evaluates both ECDFs at the sketch edges only: D_grid <= D_true <= D_grid + max over
 *   cells of max(reference share, current share) of the cell; the bound is returned as
 *   `details.maxError` (about 1/resolution = 0.001 for a continuous reference without
 *   drift). Exact when the grid is the reference's distinct values ('distinct') and the
 *   window's values are among them.
 * - Wasserstein-1 and energy integrate the CDF gap with each CDF linear inside a cell
 *   (quantile grid) or a step (distinct grid), tails bounded by each profile's min/max.
 *   The error is at most Σ_cells width × max(share_ref, share_cur); on smooth data at the
 *   default 1000 cells it is well under 1% of W1 (tested).
 * - Cramér–von Mises needs ranks: raw samples only.
 */
import {
  categoricalJensenShannon,
  categoricalPsi,
  chiSquareContingency,
  chiSquareGoodnessOfFit,
  totalVariation,
  type ChiSquareGofOptions,
  type ChiSquareOptions,
} from '../categorical.js';
import {
  hellingerFromCounts,
  jensenShannonFromCounts,
  psiFromCounts,
  PSI_EMPTY_BIN_FLOOR,
} from '../divergences.js';
import { WASSERSTEIN_STD_FLOOR } from '../distances.js';
import { nonFiniteEdgeReason } from '../numeric-binned.js';
import { ksPValue, type KsMethod } from '../ks.js';
import { computed, notComputable, type TestResult } from '../result.js';
import { categoricalProfileCounts, type CategoricalProfile } from './categorical-profile.js';
import { assertSameGrid, profileStdDdof0, type NumericProfile } from './numeric-profile.js';

function emptyReason(
  test: string,
  reference: NumericProfile,
  current: NumericProfile,
): TestResult | undefined {
  if (reference.count === 0) return notComputable(test, 'empty reference profile');
  if (current.count === 0) return notComputable(test, 'empty current window');
  return undefined;
}

/**
 * Refusals the profile path shares with the raw one: counts over a non-finite edge mean
 * nothing (a NaN edge, or one that JSON turned into null), and a CDF distance is infinite when
 * a profile's min or max is (`withRange`: W1 and energy).
 */
function gridReason(
  test: string,
  reference: NumericProfile,
  current: NumericProfile,
  grid: 'bins' | 'sketch',
  withRange = false,
): TestResult | undefined {
  const empty = emptyReason(test, reference, current);
  if (empty) return empty;
  const bad =
    grid === 'bins'
      ? nonFiniteEdgeReason(reference.binEdges)
      : nonFiniteEdgeReason(reference.sketchEdges, 'reference sketch edge');
  if (bad !== undefined) return notComputable(test, bad);
  if (withRange) {
    for (const [name, p] of [
      ['reference', reference],
      ['current window', current],
    ] as const) {
      const finite = (x: number | null): boolean => typeof x === 'number' && Number.isFinite(x);
      if (!finite(p.min) || !finite(p.max)) {
        return notComputable(
          test,
          `the ${name} profile's range is [${String(p.min)}, ${String(p.max)}]: with infinite values the distance is infinite or undefined (scipy returns inf or nan); drop or clip them`,
        );
      }
    }
  }
  return undefined;
}

/** KS from sketch counts; p-value by scipy's method selection on the grid statistic. */
export function ksFromProfiles(
  reference: NumericProfile,
  current: NumericProfile,
  options: { readonly method?: KsMethod } = {},
): TestResult {
  assertSameGrid(reference, current);
  const refused = gridReason('ks', reference, current, 'sketch');
  if (refused) return refused;
  const nR = reference.count;
  const nC = current.count;
  let cumR = 0;
  let cumC = 0;
  let d = 0;
  let maxCell = 0;
  for (let k = 0; k < reference.sketchCounts.length; k++) {
    const r = reference.sketchCounts[k] as number;
    const c = current.sketchCounts[k] as number;
    cumR += r;
    cumC += c;
    d = Math.max(d, Math.abs(cumR / nR - cumC / nC));
    maxCell = Math.max(maxCell, r / nR, c / nC);
  }
  const exactGrid = reference.sketchKind === 'distinct';
  const p = ksPValue(d, nR, nC, options.method ?? 'auto');
  if (typeof p === 'string') return notComputable('ks', p);
  return computed('ks', p.d, p.pValue, p.method === 'exact' ? 'histogram' : 'histogram-asymptotic', {
    n1: nR,
    n2: nC,
    maxError: exactGrid ? 0 : maxCell,
  });
}

interface CdfKnots {
  readonly xs: number[];
  readonly fs: number[];
}

/**
 * Knots of a profile's piecewise CDF. Linear mode: (min, 0), (edge, F(edge)) for edges inside
 * (min, max), (max, 1). Step mode (distinct grid): (edge, F(edge)) for every edge — the exact
 * ECDF there — then (max, 1) if the window goes beyond the last edge.
 */
function cdfKnots(profile: NumericProfile, mode: 'linear' | 'step'): CdfKnots {
  const min = profile.min as number;
  const max = profile.max as number;
  const xs: number[] = mode === 'linear' ? [min] : [];
  const fs: number[] = mode === 'linear' ? [0] : [];
  let cum = 0;
  for (let k = 0; k < profile.sketchEdges.length; k++) {
    cum += profile.sketchCounts[k] as number;
    const e = profile.sketchEdges[k] as number;
    if (mode === 'step' || (e > min && e < max)) {
      xs.push(e);
      fs.push(cum / profile.count);
    }
  }
  if (mode === 'linear' || max > (xs[xs.length - 1] as number)) {
    xs.push(max);
    fs.push(1);
  }
  return { xs, fs };
}

/**
 * CDF at x. 'linear' interpolates inside a cell (continuous data); 'step' holds the value of
 * the knot at or below x, the exact ECDF when values sit on the knots (distinct grid).
 */
function cdfAt(knots: CdfKnots, x: number, mode: 'linear' | 'step'): number {
  const { xs, fs } = knots;
  if (x < (xs[0] as number)) return 0;
  if (x >= (xs[xs.length - 1] as number)) return 1;
  let lo = 0;
  let hi = xs.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if ((xs[mid] as number) <= x) lo = mid;
    else hi = mid;
  }
  if (mode === 'step') return fs[lo] as number;
  const x0 = xs[lo] as number;
  const x1 = xs[hi] as number;
  const f0 = fs[lo] as number;
  const f1 = fs[hi] as number;
  return x1 > x0 ? f0 + ((f1 - f0) * (x - x0)) / (x1 - x0) : f1;
}

/** ∫ |F_ref - F_cur|^power over the union of both profiles' knots. */
function cdfGapIntegralFromProfiles(
  reference: NumericProfile,
  current: NumericProfile,
  power: 1 | 2,
): number {
  const mode = reference.sketchKind === 'distinct' ? 'step' : 'linear';
  const kr = cdfKnots(reference, mode);
  const kc = cdfKnots(current, mode);
  const xs = [...new Set([...kr.xs, ...kc.xs])].sort((a, b) => a - b);
  let total = 0;
  let prevX = xs[0] as number;
  let prevD = cdfAt(kr, prevX, mode) - cdfAt(kc, prevX, mode);
  for (let i = 1; i < xs.length; i++) {
    const x = xs[i] as number;
    const w = x - prevX;
    if (mode === 'step') {
      total += w * (power === 1 ? Math.abs(prevD) : prevD * prevD);
      prevD = cdfAt(kr, x, mode) - cdfAt(kc, x, mode);
    } else {
      // Just below x both CDFs are still linear pieces of the same cell, so take the limit from the left.
      const leftX = x - w * 1e-12;
      const d0 = prevD;
      const d1 = cdfAt(kr, leftX, mode) - cdfAt(kc, leftX, mode);
      if (power === 2) total += (w * (d0 * d0 + d0 * d1 + d1 * d1)) / 3;
      else if (d0 * d1 >= 0) total += (w * (Math.abs(d0) + Math.abs(d1))) / 2;
      else total += (w * (d0 * d0 + d1 * d1)) / (2 * (Math.abs(d0) + Math.abs(d1)));
      prevD = cdfAt(kr, x, mode) - cdfAt(kc, x, mode);
    }
    prevX = x;
  }
  return total;
}

/** Wasserstein-1 from profiles; `details.normalized` divides by max(std0(reference), 0.001). */
export function wassersteinFromProfiles(reference: NumericProfile, current: NumericProfile): TestResult {
  assertSameGrid(reference, current);
  const refused = gridReason('wasserstein', reference, current, 'sketch', true);
  if (refused) return refused;
  const w1 = cdfGapIntegralFromProfiles(reference, current, 1);
  const scale = Math.max(profileStdDdof0(reference), WASSERSTEIN_STD_FLOOR);
  return computed('wasserstein', w1, undefined, 'histogram', { normalized: w1 / scale, referenceStd: scale });
}

export function energyFromProfiles(reference: NumericProfile, current: NumericProfile): TestResult {
  assertSameGrid(reference, current);
  const refused = gridReason('energy', reference, current, 'sketch', true);
  if (refused) return refused;
  return computed(
    'energy',
    Math.sqrt(2 * cdfGapIntegralFromProfiles(reference, current, 2)),
    undefined,
    'histogram',
  );
}

export function psiFromProfiles(
  reference: NumericProfile,
  current: NumericProfile,
  options: { readonly emptyBinFloor?: number } = {},
): TestResult {
  assertSameGrid(reference, current);
  const refused = gridReason('psi', reference, current, 'bins');
  if (refused) return refused;
  const value = psiFromCounts(
    reference.binCounts,
    current.binCounts,
    options.emptyBinFloor ?? PSI_EMPTY_BIN_FLOOR,
  );
  return computed('psi', value, undefined, 'histogram', { bins: reference.binCounts.length });
}

export function jensenShannonFromProfiles(
  reference: NumericProfile,
  current: NumericProfile,
  options: { readonly base?: 'e' | 2 } = {},
): TestResult {
  assertSameGrid(reference, current);
  const refused = gridReason('jensen_shannon', reference, current, 'bins');
  if (refused) return refused;
  const value = jensenShannonFromCounts(reference.binCounts, current.binCounts, options.base ?? 'e');
  return computed('jensen_shannon', value, undefined, 'histogram', { bins: reference.binCounts.length });
}

export function hellingerFromProfiles(reference: NumericProfile, current: NumericProfile): TestResult {
  assertSameGrid(reference, current);
  const refused = gridReason('hellinger', reference, current, 'bins');
  if (refused) return refused;
  return computed(
    'hellinger',
    hellingerFromCounts(reference.binCounts, current.binCounts),
    undefined,
    'histogram',
    {
      bins: reference.binCounts.length,
    },
  );
}

export function chiSquareFromProfiles(
  reference: CategoricalProfile,
  current: CategoricalProfile,
  options: ChiSquareOptions = {},
): TestResult {
  return chiSquareContingency(
    categoricalProfileCounts(reference),
    categoricalProfileCounts(current),
    options,
  );
}

export function chiSquareGofFromProfiles(
  reference: CategoricalProfile,
  current: CategoricalProfile,
  options: ChiSquareGofOptions = {},
): TestResult {
  return chiSquareGoodnessOfFit(
    categoricalProfileCounts(reference),
    categoricalProfileCounts(current),
    options,
  );
}

export function categoricalPsiFromProfiles(
  reference: CategoricalProfile,
  current: CategoricalProfile,
): TestResult {
  return categoricalPsi(categoricalProfileCounts(reference), categoricalProfileCounts(current));
}

export function categoricalJensenShannonFromProfiles(
  reference: CategoricalProfile,
  current: CategoricalProfile,
  options: { readonly base?: 'e' | 2 } = {},
): TestResult {
  return categoricalJensenShannon(
    categoricalProfileCounts(reference),
    categoricalProfileCounts(current),
    options,
  );
}

export function totalVariationFromProfiles(
  reference: CategoricalProfile,
  current: CategoricalProfile,
): TestResult {
  return totalVariation(categoricalProfileCounts(reference), categoricalProfileCounts(current));
}
