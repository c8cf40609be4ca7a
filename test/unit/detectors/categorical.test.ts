/** Categorical tests against scipy (chi2_contingency, chisquare) and the edge cases. */
import { describe, expect, it } from 'vitest';
import {
  categoricalJensenShannon,
  categoricalPsi,
  chiSquareContingency,
  chiSquareGoodnessOfFit,
  countCategories,
  totalVariation,
} from '../../../detectors/categorical.js';
import type { TestResult } from '../../../detectors/result.js';
import { closeTo, loadFixture } from './fixtures.js';

interface CategoricalCase {
  id: string;
  reference: Record<string, number>;
  current: Record<string, number>;
  computable: boolean;
  contingency?: { statistic: number; pvalue: number; dof: number };
  gof?: { statistic: number; pvalue: number; smoothed: boolean };
  psi?: number;
  js_e?: number;
  js_2?: number;
  tvd?: number;
}

function value(r: TestResult): number {
  if (r.status !== 'ok') throw new Error(r.reason);
  return r.statistic;
}

describe('categorical tests match scipy', () => {
  const cases = loadFixture<CategoricalCase>('categorical-cases.json');
  it.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const chi = chiSquareContingency(c.reference, c.current);
    const gof = chiSquareGoodnessOfFit(c.reference, c.current);
    if (!c.computable) {
      expect(chi.status).toBe('not_computable');
      expect(gof.status).toBe('not_computable');
      if (chi.status === 'not_computable') expect(chi.reason.length).toBeGreaterThan(0);
      return;
    }
    const ct = c.contingency as NonNullable<CategoricalCase['contingency']>;
    expect(closeTo(value(chi), ct.statistic)).toBe(true);
    expect(Math.abs((chi.pValue as number) - ct.pvalue)).toBeLessThanOrEqual(1e-10);
    expect(chi.status === 'ok' && chi.details?.dof).toBe(ct.dof);
    const g = c.gof as NonNullable<CategoricalCase['gof']>;
    expect(closeTo(value(gof), g.statistic)).toBe(true);
    expect(Math.abs((gof.pValue as number) - g.pvalue)).toBeLessThanOrEqual(1e-10);
    expect(closeTo(value(categoricalPsi(c.reference, c.current)), c.psi as number)).toBe(true);
    expect(
      closeTo(value(categoricalJensenShannon(c.reference, c.current)), c.js_e as number, 1e-9, 1e-12),
    ).toBe(true);
    expect(
      closeTo(
        value(categoricalJensenShannon(c.reference, c.current, { base: 2 })),
        c.js_2 as number,
        1e-9,
        1e-12,
      ),
    ).toBe(true);
    expect(closeTo(value(totalVariation(c.reference, c.current)), c.tvd as number, 1e-9, 1e-12)).toBe(true);
  });
});

describe('categorical edge cases', () => {
  it('notes check values: contingency 2.5397 p 0.2809, goodness of fit 5.3333 p 0.0695', () => {
    const ref = { a: 50, b: 30, c: 20 };
    const cur = { a: 40, b: 40, c: 20 };
    expect(value(chiSquareContingency(ref, cur))).toBeCloseTo(2.5397, 4);
    expect(chiSquareContingency(ref, cur).pValue).toBeCloseTo(0.2809, 4);
    expect(value(chiSquareGoodnessOfFit(ref, cur))).toBeCloseTo(5.3333, 4);
    expect(chiSquareGoodnessOfFit(ref, cur).pValue).toBeCloseTo(0.0695, 4);
  });

  it('unseen categories are finite and flagged as smoothed', () => {
    const r = chiSquareGoodnessOfFit({ a: 10, b: 5 }, { a: 3, z: 9 });
    expect(r.status).toBe('ok');
    expect(Number.isFinite(r.statistic)).toBe(true);
    expect(r.status === 'ok' && r.details?.smoothed).toBe(1);
    expect(Number.isFinite(value(categoricalPsi({ a: 10 }, { z: 3 })))).toBe(true);
  });

  it('an empty window and a single category give a reason, not NaN', () => {
    for (const r of [
      chiSquareContingency({ a: 3, b: 1 }, {}),
      chiSquareGoodnessOfFit({ a: 3 }, { a: 2 }),
      totalVariation({}, { a: 1 }),
      categoricalJensenShannon({ a: 3 }, new Map()),
    ]) {
      expect(r.status).toBe('not_computable');
      expect(r.statistic).toBeUndefined();
    }
  });

  it('countCategories skips null and undefined', () => {
    expect(countCategories(['a', null, 'b', 'a', undefined])).toEqual(
      new Map([
        ['a', 2],
        ['b', 1],
      ]),
    );
  });
});
