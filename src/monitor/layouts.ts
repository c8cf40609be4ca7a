/**
 * Numeric feature layouts: the distinct lists of numeric feature names events arrive with.
 *
 * Events store features as parallel arrays (`num_names`, `num_values`) in the order the producer
 * wrote them, and ClickHouse keeps `num_layout = cityHash64(num_names)` beside them. A model has
 * few layouts (one, plus one per pattern of features sent as null), so the monitor can aggregate
 * values by position within a layout and name them here, instead of hashing a feature-name string
 * for every one of the window's values. Pure: the queries are in queries.ts, the I/O in
 * monitor-store.ts.
 */

/** One layout: its `num_layout` hash (a UInt64 as decimal text) and its names in order. */
export interface Layout {
  readonly hash: string;
  readonly names: readonly string[];
}

/**
 * A group of layouts counted by one histogram query. Each (layout, position) pair is a dense
 * slot `(ordinal - 1) * width + (position - 1)` (ordinal 1-based within the chunk, position
 * 1-based within the layout), and the query's key is `slot * span + cell` with `span` = grid
 * cells + 2. When every key of the chunk fits 16 bits, ClickHouse aggregates into a direct-mapped
 * table instead of a hash table, which on 20 features x 3,000 cells was 30 % faster.
 */
export interface LayoutChunk {
  readonly layouts: readonly Layout[];
  /** Slots per layout: the longest layout's length. */
  readonly width: number;
  /** Cells per slot in the key (grid cells + the underflow and overflow cells). */
  readonly span: number;
}

/** Keys are UInt32; below this they are UInt16 (the direct-mapped GROUP BY). */
const KEY_SPACE = 2 ** 32;
export const SMALL_KEY_SPACE = 2 ** 16;

/** Whether a chunk's keys all fit UInt16. */
export function smallKeys(chunk: LayoutChunk): boolean {
  return chunk.layouts.length * chunk.width * chunk.span <= SMALL_KEY_SPACE;
}

/** Splits layouts into chunks whose keys fit UInt32 (almost always one chunk). */
export function chunkLayouts(layouts: readonly Layout[], span: number): LayoutChunk[] {
  const maxSlots = Math.floor(KEY_SPACE / span);
  const chunks: LayoutChunk[] = [];
  let current: Layout[] = [];
  let width = 1;
  for (const layout of layouts) {
    if (layout.names.length > maxSlots) {
      throw new RangeError(
        `an event has ${layout.names.length.toString()} numeric features; with ${span.toString()} grid cells the monitor supports at most ${maxSlots.toString()}`,
      );
    }
    const wider = Math.max(width, layout.names.length);
    if ((current.length + 1) * wider > maxSlots) {
      chunks.push({ layouts: current, width, span });
      current = [];
      width = Math.max(1, layout.names.length);
    } else {
      width = Math.max(1, wider);
    }
    current.push(layout);
  }
  if (current.length > 0) chunks.push({ layouts: current, width, span });
  return chunks;
}

/** The feature a key counts and the key's cell, or undefined for a slot no layout uses. */
export function decodeKey(chunk: LayoutChunk, key: number): { feature: string; cell: number } | undefined {
  const slot = Math.floor(key / chunk.span);
  const feature = chunk.layouts[Math.floor(slot / chunk.width)]?.names[slot % chunk.width];
  return feature === undefined ? undefined : { feature, cell: key % chunk.span };
}

/** Every (slot, feature) pair of a chunk, for the query's per-slot constants. */
export function chunkSlots(chunk: LayoutChunk): Array<{ slot: number; feature: string }> {
  const slots: Array<{ slot: number; feature: string }> = [];
  chunk.layouts.forEach((layout, i) => {
    layout.names.forEach((feature, p) => slots.push({ slot: i * chunk.width + p, feature }));
  });
  return slots;
}

/** `num_layout` values come back from ClickHouse as decimal UInt64 text; nothing else is spliced. */
export function isLayoutHash(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9]{1,20}$/.test(value);
}

/**
 * Names of the layouts seen per model, so each cycle asks ClickHouse only for new ones. Bounded:
 * a model that exceeds `maxPerModel` layouts (a producer sending features in random order) starts
 * over rather than growing without limit.
 */
export class LayoutCache {
  private readonly byModel = new Map<string, Map<string, readonly string[]>>();

  constructor(private readonly maxPerModel = 4096) {}

  get(model: string, hash: string): readonly string[] | undefined {
    return this.byModel.get(model)?.get(hash);
  }

  add(model: string, layout: Layout): void {
    let layouts = this.byModel.get(model);
    if (layouts === undefined) this.byModel.set(model, (layouts = new Map<string, readonly string[]>()));
    if (layouts.size >= this.maxPerModel) layouts.clear();
    layouts.set(layout.hash, layout.names);
  }

  forget(model: string): void {
    this.byModel.delete(model);
  }
}
