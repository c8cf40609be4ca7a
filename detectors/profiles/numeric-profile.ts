/**
 * Compact, JSON-serialisable, mergeable summary of a numeric feature.
 *
 * Mergeability comes from a *frozen grid*: the reference sample fixes two sets of edges
 * once (the PSI bins and a fine "sketch" grid); every later profile — a half of the
 * reference, a window, a ClickHouse aggregation — counts values over those same edges.
 * Counts then add exactly, so merging is exact and associative (count, missing, min, max,
 * bin and sketch counts exactly; mean and M2 by Chan's pairwise update, exact up to
 * rounding). The reference is never rescanned.
 *
 * The sketch grid is the reference's quantiles at k/resolution (default 1000 cells), or the
 * reference's distinct values themselves when there are at most `resolution` of them — then
 * KS and W1 from profiles are exact for discrete features. See profile-tests.ts for the
 * approximation error.
 */
import { binCountsSorted, quantileEdges } from '../binning.js';
import { sortedFinite, type NumericInput } from '../numeric-input.js';
import { sortFloat64InPlace } from '../radix-sort.js';

export const DEFAULT_SKETCH_RESOLUTION = 1000;

export interface NumericGrid {
  /** Inner edges of the PSI / JS / Hellinger bins (reference quantiles, open-ended outer bins). */
  readonly binEdges: readonly number[];
  /** Inner edges of the fine grid used for KS, Wasserstein and energy from profiles. */
  readonly sketchEdges: readonly number[];
  /** 'distinct': edges are every distinct reference value (exact); 'quantile': quantile cells. */
  readonly sketchKind: 'distinct' | 'quantile';
}

export interface NumericProfile extends NumericGrid {
  readonly kind: 'numeric';
  /** Non-missing values counted. */
  readonly count: number;
  /** NaN / null values seen. */
  readonly missing: number;
  /** null when count is 0 (JSON has no Infinity). */
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number;
  /** Sum of squared deviations from the mean (population variance = m2 / count). */
  readonly m2: number;
  /** binEdges.length + 1 counts; bin k holds (binEdges[k-1], binEdges[k]]. */
  readonly binCounts: readonly number[];
  /** sketchEdges.length + 1 counts, same convention. */
  readonly sketchCounts: readonly number[];
}

export interface NumericReferenceOptions {
  /** PSI / JS / Hellinger bins. @default 10 */
  readonly bins?: number;
  /** Cells of the fine grid; KS error from profiles is about 1 / resolution. @default 1000 */
  readonly sketchResolution?: number;
}

function distinctValues(sorted: Float64Array, limit: number): number[] | undefined {
  const out: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i] as number;
    if (out.length === 0 || v !== out[out.length - 1]) {
      out.push(v);
      if (out.length > limit) return undefined;
    }
  }
  return out;
}

/** Derives the frozen grid from a reference sample. */
export function numericGridFromSample(
  values: NumericInput,
  options: NumericReferenceOptions = {},
): NumericGrid {
  const sorted = sortedFinite(values);
  return gridFromSorted(sorted, options);
}

function gridFromSorted(sorted: Float64Array, options: NumericReferenceOptions): NumericGrid {
  const bins = options.bins ?? 10;
  const resolution = options.sketchResolution ?? DEFAULT_SKETCH_RESOLUTION;
  const distinct = distinctValues(sorted, resolution);
  return {
    binEdges: Array.from(quantileEdges(sorted, bins)),
    sketchEdges: distinct ?? Array.from(quantileEdges(sorted, resolution)),
    sketchKind: distinct === undefined ? 'quantile' : 'distinct',
  };
}

/** The grid of an existing profile, to count a window (or another chunk) over the same edges. */
export function gridOf(profile: NumericGrid): NumericGrid {
  return { binEdges: profile.binEdges, sketchEdges: profile.sketchEdges, sketchKind: profile.sketchKind };
}

function summarise(sorted: Float64Array, missing: number, grid: NumericGrid): NumericProfile {
  const n = sorted.length;
  // Deviations from the median first, as stdDdof0 does: at 1e15 + noise a float64 mean cannot
  // hold the true mean (one ulp is 0.125), the mean of the small differences can.
  const shift = n > 0 ? (sorted[n >> 1] as number) : 0;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (sorted[i] as number) - shift;
  const meanOffset = n > 0 ? sum / n : 0;
  const mean = shift + meanOffset;
  let m2 = 0;
  for (let i = 0; i < n; i++) m2 += ((sorted[i] as number) - shift - meanOffset) ** 2;
  return {
    kind: 'numeric',
    ...gridOf(grid),
    count: n,
    missing,
    min: n > 0 ? (sorted[0] as number) : null,
    max: n > 0 ? (sorted[n - 1] as number) : null,
    mean,
    m2,
    binCounts: Array.from(binCountsSorted(grid.binEdges, sorted)),
    sketchCounts: Array.from(binCountsSorted(grid.sketchEdges, sorted)),
  };
}

