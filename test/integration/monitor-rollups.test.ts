import { describe, expect, it } from 'vitest';
import { buildNumericReferenceProfile } from '../../detectors/index.js';
import { createLogger } from '../../kernel/logger.js';
import type { Store } from '../../kernel/store.js';
import type { PredictionEvent } from '../../src/events/types.js';
import type { WindowAggregates } from '../../src/monitor/evaluate.js';
import { RowWindowReader } from '../../src/monitor/row-window-reader.js';
import { featureGrid, modelsFilter, type FeatureGrid, type WindowBounds } from '../../src/monitor/queries.js';
import { RollupKeeper } from '../../src/monitor/rollup-keeper.js';
import { splitWindow } from '../../src/monitor/rollup-plan.js';
import {
  fragmentQueries,
  partialCategoriesQuery,
  partialCellsQuery,
  partialEventsQuery,
  partialMomentsQuery,
  type GridSpec,
} from '../../src/monitor/rollup-sql.js';
import { readWindows } from '../../src/monitor/window-reader.js';
import { predictionRow } from '../../src/store/event-rows.js';
import { createEventStore } from '../../src/store/event-store.js';
import { ALL_MIGRATIONS } from '../../src/store/schema.js';
import { cleanupsAfterEach, ENGINES, migratedDatabase, rng } from '../support/index.js';

/**
 * The monitor's rollups on every backend, held to the exactness contract of docs/monitoring.md:
 * a window read from the rollups (hours, minutes, and fragments read from rows) equals the same
 * window aggregated from the rows, cell by cell and category by category, moments up to
 * floating-point summation order — after replays, for rows stored before the grid existed, and
 * across a grid change.
 */

const cleanups = cleanupsAfterEach();
const logger = createLogger('silent');
const HOUR = 3_600_000;
/** An hour boundary, so that windows can be cut into fragments, minutes and whole hours. */
const T0 = Math.floor(Date.UTC(2026, 10, 20, 9, 0, 0) / HOUR) * HOUR;
const CELLS = 256;

function events(
  count: number,
  fromMs: number,
  stepMs: number,
  seed: number,
  idPrefix = 'e',
): PredictionEvent[] {
  const r = rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const a = Math.round(r() * 1000) / 10;
    const b = -Math.log(1 - r()) * 3;
    const features: PredictionEvent['features'] =
      i % 5 === 0
        ? { a, b: null, country: ['DE', 'FR', 'US'][i % 3] as string }
        : i % 7 === 0
          ? { b, a, country: null }
          : { a, b, country: ['DE', 'FR', 'US', 'IT'][i % 4] as string, extra_num: r() };
    return {
      model: 'roll',
      version: '1',
      id: `${idPrefix}${i}`,
      timestampMs: fromMs + i * stepMs,
      features,
      prediction: 'yes',
      scores: null,
      extra: '',
    };
  });
}

const lines = (list: readonly PredictionEvent[], atMs: number): string[] =>
  list.map((e) => `${JSON.stringify(predictionRow(e, 'test', atMs))}\n`);

/** Stores rows as the daemon's ingest does: the rows, then their ledger. */
async function insert(store: Store, list: readonly PredictionEvent[], atMs: number): Promise<void> {
  await createEventStore(store).insert({ predictions: lines(list, atMs), outcomes: [] });
}

function grid(id: number, sample: readonly PredictionEvent[], scale = 1): GridSpec {
  const values = (name: string): number[] =>
    sample.flatMap((e) => {
      const value = e.features[name];
      return typeof value === 'number' ? [value * scale] : [];
    });
  const features = new Map<string, FeatureGrid>(
    ['a', 'b'].map((name) => [name, featureGrid(name, buildNumericReferenceProfile(values(name)), CELLS)]),
  );
  return { id, cells: CELLS, features };
}

