/** Bands from reference chunks, and the score grid's cells and exactness. */
import { describe, expect, it } from 'vitest';
import {
  chunkBounds,
  chunkSpread,
  estimateBand,
  expectedPositives,
  fitIsotonic,
  predictIsotonic,
  referenceBand,
  sampleStd,
  scoreCell,
  scoreGridFor,
  scoreHistogram,
  windowStd,
} from '../../../../detectors/estimation/index.js';

describe('bands', () => {
  it('cuts contiguous chunks and refuses chunks too small to trust', () => {
    expect(chunkBounds(1005, 5)).toEqual([
      [0, 201],
      [201, 402],
      [402, 603],
      [603, 804],
      [804, 1005],
    ]);
    expect(() => chunkBounds(999, 20)).toThrow(/999 rows is too small for 20 chunks of at least 50 rows/);
    expect(() => chunkBounds(1000, 1)).toThrow(/integer >= 2/);
  });

  it('scales σ by sqrt(m / n) and widens the reference band by the reference value’s own error', () => {
    const values = Array.from({ length: 400 }, (_, i) => (i % 4) + 0.25 * ((i * 37) % 7));
    const spread = chunkSpread(
      1.5,
      400,
      4,
      (s, e) => values.slice(s, e).reduce((a, b) => a + b, 0) / (e - s),
    );
    const chunkMeans = [0, 1, 2, 3].map(
      (j) => values.slice(j * 100, (j + 1) * 100).reduce((a, b) => a + b, 0) / 100,
    );
    expect(spread?.chunkStd).toBeCloseTo(sampleStd(chunkMeans) as number, 15);
    const s = spread as NonNullable<typeof spread>;
    expect(windowStd(s, 400)).toBeCloseTo(s.chunkStd / 2, 15);
    expect(estimateBand(s, 2, 100)).toEqual({ lower: 2 - 3 * s.chunkStd, upper: 2 + 3 * s.chunkStd });
    const ref = referenceBand(s, 400);
    expect(ref.upper - 1.5).toBeCloseTo(3 * (s.chunkStd / 2) * Math.sqrt(2), 14);
    expect(() => windowStd(s, 0)).toThrow(/window size must be > 0/);
  });

  it('has no spread when fewer than two chunks have a value', () => {
    expect(chunkSpread(1, 200, 2, (s) => (s === 0 ? 1 : undefined))).toBeUndefined();
  });
});

describe('score grid', () => {
  it('uses [0, 1] for probabilities, the reference range otherwise, and clamps into the end cells', () => {
    const g = scoreGridFor([[0, 0.5, 1]], 10);
    expect(g).toEqual({ lo: 0, hi: 1, cells: 10 });
    expect([
      scoreCell(g, 0),
      scoreCell(g, 0.1),
      scoreCell(g, 0.999),
      scoreCell(g, 1),
      scoreCell(g, -2),
      scoreCell(g, 7),
    ]).toEqual([0, 1, 9, 9, 0, 9]);
    expect(scoreGridFor([[-3, 2]], 5)).toEqual({ lo: -3, hi: 2, cells: 5 });
    expect(scoreGridFor([[4, 4]], 5)).toEqual({ lo: 4, hi: 5, cells: 5 });
    expect(() => scoreGridFor([[0.1, Number.NaN]])).toThrow(/score NaN at index 1/);
    expect(() => scoreGridFor([[]])).toThrow(/no reference scores/);
  });

  it('is exact (bound 0) in cells without a calibrator knot, and within its bound elsewhere', () => {
    const grid = scoreGridFor([[0, 1]], 20);
    // Knots at 0.1, 0.3, 0.72 (cells 2, 6, 14); affine in between.
    const cal = fitIsotonic([0.1, 0.3, 0.72], [0.05, 0.4, 0.9]);
    const scores = Array.from({ length: 5000 }, (_, i) => ((i * 0.6180339887) % 1) * 0.98 + 0.01);
    const h = scoreHistogram(grid, scores);
    const e = expectedPositives(grid, cal, h);
    const rowLevel = scores.reduce((s, x) => s + predictIsotonic(cal, x), 0);
    expect(Math.abs(e.total - rowLevel)).toBeLessThanOrEqual(e.errorBound + 1e-9);
    expect(e.errorBound).toBeGreaterThan(0);
    // Cells away from the knots: cell by cell equal to the rows' sum.
    for (const c of [4, 9, 17]) {
      const inCell = scores.filter((s) => scoreCell(grid, s) === c);
      const want = inCell.reduce((s, x) => s + predictIsotonic(cal, x), 0);
      expect(Math.abs((e.perCell[c] as number) - want)).toBeLessThan(1e-9);
    }
    // A grid whose cell edges are the knots: no knot inside a cell, exact everywhere but the knot cells' neighbours.
    const onEdges = fitIsotonic([0.25, 0.5, 0.75], [0.1, 0.5, 0.8]);
    const g4 = scoreGridFor([[0, 1]], 4);
    const e4 = expectedPositives(g4, onEdges, scoreHistogram(g4, scores));
    expect(
      Math.abs(e4.total - scores.reduce((s, x) => s + predictIsotonic(onEdges, x), 0)),
    ).toBeLessThanOrEqual(e4.errorBound + 1e-9);
  });
});
