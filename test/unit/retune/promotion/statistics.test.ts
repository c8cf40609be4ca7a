import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  binomialTwoSidedHalf,
  binomialUpperTailHalf,
  chiSquare1Sf,
  mcnemarTest,
  normalQuantile,
  normalSf,
  pairedBootstrap,
  pairedMeanSuperiority,
  pairedProportionSuperiority,
  quantileSorted,
  rmseSuperiority,
  studentTIsf,
  studentTSf,
  tangoScore,
} from '../../../../retune/promotion/index.js';
import { Rng } from '../../../../retune/engine/index.js';

interface Fixtures {
  mcnemar: { b: number; c: number; method: string; statistic: number; p: number }[];
  mcnemarNoExact: { b: number; c: number; method: string; statistic: number; p: number }[];
  binom: { k: number; n: number; p: number }[];
  binomUpper: { k: number; n: number; p: number }[];
  chi2sf: { x: number; p: number }[];
  normalIsf: { p: number; z: number }[];
  normalSf: { z: number; p: number }[];
  tSf: { t: number; df: number; p: number }[];
  tIsf: { p: number; df: number; t: number }[];
  tangoPublished: { x: number[]; level: number; lower: number; upper: number; digits: number }[];
  tango: {
    b: number;
    c: number;
    n: number;
    margin: number;
    alpha: number;
    continuity: number;
    z: number | null;
    p: number;
    lower: number;
  }[];
  pairedT: { d: number[]; margin: number; alpha: number; t: number; p: number; lower: number }[];
  rmse: {
    e1: number[];
    e2: number[];
    margin: number;
    alpha: number;
    estimate: number;
    t: number;
    p: number;
    lower: number;
  }[];
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
  it.each(fixtures.mcnemarNoExact)('b=$b c=$c with exactBelow 0 (p=$p)', ({ b, c, p }) => {
    // With no discordant rows the chi-square form is 1/0: p must be 1, never 0.
    expectP(mcnemarTest(b, c, { exactBelow: 0 }).pValue, p);
  });
  it.each(fixtures.binomUpper)('binomtest k=$k n=$n greater', ({ k, n, p }) =>
    expectP(binomialUpperTailHalf(k, n), p),
  );

  it('switches to chi-square exactly at the configured threshold', () => {
    expect(mcnemarTest(12, 13).method).toBe('chi2-cc');
    expect(mcnemarTest(12, 12).method).toBe('exact');
    expect(mcnemarTest(12, 13, { exactBelow: 100 }).method).toBe('exact');
  });
});

describe('normal and Student t against scipy', () => {
  it.each(fixtures.normalIsf)('norm.isf($p)', ({ p, z }) => {
    expect(Math.abs(-normalQuantile(p) - z)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(z)));
  });
  it.each(fixtures.normalSf)('norm.sf($z)', ({ z, p }) => expectP(normalSf(z), p));
  it.each(fixtures.tSf)('t.sf($t, $df)', ({ t, df, p }) => expectP(studentTSf(t, df), p));
  it.each(fixtures.tIsf)('t.isf($p, $df)', ({ p, df, t }) => {
    expect(Math.abs(studentTIsf(p, df) - t)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(t)));
  });
  it('refuses probabilities outside (0, 1) and df <= 0', () => {
    expect(() => normalQuantile(0)).toThrow(/\(0, 1\)/);
    expect(() => studentTIsf(1, 3)).toThrow(/\(0, 1\)/);
    expect(() => studentTSf(1, 0)).toThrow(/df > 0/);
  });
});

describe('Tango score bound for paired proportions', () => {
  it.each(fixtures.tangoPublished)('reproduces the published interval for $x at $level', (row) => {
    const [, x12, x21] = row.x as [number, number, number, number];
    const n = row.x.reduce((a, v) => a + v, 0);
    const tail = (1 - row.level) / 2;
    // ratesci's RD = (x12 - x21) / n: x12 plays "challenger-only right" (c), x21 "champion-only" (b).
    const lower = pairedProportionSuperiority(x21, x12, n, 0, tail, 0).lowerBound;
    const upper = -pairedProportionSuperiority(x12, x21, n, 0, tail, 0).lowerBound;
    const round = (v: number): number => Number(v.toFixed(row.digits));
    expect([round(lower), round(upper)]).toEqual([row.lower, row.upper]);
  });

  it.each(fixtures.tango)('b=$b c=$c n=$n margin=$margin alpha=$alpha continuity=$continuity', (row) => {
    const result = pairedProportionSuperiority(row.b, row.c, row.n, row.margin, row.alpha, row.continuity);
    expect(Math.abs(result.lowerBound - row.lower)).toBeLessThanOrEqual(1e-11);
    expectP(result.pValue, row.p);
    if (row.z !== null) expect(result.statistic).toBeCloseTo(row.z, 10);
    // The bound clears the margin exactly when the test rejects at alpha.
    expect(result.lowerBound > row.margin).toBe(result.pValue < row.alpha);
  });

  it('falls as the null difference rises (the bound is the one crossing)', () => {
    for (const [b, c, n] of [
      [3, 9, 50],
      [40, 145, 5000],
      [0, 7, 30],
      [20, 0, 60],
    ] as const) {
      let previous = Infinity;
      for (let d = -0.99; d < (c - b) / n; d += 0.01) {
        const z = tangoScore(b, c, n, d, 1);
        expect(z).toBeLessThan(previous);
        previous = z;
      }
    }
  });

  it("is McNemar with Edwards' correction at margin 0: z² is the chi-square statistic", () => {
    for (const [b, c] of [
      [5, 20],
      [30, 45],
      [100, 130],
    ] as const)
      expect(tangoScore(b, c, 1000, 0, 1) ** 2).toBeCloseTo(mcnemarTest(b, c).statistic, 10);
  });

  it('refuses impossible counts', () => {
    expect(() => pairedProportionSuperiority(3, 4, 5, 0, 0.05)).toThrow(/b \+ c <= n/);
    expect(() => pairedProportionSuperiority(1, 1, 0, 0, 0.05)).toThrow(/n > 0/);
  });
});

describe('paired t and RMSE delta-method bounds against scipy', () => {
  it.each(fixtures.pairedT.map((row, i) => ({ ...row, i })))('case $i', (row) => {
    const result = pairedMeanSuperiority(row.d, row.margin, row.alpha);
    expect(result.statistic).toBeCloseTo(row.t, 10);
    expectP(result.pValue, row.p);
    expect(Math.abs(result.lowerBound - row.lower)).toBeLessThanOrEqual(1e-10);
  });
  it.each(fixtures.rmse.map((row, i) => ({ ...row, i })))('RMSE case $i', (row) => {
    const result = rmseSuperiority(row.e1, row.e2, row.margin, row.alpha);
    expect(result.estimate).toBeCloseTo(row.estimate, 12);
    expect(result.statistic).toBeCloseTo(row.t, 10);
    expectP(result.pValue, row.p);
    expect(Math.abs(result.lowerBound - row.lower)).toBeLessThanOrEqual(1e-10);
  });
  it('treats an improvement without spread as certain, and refuses one row', () => {
    expect(pairedMeanSuperiority([0.5, 0.5, 0.5], 0.1, 0.05)).toMatchObject({ lowerBound: 0.5, pValue: 0 });
    expect(pairedMeanSuperiority([0, 0, 0], 0, 0.05)).toMatchObject({ lowerBound: 0, pValue: 1 });
    expect(() => pairedMeanSuperiority([1], 0, 0.05)).toThrow(/at least 2 rows/);
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
