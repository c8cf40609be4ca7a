import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  binomialTwoSidedHalf,
  chiSquare1Sf,
  mcnemarTest,
  pairedBootstrap,
  quantileSorted,
} from '../../../../retune/promotion/index.js';
import { Rng } from '../../../../retune/engine/index.js';

interface Fixtures {
  mcnemar: { b: number; c: number; method: string; statistic: number; p: number }[];
  binom: { k: number; n: number; p: number }[];
  chi2sf: { x: number; p: number }[];
}
const fixtures = JSON.parse(
  readFileSync(new URL('../../../fixtures/retune/promotion.json', import.meta.url), 'utf8'),
) as Fixtures;

/** Absolute 1e-9, and relative 1e-9 for p-values far in the tail. */
function expectP(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-9);
  if (expected > 0 && expected < 1e-6) expect(Math.abs(actual / expected - 1)).toBeLessThan(1e-9);
}

describe('McNemar against scipy', () => {
  it.each(fixtures.mcnemar)('b=$b c=$c ($method)', ({ b, c, method, statistic, p }) => {
    const result = mcnemarTest(b, c);
    expect(result.method).toBe(method);
    expect(result.statistic).toBeCloseTo(statistic, 12);
    expectP(result.pValue, p);
  });
  it.each(fixtures.binom)('binomtest k=$k n=$n', ({ k, n, p }) => expectP(binomialTwoSidedHalf(k, n), p));
  it.each(fixtures.chi2sf)('chi2.sf($x, 1)', ({ x, p }) => expectP(chiSquare1Sf(x), p));

  it('is symmetric in b and c and refuses bad counts', () => {
    expect(mcnemarTest(4, 30).pValue).toBe(mcnemarTest(30, 4).pValue);
    expect(() => mcnemarTest(-1, 2)).toThrow(/non-negative integers/);
    expect(() => mcnemarTest(1.5, 2)).toThrow(/non-negative integers/);
  });
  it('switches to chi-square exactly at the configured threshold', () => {
    expect(mcnemarTest(12, 13).method).toBe('chi2-cc');
    expect(mcnemarTest(12, 12).method).toBe('exact');
    expect(mcnemarTest(12, 13, { exactBelow: 100 }).method).toBe('exact');
  });
});

describe('paired bootstrap', () => {
  it('is deterministic for a seed and changes with it', () => {
    const a = Array.from({ length: 50 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const b = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? 1 : 0));
    const one = pairedBootstrap({
      champion: a,
      challenger: b,
      higherIsBetter: true,
      resamples: 500,
      seed: 7,
    });
    const two = pairedBootstrap({
      champion: a,
      challenger: b,
      higherIsBetter: true,
      resamples: 500,
      seed: 7,
    });
    const other = pairedBootstrap({
      champion: a,
      challenger: b,
      higherIsBetter: true,
      resamples: 500,
      seed: 8,
    });
    expect(two).toEqual(one);
    expect(other.ciLow).not.toBe(one.ciLow);
    expect(one.ciLow).toBeLessThanOrEqual(one.estimate);
    expect(one.ciHigh).toBeGreaterThanOrEqual(one.estimate);
  });

  it('signs the improvement so positive means the challenger is better', () => {
    const champion = [4, 4, 4, 4, 4, 4, 4, 4, 4, 4];
    const challenger = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
    const loss = pairedBootstrap({ champion, challenger, higherIsBetter: false, resamples: 50 });
    expect(loss.estimate).toBe(3);
    expect(loss.ciLow).toBe(3);
    const rmse = pairedBootstrap({
      champion,
      challenger,
      higherIsBetter: false,
      resamples: 50,
      finish: Math.sqrt,
    });
    expect(rmse.estimate).toBe(1);
  });

  it('covers the true difference about 1 - alpha of the time on a synthetic case', () => {
    // Paired rows: champion loss ~ N(1, 1), challenger = champion - 0.2 + N(0, 0.5). True mean
    // improvement 0.2. 300 independent samples of 60 rows, 400 resamples each.
    const rng = Rng.derive(42, 'coverage');
    const normal = (): number => {
      const u = 1 - rng.nextFloat();
      const v = rng.nextFloat();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    };
    let covered = 0;
    const replicates = 300;
    for (let r = 0; r < replicates; r++) {
      const champion = Array.from({ length: 60 }, () => 1 + normal());
      const challenger = champion.map((x) => x - 0.2 + 0.5 * normal());
      const ci = pairedBootstrap({ champion, challenger, higherIsBetter: false, resamples: 400, seed: r });
      if (ci.ciLow <= 0.2 && 0.2 <= ci.ciHigh) covered++;
    }
    const coverage = covered / replicates;
    // Percentile intervals run slightly narrow at n=60; binomial sd of the estimate is ~1.3%.
    expect(coverage).toBeGreaterThan(0.9);
    expect(coverage).toBeLessThan(0.99);
  });

  it('interpolates quantiles like numpy', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.025)).toBeCloseTo(1.075, 12);
    expect(quantileSorted([5], 0.9)).toBe(5);
  });

  it('refuses unpaired or too few resamples', () => {
    expect(() => pairedBootstrap({ champion: [1], challenger: [1, 2], higherIsBetter: true })).toThrow(
      /same/,
    );
    expect(() =>
      pairedBootstrap({ champion: [1], challenger: [1], higherIsBetter: true, resamples: 3 }),
    ).toThrow(/>= 10/);
  });
});
