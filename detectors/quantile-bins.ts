/**
 * Reference-quantile bin edges AND the reference's bin counts in two linear passes, for PSI,
 * JS and Hellinger on raw samples (what numpy's np.quantile + searchsorted does, faster).
 *
 * Bucket selection: pass 1 histograms the top 16 bits of each value's order-preserving bit
 * key (65536 buckets, monotone in the value); the buckets holding the needed ranks are
 * found from the prefix sums; pass 2 collects only those buckets' values, which are sorted
 * to read the exact order statistics. The reference count up to an edge is then "all values
 * in lower buckets" plus a binary search inside the edge's bucket. Results are identical to
 * `quantileEdges` + `binCounts`; when an assumption fails (e.g. everything in a few buckets,
 * or an edge whose bucket was not collected) it falls back to those.
 */
import { binCounts, binCountsSorted, linspaceUnit, quantileEdges } from './binning.js';
import { sortFloat64InPlace } from './radix-sort.js';

const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;
/** Beyond this share of the data collected, sorting everything is just as good. */
const MAX_COLLECTED_SHARE = 0.25;

export interface QuantileBins {
  readonly edges: Float64Array;
  /** Counts of the reference in the edges.length + 1 bins. */
  readonly counts: Float64Array;
}

/** High word of -0.0 (and of the negative subnormals, whose low word is not 0). */
const NEGATIVE_ZERO_HI = 0x80000000;

/**
 * The bucket of a double: the top 16 bits of its order-preserving key, from its high word —
 * with -0 keyed as +0, which is why the low word is read when the high word is -0.0's. The
 * two zeros compare equal (numpy's searchsorted and every count here treat them as one
 * value), so they must share a bucket; by their bits they would sit in two (0x7fff and
 * 0x8000), and a count of "values <= an edge of -0.0" taken inside one bucket would miss the
 * +0.0 values in the other.
 */
function topBucket(words: Uint32Array, i: number): number {
  const hi = words[2 * i + 1] as number;
  if (hi === NEGATIVE_ZERO_HI && words[2 * i] === 0) return 0x8000;
  return (hi >>> 31 ? ~hi >>> 0 : (hi | 0x80000000) >>> 0) >>> 16;
}

const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);
function bucketOf(x: number): number {
  scratch[0] = x;
  return topBucket(scratchWords, 0);
}

function lerp(a: number, b: number, t: number): number {
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

function upperBound(sorted: Float64Array, from: number, to: number, x: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo - from;
}

function viaFullSort(finite: Float64Array, bins: number): QuantileBins {
  const sorted = sortFloat64InPlace(finite.slice());
  const edges = quantileEdges(sorted, bins);
  return { edges, counts: binCountsSorted(edges, sorted) };
}

/** `finite` must not contain NaN. It is only read. */
export function quantileBinsOf(finite: Float64Array, bins: number): QuantileBins {
  const n = finite.length;
  if (n === 0) return { edges: new Float64Array(0), counts: new Float64Array(1) };
  if (n < 20_000 || !LITTLE_ENDIAN) return viaFullSort(finite, bins);
  const words = new Uint32Array(finite.buffer, finite.byteOffset, 2 * n);
  const buckets = new Uint16Array(n);
  const counts = new Uint32Array(65537);
  for (let i = 0; i < n; i++) {
    const b = topBucket(words, i);
    buckets[i] = b;
    counts[b + 1] = (counts[b + 1] as number) + 1;
  }
  // counts becomes cum: cum[b] = number of values in buckets < b.
  const cum = counts;
  for (let b = 1; b <= 65536; b++) cum[b] = (cum[b] as number) + (cum[b - 1] as number);
  const bucketOfRank = (r: number): number => {
    let lo = 0;
    let hi = 65535;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((cum[mid] as number) <= r) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const qs = linspaceUnit(bins).slice(1, bins);
  const wanted = new Set<number>();
  for (const q of qs) {
    const lo = Math.floor(q * (n - 1));
    wanted.add(bucketOfRank(lo));
    wanted.add(bucketOfRank(Math.min(lo + 1, n - 1)));
  }
  // Lay the wanted buckets out contiguously, in bucket order.
  const marked = new Int32Array(65536).fill(-1);
  const order = [...wanted].sort((a, b) => a - b);
  let collected = 0;
  const start = new Map<number, number>();
  for (const b of order) {
    marked[b] = collected;
    start.set(b, collected);
    collected += (cum[b + 1] as number) - (cum[b] as number);
  }
  if (collected > MAX_COLLECTED_SHARE * n) return viaFullSort(finite, bins);
  const pool = new Float64Array(collected);
  const fill = Int32Array.from(marked);
  for (let i = 0; i < n; i++) {
    const slot = fill[buckets[i] as number] as number;
    if (slot >= 0) {
      pool[slot] = finite[i] as number;
      fill[buckets[i] as number] = slot + 1;
    }
  }
  for (const b of order) {
    const s = start.get(b) as number;
    sortFloat64InPlace(pool.subarray(s, s + (cum[b + 1] as number) - (cum[b] as number)));
  }
  const valueAtRank = (r: number): number => {
    const b = bucketOfRank(r);
    return pool[(start.get(b) as number) + r - (cum[b] as number)] as number;
  };
  const edgeList: number[] = [];
  for (const q of qs) {
    const virtual = q * (n - 1);
    const lo = Math.floor(virtual);
    const e = lerp(valueAtRank(lo), valueAtRank(Math.min(lo + 1, n - 1)), virtual - lo);
    if (edgeList.length === 0 || e !== edgeList[edgeList.length - 1]) edgeList.push(e);
  }
  const edges = Float64Array.from(edgeList);
  // Reference count up to each edge: lower buckets, plus a search inside the edge's bucket.
  const binned = new Float64Array(edges.length + 1);
  let previous = 0;
  for (let k = 0; k < edges.length; k++) {
    const e = edges[k] as number;
    const b = bucketOf(e);
    let atMost: number;
    const s = start.get(b);
    if (s !== undefined)
      atMost = (cum[b] as number) + upperBound(pool, s, s + (cum[b + 1] as number) - (cum[b] as number), e);
    else if (cum[b + 1] === cum[b]) atMost = cum[b] as number;
    else return { edges, counts: binCounts(edges, finite) };
    binned[k] = atMost - previous;
    previous = atMost;
  }
  binned[edges.length] = n - previous;
  return { edges, counts: binned };
}
