import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  binomialUpperTailHalf,
  decidePromotion,
  firstChampionDecision,
  spentAlpha,
  type PromotionGate,
} from '../../../../retune/promotion/index.js';

const gate: PromotionGate = {
  metric: 'accuracy',
  minImprovement: 0.01,
  relative: false,
  alpha: 0.05,
  test: 'auto',
  alphaSpending: 'inverse-square',
};

interface TangoRow {
  b: number;
  c: number;
  n: number;
  margin: number;
  alpha: number;
  continuity: number;
  p: number;
  lower: number;
}
const tango = (
  JSON.parse(readFileSync(new URL('../../../fixtures/retune/promotion.json', import.meta.url), 'utf8')) as {
    tango: TangoRow[];
  }
).tango;

/** Labels all 'a': champion-only right on `b` rows, challenger-only on `c`, both right on `both`. */
function classification(n: number, b: number, c: number, both: number) {
  const labels: string[] = [];
  const champion: string[] = [];
  const challenger: string[] = [];
  for (let i = 0; i < n; i++) {
    labels.push('a');
    if (i < b) {
      champion.push('a');
      challenger.push('x');
    } else if (i < b + c) {
      champion.push('x');
      challenger.push('a');
    } else if (i < b + c + both) {
      champion.push('a');
      challenger.push('a');
    } else {
      champion.push('x');
      challenger.push('y');
    }
  }
  return { labels, champion, challenger };
}

