/** Seeded random numbers for the calibration and bench scripts (not for the library). */

/** mulberry32: small, fast, good enough for simulation. Returns uniforms in (0, 1). */
export function uniformSource(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
}

/** n normal draws N(mean, sd) by Box–Muller into a Float64Array. */
export function normalArray(uniform: () => number, n: number, mean = 0, sd = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const theta = 2 * Math.PI * uniform();
    out[i] = mean + sd * r * Math.cos(theta);
    if (i + 1 < n) out[i + 1] = mean + sd * r * Math.sin(theta);
  }
  return out;
}

/** Category counts of n draws from `shares` (labels c0, c1, ...). */
export function multinomialCounts(
  uniform: () => number,
  n: number,
  shares: readonly number[],
): Map<string, number> {
  const cumulative: number[] = [];
  let s = 0;
  for (const p of shares) cumulative.push((s += p));
  const counts = new Array<number>(shares.length).fill(0);
  for (let i = 0; i < n; i++) {
    const u = uniform() * s;
    let k = 0;
    while (k < cumulative.length - 1 && u > (cumulative[k] as number)) k++;
    counts[k] = (counts[k] as number) + 1;
  }
  return new Map(counts.map((c, k) => [`c${k}`, c]));
}
