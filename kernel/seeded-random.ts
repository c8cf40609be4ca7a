/**
 * Seeded random numbers for synthetic data (the demo's traffic, test fixtures), so every run
 * tells the same story. Not for statistics or search: detectors take data, and the HPO engine has
 * its own serialisable generator (retune/engine/prng.ts).
 */

/** mulberry32: small, fast, good enough for synthetic data. Uniforms in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** One N(0, 1) draw by Box–Muller (cosine branch only), from two uniforms of `random`. */
export function normal(random: () => number): number {
  // 1 - u keeps the log argument away from 0.
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}
