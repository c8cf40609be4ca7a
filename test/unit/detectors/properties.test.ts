/** Property tests (fast-check): symmetry, identity, order invariance, bounds, merge algebra. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cramerVonMises } from '../../../detectors/cramer-von-mises.js';
import {
  hellingerFromCounts,
  jensenShannonFromCounts,
  psiFromCounts,
  totalVariationFromCounts,
} from '../../../detectors/divergences.js';
import { energy, wasserstein } from '../../../detectors/distances.js';
import { ks } from '../../../detectors/ks.js';
import { psi } from '../../../detectors/numeric-binned.js';
import {
  buildCategoricalProfile,
  buildCategoricalReferenceProfile,
  mergeCategoricalProfiles,
} from '../../../detectors/profiles/categorical-profile.js';
import {
  buildNumericProfile,
  buildNumericReferenceProfile,
  gridOf,
  mergeNumericProfiles,
  type NumericProfile,
} from '../../../detectors/profiles/numeric-profile.js';
import type { TestResult } from '../../../detectors/result.js';

const value = fc.oneof(
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fc.integer({ min: -5, max: 5 }), // ties
);
const sample = fc.array(value, { minLength: 1, maxLength: 60 });
const counts = fc.array(fc.nat({ max: 1000 }), { minLength: 2, maxLength: 12 });
const countPair = counts.chain((a) =>
  fc.tuple(fc.constant(a), fc.array(fc.nat({ max: 1000 }), { minLength: a.length, maxLength: a.length })),
);
const nonEmptyPair = countPair.filter(([a, b]) => a.some((x) => x > 0) && b.some((x) => x > 0));

function s(r: TestResult): number {
  if (r.status !== 'ok') throw new Error(r.reason);
  return r.statistic;
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let a = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    const j = a % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('numeric two-sample properties', () => {
  it('KS, W1, energy and CvM statistics are symmetric; p-values in [0, 1]', () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const k1 = ks(a, b);
        const k2 = ks(b, a);
        expect(s(k1)).toBeCloseTo(s(k2), 12);
        expect(k1.pValue).toBeGreaterThanOrEqual(0);
        expect(k1.pValue).toBeLessThanOrEqual(1);
        expect(s(k1)).toBeLessThanOrEqual(1);
        const w = s(wasserstein(a, b));
        expect(Math.abs(w - s(wasserstein(b, a)))).toBeLessThanOrEqual(1e-9 * Math.max(1, w));
        const e = s(energy(a, b));
        expect(Math.abs(e - s(energy(b, a)))).toBeLessThanOrEqual(1e-9 * Math.max(1, e));
        if (a.length >= 2 && b.length >= 2 && a.length <= 20 && b.length <= 20) {
          const c1 = cramerVonMises(a, b);
          expect(s(c1)).toBeCloseTo(s(cramerVonMises(b, a)), 9);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('identical samples are at distance zero, with KS p = 1', () => {
    fc.assert(
      fc.property(sample, (a) => {
        const k = ks(a, a);
        expect(s(k)).toBe(0);
        expect(k.pValue).toBe(1);
        expect(s(wasserstein(a, a))).toBe(0);
        expect(s(energy(a, a))).toBe(0);
        expect(s(psi(a, a))).toBe(0);
      }),
      { numRuns: 100 },
    );
  });

  it('results do not depend on the order of the samples', () => {
    fc.assert(
      fc.property(sample, sample, fc.integer(), (a, b, seed) => {
        expect(ks(shuffled(a, seed), shuffled(b, seed + 1))).toEqual(ks(a, b));
        expect(s(wasserstein(shuffled(a, seed), b))).toBeCloseTo(s(wasserstein(a, b)), 9);
        expect(psi(shuffled(a, seed), shuffled(b, seed))).toEqual(psi(a, b));
      }),
      { numRuns: 100 },
    );
  });
});

describe('divergences on counts', () => {
  it('bounds: PSI >= 0, JS <= sqrt(ln 2) (base e) and <= 1 (base 2), Hellinger and TVD in [0, 1]', () => {
    fc.assert(
      fc.property(nonEmptyPair, ([a, b]) => {
        expect(psiFromCounts(a, b)).toBeGreaterThanOrEqual(0);
        const jsE = jensenShannonFromCounts(a, b);
        expect(jsE).toBeGreaterThanOrEqual(0);
        expect(jsE).toBeLessThanOrEqual(Math.sqrt(Math.LN2) + 1e-12);
        expect(jensenShannonFromCounts(a, b, 2)).toBeLessThanOrEqual(1 + 1e-12);
        const h = hellingerFromCounts(a, b);
        expect(h).toBeGreaterThanOrEqual(0);
        expect(h).toBeLessThanOrEqual(1 + 1e-12);
        const t = totalVariationFromCounts(a, b);
        expect(t).toBeGreaterThanOrEqual(0);
        expect(t).toBeLessThanOrEqual(1 + 1e-12);
      }),
    );
  });

  it('PSI, JS, Hellinger and TVD are symmetric and zero for proportional counts', () => {
    fc.assert(
      fc.property(nonEmptyPair, fc.integer({ min: 1, max: 7 }), ([a, b], k) => {
        expect(psiFromCounts(a, b)).toBeCloseTo(psiFromCounts(b, a), 12);
        expect(jensenShannonFromCounts(a, b)).toBeCloseTo(jensenShannonFromCounts(b, a), 12);
        expect(hellingerFromCounts(a, b)).toBeCloseTo(hellingerFromCounts(b, a), 12);
        expect(totalVariationFromCounts(a, b)).toBeCloseTo(totalVariationFromCounts(b, a), 12);
        const scaled = a.map((x) => x * k);
        expect(psiFromCounts(a, scaled)).toBeCloseTo(0, 12);
        expect(jensenShannonFromCounts(a, scaled)).toBeCloseTo(0, 6);
        expect(totalVariationFromCounts(a, scaled)).toBeCloseTo(0, 12);
      }),
    );
  });
});

describe('profile merge algebra', () => {
  const reference = Array.from({ length: 500 }, (_, i) => Math.sin(i) * 10 + (i % 7));
  const grid = gridOf(buildNumericReferenceProfile(reference, { sketchResolution: 50 }));
  const chunk = fc.array(fc.oneof(fc.double({ min: -50, max: 50, noNaN: true }), fc.constant(Number.NaN)), {
    maxLength: 40,
  });

  function countsOnly(p: NumericProfile) {
    return [p.count, p.missing, p.min, p.max, p.binCounts, p.sketchCounts];
  }

  it('numeric merge is associative, commutative and equals profiling the concatenation', () => {
    fc.assert(
      fc.property(chunk, chunk, chunk, (a, b, c) => {
        const [pa, pb, pc] = [a, b, c].map((x) => buildNumericProfile(x, grid)) as [
          NumericProfile,
          NumericProfile,
          NumericProfile,
        ];
        const left = mergeNumericProfiles(mergeNumericProfiles(pa, pb), pc);
        const right = mergeNumericProfiles(pa, mergeNumericProfiles(pb, pc));
        const whole = buildNumericProfile([...a, ...b, ...c], grid);
        expect(countsOnly(left)).toEqual(countsOnly(right));
        expect(countsOnly(left)).toEqual(countsOnly(whole));
        expect(countsOnly(mergeNumericProfiles(pa, pb))).toEqual(countsOnly(mergeNumericProfiles(pb, pa)));
        const scale = Math.max(1, Math.abs(whole.mean));
        expect(Math.abs(left.mean - whole.mean)).toBeLessThanOrEqual(1e-9 * scale);
        expect(Math.abs(left.m2 - right.m2)).toBeLessThanOrEqual(1e-7 * Math.max(1, whole.m2));
      }),
    );
  });

  it('categorical merge is associative and equals profiling the concatenation', () => {
    const vocabulary = buildCategoricalReferenceProfile(['a', 'b', 'b', 'c', 'd'], {
      maxCategories: 3,
    }).categories;
    const labels = fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', null), { maxLength: 30 });
    fc.assert(
      fc.property(labels, labels, labels, (a, b, c) => {
        const [pa, pb, pc] = [a, b, c].map((x) => buildCategoricalProfile(x, vocabulary)) as [
          ReturnType<typeof buildCategoricalProfile>,
          ReturnType<typeof buildCategoricalProfile>,
          ReturnType<typeof buildCategoricalProfile>,
        ];
        const left = mergeCategoricalProfiles(mergeCategoricalProfiles(pa, pb), pc);
        expect(left).toEqual(mergeCategoricalProfiles(pa, mergeCategoricalProfiles(pb, pc)));
        expect(left).toEqual(buildCategoricalProfile([...a, ...b, ...c], vocabulary));
      }),
    );
  });
});
