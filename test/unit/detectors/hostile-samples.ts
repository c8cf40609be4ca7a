/**
 * fast-check generators of numeric samples that break naive statistics code: signed zeros,
 * ±Infinity, NaN, subnormals, the largest doubles, huge offsets (1e15 + noise, where one ulp
 * is 0.125) and all-equal samples — small ones, and recipes for large ones (>= 20,000 values,
 * past every size at which the detectors switch to their fast paths) expanded
 * deterministically so a shrunk counterexample stays small to print.
 */
import fc from 'fast-check';
import { rng } from '../../support/random.js';

/** Below this many reference values PSI/JS/Hellinger sort; from it on they select by buckets. */
export const LARGE_REFERENCE = 20_000;

export const SPECIAL_VALUES: readonly number[] = [
  0,
  -0,
  Infinity,
  -Infinity,
  Number.NaN,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  2.2250738585072014e-308, // smallest normal
  -1e-310, // subnormal
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  1e200,
  -1e200,
  1e15,
  1e15 + 0.125,
  -1e15,
  1,
  -1,
];

export const hostileValue: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_VALUES) },
  // Every double: fast-check biases towards ±0, ±Infinity, NaN, the extremes and subnormals.
  { weight: 3, arbitrary: fc.double() },
  { weight: 3, arbitrary: fc.integer({ min: -3, max: 3 }) },
  { weight: 2, arbitrary: fc.double({ min: -4, max: 4, noNaN: true }).map((x) => 1e15 + x) },
  { weight: 1, arbitrary: fc.double({ min: -1e-300, max: 1e-300, noNaN: true }) },
);

/** Up to `maxLength` hostile values, or one hostile value repeated (all-equal samples). */
export function hostileSample(maxLength = 40): fc.Arbitrary<number[]> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.array(hostileValue, { maxLength }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(hostileValue, fc.integer({ min: 1, max: maxLength }))
        .map(([v, n]) => new Array<number>(n).fill(v)),
    },
  );
}

/** How to build a large sample: a share of hostile atoms, the rest `offset + scale * noise`. */
export interface LargeRecipe {
  readonly size: number;
  readonly atoms: readonly number[];
  readonly atomShare: number;
  readonly offset: number;
  readonly scale: number;
  readonly seed: number;
}

export function largeRecipe(
  minSize = LARGE_REFERENCE,
  maxSize = LARGE_REFERENCE + 3000,
): fc.Arbitrary<LargeRecipe> {
  return fc.record({
    size: fc.integer({ min: minSize, max: maxSize }),
    atoms: fc.array(hostileValue, { minLength: 1, maxLength: 6 }),
    atomShare: fc.constantFrom(0, 0.001, 0.2, 0.6, 1),
    offset: fc.constantFrom(0, 1e15, -1e15, 1e-300),
    scale: fc.constantFrom(1, 1e-3, 1e-310, 1e300),
    seed: fc.integer(),
  });
}

/**
 * The sample a recipe describes: same recipe, same values. Noise is rounded so ties occur.
 * A plain array (a small sample drawn directly) passes through, so a property can take either.
 */
export function expand(recipe: LargeRecipe | number[]): number[] {
  if (Array.isArray(recipe)) return recipe;
  const uniform = rng(recipe.seed);
  const out = new Array<number>(recipe.size);
  for (let i = 0; i < recipe.size; i++) {
    if (uniform() < recipe.atomShare) {
      out[i] = recipe.atoms[Math.floor(uniform() * recipe.atoms.length)] as number;
    } else {
      const noise = Math.round((uniform() + uniform() + uniform() - 1.5) * 4000) / 1000;
      out[i] = recipe.offset + recipe.scale * noise;
    }
  }
  return out;
}

/** `values` repeated until there are at least `atLeast` of them (same empirical distribution). */
export function replicate(values: readonly number[], atLeast = LARGE_REFERENCE): number[] {
  if (values.length === 0) return [];
  const copies = Math.ceil(atLeast / values.length);
  const out: number[] = [];
  for (let k = 0; k < copies; k++) out.push(...values);
  return out;
}
