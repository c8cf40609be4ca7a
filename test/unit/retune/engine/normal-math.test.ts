import { describe, expect, it } from 'vitest';
import {
  logNormalCdf,
  logNormalMass,
  logSumExp,
  normalCdf,
  normalQuantile,
} from '../../../../retune/engine/normal-math.js';

describe('normal math', () => {
  it('matches known CDF values', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959963985)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-3)).toBeCloseTo(0.0013498980316, 8);
  });

  it('inverts the CDF', () => {
    for (const p of [1e-10, 1e-4, 0.02, 0.3, 0.5, 0.77, 0.99, 1 - 1e-6]) {
      expect(normalCdf(normalQuantile(p)) / p).toBeCloseTo(1, 5);
    }
  });

  it('keeps log CDF and interval masses finite far in the tail', () => {
    // Phi(-40) ~ 3.7e-350 underflows as a double; its log does not.
    expect(logNormalCdf(-40)).toBeCloseTo(-804.608, 2);
    expect(Number.isFinite(logNormalMass(-41, -40))).toBe(true);
    expect(logNormalMass(40, 41)).toBeCloseTo(logNormalMass(-41, -40), 9);
    expect(Math.exp(logNormalMass(-1, 1))).toBeCloseTo(0.682689492, 6);
    expect(logNormalMass(1, 1)).toBe(-Infinity);
  });

  it('sums in log space without overflow', () => {
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.log(2), 9);
    expect(logSumExp([-Infinity, -Infinity])).toBe(-Infinity);
  });
});
