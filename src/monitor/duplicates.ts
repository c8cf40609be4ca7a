/**
 * Which parts of a window may hold replayed duplicates that ReplacingMergeTree has not merged
 * away yet, remembered between cycles so that a steady window is not re-proved every interval.
 *
 * Duplicates share their whole key (model, ts, id), so they always fall in the same second: a
 * window is duplicate-free when each of its time chunks is. A chunk proved clean (its count with
 * FINAL equal to its plain count) stays clean while its plain count is unchanged: rows only
 * disappear by collapsing duplicates (there were none) or by dropping a whole partition (then the
 * count changes), and any new row, a replay included, changes the count. So each cycle costs one
 * plain count per chunk (it reads `model` and `ts` only) plus a FINAL count of the chunks that
 * changed: the newest one or two in steady state, instead of the whole window. Pure: the queries
 * are in queries.ts, the I/O in monitor-store.ts.
 */

/** Chunks per window: fine enough that new data re-proves a small part, coarse enough to cache. */
const CHUNKS_PER_WINDOW = 24;
const MAX_CHUNK_S = 3600;

export interface ChunkRange {
  /** Chunk length in seconds; chunk c covers [c * seconds, (c + 1) * seconds). */
  readonly seconds: number;
  readonly first: number;
  readonly last: number;
}

/** The whole chunks that cover a window (a superset: proving it clean proves the window). */
export function chunkRange(window: { readonly startMs: number; readonly endMs: number }): ChunkRange {
  const durationS = Math.max(1, (window.endMs - window.startMs) / 1000);
  const seconds = Math.min(MAX_CHUNK_S, Math.max(1, Math.floor(durationS / CHUNKS_PER_WINDOW)));
  const startS = Math.floor(window.startMs / 1000);
  const lastS = Math.floor((Math.max(window.endMs, window.startMs + 1) - 1) / 1000);
  return { seconds, first: Math.floor(startS / seconds), last: Math.floor(lastS / seconds) };
}

/** Per model: the chunk length in use and the plain count of each chunk proved clean. */
export class CleanChunks {
  private readonly byModel = new Map<string, { seconds: number; counts: Map<number, number> }>();

  /** Chunks whose plain count is not the count they were proved clean with. */
  unproved(model: string, range: ChunkRange, plainCounts: ReadonlyMap<number, number>): number[] {
    const known = this.byModel.get(model);
    const counts = known?.seconds === range.seconds ? known.counts : undefined;
    const unproved: number[] = [];
    for (const [chunk, n] of plainCounts) if (counts?.get(chunk) !== n) unproved.push(chunk);
    return unproved.sort((a, b) => a - b);
  }

  /** Records chunks proved clean with these plain counts and forgets chunks outside the range. */
  prove(model: string, range: ChunkRange, proved: ReadonlyMap<number, number>): void {
    let known = this.byModel.get(model);
    if (known?.seconds !== range.seconds) {
      known = { seconds: range.seconds, counts: new Map() };
      this.byModel.set(model, known);
    }
    for (const chunk of known.counts.keys()) {
      if (chunk < range.first || chunk > range.last) known.counts.delete(chunk);
    }
    for (const [chunk, n] of proved) known.counts.set(chunk, n);
  }

  forget(model: string): void {
    this.byModel.delete(model);
  }
}
