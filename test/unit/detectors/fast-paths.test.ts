/** The speed-oriented code paths give exactly the same answers as the plain ones. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binCounts, binCountsSorted, quantileEdges } from '../../../detectors/binning.js';
import { quantileEdgesUnsorted } from '../../../detectors/numeric-binned.js';
import { quantileBinsOf } from '../../../detectors/quantile-bins.js';
import { sortFloat64InPlace } from '../../../detectors/radix-sort.js';
import { rng } from '../../support/random.js';

const generators: [string, (r: () => number) => number][] = [
  ['normal-ish', (r) => (r() + r() + r() - 1.5) * 3],
  ['ties', (r) => Math.floor(r() * 9) - 4],
  ['heavy tails', (r) => Math.tan(Math.PI * (r() - 0.5))],
  ['narrow band', (r) => 1000 + r() * 1e-6],
  [
    'signed zeros and infinities',
    (r) => [0, -0, Infinity, -Infinity, 1e-300, -1e-300, 5][Math.floor(r() * 7)] as number,
  ],
];

describe('radix sort', () => {
  it.each(generators)('sorts %s like the built-in sort', (_name, gen) => {
    const r = rng(1);
    for (const n of [10, 5000, 70_000]) {
      const values = Float64Array.from({ length: n }, () => gen(r));
      const expected = values.slice().sort();
      const actual = sortFloat64InPlace(values.slice());
      // -0 and +0 may swap places; they compare equal.
      expect(actual.every((v, i) => v === expected[i])).toBe(true);
    }
  });

  it('sorts a subarray in place without touching its neighbours', () => {
    const r = rng(2);
    const whole = Float64Array.from({ length: 30_000 }, () => r() - 0.5);
    const before = whole.slice();
    sortFloat64InPlace(whole.subarray(1000, 29_000));
    expect(whole.slice(0, 1000)).toEqual(before.slice(0, 1000));
    expect(whole.slice(29_000)).toEqual(before.slice(29_000));
    expect(whole.subarray(1000, 29_000)).toEqual(before.slice(1000, 29_000).sort());
  });

  it('property: equals the built-in sort', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true }), { minLength: 4096, maxLength: 5000 }), (xs) => {
        const a = sortFloat64InPlace(Float64Array.from(xs));
        const b = Float64Array.from(xs).sort();
        expect(a.every((v, i) => v === b[i])).toBe(true);
      }),
      { numRuns: 10 },
    );
  });
});

describe('quantile bins (bucket selection)', () => {
  it.each(generators.filter(([name]) => !name.includes('infinities')))(
    '%s: same edges and counts as sort-based binning',
    (_name, gen) => {
      const r = rng(3);
      for (const n of [25_000, 120_000]) {
        const values = Float64Array.from({ length: n }, () => gen(r));
        const sorted = values.slice().sort();
        for (const bins of [10, 7, 20]) {
          const edges = quantileEdges(sorted, bins);
          const fast = quantileBinsOf(values, bins);
          expect(Array.from(fast.edges)).toEqual(Array.from(edges));
          expect(Array.from(fast.counts)).toEqual(Array.from(binCountsSorted(edges, sorted)));
          expect(Array.from(binCounts(edges, values))).toEqual(Array.from(fast.counts));
          expect(Array.from(quantileEdgesUnsorted(values, bins))).toEqual(Array.from(edges));
        }
      }
    },
  );
});
