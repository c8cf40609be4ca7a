/**
 * Ascending in-place sort of a Float64Array by LSD radix sort on the IEEE-754 bit patterns
 * (16-bit digits, four passes, passes skipped when every key shares the digit). About twice
 * as fast as V8's built-in typed-array sort at 10^5..10^6 elements, which is what keeps KS
 * and W1 at or below scipy's time. NaN must be removed first; -0 sorts before +0 (they
 * compare equal, so no statistic can tell).
 *
 * Keys are moved as two uint32 words rather than as doubles: copying a bit pattern that
 * happens to look like a NaN through a JS number is not guaranteed to preserve it.
 */

const RADIX_BITS = 16;
const RADIX = 1 << RADIX_BITS;
const MASK = RADIX - 1;
/** Below this size V8's sort wins (fixed cost of the 4 x 65536 histograms). */
const RADIX_MIN_LENGTH = 4096;
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

function digit(lo: number, hi: number, pass: number): number {
  switch (pass) {
    case 0:
      return lo & MASK;
    case 1:
      return lo >>> 16;
    case 2:
      return hi & MASK;
    default:
      return hi >>> 16;
  }
}

export function sortFloat64InPlace(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < RADIX_MIN_LENGTH || !LITTLE_ENDIAN) return values.sort();
  const words = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  const counts = new Uint32Array(4 * RADIX);
  // Map doubles to unsigned keys with the same order: flip all bits of negatives, only the sign of positives.
  for (let i = 0; i < 2 * n; i += 2) {
    const hi = words[i + 1] as number;
    let lo = words[i] as number;
    let key: number;
    if (hi >>> 31) {
      lo = ~lo >>> 0;
      key = ~hi >>> 0;
    } else {
      key = (hi | 0x80000000) >>> 0;
    }
    words[i] = lo;
    words[i + 1] = key;
    counts[lo & MASK] = (counts[lo & MASK] as number) + 1;
    counts[RADIX + (lo >>> 16)] = (counts[RADIX + (lo >>> 16)] as number) + 1;
    counts[2 * RADIX + (key & MASK)] = (counts[2 * RADIX + (key & MASK)] as number) + 1;
    counts[3 * RADIX + (key >>> 16)] = (counts[3 * RADIX + (key >>> 16)] as number) + 1;
  }
  let src: Uint32Array = words;
  let dst: Uint32Array = new Uint32Array(2 * n);
  for (let pass = 0; pass < 4; pass++) {
    const base = pass * RADIX;
    let sum = 0;
    let trivial = false;
    for (let d = 0; d < RADIX; d++) {
      const c = counts[base + d] as number;
      if (c === n) {
        trivial = true;
        break;
      }
      counts[base + d] = sum;
      sum += c;
    }
    if (trivial) continue;
    for (let i = 0; i < 2 * n; i += 2) {
      const lo = src[i] as number;
      const hi = src[i + 1] as number;
      const slot = base + digit(lo, hi, pass);
      const pos = (counts[slot] as number) * 2;
      counts[slot] = (counts[slot] as number) + 1;
      dst[pos] = lo;
      dst[pos + 1] = hi;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  if (src !== words) words.set(src);
  for (let i = 0; i < 2 * n; i += 2) {
    const key = words[i + 1] as number;
    if (key >>> 31) {
      words[i + 1] = (key & 0x7fffffff) >>> 0;
    } else {
      words[i] = ~(words[i] as number) >>> 0;
      words[i + 1] = ~key >>> 0;
    }
  }
  return values;
}
