import { sqlIdentifier } from '../../kernel/sql.js';
import type { Store } from '../../kernel/store.js';
import type { FeatureMoments, WindowAggregates } from './evaluate.js';
import type { MonitorStore } from './monitor-store.js';
import { MISSING_MARKER, type FeatureGrid, type WindowBounds } from './queries.js';
import type { WindowSplit } from './rollup-plan.js';
import {
  partialCategoriesQuery,
  partialCellsQuery,
  partialEventsQuery,
  partialMomentsQuery,
  spanIsEmpty,
  type RollupSpan,
} from './rollup-sql.js';

/** What one window read needs: where to read, and the reference's grid to count cells on. */
export interface WindowReadRequest {
  readonly model: string;
  readonly split: WindowSplit;
  readonly gridId: number;
  readonly grids: ReadonlyMap<string, FeatureGrid>;
  readonly cells: number;
  /** The reference's feature names (others are new features). */
  readonly known: readonly string[];
}

/** Categories kept per feature, as the raw category query keeps (the most frequent first). */
const CATEGORIES_PER_FEATURE = 1000;

/**
 * Reads a window's aggregates the way rollup-plan.ts split it: the rollup span in four queries
 * (events, moments, cells on the reference's grid, categories), each fragment from the rows
 * (FINAL: fragments are a few minutes), then adds them up. The result is what the raw window
 * query returns for the same window, up to floating-point summation order (tested).
 */
export async function readWindowAggregates(
  store: Store,
  rows: Pick<MonitorStore, 'aggregates'>,
  request: WindowReadRequest,
): Promise<WindowAggregates> {
  const parts: WindowAggregates[] = [];
  if (!spanIsEmpty(request.split.span)) parts.push(await readSpan(store, request));
  for (const fragment of request.split.raw) parts.push(await readRows(rows, request, fragment));
  return mergeAggregates(parts, request.known);
}

function readRows(
  rows: Pick<MonitorStore, 'aggregates'>,
  request: WindowReadRequest,
  fragment: WindowBounds,
): Promise<WindowAggregates> {
  return rows.aggregates(request.model, fragment, request.grids, request.cells, request.known, undefined, 0, {
    final: true,
  });
}

async function readSpan(store: Store, request: WindowReadRequest): Promise<WindowAggregates> {
  const db = sqlIdentifier(store.database);
  const span: RollupSpan = request.split.span;
  const { model } = request;
  const [events, moments, cellsText, categories] = await Promise.all([
    store.select<{ n: string | null }>('rollup events', partialEventsQuery(db, model, span)),
    store.select<{ feature: string; n: string; s: number; sq: number; mn: number; mx: number }>(
      'rollup moments',
      partialMomentsQuery(db, model, span),
    ),
    store.selectText('rollup cells', partialCellsQuery(db, model, span, request.gridId)),
    store.select<{ n: string; v: string; c: string }>(
      'rollup categories',
      partialCategoriesQuery(db, model, span, CATEGORIES_PER_FEATURE),
    ),
  ]);
  const numericMoments = new Map<string, FeatureMoments>(
    moments.map((r) => [
      r.feature,
      {
        count: Number(r.n),
        sum: Number(r.s),
        sumSquares: Number(r.sq),
        min: Number(r.mn),
        max: Number(r.mx),
      },
    ]),
  );
  const numericCells = new Map<string, Map<number, number>>();
  for (const line of cellsText.split('\n')) {
    if (line.length === 0) continue;
    const [feature = '', cell = '0', n = '0'] = line.split('\t');
    if (!request.grids.has(feature)) continue;
    let counts = numericCells.get(feature);
    if (counts === undefined) numericCells.set(feature, (counts = new Map<number, number>()));
    counts.set(Number(cell), Number(n));
  }
  const categoryCounts = new Map<string, Map<string, number>>();
  const missing = new Map<string, number>();
  for (const row of categories) {
    if (row.v === MISSING_MARKER) {
      missing.set(row.n, Number(row.c));
      continue;
    }
    let counts = categoryCounts.get(row.n);
    if (counts === undefined) categoryCounts.set(row.n, (counts = new Map<string, number>()));
    counts.set(row.v, Number(row.c));
  }
  return {
    events: Number(events[0]?.n ?? 0),
    numericCells,
    numericMoments,
    categories: categoryCounts,
    missing,
    newFeatures: [...new Set([...numericMoments.keys(), ...categoryCounts.keys()])],
  };
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
  for (const part of parts) {
    events += part.events;
    for (const [feature, cells] of part.numericCells) addCounts(numericCells, feature, cells);
    for (const [feature, counts] of part.categories) addCounts(categories, feature, counts);
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

function addCounts<K>(
  into: Map<string, Map<K, number>>,
  feature: string,
  counts: ReadonlyMap<K, number>,
): void {
  let target = into.get(feature);
  if (target === undefined) into.set(feature, (target = new Map<K, number>()));
  for (const [key, n] of counts) target.set(key, (target.get(key) ?? 0) + n);
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