/** Aggregates in a form where summation order does not matter. */
function comparable(a: WindowAggregates): unknown {
  const round = (x: number): number => Number(x.toPrecision(10));
  return {
    events: a.events,
    cells: [...a.numericCells].map(([f, cells]) => [f, [...cells].sort((x, y) => x[0] - y[0])]).sort(),
    moments: [...a.numericMoments]
      .map(([f, m]) => [f, m.count, round(m.sum), round(m.sumSquares), m.min, m.max])
      .sort(),
    categories: [...a.categories].map(([f, c]) => [f, [...c].sort()]).sort(),
    missing: [...a.missing].sort(),
    newFeatures: [...a.newFeatures].sort(),
  };
}

describe.each(ENGINES)('monitor rollups on the %s backend', (engine) => {
  async function setup() {
    const { store, drop } = await migratedDatabase('rollups', ALL_MIGRATIONS, engine);
    cleanups.push(drop);
    const rows = new RowWindowReader(store);
    const keeper = new RollupKeeper(store, { syncMinutes: 10_000, now: () => T0 + 5 * HOUR }, logger);
    return { store, rows, keeper };
  }

  /** The window read both ways: rollups (after the keeper readied them) and rows. */
  async function bothWays(
    context: Awaited<ReturnType<typeof setup>>,
    window: WindowBounds,
    spec: GridSpec,
    sealedBeforeMs: number,
  ): Promise<{ rolled: WindowAggregates; raw: WindowAggregates }> {
    const split = splitWindow(window, sealedBeforeMs);
    const ready = await context.keeper.prepare([{ model: 'roll', grid: spec }], split);
    expect(ready.get('roll')).toBe('ready');
    const known = ['a', 'b', 'country'];
    const rolled = (await readWindows(context.store, split, [{ model: 'roll', grid: spec, known }])).get(
      'roll',
    );
    if (rolled === undefined) throw new Error('no rollup read');
    const raw = await context.rows.aggregates(
      'roll',
      window,
      spec.features,
      spec.cells,
      known,
      undefined,
      0,
      {
        final: true,
      },
    );
    return { rolled, raw };
  }

  it('reads a window from hours, minutes and row fragments exactly as from the rows', async () => {
    const context = await setup();
    const first = events(4_000, T0 - 10 * 60_000, 1_000, 1);
    const spec = grid(1, first);
    // Two inserts: the keeper seals minutes from whatever the rows hold, however they arrived.
    await insert(context.store, first.slice(0, 2_000), T0);
    await insert(context.store, first.slice(2_000), T0);
    // 10 min before T0 .. ~57 min after T0 + 1 h: fragments, minutes, one whole hour, minutes.
    const window = { startMs: T0 - 9 * 60_000 - 500, endMs: T0 + HOUR + 56 * 60_000 + 250 };
    const sealedBefore = T0 + HOUR + 50 * 60_000;
    const split = splitWindow(window, sealedBefore);
    expect(split.span.hours).toEqual({ fromS: T0 / 1000, toS: (T0 + HOUR) / 1000 });
    expect(split.raw).toHaveLength(2);
    const { rolled, raw } = await bothWays(context, window, spec, sealedBefore);
    expect(raw.events).toBeGreaterThan(3_000);
    expect(comparable(rolled)).toEqual(comparable(raw));
    expect(rolled.newFeatures).toEqual(['extra_num']);
    // The hour is sealed with the ledger's count of its minutes, and its grid.
    const [seal] = await context.store.select<{ ledger: string; grid: string }>(
      'seal',
      `SELECT argMax(ledger, sealed_at_ms) AS ledger, argMax(grid, sealed_at_ms) AS grid FROM ${context.store.database}.rollup_hours WHERE model = 'roll'`,
    );
    expect(seal).toEqual({ ledger: '3400', grid: '1' }); // events 600..3999 fall in that hour
  });

  it('counts a replayed batch once, and takes in late rows of a sealed hour', async () => {
    const context = await setup();
    const list = events(3_000, T0, 1_500, 2);
    const spec = grid(2, list);
    await insert(context.store, list, T0);
    const window = { startMs: T0, endMs: T0 + 2 * HOUR };
    const sealedBefore = T0 + 2 * HOUR;
    const before = await bothWays(context, window, spec, sealedBefore);
    expect(comparable(before.rolled)).toEqual(comparable(before.raw));
    // At-least-once: the same rows stored again (a later insert, so nothing collapses at insert).
    await insert(context.store, list.slice(500, 1_500), T0 + 60_000);
    // And a late row in the sealed first hour.
    await insert(context.store, events(1, T0 + 30 * 60_000 + 7, 1, 3, 'late'), T0 + 90_000);
    const after = await bothWays(context, window, spec, sealedBefore);
    expect(after.raw.events).toBe(3_001);
    expect(comparable(after.rolled)).toEqual(comparable(after.raw));
  });

  it('takes a new grid: cells are rebuilt for it, in the background when the window is long', async () => {
    const context = await setup();
    const list = events(2_000, T0, 3_000, 4);
    const first = grid(3, list);
    await insert(context.store, list, T0);
    const window = { startMs: T0, endMs: T0 + 2 * HOUR };
    expect(comparable((await bothWays(context, window, first, T0 + 2 * HOUR)).rolled)).toBeDefined();
    // A new reference: another grid (a different range) over minutes already sealed on the first.
    const second = grid(4, list, 0.5);
    const slow = new RollupKeeper(context.store, { syncMinutes: 5, now: () => T0 + 5 * HOUR }, logger);
    const split = splitWindow(window, T0 + 2 * HOUR);
    const prepare = async () => (await slow.prepare([{ model: 'roll', grid: second }], split)).get('roll');
    expect(await prepare()).toBe('pending');
    expect(await prepare()).toBe('pending');
    await slow.settled('roll');
    expect(await prepare()).toBe('ready');
    const { rolled, raw } = await bothWays({ ...context, keeper: slow }, window, second, T0 + 2 * HOUR);
    expect(comparable(rolled)).toEqual(comparable(raw));
  });

  it('reads many models in one batch, each as its own raw read', async () => {
    const context = await setup();
    const specs = new Map<string, GridSpec>();
    for (const [i, model] of ['m1', 'm2', 'm3'].entries()) {
      const list = events(1_200, T0 + i * 7_000, 2_500, 10 + i).map((e) => ({ ...e, model }));
      const spec = grid(20 + i, list, 1 + i);
      specs.set(model, spec);
      await insert(context.store, list, T0);
    }
    const window = { startMs: T0 + 30_001, endMs: T0 + HOUR + 20 * 60_000 };
    const split = splitWindow(window, T0 + HOUR + 15 * 60_000);
    const targets = [...specs].map(([model, spec]) => ({ model, grid: spec }));
    expect([...(await context.keeper.prepare(targets, split)).values()]).toEqual(['ready', 'ready', 'ready']);
    const known = ['a', 'b', 'country'];
    const read = await readWindows(
      context.store,
      split,
      targets.map((t) => ({ ...t, known })),
    );
    for (const [model, spec] of specs) {
      const raw = await context.rows.aggregates(
        model,
        window,
        spec.features,
        spec.cells,
        known,
        undefined,
        0,
        {
          final: true,
        },
      );
      expect(raw.events).toBeGreaterThan(500);
      const rolled = read.get(model);
      if (rolled === undefined) throw new Error(`no read of ${model}`);
      expect(comparable(rolled)).toEqual(comparable(raw));
    }
  });

  it("reads a group's models by the primary key (force_primary_key holds for every read)", async () => {
    const context = await setup();
    const grids = new Map<string, GridSpec>();
    for (const [i, model] of ['k1', 'k2'].entries()) {
      const list = events(600, T0 - HOUR + i * 3_000, 20_000, 30 + i).map((e) => ({ ...e, model }));
      grids.set(model, grid(40 + i, list));
      await insert(context.store, list, T0);
    }
    // Two whole hours, minutes on both sides, and a fragment at each end.
    const split = splitWindow(
      { startMs: T0 - 30 * 60_000 + 1, endMs: T0 + 2 * HOUR + 20 * 60_000 },
      T0 + 2 * HOUR + 15 * 60_000,
    );
    expect(split.span.hours).toBeDefined();
    const targets = [...grids].map(([model, spec]) => ({ model, grid: spec }));
    expect([...(await context.keeper.prepare(targets, split)).values()]).toEqual(['ready', 'ready']);
    const db = context.store.database;
    const models = [...grids.keys()];
    const fragments = fragmentQueries(db, grids, split.raw);
    const reads = [
      partialEventsQuery(db, models, split.span),
      partialMomentsQuery(db, models, split.span),
      partialCellsQuery(db, grids, split.span),
      partialCategoriesQuery(db, models, split.span, 10),
      fragments.events,
      fragments.moments,
      fragments.cells ?? '',
      fragments.categories,
    ];
    // ClickHouse refuses a query whose filter the primary key cannot narrow. The models' filter
    // alone must be narrowed by it (18.16 refused `has(['k1', 'k2'], model)`, what it was before,
    // and so read every model's rows for each group of a fleet); a filter on a column outside
    // the key is refused on every engine (the control).
    const keyed = `SETTINGS force_primary_key = 1`;
    for (const table of ['predictions', 'rollup_cells_1m', 'rollup_moments_1h']) {
      const [row] = await context.store.select<{ n: string }>(
        'keyed',
        `SELECT count() AS n FROM ${db}.${table} WHERE ${modelsFilter(models)} ${keyed}`,
      );
      expect(Number(row?.n)).toBeGreaterThan(0);
    }
    await expect(
      context.store.select('unkeyed', `SELECT count() FROM ${db}.predictions WHERE version != '' ${keyed}`),
    ).rejects.toThrow();
    // Every read of a window runs under the same setting and finds the models' rows.
    for (const sql of reads) {
      const rows = await context.store.select('keyed', `${sql} ${keyed}`);
      expect(rows.length).toBeGreaterThan(0);
    }
  });

  it('takes in a backfill written without the ledger when minutes are first proved, and later ones through the ledger', async () => {
    const context = await setup();
    const list = events(2_400, T0, 1_500, 5);
    const spec = grid(5, list);
    // An INSERT of rows that bypasses the daemon's ingest: no ledger.
    await context.store.insert('predictions', lines(list.slice(0, 1_200), T0));
    const window = { startMs: T0, endMs: T0 + 2 * HOUR };
    const sealedBefore = T0 + 2 * HOUR;
    const first = await bothWays(context, window, spec, sealedBefore);
    expect(first.raw.events).toBe(1_200);
    expect(comparable(first.rolled)).toEqual(comparable(first.raw));
    // Another backfill into the proved (and sealed) hours: unseen until its counts reach the ledger.
    await context.store.insert('predictions', lines(list.slice(1_200), T0 + 1_000));
    const unseen = await bothWays(context, window, spec, sealedBefore);
    expect(unseen.raw.events).toBe(2_400);
    expect(unseen.rolled.events).toBe(1_200);
    // docs/monitoring.md: write the backfill's counts to the ledger, and the next cycle takes it in.
    const db = context.store.database;
    await context.store.command(
      'ledger',
      `INSERT INTO ${db}.rollup_ledger (model, bucket, n) SELECT model, toStartOfMinute(ts) AS bucket, count() FROM ${db}.predictions WHERE ingested_at = toDateTime(${Math.floor((T0 + 1_000) / 1000)}) GROUP BY model, bucket`,
    );
    const after = await bothWays(context, window, spec, sealedBefore);
    expect(comparable(after.rolled)).toEqual(comparable(after.raw));
  });
});
