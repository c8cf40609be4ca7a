/**
 * Binned tests on raw numeric samples: PSI, Jensen–Shannon and Hellinger over the
 * reference-quantile bins of `binning.ts`. The same bins are stored in a reference
 * profile, so the profile versions give identical answers.
 */
import { binCounts, linspaceUnit } from './binning.js';
import {
  hellingerFromCounts,
  jensenShannonFromCounts,
  psiFromCounts,
  PSI_EMPTY_BIN_FLOOR,
} from './divergences.js';
import { type NumericInput } from './numeric-input.js';
import { quantileBinsOf } from './quantile-bins.js';
import { computed, notComputable, type TestResult } from './result.js';
import { orderStatistics } from './select.js';

/** @default 10 bins, the common field default. */
export const DEFAULT_BINS = 10;

export interface BinnedOptions {
  /** Number of reference-quantile bins. @default 10 */
  readonly bins?: number;
}

export interface PsiOptions extends BinnedOptions {
  /** Share used in place of an empty bin. @default 1e-4 */
  readonly emptyBinFloor?: number;
}

export interface JensenShannonOptions extends BinnedOptions {
  /** Logarithm base: 'e' (max sqrt(ln 2), scipy's default) or 2 (max 1). @default 'e' */
  readonly base?: 'e' | 2;
}

function finiteCopy(values: NumericInput): Float64Array {
  const out = new Float64Array(values.length);
  let kept = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v === v) out[kept++] = v;
  }
  return kept === out.length ? out : out.slice(0, kept);
}

/**
 * Same edges as `quantileEdges` (numpy linear quantiles, inner, de-duplicated) but found by
 * selection instead of a full sort — O(n) for the 2 * (bins - 1) order statistics needed.
 */
export function quantileEdgesUnsorted(values: NumericInput, bins: number): Float64Array {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be an integer >= 1, got ${bins}`);
  const scratch = finiteCopy(values);
  const n = scratch.length;
  if (n === 0) return new Float64Array(0);
  const qs = linspaceUnit(bins).slice(1, bins);
  const ranks: number[] = [];
  for (const q of qs) {
    const lo = Math.floor(q * (n - 1));
    ranks.push(lo, Math.min(lo + 1, n - 1));
  }
  const stats = orderStatistics(scratch, ranks);
  const edges: number[] = [];
  for (const q of qs) {
    const virtual = q * (n - 1);
    const lo = Math.floor(virtual);
    const t = virtual - lo;
    const a = stats.get(lo) as number;
    const b = stats.get(Math.min(lo + 1, n - 1)) as number;
    const diff = b - a;
    const e = t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
    if (edges.length === 0 || e !== edges[edges.length - 1]) edges.push(e);
  }
  return Float64Array.from(edges);
}

interface BinnedPair {
  readonly edges: Float64Array;
  readonly reference: Float64Array;
  readonly current: Float64Array;
}

function finiteView(values: NumericInput): Float64Array {
  if (values instanceof Float64Array) {
    let clean = true;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (v !== v) {
        clean = false;
        break;
      }
    }
    if (clean) return values;
  }
  return finiteCopy(values);
}

/**
 * Why bins over these edges cannot be used, or undefined. An edge is a reference quantile; it
 * leaves float64 when the interpolation involves an infinity (numpy's np.quantile then gives
 * ±inf or nan too: nan between -inf and a finite value, or between two infinities) or spans
 * ±1e308. A nan edge makes searchsorted's bins meaningless, and an infinite one serialises to
 * null in a profile, so we refuse both. Infinite values in the *current* window are fine: they
 * land in the open-ended outer bins.
 */
export function nonFiniteEdgeReason(
  edges: ArrayLike<number | null>,
  what = 'reference quantile bin edge',
): string | undefined {
  for (let i = 0; i < edges.length; i++) {
    const e = edges[i];
    if (typeof e !== 'number' || !Number.isFinite(e)) {
      return (
        `${what} ${i + 1} of ${edges.length} is ${String(e)}: the reference holds ` +
        `infinite values (or values near ±1e308) at its quantiles; drop or clip them, or use ks / cramer_von_mises`
      );
    }
  }
  return undefined;
}

function binPair(reference: NumericInput, current: NumericInput, bins: number): BinnedPair | string {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be an integer >= 1, got ${bins}`);
  const { edges, counts } = quantileBinsOf(finiteView(reference), bins);
  const cur = binCounts(edges, current);
  if (counts.reduce((s, c) => s + c, 0) === 0) return 'empty reference sample';
  if (cur.reduce((s, c) => s + c, 0) === 0) return 'empty current window';
  const badEdge = nonFiniteEdgeReason(edges);
  if (badEdge !== undefined) return badEdge;
  return { edges, reference: counts, current: cur };
}

/** Population Stability Index over reference-quantile bins (open-ended outer bins). */
export function psi(reference: NumericInput, current: NumericInput, options: PsiOptions = {}): TestResult {
  const pair = binPair(reference, current, options.bins ?? DEFAULT_BINS);
  if (typeof pair === 'string') return notComputable('psi', pair);
  const floor = options.emptyBinFloor ?? PSI_EMPTY_BIN_FLOOR;
  return computed('psi', psiFromCounts(pair.reference, pair.current, floor), undefined, 'histogram', {
    bins: pair.reference.length,
  });
}

/** Jensen–Shannon distance over reference-quantile bins. */
export function jensenShannon(
  reference: NumericInput,
  current: NumericInput,
  options: JensenShannonOptions = {},
): TestResult {
  const pair = binPair(reference, current, options.bins ?? DEFAULT_BINS);
  if (typeof pair === 'string') return notComputable('jensen_shannon', pair);
  const value = jensenShannonFromCounts(pair.reference, pair.current, options.base ?? 'e');
  return computed('jensen_shannon', value, undefined, 'histogram', { bins: pair.reference.length });
}

/** Hellinger distance over reference-quantile bins. */
export function hellinger(
  reference: NumericInput,
  current: NumericInput,
  options: BinnedOptions = {},
): TestResult {
  const pair = binPair(reference, current, options.bins ?? DEFAULT_BINS);
  if (typeof pair === 'string') return notComputable('hellinger', pair);
  return computed('hellinger', hellingerFromCounts(pair.reference, pair.current), undefined, 'histogram', {
    bins: pair.reference.length,
  });
}
