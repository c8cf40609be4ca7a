/** Seeded random numbers for the calibration and bench scripts (not for the library). */
import { seededRandom } from '../../kernel/seeded-random.js';

/**
 * mulberry32 (src/seeded-random.ts) shifted by half a step: uniforms in (0, 1), `(x + 0.5) / 2^32`,
 * so a log of one is always finite. The sum is exact (x has at most 32 significant bits).
 */
export function uniformSource(seed: number): () => number {
  const uniform = seededRandom(seed);
  return () => uniform() + 2 ** -33;
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
