import { sqlIdentifier } from '../../kernel/sql.js';
import type { Store } from '../../kernel/store.js';
import type { FeatureMoments, WindowAggregates } from './evaluate.js';
import { MISSING_MARKER } from './queries.js';
import type { WindowSplit } from './rollup-plan.js';
import {
  fragmentQueries,
  partialCategoriesQuery,
  partialCellsQuery,
  partialEventsQuery,
  partialMomentsQuery,
  spanIsEmpty,
  type GridSpec,
  type ModelGrids,
  type MsRange,
} from './rollup-sql.js';

/** One model of a window read: its grid (cells are counted on it) and its reference's names. */
export interface WindowReadModel {
  readonly model: string;
  readonly grid: GridSpec;
  /** The reference's feature names (others are new features). */
  readonly known: readonly string[];
}

/** Categories kept per feature, as the raw category query keeps (the most frequent first). */
const CATEGORIES_PER_FEATURE = 1000;

/** What one part of a window (the rollup span, or one fragment) holds, per model. */
type Part = Map<string, WindowAggregates>;

/**
 * Reads many models' windows, cut the same way (rollup-plan.ts): the rollup span in four queries
 * for all of them (events, moments, cells on each model's grid, categories), the fragments from
 * the rows in four more (both in each; FINAL: they are a few minutes; the same expressions), then
 * adds the parts up per model. The result is what the raw window query returns for the same
 * window, up to floating-point summation order (tested).
 */
export async function readWindows(
  store: Store,
  split: WindowSplit,
  models: readonly WindowReadModel[],
): Promise<Map<string, WindowAggregates>> {
  const db = sqlIdentifier(store.database);
  const grids: ModelGrids = new Map(models.map((m) => [m.model, m.grid]));
  const parts: Part[] = [];
  if (models.length > 0 && !spanIsEmpty(split.span)) parts.push(await readSpan(store, db, split, grids));
  if (models.length > 0 && split.raw.length > 0) parts.push(await readFragments(store, db, grids, split.raw));
  return new Map(
    models.map((m) => [
      m.model,
      mergeAggregates(
        parts.map((part) => part.get(m.model) ?? EMPTY),
        m.known,
      ),
    ]),
  );
}

const EMPTY: WindowAggregates = {
  events: 0,
  numericCells: new Map(),
  numericMoments: new Map(),
  categories: new Map(),
  missing: new Map(),
  newFeatures: [],
};

interface EventsRow {
  model: string;
  n: string;
}
interface MomentsRow {
  model: string;
  feature: string;
  n: string;
  s: number;
  sq: number;
  mn: number;
  mx: number;
}
interface CategoryRow {
  model: string;
  n: string;
  v: string;
  c: string;
}

async function readSpan(store: Store, db: string, split: WindowSplit, grids: ModelGrids): Promise<Part> {
  const models = [...grids.keys()];
  const cellsWanted = [...grids.values()].some((g) => g.features.size > 0);
  const [events, moments, cells, categories] = await Promise.all([
    store.select<EventsRow>('rollup events', partialEventsQuery(db, models, split.span)),
    store.select<MomentsRow>('rollup moments', partialMomentsQuery(db, models, split.span)),
    cellsWanted
      ? store.selectText('rollup cells', partialCellsQuery(db, grids, split.span))
      : Promise.resolve(''),
    store.select<CategoryRow>(
      'rollup categories',
      partialCategoriesQuery(db, models, split.span, CATEGORIES_PER_FEATURE),
    ),
  ]);
  return assemble(models, events, moments, cells, categories);
}

async function readFragments(
  store: Store,
  db: string,
  grids: ModelGrids,
  ranges: readonly MsRange[],
): Promise<Part> {
  const sql = fragmentQueries(db, grids, ranges);
  const [events, moments, cells, categories] = await Promise.all([
    store.select<EventsRow>('fragment events', sql.events),
    store.select<MomentsRow>('fragment moments', sql.moments),
    sql.cells === undefined ? Promise.resolve('') : store.selectText('fragment cells', sql.cells),
    store.select<CategoryRow>('fragment categories', sql.categories),
  ]);
  return assemble([...grids.keys()], events, moments, cells, categories);
}

