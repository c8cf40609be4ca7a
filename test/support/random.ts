/**
 * Seeded random numbers for tests and fixtures, so every run sees the same data.
 *
 * Not scripts/detectors/random.ts: that one returns `(x + 0.5) / 2^32` (never 0) and so gives
 * other sequences than the ones the test assertions were written against.
 */

/** mulberry32: uniforms in [0, 1), the same sequence for the same seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One N(0, 1) draw by Box–Muller (cosine branch only), using two uniforms of `r`. */
export function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}
