/**
 * Every numeric test and distance against scipy/numpy on the generated fixtures:
 * statistics within 1e-9 relative, p-values within 1e-6 absolute (1e-10 where scipy's
 * method is exact, since we run the same recursion).
 */
import { describe, expect, it } from 'vitest';
import { quantileEdges } from '../../../detectors/binning.js';
import { cramerVonMises } from '../../../detectors/cramer-von-mises.js';
import { energy, wasserstein } from '../../../detectors/distances.js';
import { ks } from '../../../detectors/ks.js';
import { hellinger, jensenShannon, psi, quantileEdgesUnsorted } from '../../../detectors/numeric-binned.js';
import { sortedFinite } from '../../../detectors/numeric-input.js';
import type { TestResult } from '../../../detectors/result.js';
import { closeTo, loadFixture, type NumericCase } from './fixtures.js';

const cases = [
  ...loadFixture<NumericCase>('numeric-cases.json'),
  ...loadFixture<NumericCase>('numeric-large-cases.json'),
];

function ok(r: TestResult): {
  statistic: number;
  pValue: number | undefined;
  method: string;
  details?: Record<string, number>;
} {
  if (r.status !== 'ok') throw new Error(`expected ok, got ${r.reason}`);
  return r;
}

describe('numeric tests match scipy on generated fixtures', () => {
  it('has a broad set of cases', () => {
    expect(cases.length).toBeGreaterThan(60);
  });

  it.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const k = ok(ks(c.reference, c.current));
    expect(k.method).toBe(c.ks.method);
    expect(closeTo(k.statistic, c.ks.statistic), `ks D ${k.statistic} vs ${c.ks.statistic}`).toBe(true);
    const pTol = c.ks.method === 'exact' ? 1e-10 : 1e-6;
    expect(
      Math.abs((k.pValue as number) - c.ks.pvalue),
      `ks p ${k.pValue} vs ${c.ks.pvalue}`,
    ).toBeLessThanOrEqual(pTol);

    if (c.cvm === null) {
      expect(cramerVonMises(c.reference, c.current).status).toBe('not_computable');
    } else {
      const v = ok(cramerVonMises(c.reference, c.current));
      expect(v.method).toBe(c.cvm.method);
      expect(
        closeTo(v.statistic, c.cvm.statistic, 1e-9, 1e-12),
        `cvm T ${v.statistic} vs ${c.cvm.statistic}`,
      ).toBe(true);
      expect(
        Math.abs((v.pValue as number) - c.cvm.pvalue),
        `cvm p ${v.pValue} vs ${c.cvm.pvalue}`,
      ).toBeLessThanOrEqual(1e-6);
    }

    const w = ok(wasserstein(c.reference, c.current));
    expect(closeTo(w.statistic, c.wasserstein), `W1 ${w.statistic} vs ${c.wasserstein}`).toBe(true);
    expect(closeTo(w.details?.normalized, c.wasserstein_normalized)).toBe(true);
    expect(closeTo(ok(energy(c.reference, c.current)).statistic, c.energy)).toBe(true);

    const edges = Array.from(quantileEdgesUnsorted(c.reference, 10));
    expect(edges).toEqual(c.bins.edges);
    expect(Array.from(quantileEdges(sortedFinite(c.reference), 10))).toEqual(c.bins.edges);
    expect(closeTo(ok(psi(c.reference, c.current)).statistic, c.bins.psi)).toBe(true);
    expect(closeTo(ok(jensenShannon(c.reference, c.current)).statistic, c.bins.js_e, 1e-9, 1e-12)).toBe(true);
    expect(
      closeTo(ok(jensenShannon(c.reference, c.current, { base: 2 })).statistic, c.bins.js_2, 1e-9, 1e-12),
    ).toBe(true);
    expect(closeTo(ok(hellinger(c.reference, c.current)).statistic, c.bins.hellinger, 1e-9, 1e-12)).toBe(
      true,
    );
  });
});
