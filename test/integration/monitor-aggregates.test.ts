import { describe, expect, it } from 'vitest';
import { buildNumericReferenceProfile } from '../../detectors/index.js';
import type { PredictionEvent } from '../../src/events/types.js';
import { RowWindowReader } from '../../src/monitor/row-window-reader.js';
import { featureGrid, type FeatureGrid } from '../../src/monitor/queries.js';
import { predictionRow } from '../../src/store/event-rows.js';
import { ALL_MIGRATIONS } from '../../src/store/schema.js';
import { cleanupsAfterEach, ENGINES, migratedDatabase, rng } from '../support/index.js';

/**
 * The monitor's window aggregation on every backend (ClickHouse 18.16 and the current engine
 * embedded), checked value by value against
 * the same arithmetic done here: numeric features arrive in several layouts (a feature sent as
 * null, keys in another order), so positions differ between events; moments must be exact, every
 * value must land in the grid cell the daemon expects, and replayed duplicates must count once,
 * also after a cycle has proved the window clean and cached that proof.
 */

const cleanups = cleanupsAfterEach();

/** The cell queries.ts numericHistogramQuery puts a value in (0 underflow, cells + 1 overflow). */
function expectedCell(grid: FeatureGrid, cells: number, v: number): number {
  return Math.max(-1, Math.min(cells, Math.floor((v - grid.lo) * grid.inverseWidth))) + 1;
}

describe.each(ENGINES)('monitor window aggregates on the %s backend', (engine) => {
  it('counts every value in its cell and exact moments across layouts, and replays once', async () => {
    const { store: port, drop } = await migratedDatabase('monagg', ALL_MIGRATIONS, engine);
    cleanups.push(drop);

    const nowMs = Math.floor(Date.now() / 1000) * 1000;
    const r = rng(11);
    const events: PredictionEvent[] = [];
    for (let i = 0; i < 3_000; i++) {
      const a = Math.round(r() * 1000) / 10; // discrete-ish, many values on cell edges
      const b = -Math.log(1 - r()) * 3; // heavy right tail, beyond the reference's range too
      const c = r() * 2 - 1;
      // Three layouts: a, b, c / b missing / keys in another order.
      const features: PredictionEvent['features'] =
        i % 5 === 0 ? { a, b: null, c } : i % 7 === 0 ? { c, b, a } : { a, b, c };
      events.push({
        model: 'agg',
        version: '1',
        id: `e${i.toString()}`,
        timestampMs: nowMs - 600_000 + i * 100,
        features,
        prediction: 'yes',
        scores: null,
        extra: '',
      });
    }
    const rows = (list: readonly PredictionEvent[], at: number) =>
      list.map((e) => `${JSON.stringify(predictionRow(e, 'test', at))}\n`);
    await port.insert('predictions', rows(events, nowMs));

    // Reference grids from the first half of the values of a and b (c has no grid: a feature
    // the reference lacks is only reported by name).
    const values = (name: 'a' | 'b') =>
      events.slice(0, 1_500).flatMap((e) => {
        const v = e.features[name];
        return typeof v === 'number' ? [v] : [];
      });
    const cells = 512;
    const grids = new Map<string, FeatureGrid>([
      ['a', featureGrid('a', buildNumericReferenceProfile(values('a')), cells)],
      ['b', featureGrid('b', buildNumericReferenceProfile(values('b').map((v) => v / 2)), cells)],
    ]);
    const store = new RowWindowReader(port);
    const window = { startMs: nowMs - 600_000, endMs: nowMs };
    const aggregate = () => store.aggregates('agg', window, grids, cells, ['a', 'b'], undefined, 60_000);

    const first = await aggregate();
    expect(first.events).toBe(3_000);
    expect(first.newFeatures).toEqual(['c']);
    for (const name of ['a', 'b', 'c'] as const) {
      const present = events.flatMap((e) => {
        const v = e.features[name];
        return typeof v === 'number' ? [v] : [];
      });
      const moments = first.numericMoments.get(name);
      expect(moments?.count, name).toBe(present.length);
      expect(moments?.min).toBe(Math.min(...present));
      expect(moments?.max).toBe(Math.max(...present));
      expect(moments?.sum).toBeCloseTo(
        present.reduce((s, v) => s + v, 0),
        6,
      );
      expect(moments?.sumSquares).toBeCloseTo(
        present.reduce((s, v) => s + v * v, 0),
        4,
      );
      const grid = grids.get(name);
      if (grid === undefined) {
        expect(first.numericCells.has(name)).toBe(false);
        continue;
      }
      const expected = new Map<number, number>();
      for (const v of present) {
        const cell = expectedCell(grid, cells, v);
        expected.set(cell, (expected.get(cell) ?? 0) + 1);
      }
      expect(new Map([...(first.numericCells.get(name) ?? [])].sort((x, y) => x[0] - y[0]))).toEqual(
        new Map([...expected].sort((x, y) => x[0] - y[0])),
      );
    }
    expect(first.missing.get('b')).toBe(events.filter((e) => e.features['b'] === null).length);

    // A grid fine enough that the keys need 32 bits takes the other GROUP BY path, same counts.
    const fine = 16_384;
    const fineGrids = new Map(
      [...grids].map(([name, g]) => [name, { ...g, inverseWidth: (g.inverseWidth * fine) / cells }]),
    );
    const wide = await store.aggregates('agg', window, fineGrids, fine, ['a', 'b'], undefined, 60_000);
    for (const [name, grid] of fineGrids) {
      const expected = new Map<number, number>();
      for (const e of events) {
        const v = e.features[name];
        if (typeof v !== 'number') continue;
        const cell = expectedCell(grid, fine, v);
        expected.set(cell, (expected.get(cell) ?? 0) + 1);
      }
      expect(wide.numericCells.get(name)).toEqual(expected);
    }

    // A clean window stays clean from the cached proof.
    const again = await aggregate();
    expect(again.events).toBe(3_000);

    // A replay of 40 events (same key, later ingest time) before any merge: still counted once,
    // though this window was proved clean a moment ago.
    await port.insert('predictions', rows(events.slice(1_000, 1_040), nowMs + 5_000));
    const replayed = await aggregate();
    expect(replayed.events).toBe(3_000);
    expect(replayed.numericMoments.get('a')?.count).toBe(first.numericMoments.get('a')?.count);
    expect(replayed.numericCells.get('a')).toEqual(first.numericCells.get('a'));

    // New events (not replays) are counted.
    const more = events.slice(0, 10).map((e, i) => ({ ...e, id: `new${i.toString()}` }));
    await port.insert('predictions', rows(more, nowMs + 6_000));
    expect((await aggregate()).events).toBe(3_010);

    // A window that ends inside a second keeps that second's earlier events (ts is whole seconds).
    const last = events[events.length - 1]!.timestampMs;
    const partial = { startMs: window.startMs, endMs: last + 50 };
    expect((await store.aggregates('agg', partial, grids, cells, ['a', 'b'], undefined, 60_000)).events).toBe(
      3_010 - events.filter((e) => e.timestampMs > last).length,
    );
  });
});
