/**
 * Order statistics without a full sort: quickselect (median-of-three, Hoare partition) on a
 * scratch Float64Array, for the handful of quantiles PSI needs at n = 10^6, where a full sort
 * would cost more than numpy's `np.quantile` (introselect).
 */

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i] as number;
  a[i] = a[j] as number;
  a[j] = t;
}

/** Rearranges a[lo..hi] so that a[k] is the k-th smallest and everything left is <= it. */
export function selectInPlace(a: Float64Array, k: number, lo = 0, hi = a.length - 1): void {
  let left = lo;
  let right = hi;
  while (right > left) {
    if (right - left < 16) {
      for (let i = left + 1; i <= right; i++) {
        const v = a[i] as number;
        let j = i - 1;
        while (j >= left && (a[j] as number) > v) {
          a[j + 1] = a[j] as number;
          j--;
        }
        a[j + 1] = v;
      }
      return;
    }
    const mid = (left + right) >>> 1;
    if ((a[mid] as number) < (a[left] as number)) swap(a, mid, left);
    if ((a[right] as number) < (a[left] as number)) swap(a, right, left);
    if ((a[right] as number) < (a[mid] as number)) swap(a, right, mid);
    const pivot = a[mid] as number;
    let i = left;
    let j = right;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return;
  }
}

/**
 * The values at the requested ranks, by recursive multi-selection: place the middle rank,
 * then recurse into the left part with the smaller ranks and the right part with the larger
 * ones — O(n log k) for k ranks. Mutates `scratch`.
 */
export function orderStatistics(scratch: Float64Array, ranks: readonly number[]): Map<number, number> {
  const sorted = [...new Set(ranks)].sort((x, y) => x - y);
  multiSelect(scratch, sorted, 0, scratch.length - 1, 0, sorted.length - 1);
  return new Map(sorted.map((r) => [r, scratch[r] as number]));
}

function multiSelect(
  a: Float64Array,
  ranks: readonly number[],
  lo: number,
  hi: number,
  rLo: number,
  rHi: number,
): void {
  if (rLo > rHi || lo > hi) return;
  const mid = (rLo + rHi) >>> 1;
  const k = ranks[mid] as number;
  selectInPlace(a, k, lo, hi);
  multiSelect(a, ranks, lo, k - 1, rLo, mid - 1);
  multiSelect(a, ranks, k + 1, hi, mid + 1, rHi);
}
