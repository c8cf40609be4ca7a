/**
 * The score grid of CBPE and how a calibrator is applied to a histogram over it.
 *
 * Grid: `cells` uniform cells over [lo, hi] (lo = 0, hi = 1 when every reference score is a
 * probability, else the reference's score range); a score is clamped into [lo, hi] and lands
 * in cell min(floor((s - lo) / (hi - lo) · cells), cells - 1). ClickHouse computes that index
 * with one expression per row, and per cell the count and Σ clamped score.
 *
 * Why (count, Σ score) and not just counts: the calibrator (isotonic, see isotonic.ts) is
 * continuous and piecewise linear, affine between its knots. On a cell without a knot,
 * Σ_i C(s_i) = Σ_i (a + b s_i) = count · C(Σ s_i / count) exactly. Only cells that hold a
 * knot are approximated, and since C is non-decreasing both the true Σ C(s_i) and the
 * estimate lie in [count · C(cell start), count · C(cell end)]: the error of that cell is at
 * most count · (C(end) - C(start)). `expectedPositives` returns the sum of those bounds, so
 * every estimate carries its own worst-case grid error (typically ~1e-4 of the rows at the
 * default 1000 cells; bounded in the tests).
 */
import { predictIsotonic, type IsotonicFit } from './isotonic.js';
import type { ScoreHistogram } from './aggregates.js';

/** Cells of the score grid. @default 1000 */
export const DEFAULT_SCORE_CELLS = 1000;

export interface ScoreGrid {
  readonly lo: number;
  readonly hi: number;
  readonly cells: number;
}

export function scoreGridFor(
  allScores: readonly ArrayLike<number>[],
  cells = DEFAULT_SCORE_CELLS,
): ScoreGrid {
  if (!Number.isInteger(cells) || cells < 1)
    throw new RangeError(`score cells must be an integer >= 1, got ${cells}`);
  let min = Infinity;
  let max = -Infinity;
  for (const scores of allScores) {
    for (let i = 0; i < scores.length; i++) {
      const s = scores[i] as number;
      if (!Number.isFinite(s))
        throw new RangeError(`score ${String(s)} at index ${i} is not a finite number`);
      if (s < min) min = s;
      if (s > max) max = s;
    }
  }
  if (min === Infinity) throw new RangeError('no reference scores to build the score grid from');
  if (min >= 0 && max <= 1) return { lo: 0, hi: 1, cells };
  if (max === min) return { lo: min, hi: min + 1, cells };
  return { lo: min, hi: max, cells };
}

export function clampScore(grid: ScoreGrid, s: number): number {
  return Math.min(Math.max(s, grid.lo), grid.hi);
}

/** Cell of a score (clamped first). */
export function scoreCell(grid: ScoreGrid, s: number): number {
  const c = Math.floor(((clampScore(grid, s) - grid.lo) / (grid.hi - grid.lo)) * grid.cells);
  return Math.min(c, grid.cells - 1);
}

/** The histogram of the rows where `include(i)` holds (what ClickHouse computes per cell). */
export function scoreHistogram(
  grid: ScoreGrid,
  scores: ArrayLike<number>,
  include: (i: number) => boolean = () => true,
): ScoreHistogram {
  const counts = new Array<number>(grid.cells).fill(0);
  const sumScores = new Array<number>(grid.cells).fill(0);
  for (let i = 0; i < scores.length; i++) {
    if (!include(i)) continue;
    const s = clampScore(grid, scores[i] as number);
    const c = scoreCell(grid, s);
    counts[c] = (counts[c] as number) + 1;
    sumScores[c] = (sumScores[c] as number) + s;
  }
  return { counts, sumScores };
}

export interface CellEstimate {
  /** Σ calibrated probability per cell. */
  readonly perCell: Float64Array;
  readonly total: number;
  /** Worst-case |true Σ C(s_i) - total| from cells that hold a knot of the calibrator. */
  readonly errorBound: number;
}

/** Σ_i C(s_i) over a histogram, cell by cell, with its grid error bound. */
export function expectedPositives(grid: ScoreGrid, calibrator: IsotonicFit, h: ScoreHistogram): CellEstimate {
  checkHistogram(grid, h);
  const knotCells = cellsWithKnots(grid, calibrator);
  const perCell = new Float64Array(grid.cells);
  let total = 0;
  let errorBound = 0;
  const width = (grid.hi - grid.lo) / grid.cells;
  for (let c = 0; c < grid.cells; c++) {
    const n = h.counts[c] as number;
    if (n === 0) continue;
    const p = n * predictIsotonic(calibrator, (h.sumScores[c] as number) / n);
    perCell[c] = p;
    total += p;
    if (knotCells.has(c)) {
      const start = grid.lo + c * width;
      const end = c === grid.cells - 1 ? grid.hi : start + width;
      errorBound += n * (predictIsotonic(calibrator, end) - predictIsotonic(calibrator, start));
    }
  }
  return { perCell, total, errorBound };
}

/**
 * Cells a knot can fall in: the cell of each knot and, when the knot sits within rounding of
 * a cell boundary, the cell below it too (a row at that score may be counted in either).
 */
function cellsWithKnots(grid: ScoreGrid, calibrator: IsotonicFit): Set<number> {
  const out = new Set<number>();
  const width = (grid.hi - grid.lo) / grid.cells;
  for (const x of calibrator.x) {
    const c = scoreCell(grid, x);
    out.add(c);
    const offset = (clampScore(grid, x) - grid.lo) / width - c;
    if (offset < 1e-9 && c > 0) out.add(c - 1);
    if (offset > 1 - 1e-9 && c < grid.cells - 1) out.add(c + 1);
  }
  return out;
}

export function checkHistogram(grid: ScoreGrid, h: ScoreHistogram): void {
  if (h.counts.length !== grid.cells || h.sumScores.length !== grid.cells) {
    throw new RangeError(
      `score histogram has ${h.counts.length} counts and ${h.sumScores.length} sums, expected ${grid.cells} each (the model's score grid)`,
    );
  }
  for (let c = 0; c < grid.cells; c++) {
    const n = h.counts[c] as number;
    if (!(n >= 0) || !Number.isFinite(h.sumScores[c])) {
      throw new RangeError(
        `score histogram cell ${c} has count ${String(n)} and sum ${String(h.sumScores[c])}: counts must be >= 0 and sums finite`,
      );
    }
  }
}
