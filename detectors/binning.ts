/**
 * Reference-quantile bins shared by PSI, JS and Hellinger on numeric features, and by
 * numeric profiles.
 *
 * Edges are numpy's default (`np.quantile`, linear interpolation) at i/bins, inner edges
 * only, de-duplicated: the outer bins are open-ended so a current value outside the
 * reference range still lands somewhere. A value equal to an edge goes to the lower bin,
 * i.e. bin k holds (edge[k-1], edge[k]] (`np.searchsorted(edges, x, side='left')`), so the
 * cumulative count through bin k is exactly #{x <= edge[k]} — what KS on bins needs.
 */

/** numpy's `_lerp`: interpolate from the nearer end for t >= 0.5 (bit-identical to numpy). */
function lerp(a: number, b: number, t: number): number {
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** `np.quantile(sorted, q)` with the default 'linear' method, on an ascending array. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  const virtual = q * (n - 1);
  const lo = Math.floor(virtual);
  const t = virtual - lo;
  const a = sorted[Math.min(lo, n - 1)] as number;
  const b = sorted[Math.min(lo + 1, n - 1)] as number;
  return lerp(a, b, t);
}

/** numpy's `linspace(0, 1, bins + 1)` values: i * step with the last one exactly 1. */
export function linspaceUnit(bins: number): number[] {
  const step = 1 / bins;
  const out: number[] = [];
  for (let i = 0; i <= bins; i++) out.push(i === bins ? 1 : i * step);
  return out;
}

/** Inner, de-duplicated quantile edges of an ascending reference sample for `bins` bins. */
export function quantileEdges(sortedReference: ArrayLike<number>, bins: number): Float64Array {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be an integer >= 1, got ${bins}`);
  if (sortedReference.length === 0) return new Float64Array(0);
  const qs = linspaceUnit(bins);
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const e = quantileSorted(sortedReference, qs[i] as number);
    if (edges.length === 0 || e !== edges[edges.length - 1]) edges.push(e);
  }
  return Float64Array.from(edges);
}

/** Index of the bin holding `x`: the number of edges strictly below x (binary search). */
export function binIndex(edges: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((edges[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Counts of `values` in the edges.length + 1 bins. NaN is skipped (the caller counts
 * missing). Up to 15 edges (PSI's 9) use a branch-free fixed-depth search — data-dependent
 * branches mispredict half the time; more edges (a sketch grid) a plain binary search.
 */
export function binCounts(edges: ArrayLike<number>, values: ArrayLike<number>): Float64Array {
  const counts = new Float64Array(edges.length + 1);
  if (edges.length <= 15) {
    // Branch-free search over the edges padded with +Infinity to 15 (4 halving steps).
    const e = new Float64Array(15).fill(Infinity);
    e.set(edges);
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (v !== v) continue;
      let b = (e[7] as number) < v ? 8 : 0;
      b += (e[b + 3] as number) < v ? 4 : 0;
      b += (e[b + 1] as number) < v ? 2 : 0;
      b += (e[b] as number) < v ? 1 : 0;
      counts[b] = (counts[b] as number) + 1;
    }
    return counts;
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v !== v) continue;
    const b = binIndex(edges, v);
    counts[b] = (counts[b] as number) + 1;
  }
  return counts;
}

/** Counts of an ascending array in the bins, one linear merge pass (no searches). */
export function binCountsSorted(edges: ArrayLike<number>, sorted: ArrayLike<number>): Float64Array {
  const counts = new Float64Array(edges.length + 1);
  let bin = 0;
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i] as number;
    while (bin < edges.length && (edges[bin] as number) < v) bin++;
    counts[bin] = (counts[bin] as number) + 1;
  }
  return counts;
}
