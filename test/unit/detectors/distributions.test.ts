/** The building-block distributions against scipy: kstwo.sf grid and the chi-square tail. */
import { describe, expect, it } from 'vitest';
import { chiSquareSf } from '../../../detectors/distributions/chi-square.js';
import { kstwoSf } from '../../../detectors/distributions/kolmogorov.js';
import { loadFixture } from './fixtures.js';

interface KstwoRow {
  n: number;
  x: number;
  sf: number;
}

describe('kstwoSf equals scipy.stats.kstwo.sf', () => {
  const rows = loadFixture<KstwoRow>('kstwo-sf.json');
  it.each(rows.map((r) => [r.n, r.x, r] as const))('n=%i x=%f', (_n, _x, r) => {
    expect(Math.abs(kstwoSf(r.n, r.x) - r.sf)).toBeLessThanOrEqual(1e-9);
  });
});

describe('chiSquareSf', () => {
  it('matches known values', () => {
    // scipy.stats.chi2.sf(3.84145882069412, 1) = 0.05; chi2.sf(10, 4) = 0.040427681994512805
    expect(chiSquareSf(3.84145882069412, 1)).toBeCloseTo(0.05, 12);
    expect(chiSquareSf(10, 4)).toBeCloseTo(0.040427681994512805, 13);
    expect(chiSquareSf(0, 3)).toBe(1);
    expect(chiSquareSf(Infinity, 3)).toBe(0);
  });
});
