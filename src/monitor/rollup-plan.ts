import type { WindowBounds } from './queries.js';
import type { RollupSpan, SecondsRange } from './rollup-sql.js';

/**
 * Where each part of a window is read from (pure). Whole minutes that are sealed — older than the
 * open span, so late rows rarely land in them — come from the rollups: whole hours from the hour
 * tables, the minutes around them from the minute tables. The rest is read from the rows: the
 * fragment before the window's first whole minute, and everything from its last sealed whole
 * minute to its end (the open minutes and the end's fragment). So a cycle reads at most
 * ~2 hours' worth of minute states and a few minutes of rows, however long the window.
 */
export interface WindowSplit {
  /** Parts read from the rows (ms bounds, half-open). */
  readonly raw: readonly WindowBounds[];
  /** Parts read from the rollups. */
  readonly span: RollupSpan;
  /** Every whole minute the span covers, hours included (what proofs and seals are about). */
  readonly covered: SecondsRange | undefined;
}

const MINUTE_S = 60;
const HOUR_S = 3600;

export function splitWindow(window: WindowBounds, sealedBeforeMs: number): WindowSplit {
  const firstS = Math.ceil(window.startMs / 1000 / MINUTE_S) * MINUTE_S;
  const lastS = Math.floor(Math.min(window.endMs, sealedBeforeMs) / 1000 / MINUTE_S) * MINUTE_S;
  if (lastS <= firstS) {
    return {
      raw: window.endMs > window.startMs ? [bounds(window.startMs, window.endMs)] : [],
      span: EMPTY,
      covered: undefined,
    };
  }
  const raw: WindowBounds[] = [];
  if (window.startMs < firstS * 1000) raw.push(bounds(window.startMs, firstS * 1000));
  if (lastS * 1000 < window.endMs) raw.push(bounds(lastS * 1000, window.endMs));
  const firstHourS = Math.ceil(firstS / HOUR_S) * HOUR_S;
  const lastHourS = Math.floor(lastS / HOUR_S) * HOUR_S;
  const covered = { fromS: firstS, toS: lastS };
  if (lastHourS <= firstHourS) return { raw, span: { hours: undefined, minutes: [covered] }, covered };
  const minutes: SecondsRange[] = [];
  if (firstS < firstHourS) minutes.push({ fromS: firstS, toS: firstHourS });
  if (lastHourS < lastS) minutes.push({ fromS: lastHourS, toS: lastS });
  return { raw, span: { hours: { fromS: firstHourS, toS: lastHourS }, minutes }, covered };
}

const EMPTY: RollupSpan = { hours: undefined, minutes: [] };

function bounds(startMs: number, endMs: number): WindowBounds {
  return { startMs, endMs };
}

/** The whole minutes of `ranges`, in order. */
export function minutesOf(ranges: readonly SecondsRange[]): number[] {
  const out: number[] = [];
  for (const range of ranges) for (let m = range.fromS; m < range.toS; m += MINUTE_S) out.push(m);
  return out;
}

/** Sorted minutes grouped into ranges of consecutive minutes, each at most `maxMinutes` long. */
export function minuteRanges(minutes: readonly number[], maxMinutes = 60): SecondsRange[] {
  const ranges: SecondsRange[] = [];
  for (const m of [...minutes].sort((a, b) => a - b)) {
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last.toS === m && (last.toS - last.fromS) / MINUTE_S < maxMinutes) {
      ranges[ranges.length - 1] = { fromS: last.fromS, toS: m + MINUTE_S };
    } else {
      ranges.push({ fromS: m, toS: m + MINUTE_S });
    }
  }
  return ranges;
}

/** The hours of a range of whole hours. */
export function hoursOf(range: SecondsRange | undefined): number[] {
  const out: number[] = [];
  if (range === undefined) return out;
  for (let h = range.fromS; h < range.toS; h += HOUR_S) out.push(h);
  return out;
}

/**
 * Minutes proved to match the rows, per model: each with the ledger's count (rows inserted into
 * the minute, read before the rows were) and the grid its cells were proved on. A proof holds
 * while the minute's ledger count is unchanged (a replay or a late row changes it) and the grid
 * is the same. Pure: the queries run in rollup-keeper.ts.
 */
export class MinuteProofs {
  private readonly byModel = new Map<string, { grid: number; counts: Map<number, number> }>();

  /** Minutes whose current ledger count (absent: 0) is not the count they were proved with. */
  unproved(
    model: string,
    grid: number,
    minutes: readonly number[],
    counts: ReadonlyMap<number, number>,
  ): number[] {
    const known = this.byModel.get(model);
    const proved = known?.grid === grid ? known.counts : undefined;
    return minutes.filter((m) => proved?.get(m) !== (counts.get(m) ?? 0));
  }

  /** The sum of the counts `minutes` were proved with (0 for a minute not proved). */
  provedCount(model: string, grid: number, minutes: readonly number[]): number {
    const known = this.byModel.get(model);
    if (known?.grid !== grid) return 0;
    return minutes.reduce((sum, m) => sum + (known.counts.get(m) ?? 0), 0);
  }

  prove(model: string, grid: number, minute: number, count: number): void {
    let known = this.byModel.get(model);
    if (known?.grid !== grid) {
      known = { grid, counts: new Map() };
      this.byModel.set(model, known);
    }
    known.counts.set(minute, count);
  }

  /** Forgets minutes before `fromS` (out of every window now). */
  prune(model: string, fromS: number): void {
    const known = this.byModel.get(model);
    if (known === undefined) return;
    for (const minute of known.counts.keys()) if (minute < fromS) known.counts.delete(minute);
  }

  forget(model: string): void {
    this.byModel.delete(model);
  }
}
