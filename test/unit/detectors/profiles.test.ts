/**
 * Profiles: JSON round-trip, exact merge (two halves = the whole), and the profile-based
 * tests against the raw-sample values (exact for PSI/JS/Hellinger, bounded error for KS,
 * small relative error for W1/energy).
 */
import { describe, expect, it } from 'vitest';
import { chiSquareContingency } from '../../../detectors/categorical.js';
import { energy, wasserstein } from '../../../detectors/distances.js';
import { ks } from '../../../detectors/ks.js';
import { hellinger, jensenShannon, psi } from '../../../detectors/numeric-binned.js';
import {
  buildCategoricalProfile,
  buildCategoricalReferenceProfile,
  categoricalProfileCounts,
  categoricalProfileFromCounts,
  mergeCategoricalProfiles,
  OTHER_CATEGORY,
} from '../../../detectors/profiles/categorical-profile.js';
import {
  buildNumericProfile,
  buildNumericReferenceProfile,
  gridOf,
  mergeNumericProfiles,
  numericProfileFromAggregates,
  profileStdDdof0,
  type NumericProfile,
} from '../../../detectors/profiles/numeric-profile.js';
import {
  chiSquareFromProfiles,
  energyFromProfiles,
  hellingerFromProfiles,
  jensenShannonFromProfiles,
  ksFromProfiles,
  psiFromProfiles,
  wassersteinFromProfiles,
} from '../../../detectors/profiles/profile-tests.js';
import type { TestResult } from '../../../detectors/result.js';
import { normal, rng } from '../../support/random.js';

function normals(n: number, mean: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => mean + normal(r));
}
function stat(r: TestResult): number {
  if (r.status !== 'ok') throw new Error(r.reason);
  return r.statistic;
}

