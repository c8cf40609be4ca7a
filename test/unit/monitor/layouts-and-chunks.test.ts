import { describe, expect, it } from 'vitest';
import { chunkRange, CleanChunks } from '../../../src/monitor/duplicates.js';
import {
  chunkLayouts,
  chunkSlots,
  decodeKey,
  isLayoutHash,
  LayoutCache,
  smallKeys,
} from '../../../src/monitor/layouts.js';
import { gridCellsFor } from '../../../src/monitor/queries.js';

const layout = (hash: string, ...names: string[]) => ({ hash, names });

describe('numeric layouts', () => {
  it('numbers every (layout, position) densely and decodes keys back to feature and cell', () => {
    const [chunk] = chunkLayouts([layout('1', 'a', 'b', 'c'), layout('2', 'c', 'a')], 10);
    expect(chunk).toEqual({
      layouts: [layout('1', 'a', 'b', 'c'), layout('2', 'c', 'a')],
      width: 3,
      span: 10,
    });
    const slots = chunkSlots(chunk!);
    expect(slots).toEqual([
      { slot: 0, feature: 'a' },
      { slot: 1, feature: 'b' },
      { slot: 2, feature: 'c' },
      { slot: 3, feature: 'c' },
      { slot: 4, feature: 'a' },
    ]);
    for (const { slot, feature } of slots) {
      for (const cell of [0, 5, 9]) expect(decodeKey(chunk!, slot * 10 + cell)).toEqual({ feature, cell });
    }
    // Slot 5 is the shorter layout's unused third position.
    expect(decodeKey(chunk!, 5 * 10 + 1)).toBeUndefined();
    expect(smallKeys(chunk!)).toBe(true);
  });

  it('uses 16-bit keys only while every key fits, and splits layouts only past 32 bits', () => {
    const twenty = layout('1', ...Array.from({ length: 20 }, (_, i) => `f${i.toString()}`));
    expect(smallKeys(chunkLayouts([twenty], 3_276)[0]!)).toBe(true); // 20 x 3276 = 65520
    expect(smallKeys(chunkLayouts([twenty], 3_277)[0]!)).toBe(false);
    const many = Array.from({ length: 300 }, (_, i) => ({ ...twenty, hash: i.toString() }));
    const chunks = chunkLayouts(many, 1_000_000); // 4294 slots per chunk: 214 layouts of 20
    expect(chunks.map((c) => c.layouts.length)).toEqual([214, 86]);
    for (const c of chunks) expect(c.layouts.length * c.width * c.span).toBeLessThanOrEqual(2 ** 32);
    expect(() => chunkLayouts([layout('9', ...Array.from({ length: 5_000 }, () => 'x'))], 1_000_000)).toThrow(
      /at most 4294/,
    );
  });

  it('accepts only decimal UInt64 text as a layout hash (it is spliced into SQL)', () => {
    expect(isLayoutHash('18446744073709551615')).toBe(true);
    expect(isLayoutHash('1 OR 1=1')).toBe(false);
    expect(isLayoutHash(12)).toBe(false);
    expect(isLayoutHash('')).toBe(false);
  });

  it('caches names per model, bounded', () => {
    const cache = new LayoutCache(2);
    cache.add('m', layout('1', 'a'));
    cache.add('m', layout('2', 'b'));
    expect(cache.get('m', '2')).toEqual(['b']);
    cache.add('m', layout('3', 'c')); // over the bound: starts over
    expect(cache.get('m', '1')).toBeUndefined();
    expect(cache.get('m', '3')).toEqual(['c']);
    expect(cache.get('other', '3')).toBeUndefined();
  });

  it('lowers the grid resolution to fit 16-bit keys, never below half of the configured cells', () => {
    expect(gridCellsFor(4_096, 10)).toBe(4_096); // 10 x 4098 fits already
    expect(gridCellsFor(4_096, 20)).toBe(3_274); // 20 x 3276 = 65520
    expect(gridCellsFor(4_096, 40)).toBe(4_096); // would need 1636 < 2048: keep 32-bit keys
    expect(gridCellsFor(4_096, 0)).toBe(4_096);
  });
});

describe('duplicate-free chunks', () => {
  it('covers a window with whole chunks of about 1/24 of it, at most an hour', () => {
    expect(chunkRange({ startMs: 0, endMs: 86_400_000 })).toEqual({ seconds: 3_600, first: 0, last: 23 });
    expect(chunkRange({ startMs: 1_000_500, endMs: 1_240_500 })).toEqual({
      seconds: 10,
      first: 100,
      last: 124,
    });
    // The end is exclusive: an end on a chunk boundary does not pull in the next chunk.
    expect(chunkRange({ startMs: 0, endMs: 240_000 }).last).toBe(23);
    expect(chunkRange({ startMs: 5_000, endMs: 5_000 }).seconds).toBe(1);
  });

  it('re-proves exactly the chunks whose count changed, and forgets chunks that left the window', () => {
    const clean = new CleanChunks();
    const range = { seconds: 10, first: 0, last: 3 };
    const counts = new Map([
      [0, 5],
      [1, 7],
      [3, 2],
    ]);
    expect(clean.unproved('m', range, counts)).toEqual([0, 1, 3]);
    clean.prove(
      'm',
      range,
      new Map([
        [0, 5],
        [3, 2],
      ]),
    ); // chunk 1 held duplicates: not proved
    expect(clean.unproved('m', range, counts)).toEqual([1]);
    expect(clean.unproved('m', range, new Map([...counts, [3, 3]]))).toEqual([1, 3]);
    expect(clean.unproved('other', range, counts)).toEqual([0, 1, 3]);
    // Another chunk length (the window changed) proves nothing.
    expect(clean.unproved('m', { ...range, seconds: 20 }, counts)).toEqual([0, 1, 3]);
    // Moving on forgets chunk 0.
    clean.prove('m', { seconds: 10, first: 1, last: 4 }, new Map());
    expect(clean.unproved('m', range, counts)).toEqual([0, 1]);
  });
});
