import { describe, expect, it } from 'vitest';
import {
  decidePromotion,
  firstChampionDecision,
  type PromotionGate,
} from '../../../../retune/promotion/index.js';

const gate: PromotionGate = {
  metric: 'accuracy',
  minImprovement: 0.01,
  relative: false,
  alpha: 0.05,
  bootstrapResamples: 500,
  test: 'auto',
  seed: 1,
};

/** Labels all 'a'; champion right on `championRight` rows, challenger right on `challengerRight`. */
function classification(n: number, championOnly: number, challengerOnly: number, both: number) {
  const labels: string[] = [];
  const champion: string[] = [];
  const challenger: string[] = [];
  for (let i = 0; i < n; i++) {
    labels.push('a');
    if (i < championOnly) {
      champion.push('a');
      challenger.push('b');
    } else if (i < championOnly + challengerOnly) {
      champion.push('b');
      challenger.push('a');
    } else if (i < championOnly + challengerOnly + both) {
      champion.push('a');
      challenger.push('a');
    } else {
      champion.push('b');
      challenger.push('b');
    }
  }
  return { labels, champion, challenger };
}

describe('promotion decision', () => {
  it('promotes a significantly and sufficiently better classifier (McNemar)', () => {
    const d = decidePromotion(gate, classification(200, 2, 30, 100));
    expect(d.test).toBe('mcnemar');
    expect(d.promoted).toBe(true);
    expect(d.improvement).toBeCloseTo(28 / 200, 12);
    expect(d.pValue).toBeLessThan(1e-5);
    expect(d.evidence).toMatchObject({ mcnemar: { b: 2, c: 30, method: 'chi2-cc' } });
    expect(d.reason).toMatch(/^promoted: improvement 0.14 >= minimum 0.01; McNemar/);
  });

  it('rejects a better but not significant challenger', () => {
    const d = decidePromotion(gate, classification(200, 8, 13, 100));
    expect(d.improvement).toBeCloseTo(5 / 200, 12);
    expect(d.pValue).toBeGreaterThan(0.05);
    expect(d.promoted).toBe(false);
    expect(d.reason).toMatch(/^rejected: .*not < alpha/);
  });

  it('rejects a significant but too small improvement', () => {
    const d = decidePromotion({ ...gate, minImprovement: 0.2 }, classification(200, 2, 30, 100));
    expect(d.pValue).toBeLessThan(0.05);
    expect(d.promoted).toBe(false);
    expect(d.reason).toMatch(/improvement 0.14 < minimum 0.2/);
  });

  it('rejects a significantly worse challenger even with minImprovement 0', () => {
    const d = decidePromotion({ ...gate, minImprovement: 0 }, classification(200, 30, 2, 100));
    expect(d.pValue).toBeLessThan(0.05);
    expect(d.improvement).toBeLessThan(0);
    expect(d.promoted).toBe(false);
  });

  it('rejects identical predictions (no discordant rows, p = 1)', () => {
    const d = decidePromotion({ ...gate, minImprovement: 0 }, classification(50, 0, 0, 25));
    expect(d.pValue).toBe(1);
    expect(d.promoted).toBe(false);
  });

  it('reads a relative minimum against |champion|, and a zero champion as infinitely improved', () => {
    const data = classification(200, 2, 30, 100); // champion 0.51, challenger 0.65
    expect(decidePromotion({ ...gate, relative: true, minImprovement: 0.25 }, data).promoted).toBe(true);
    expect(decidePromotion({ ...gate, relative: true, minImprovement: 0.3 }, data).promoted).toBe(false);
    const zero = classification(40, 0, 40, 0);
    const d = decidePromotion({ ...gate, relative: true, minImprovement: 5 }, zero);
    expect(d.relativeImprovement).toBe(Infinity);
    expect(d.promoted).toBe(true);
  });

  it('uses the paired bootstrap for regression losses, lower is better', () => {
    const labels = Array.from({ length: 100 }, (_, i) => i / 10);
    const champion = labels.map((y, i) => y + (i % 2 === 0 ? 1 : -1));
    const challenger = labels.map((y, i) => y + (i % 2 === 0 ? 0.3 : -0.2));
    const d = decidePromotion(
      { ...gate, metric: 'mse', minImprovement: 0.5 },
      { labels, champion, challenger },
    );
    expect(d.test).toBe('paired_bootstrap');
    expect(d.championValue).toBeCloseTo(1, 12);
    expect(d.improvement).toBeCloseTo(1 - (0.09 + 0.04) / 2, 12);
    expect(d.ciLow).toBeGreaterThan(0);
    expect(d.promoted).toBe(true);
    // Same inputs and seed: same interval.
    expect(
      decidePromotion({ ...gate, metric: 'mse', minImprovement: 0.5 }, { labels, champion, challenger }),
    ).toEqual(d);
  });

  it('rejects a bootstrap CI that straddles 0', () => {
    const labels = Array.from({ length: 30 }, () => 0);
    const champion = labels.map((_, i) => (i % 3 === 0 ? 1 : 0.5));
    const challenger = labels.map((_, i) => (i % 3 === 1 ? 1 : 0.45));
    const d = decidePromotion(
      { ...gate, metric: 'mae', minImprovement: 0 },
      { labels, champion, challenger },
    );
    expect(d.ciLow).toBeLessThan(0);
    expect(d.promoted).toBe(false);
    expect(d.reason).toMatch(/includes 0/);
  });

  it('refuses mismatched rows, empty holdouts and McNemar on a regression metric', () => {
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
  });

  it('makes the first winner champion with the reason recorded', () => {
    const d = firstChampionDecision(gate, ['a', 'b'], ['a', 'a']);
    expect(d.promoted).toBe(true);
    expect(d.test).toBe('none');
    expect(d.challengerValue).toBe(0.5);
    expect(d.reason).toMatch(/no champion yet/);
  });
});