/** One part's rows, split by model. Cells come as TabSeparated `model \t feature \t [cells] \t [counts]`. */
function assemble(
  models: readonly string[],
  events: readonly EventsRow[],
  moments: readonly MomentsRow[],
  cells: string,
  categories: readonly CategoryRow[],
): Part {
  const parts = new Map(
    models.map((model) => [
      model,
      {
        events: 0,
        numericCells: new Map<string, Map<number, number>>(),
        numericMoments: new Map<string, FeatureMoments>(),
        categories: new Map<string, Map<string, number>>(),
        missing: new Map<string, number>(),
        newFeatures: [] as string[],
      },
    ]),
  );
  for (const row of events) {
    const part = parts.get(row.model);
    if (part !== undefined) part.events = Number(row.n);
  }
  for (const r of moments) {
    parts.get(r.model)?.numericMoments.set(r.feature, {
      count: Number(r.n),
      sum: Number(r.s),
      sumSquares: Number(r.sq),
      min: Number(r.mn),
      max: Number(r.mx),
    });
  }
  for (const line of cells.split('\n')) {
    if (line.length === 0) continue;
    const [model = '', feature = '', cellList = '[]', countList = '[]'] = line.split('\t');
    const part = parts.get(model);
    if (part === undefined) continue;
    // One line per (model, feature): its cells are distinct (grouped by ClickHouse).
    const counts = JSON.parse(countList) as number[];
    const cellsOf = JSON.parse(cellList) as number[];
    part.numericCells.set(feature, new Map(cellsOf.map((cell, i) => [cell, counts[i] ?? 0])));
  }
  for (const row of categories) {
    const part = parts.get(row.model);
    if (part === undefined) continue;
    if (row.v === MISSING_MARKER) part.missing.set(row.n, (part.missing.get(row.n) ?? 0) + Number(row.c));
    else addCount(part.categories, row.n, row.v, Number(row.c));
  }
  return parts;
}

function addCount<K>(into: Map<string, Map<K, number>>, feature: string, key: K, n: number): void {
  let target = into.get(feature);
  if (target === undefined) into.set(feature, (target = new Map<K, number>()));
  target.set(key, (target.get(key) ?? 0) + n);
}

/** Adds window parts up: counts, cells and categories add, moments combine, names unite. */
export function mergeAggregates(
  parts: readonly WindowAggregates[],
  known: readonly string[],
): WindowAggregates {
  const numericCells = new Map<string, Map<number, number>>();
  const numericMoments = new Map<string, FeatureMoments>();
  const categories = new Map<string, Map<string, number>>();
  const missing = new Map<string, number>();
  const names = new Set<string>();
  let events = 0;
  const addCells = adding(numericCells);
  const addCategories = adding(categories);
  for (const part of parts) {
    events += part.events;
    for (const [feature, cells] of part.numericCells) addCells(feature, cells);
    for (const [feature, counts] of part.categories) addCategories(feature, counts);
    for (const [feature, n] of part.missing) missing.set(feature, (missing.get(feature) ?? 0) + n);
    for (const [feature, m] of part.numericMoments) {
      const before = numericMoments.get(feature);
      numericMoments.set(
        feature,
        before === undefined
          ? m
          : {
              count: before.count + m.count,
              sum: before.sum + m.sum,
              sumSquares: before.sumSquares + m.sumSquares,
              min: Math.min(before.min, m.min),
              max: Math.max(before.max, m.max),
            },
      );
    }
    for (const name of part.newFeatures) names.add(name);
    for (const name of part.numericMoments.keys()) names.add(name);
    for (const name of part.categories.keys()) names.add(name);
  }
  const knownSet = new Set(known);
  return {
    events,
    numericCells,
    numericMoments,
    categories: topCategories(categories),
    missing,
    newFeatures: [...names].filter((n) => !knownSet.has(n)).sort(),
  };
}

/**
 * Adds a part's counts per feature into `into` without copying them when they are the only ones:
 * a feature's first map is taken as it is (and copied only if a second part adds to it), so a
 * window read from one part costs no copy (a fleet's cycle copied millions of cells).
 */
function adding<K>(
  into: Map<string, Map<K, number>>,
): (feature: string, counts: ReadonlyMap<K, number>) => void {
  const borrowed = new Set<string>();
  return (feature, counts) => {
    const before = into.get(feature);
    if (before === undefined) {
      into.set(feature, counts as Map<K, number>); // never mutated: copied before a second add
      borrowed.add(feature);
      return;
    }
    let target = before;
    if (borrowed.delete(feature)) into.set(feature, (target = new Map(before)));
    for (const [key, n] of counts) target.set(key, (target.get(key) ?? 0) + n);
  };
}

/** At most CATEGORIES_PER_FEATURE values per feature, the most frequent, as the raw query keeps. */
function topCategories(categories: Map<string, Map<string, number>>): Map<string, Map<string, number>> {
  for (const [feature, counts] of categories) {
    if (counts.size <= CATEGORIES_PER_FEATURE) continue;
    const kept = [...counts]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, CATEGORIES_PER_FEATURE);
    categories.set(feature, new Map(kept));
  }
  return categories;
}