describe('numeric profiles', () => {
  const reference = normals(20000, 0, 1);
  const refProfile = buildNumericReferenceProfile(reference);

  it('is plain JSON and round-trips', () => {
    expect(JSON.parse(JSON.stringify(refProfile))).toEqual(refProfile);
    expect(refProfile.sketchEdges.length).toBe(999);
    expect(refProfile.binEdges.length).toBe(9);
    expect(refProfile.count).toBe(20000);
  });

  it('two halves merged equal the whole (counts exactly, moments to rounding)', () => {
    const grid = gridOf(refProfile);
    const merged = mergeNumericProfiles(
      buildNumericProfile(reference.slice(0, 7000), grid),
      buildNumericProfile(reference.slice(7000), grid),
    );
    expect(merged.sketchCounts).toEqual(refProfile.sketchCounts);
    expect(merged.binCounts).toEqual(refProfile.binCounts);
    expect([merged.count, merged.min, merged.max]).toEqual([
      refProfile.count,
      refProfile.min,
      refProfile.max,
    ]);
    expect(merged.mean).toBeCloseTo(refProfile.mean, 12);
    expect(profileStdDdof0(merged)).toBeCloseTo(profileStdDdof0(refProfile), 12);
  });

  it('refuses to merge profiles over different grids', () => {
    const other = buildNumericReferenceProfile(normals(100, 0, 9));
    expect(() => mergeNumericProfiles(refProfile, other)).toThrow(/different grids/);
  });

  it('counts NaN and null as missing', () => {
    const p = buildNumericProfile([1, Number.NaN, null, 2], gridOf(refProfile));
    expect([p.count, p.missing]).toEqual([2, 2]);
  });

  describe.each([
    ['no drift', 0, 5000],
    ['0.1 sigma shift', 0.1, 10000],
    ['0.5 sigma shift', 0.5, 3000],
  ])('%s', (_name, shift, n) => {
    const current = normals(n, shift, 7);
    const curProfile = buildNumericProfile(current, gridOf(refProfile));

    it('PSI, JS and Hellinger from profiles equal the raw-sample values exactly', () => {
      expect(stat(psiFromProfiles(refProfile, curProfile))).toBe(stat(psi(reference, current)));
      expect(stat(jensenShannonFromProfiles(refProfile, curProfile))).toBe(
        stat(jensenShannon(reference, current)),
      );
      expect(stat(hellingerFromProfiles(refProfile, curProfile))).toBe(stat(hellinger(reference, current)));
    });

    it('KS from profiles is within its reported bound of the exact D', () => {
      const approx = ksFromProfiles(refProfile, curProfile);
      const exact = stat(ks(reference, current));
      const bound = approx.status === 'ok' ? (approx.details?.maxError as number) : 1;
      expect(stat(approx)).toBeLessThanOrEqual(exact + 1e-12);
      expect(exact - stat(approx)).toBeLessThanOrEqual(bound);
      expect(bound).toBeLessThan(0.01);
    });

    it('W1 and energy from profiles are within 3% of the exact values', () => {
      const w = stat(wasserstein(reference, current));
      expect(Math.abs(stat(wassersteinFromProfiles(refProfile, curProfile)) - w) / w).toBeLessThan(0.03);
      const e = stat(energy(reference, current));
      expect(Math.abs(stat(energyFromProfiles(refProfile, curProfile)) - e) / e).toBeLessThan(0.03);
    });
  });

  it('is exact for discrete features (distinct-value grid)', () => {
    const r = rng(3);
    const ref = Array.from({ length: 5000 }, () => Math.floor(r() * 6));
    const cur = Array.from({ length: 3000 }, () => Math.floor(r() * 7));
    const rp = buildNumericReferenceProfile(ref);
    expect(rp.sketchKind).toBe('distinct');
    const cp = buildNumericProfile(cur, gridOf(rp));
    expect(stat(ksFromProfiles(rp, cp))).toBeCloseTo(stat(ks(ref, cur)), 12);
    expect(stat(wassersteinFromProfiles(rp, cp))).toBeCloseTo(stat(wasserstein(ref, cur)), 12);
    expect(stat(energyFromProfiles(rp, cp))).toBeCloseTo(stat(energy(ref, cur)), 12);
  });

  it('builds a window profile from ClickHouse-style aggregates', () => {
    const current = normals(4000, 0.2, 11);
    const direct = buildNumericProfile(current, gridOf(refProfile));
    const fromAgg: NumericProfile = numericProfileFromAggregates(gridOf(refProfile), {
      binCounts: direct.binCounts,
      sketchCounts: direct.sketchCounts,
      min: direct.min,
      max: direct.max,
      mean: direct.mean,
      stdDdof0: profileStdDdof0(direct),
    });
    expect(stat(ksFromProfiles(refProfile, fromAgg))).toBe(stat(ksFromProfiles(refProfile, direct)));
    expect(() =>
      numericProfileFromAggregates(gridOf(refProfile), { ...fromAgg, stdDdof0: 1, sketchCounts: [1, 2] }),
    ).toThrow(/sketch counts/);
  });

  it('empty windows are not computable', () => {
    const empty = buildNumericProfile([], gridOf(refProfile));
    for (const r of [ksFromProfiles(refProfile, empty), wassersteinFromProfiles(refProfile, empty)]) {
      expect(r.status).toBe('not_computable');
    }
  });
});

describe('categorical profiles', () => {
  const labels = ['a', 'a', 'b', 'c', 'a', 'b', 'd', null, 'e'];
  const ref = buildCategoricalReferenceProfile(labels, { maxCategories: 3 });

  it('keeps the top categories and folds the rest into other', () => {
    expect(ref.categories).toEqual(['a', 'b', 'c']);
    expect(ref.counts).toEqual([3, 2, 1]);
    expect([ref.other, ref.missing, ref.count]).toEqual([2, 1, 8]);
  });

  it('merges exactly over the same vocabulary', () => {
    const whole = buildCategoricalProfile(labels, ref.categories);
    const merged = mergeCategoricalProfiles(
      buildCategoricalProfile(labels.slice(0, 4), ref.categories),
      buildCategoricalProfile(labels.slice(4), ref.categories),
    );
    expect(merged).toEqual(whole);
  });

  it('window counts with unseen categories go to other and the tests still run', () => {
    const window = categoricalProfileFromCounts(ref.categories, { a: 5, z: 4 });
    expect(categoricalProfileCounts(window).get(OTHER_CATEGORY)).toBe(4);
    const r = chiSquareFromProfiles(ref, window);
    expect(r.status).toBe('ok');
    expect(stat(r)).toBe(
      stat(chiSquareContingency(categoricalProfileCounts(ref), categoricalProfileCounts(window))),
    );
  });
});
