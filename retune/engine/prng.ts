/**
 * Seeded, serialisable pseudo-random numbers.
 *
 * Generator: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state),
 * passes PractRand to large sizes and needs only 32-bit integer arithmetic, which JavaScript
 * does exactly. Seeds are spread with splitmix32 so nearby seeds give unrelated streams.
 *
 * Studies never keep a long-lived generator: each suggestion uses a fresh stream derived from
 * (study seed, trial number), so a restarted daemon that replays the stored history makes the
 * same suggestions without having persisted any generator state.
 */

/** The full generator state; four unsigned 32-bit integers. JSON-serialisable. */
export type RngState = readonly [number, number, number, number];

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

function splitmix32(input: number): number {
  let z = (input + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over UTF-16 code units: a stable number for a string stream key (e.g. a param name). */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  }
  return hash >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  private constructor(state: RngState) {
    [this.a, this.b, this.c, this.d] = state;
  }

  /**
   * A generator for one stream: `Rng.derive(seed, trialNumber)` gives the same numbers on every
   * run and every machine, and different keys give independent-looking streams.
   */
  static derive(seed: number, ...keys: readonly (number | string)[]): Rng {
    let h = splitmix32(seed >>> 0);
    for (const key of keys) {
      const k = typeof key === 'string' ? hashString(key) : key >>> 0;
      h = splitmix32(h ^ splitmix32(k + 0x632be5ab));
    }
    const a = splitmix32(h);
    const b = splitmix32(a ^ 0x1b873593);
    const c = splitmix32(b ^ 0xcc9e2d51);
    const rng = new Rng([a, b, c, 1]);
    // The reference seeding discards the first outputs so the state is well mixed.
    for (let i = 0; i < 12; i++) rng.nextUint32();
    return rng;
  }

  static fromState(state: RngState): Rng {
    return new Rng([state[0] >>> 0, state[1] >>> 0, state[2] >>> 0, state[3] >>> 0]);
  }

  state(): RngState {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / TWO_POW_53;
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.nextFloat();
  }

  /** Uniform integer in [0, n) without modulo bias (rejection sampling). */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > TWO_POW_32) {
      throw new RangeError(`nextInt needs an integer bound in [1, 2^32], got ${n}`);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** An index drawn with probability proportional to `weights` (non-negative, positive sum). */
  pickWeighted(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i] ?? 0;
    let target = this.nextFloat() * total;
    for (let i = 0; i < weights.length; i++) {
      target -= weights[i] ?? 0;
      if (target < 0) return i;
    }
    // Rounding can leave a tiny remainder: fall back to the last index with weight.
    for (let i = weights.length - 1; i >= 0; i--) if ((weights[i] ?? 0) > 0) return i;
    return weights.length - 1;
  }
}
