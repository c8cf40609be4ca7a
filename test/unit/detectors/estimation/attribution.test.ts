/** Attribution ranks against the Python reference, and the error model it uses. */
import { describe, expect, it } from 'vitest';
import {
  additiveContributions,
  attributeFeatures,
  binnedAggregatesFromRows,
  fitErrorModel,
  windowTerms,
  type AttributionEvidence,
} from '../../../../detectors/estimation/index.js';
import { expectClose, loadCases } from './fixtures.js';

interface AttributionCase {
  id: string;
  evidence: AttributionEvidence[];
  top: number;
  basis: string[];
  ranked: { feature: string; score: number }[];
}

describe('attributeFeatures', () => {
  const cases = loadCases<AttributionCase>('attribution-cases.json');
  it.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const a = attributeFeatures(c.evidence, c.top);
    expect(a.basis).toEqual(c.basis);
    expect(a.features.map((f) => f.feature)).toEqual(c.ranked.map((r) => r.feature));
    a.features.forEach((f, i) => {
      expect(f.rank).toBe(i + 1);
      expectClose(f.score, c.ranked[i]?.score, `${f.feature} score`);
      for (const e of c.evidence) {
        expect(f[e.kind]).toBe(e.values.find((v) => v.feature === f.feature)?.value);
      }
    });
  });

  it('refuses evidence given twice or not finite', () => {
    const e: AttributionEvidence = { kind: 'effect', alert: true, values: [{ feature: 'a', value: 1 }] };
    expect(() => attributeFeatures([e, e])).toThrow(/effect given twice/);
    expect(() => attributeFeatures([{ ...e, values: [{ feature: 'a', value: Number.NaN }] }])).toThrow(
      /effect of a is NaN/,
    );
  });
});

describe('fitErrorModel', () => {
  it('learns where the classifier errs, and a window moving there raises the expected error through that feature', () => {
    // Errors happen when x > 1; y is noise.
    const n = 4000;
    const x = Float64Array.from({ length: n }, (_, i) => ((i * 7919) % n) / (n / 4) - 2);
    const z = Float64Array.from({ length: n }, (_, i) => ((i * 104729) % n) / n);
    const predicted = Array.from(x, (v) => (v > 1 ? 1 : 0));
    const actual = Array.from({ length: n }, () => 0);
    const model = fitErrorModel(
      [
        { name: 'x', kind: 'numeric', values: x },
        { name: 'z', kind: 'numeric', values: z },
      ],
      predicted,
      actual,
    );
    const shifted = binnedAggregatesFromRows(model.inputs, [
      { name: 'x', kind: 'numeric', values: x.map((v) => v + 1) },
      { name: 'z', kind: 'numeric', values: z },
    ]);
    const [dx, dz] = additiveContributions(model, windowTerms(model, shifted)) as [number, number];
    expect(dx).toBeGreaterThan(0.2);
    expect(Math.abs(dz)).toBeLessThan(0.01);
  });
});