function countMissing(values: ArrayLike<number | null>): number {
  let missing = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || Number.isNaN(v)) missing++;
  }
  return missing;
}

function finiteNumbers(values: ArrayLike<number | null>): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined && !Number.isNaN(v)) out.push(v);
  }
  return sortFloat64InPlace(Float64Array.from(out));
}

/** Profile of a reference sample: derives the grid from it, then counts. */
export function buildNumericReferenceProfile(
  values: ArrayLike<number | null>,
  options: NumericReferenceOptions = {},
): NumericProfile {
  const sorted = finiteNumbers(values);
  return summarise(sorted, countMissing(values), gridFromSorted(sorted, options));
}

/** Profile of any sample (a window, a chunk of the reference) over an existing grid. */
export function buildNumericProfile(values: ArrayLike<number | null>, grid: NumericGrid): NumericProfile {
  return summarise(finiteNumbers(values), countMissing(values), grid);
}

function sameEdges(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  // A NaN edge (a reference with infinities at a quantile) is the same edge as itself: the
  // tests then refuse with that reason instead of this check claiming two grids.
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(a[i] !== a[i] && b[i] !== b[i])) return false;
  return true;
}

export function assertSameGrid(a: NumericGrid, b: NumericGrid): void {
  if (!sameEdges(a.binEdges, b.binEdges) || !sameEdges(a.sketchEdges, b.sketchEdges)) {
    throw new RangeError(
      'numeric profiles were counted over different grids; build both with buildNumericProfile(values, gridOf(reference))',
    );
  }
}

function addCounts(a: readonly number[], b: readonly number[]): number[] {
  return a.map((v, i) => v + (b[i] as number));
}

/** Exact merge of two profiles over the same grid (associative and commutative). */
export function mergeNumericProfiles(a: NumericProfile, b: NumericProfile): NumericProfile {
  assertSameGrid(a, b);
  const n = a.count + b.count;
  const delta = b.mean - a.mean;
  const mean = n === 0 ? 0 : a.count === 0 ? b.mean : b.count === 0 ? a.mean : a.mean + (delta * b.count) / n;
  const m2 =
    n === 0
      ? 0
      : a.m2 + b.m2 + (a.count === 0 || b.count === 0 ? 0 : (delta * delta * a.count * b.count) / n);
  const pick = (x: number | null, y: number | null, f: (p: number, q: number) => number): number | null =>
    x === null ? y : y === null ? x : f(x, y);
  return {
    kind: 'numeric',
    ...gridOf(a),
    count: n,
    missing: a.missing + b.missing,
    min: pick(a.min, b.min, Math.min),
    max: pick(a.max, b.max, Math.max),
    mean,
    m2,
    binCounts: addCounts(a.binCounts, b.binCounts),
    sketchCounts: addCounts(a.sketchCounts, b.sketchCounts),
  };
}

/** What a ClickHouse aggregation over the reference grid returns for one window. */
export interface NumericWindowAggregates {
  /** Counts over grid.binEdges (length binEdges.length + 1). */
  readonly binCounts: readonly number[];
  /** Counts over grid.sketchEdges (length sketchEdges.length + 1). */
  readonly sketchCounts: readonly number[];
  readonly missing?: number;
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number;
  /** Population standard deviation (ClickHouse `stddevPop`). */
  readonly stdDdof0: number;
}

/** Builds a window profile from aggregates counted over a reference grid. */
export function numericProfileFromAggregates(
  grid: NumericGrid,
  agg: NumericWindowAggregates,
): NumericProfile {
  if (
    agg.binCounts.length !== grid.binEdges.length + 1 ||
    agg.sketchCounts.length !== grid.sketchEdges.length + 1
  ) {
    throw new RangeError(
      `aggregates must have ${grid.binEdges.length + 1} bin counts and ${grid.sketchEdges.length + 1} sketch counts ` +
        `(got ${agg.binCounts.length} and ${agg.sketchCounts.length}); count over the reference grid edges`,
    );
  }
  const count = agg.sketchCounts.reduce((s, c) => s + c, 0);
  return {
    kind: 'numeric',
    ...gridOf(grid),
    count,
    missing: agg.missing ?? 0,
    min: agg.min,
    max: agg.max,
    mean: agg.mean,
    m2: agg.stdDdof0 * agg.stdDdof0 * count,
    binCounts: [...agg.binCounts],
    sketchCounts: [...agg.sketchCounts],
  };
}

export function profileStdDdof0(profile: NumericProfile): number {
  return profile.count === 0 ? Number.NaN : Math.sqrt(profile.m2 / profile.count);
}
