/** Isotonic regression against scikit-learn's IsotonicRegression(out_of_bounds='clip'). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitIsotonic, predictIsotonic } from '../../../../detectors/estimation/index.js';
import { expectAllClose, loadCases } from './fixtures.js';

interface IsotonicCase {
  id: string;
  x: number[];
  y: number[];
  w: number[] | null;
  x_thresholds: number[];
  y_thresholds: number[];
  query: number[];
  predicted: number[];
}

describe('fitIsotonic matches sklearn', () => {
  const cases = loadCases<IsotonicCase>('isotonic-cases.json');
  it.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const fit = fitIsotonic(c.x, c.y, c.w ?? undefined);
    expectAllClose(fit.x, c.x_thresholds, 'X_thresholds_', 0, 0);
    expectAllClose(fit.y, c.y_thresholds, 'y_thresholds_');
    expectAllClose(
      c.query.map((t) => predictIsotonic(fit, t)),
      c.predicted,
      'predict',
    );
  });
});

describe('fitIsotonic', () => {
  it('is non-decreasing, within the range of y, and keeps the weighted total (PAV pools means)', () => {
    fc.assert(
      fc.property(
        // x on a 1/64 lattice: exact ties, but no two x closer than sklearn's 1e-15 merge resolution.
        fc.array(fc.tuple(fc.integer({ min: -320, max: 320 }), fc.integer({ min: 0, max: 1 })), {
          minLength: 1,
          maxLength: 60,
        }),
        (points) => {
          const x = points.map((p) => p[0] / 64);
          const y = points.map((p) => p[1]);
          const fit = fitIsotonic(x, y);
          for (let i = 1; i < fit.y.length; i++)
            expect(fit.y[i]).toBeGreaterThanOrEqual(fit.y[i - 1] as number);
          for (const v of fit.y) {
            expect(v).toBeGreaterThanOrEqual(0);
            expect(v).toBeLessThanOrEqual(1);
          }
          // At the data points the fitted values sum to Σ y (each pooled block keeps its sum).
          const total = x.reduce((s, xi) => s + predictIsotonic(fit, xi), 0);
          expect(Math.abs(total - y.reduce((s, v) => s + v, 0))).toBeLessThan(1e-9 * x.length);
        },
      ),
    );
  });

  it('rejects what it cannot fit, saying what was wrong', () => {
    expect(() => fitIsotonic([], [])).toThrow(/no points/);
    expect(() => fitIsotonic([0.1, 0.2], [1])).toThrow(/differ in length/);
    expect(() => fitIsotonic([0.1, Number.NaN], [1, 0])).toThrow(/non-finite point .* at index 1/);
    expect(() => fitIsotonic([0.1], [1], [1, 2])).toThrow(/weights have length 2/);
  });

  it('clips outside the fitted range and is constant for one distinct x', () => {
    const fit = fitIsotonic([0.2, 0.4, 0.6], [0, 1, 1]);
    expect(predictIsotonic(fit, -3)).toBe(0);
    expect(predictIsotonic(fit, 9)).toBe(1);
    expect(predictIsotonic(fitIsotonic([0.5, 0.5, 0.5], [0, 1, 1]), 0.1)).toBeCloseTo(2 / 3, 15);
  });
});