describe('promotion decision: one-sided superiority over the margin', () => {
  it('promotes when the lower bound of the gain clears the minimum, with its evidence', () => {
    const d = decidePromotion(gate, classification(5000, 40, 145, 3800));
    expect(d.test).toBe('mcnemar');
    expect(d.improvement).toBeCloseTo(105 / 5000, 12);
    // The same numbers as scipy's reference (fixture row b=40 c=145 n=5000 margin=0.01 at alpha_1).
    const row = tango.find((r) => r.b === 40 && r.c === 145 && r.continuity === 1) as TangoRow;
    expect(d.alphaSpent).toBeCloseTo(row.alpha, 3);
    expect(d.ciLow).toBeGreaterThan(0.01);
    expect(d.promoted).toBe(true);
    expect(d.evidence).toMatchObject({
      testIndex: 1,
      margin: 0.01,
      method: { name: 'tango-score-cc', b: 40, c: 145, n: 5000 },
    });
    expect(d.reason).toMatch(
      /^promoted: accuracy .* lower bound at level 1 - 0\.0304 is 0\.01\d*, which clears the minimum 0\.01/,
    );
  });

  it('rejects a gain whose point estimate clears the minimum but whose lower bound does not', () => {
    // Point gain 0.011 >= 0.01 and McNemar p ~ 0.004: the old gate promoted this. The lower bound
    // of the gain is 0.004, so a true gain below the minimum is entirely plausible.
    const d = decidePromotion(gate, classification(5000, 150, 205, 3600));
    expect(d.improvement).toBeGreaterThanOrEqual(0.01);
    expect(d.ciLow).toBeLessThan(0.01);
    expect(d.promoted).toBe(false);
    expect(d.reason).toMatch(/does not clear the minimum 0\.01/);
  });

  it('tests at the configured alpha one-sided, not at alpha / 2', () => {
    // No margin, z = (66 - 46 - 1) / sqrt(112) = 1.80: one-sided p = 0.036 < 0.05, two-sided 0.072
    // (the old gate's level was alpha / 2).
    const data = classification(1000, 46, 66, 800);
    const d = decidePromotion({ ...gate, minImprovement: 0, alphaSpending: 'none' }, data);
    expect(d.pValue).toBeGreaterThan(0.025);
    expect(d.pValue).toBeLessThan(0.05);
    expect(d.promoted).toBe(true);
  });

  it('spends alpha over the tests of one champion: the 28th test needs far stronger evidence', () => {
    const data = classification(5000, 100, 200, 4000); // fixture row b=100 c=200 at alpha_28
    const first = decidePromotion(gate, data, { testIndex: 1 });
    const late = decidePromotion(gate, data, { testIndex: 28 });
    expect(first.promoted).toBe(true);
    expect(late.promoted).toBe(false);
    expect(late.alphaSpent).toBeCloseTo((0.05 * 6) / (Math.PI ** 2 * 28 ** 2), 15);
    const row = tango.find((r) => r.b === 100 && r.c === 200 && r.continuity === 1) as TangoRow;
    expect(Math.abs((late.ciLow as number) - row.lower)).toBeLessThan(1e-6); // fixture alpha is rounded
    expect(late.reason).toMatch(/test 28 of this champion, alpha_28 = 0\.00003877 of 0\.05/);
    let total = 0;
    for (let k = 1; k <= 100_000; k++) total += spentAlpha(0.05, k, 'inverse-square');
    expect(total).toBeLessThan(0.05);
    expect(total).toBeGreaterThan(0.04999);
  });

  it('never records p = 0 without discordant rows', () => {
    const d = decidePromotion({ ...gate, minImprovement: 0 }, classification(50, 0, 0, 25));
    expect(d.pValue).toBeGreaterThan(0.5);
    expect(d.promoted).toBe(false);
  });

  it('never promotes at small counts where the exact one-sided McNemar test would not', () => {
    // Why the gate needs no small-sample rule of its own: with the continuity correction the score
    // test is never more liberal than the exact conditional test at margin 0 (a margin only makes
    // the score test stricter).
    for (const alpha of [0.05, 0.01])
      for (let n = 2; n <= 60; n++)
        for (let m = 1; m <= Math.min(n, 24); m++)
          for (let c = 0; c <= m; c++) {
            const d = decidePromotion(
              { ...gate, minImprovement: 0, alpha, alphaSpending: 'none' },
              classification(n, m - c, c, 0),
            );
            if (d.promoted) expect(binomialUpperTailHalf(c, m)).toBeLessThan(alpha);
          }
  });

  it('reads error_rate with the same sign as accuracy', () => {
    const data = classification(5000, 40, 145, 3800);
    const d = decidePromotion({ ...gate, metric: 'error_rate' }, data);
    expect(d.improvement).toBeCloseTo(105 / 5000, 12);
    expect(d.promoted).toBe(true);
  });

  it('turns a relative minimum into a margin of |champion|', () => {
    const data = classification(5000, 40, 145, 3800); // champion 0.768, challenger 0.789
    const yes = decidePromotion({ ...gate, relative: true, minImprovement: 0.015 }, data);
    expect(yes.margin).toBeCloseTo(0.015 * 0.768, 12);
    expect(yes.promoted).toBe(true);
    expect(decidePromotion({ ...gate, relative: true, minImprovement: 0.03 }, data).promoted).toBe(false);
  });

  it('uses the paired t bound for losses (lower is better), RMSE through the delta method', () => {
    const labels = Array.from({ length: 400 }, (_, i) => i / 10);
    const champion = labels.map((y, i) => y + (i % 2 === 0 ? 1 : -1));
    const challenger = labels.map((y, i) => y + (i % 2 === 0 ? 0.3 : -0.2) * (1 + (i % 5) / 10));
    for (const metric of ['mse', 'mae', 'rmse'] as const) {
      const d = decidePromotion({ ...gate, metric, minImprovement: 0.5 }, { labels, champion, challenger });
      expect(d.test).toBe('paired_t');
      expect(d.championValue).toBeCloseTo(1, 12);
      expect(d.improvement).toBeGreaterThan(0.5);
      expect(d.ciLow).toBeGreaterThan(0.5);
      expect(d.promoted).toBe(true);
      expect(d.evidence['method']).toMatchObject({
        name: metric === 'rmse' ? 'paired-t-delta-method' : 'paired-t',
        df: 399,
      });
    }
    const tooSmall = decidePromotion(
      { ...gate, metric: 'mse', minImprovement: 0.95 },
      { labels, champion, challenger },
    );
    expect(tooSmall.promoted).toBe(false);
  });

  it('refuses mismatched rows, empty holdouts, McNemar on a regression metric, alpha >= 0.5', () => {
    expect(() => decidePromotion(gate, { labels: ['a'], champion: ['a'], challenger: [] })).toThrow(
      /one prediction per holdout row/,
    );
    expect(() => decidePromotion(gate, { labels: [], champion: [], challenger: [] })).toThrow(/at least one/);
    expect(() =>
      decidePromotion(
        { ...gate, metric: 'mse', test: 'mcnemar' },
        { labels: [1], champion: [1], challenger: [1] },
      ),
    ).toThrow(/right\/wrong metric/);
    expect(() =>
      decidePromotion({ ...gate, metric: 'mse' }, { labels: [1], champion: ['x'], challenger: [1] }),
    ).toThrow(/not a finite number/);
    expect(() => decidePromotion({ ...gate, alpha: 0.5 }, classification(10, 1, 2, 3))).toThrow(
      /alpha must be in \(0, 0.5\)/,
    );
  });

  it('makes the first winner champion with the reason recorded', () => {
    const d = firstChampionDecision(gate, ['a', 'b'], ['a', 'a']);
    expect(d.promoted).toBe(true);
    expect(d.test).toBe('none');
    expect(d.challengerValue).toBe(0.5);
    expect(d.reason).toMatch(/no champion yet/);
  });
});
