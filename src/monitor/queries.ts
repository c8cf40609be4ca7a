import { sqlDateTime, sqlIdentifier, sqlNumber, sqlString, sqlStringList } from '../../kernel/sql.js';
import type { NumericProfile } from '../../detectors/index.js';
import type { ChunkRange } from './duplicates.js';
import type { ReferenceProfile } from './reference.js';
import { chunkSlots, isLayoutHash, SMALL_KEY_SPACE, smallKeys, type LayoutChunk } from './layouts.js';
import { SEGMENT_TAGS } from './options.js';
import type { SegmentSlice } from './segments.js';

/**
 * SQL the monitor sends to ClickHouse (18.16 subset: no parameters, no window functions, no
 * WITH-subqueries). Every query aggregates inside ClickHouse and returns O(features × cells)
 * rows, never O(events). Event tables are read with FINAL so that replayed duplicates (same
 * model, ts, id) count once. Values are bound through src/store/sql.ts only.
 */

/** Marks a missing value in the categorical/missing query; a NUL byte is no real category. */
export const MISSING_MARKER = '\u0000missing';

export interface WindowBounds {
  readonly startMs: number;
  readonly endMs: number;
  /** Restricts the window to one segment's events (every query built on windowFilter follows). */
  readonly segment?: SegmentSlice;
}

/**
 * `model` is one of `models`. An equality or an `IN` list, which ClickHouse prunes by the primary
 * key; `has([...], model)` reads the same rows but is not used by the key, so every group of a
 * fleet scanned every model's rows (a rollup read of 200 models took 0.69 s instead of 0.05 s).
 */
export function modelsFilter(models: string | readonly string[]): string {
  const list = typeof models === 'string' ? [models] : models;
  if (list.length === 0) return '0';
  return list.length === 1
    ? `model = ${sqlString(list[0] as string)}`
    : `model IN (${list.map((m) => sqlString(m)).join(', ')})`;
}

/** The window's rows of the model(s), restricted to its segment's slice when it has one. */
export function windowFilter(models: string | readonly string[], window: WindowBounds): string {
  const segment = window.segment === undefined ? '' : ` AND (${sliceCondition(window.segment)})`;
  return `${modelsFilter(models)} AND ts >= ${sqlDateTime(window.startMs)} AND ts <= ${sqlDateTime(window.endMs - 1)} AND ts_ms >= ${sqlNumber(window.startMs)} AND ts_ms < ${sqlNumber(window.endMs)}${segment}`;
}

/**
 * A segment slice's condition on `predictions` rows: events whose categorical feature (or tag
 * column) has the slice's value, or, for `__other__`, none of the named values.
 */
export function sliceCondition(slice: SegmentSlice): string {
  const { dimension } = slice;
  let present: string;
  let value: string;
  if (dimension.kind === 'feature') {
    const name = sqlString(dimension.name);
    present = `has(cat_names, ${name})`;
    value = `cat_values[indexOf(cat_names, ${name})]`;
  } else {
    const column = (SEGMENT_TAGS as Record<string, string>)[dimension.name];
    if (column === undefined) throw new RangeError(`unknown segment tag ${JSON.stringify(dimension.name)}`);
    present = '1';
    value = sqlIdentifier(column);
  }
  if (slice.value !== undefined) return `${present} AND ${value} = ${sqlString(slice.value)}`;
  if (slice.excluded.length === 0) return '1';
  return `NOT (${present} AND has(${sqlStringList(slice.excluded)}, ${value}))`;
}

/**
 * Events per time chunk of a model (see duplicates.ts), over whole chunks `first..last` or only
 * the listed ones. With FINAL it counts what is left after collapsing unmerged duplicates; it
 * reads only the key, and without FINAL only `model` and `ts`. Never restricted to a segment:
 * the whole model's chunks being clean proves every slice clean.
 */
export function chunkCountsQuery(
  db: string,
  model: string,
  range: ChunkRange,
  final: boolean,
  only?: readonly number[],
): string {
  const c = sqlNumber(range.seconds);
  const chunk = `intDiv(toUInt32(ts), ${c})`;
  const from = sqlNumber(range.first * range.seconds);
  const to = sqlNumber((range.last + 1) * range.seconds);
  const listed = only === undefined ? '' : ` AND ${chunk} IN (${only.map(sqlNumber).join(', ')})`;
  return `SELECT ${chunk} AS chunk, count() AS n FROM ${db}.predictions${final ? ' FINAL' : ''}
WHERE model = ${sqlString(model)} AND ts >= toDateTime(${from}) AND ts < toDateTime(${to})${listed}
GROUP BY chunk`;
}

/** The start of the last `count` events of a model (for event-count windows). */
export function lastEventsStartQuery(db: string, model: string, count: number, endMs: number): string {
  return `SELECT min(ts_ms) AS start_ms, count() AS events FROM (SELECT ts_ms FROM ${db}.predictions FINAL WHERE model = ${sqlString(model)} AND ts < ${sqlDateTime(endMs + 1000)} AND ts_ms < ${sqlNumber(endMs)} ORDER BY ts_ms DESC LIMIT ${sqlNumber(count)})`;
}

/** The uniform grid ClickHouse counts a numeric feature in, derived from its reference sketch. */
export interface FeatureGrid {
  readonly name: string;
  readonly lo: number;
  readonly hi: number;
  /** cells / (hi - lo), 0 when hi == lo. */
  readonly inverseWidth: number;
}

/**
 * Cells 1..cells cover [lo, hi) uniformly; 0 is below lo, cells + 1 is hi and above. lo is the
 * reference's first sketch edge, hi one cell width past its last, so that a value equal to the
 * last edge (a discrete feature's largest value) lands in an interior cell.
 */
export function featureGrid(name: string, profile: NumericProfile, cells: number): FeatureGrid {
  const edges = profile.sketchEdges;
  const lo = edges[0] ?? profile.min ?? 0;
  const last = edges[edges.length - 1] ?? profile.max ?? lo;
  let hi = last + (last - lo) / cells;
  if (!(hi > lo)) hi = lo + Math.max(Math.abs(lo), 1) * 1e-9;
  return { name, lo, hi, inverseWidth: cells / (hi - lo) };
}

/**
 * The grid resolution a model's numeric features are counted at: the configured cells, or fewer
 * (never under half of them) when that makes every (feature, cell) key of a one-layout window fit
 * 16 bits, which ClickHouse aggregates markedly faster (see layouts.ts). With 20 numeric features
 * and the default 4,096 that is 3,274 cells.
 */
export function gridCellsFor(configured: number, numericFeatures: number): number {
  const fitting = Math.floor(SMALL_KEY_SPACE / Math.max(1, numericFeatures)) - 2;
  return fitting >= configured || fitting < configured / 2 ? configured : fitting;
}

/** The grids of a reference's numeric features, at the resolution gridCellsFor chooses. */
export function referenceGrids(
  features: ReferenceProfile['features'],
  configuredCells: number,
): { grids: Map<string, FeatureGrid>; cells: number } {
  const numeric = Object.entries(features).flatMap(([name, f]) =>
    f.kind === 'numeric' ? [[name, f.profile] as const] : [],
  );
  const cells = gridCellsFor(configuredCells, numeric.length);
  const grids = new Map(numeric.map(([name, profile]) => [name, featureGrid(name, profile, cells)]));
  return { grids, cells };
}

/**
 * Counts, per layout slot and grid cell, the window's numeric values of the layouts in `chunk`
 * (see layouts.ts): key = `slot * span + cell`, slot = `(ordinal - 1) * width + position - 1`.
 * Values are addressed by position, so nothing is hashed per value but the slot's two grid
 * constants (`transform` over integers); a feature name is never touched. Slots of features
 * without a grid (not numeric in the reference) get no constants and are ignored by the caller.
 * `WHERE o > 0` is also what keeps 18.16 from pruning `o` from the subquery: it does not see a
 * column that only a lambda uses.
 */
export function numericHistogramQuery(
  db: string,
  model: string,
  window: WindowBounds,
  chunk: LayoutChunk,
  grids: ReadonlyMap<string, FeatureGrid>,
  final = true,
): string {
  const cells = chunk.span - 2;
  const hashes = chunk.layouts.map((l) => layoutHash(l.hash));
  const ordinals = chunk.layouts.map((_, i) => sqlNumber(i + 1));
  const slots = chunkSlots(chunk).flatMap(({ slot, feature }) => {
    const grid = grids.get(feature);
    return grid === undefined ? [] : [{ slot, grid }];
  });
  const slotList = `[${slots.map((s) => sqlNumber(s.slot)).join(', ')}]`;
  const constant = (values: readonly number[]): string => `[${values.map((v) => sqlFloat(v)).join(', ')}]`;
  const lo = `transform(s, ${slotList}, ${constant(slots.map((s) => s.grid.lo))}, 0.)`;
  const iw = `transform(s, ${slotList}, ${constant(slots.map((s) => s.grid.inverseWidth))}, 0.)`;
  const cell = `greatest(-1., least(${sqlFloat(cells)}, floor((v - ${lo}) * ${iw}))) + 1`;
  const key = `${smallKeys(chunk) ? 'toUInt16' : 'toUInt32'}(s * ${sqlNumber(chunk.span)} + ${cell})`;
  const slot = `toUInt32((o - 1) * ${sqlNumber(chunk.width)} + p - 1)`;
  return `SELECT k, count() AS n
FROM (SELECT arrayMap((v, s) -> ${key}, num_values, arrayMap(p -> ${slot}, arrayEnumerate(num_values))) AS ks
 FROM (SELECT num_values, transform(num_layout, [${hashes.join(', ')}], [${ordinals.join(', ')}], 0) AS o
  FROM ${db}.predictions${final ? ' FINAL' : ''} WHERE ${windowFilter(model, window)} AND num_layout IN (${hashes.join(', ')}))
 WHERE o > 0)
ARRAY JOIN ks AS k
GROUP BY k`;
}

/**
 * Count, sum, sum of squares, min and max per numeric feature, positionally with -ForEach per
 * layout (`num_layout`, a UInt64 computed at insert), so no name is read or hashed per event; the
 * daemon names positions from the layout's names (layoutNamesQuery, cached) and merges layouts.
 * Also yields the window's layouts, hence its numeric feature names (schema changes), for free,
 * and how many categorical or missing values the window has (none: the category query is skipped).
 */
export function numericMomentsQuery(db: string, model: string, window: WindowBounds, final = true): string {
  return `SELECT toString(num_layout) AS layout, count() AS rows, sumForEach(num_values) AS s, sumForEach(arrayMap(x -> x * x, num_values)) AS sq,
 minForEach(num_values) AS mn, maxForEach(num_values) AS mx, sum(length(cat_names) + length(missing_names)) AS others
FROM ${db}.predictions${final ? ' FINAL' : ''} WHERE ${windowFilter(model, window)}
GROUP BY num_layout LIMIT 100000`;
}

/** The names of one layout: any event that has it (LIMIT 1 stops the scan at the first). */
export function layoutNamesQuery(db: string, model: string, hash: string): string {
  return `SELECT num_names AS names FROM ${db}.predictions WHERE model = ${sqlString(model)} AND num_layout = ${layoutHash(hash)} LIMIT 1`;
}

function layoutHash(hash: string): string {
  if (!isLayoutHash(hash)) throw new TypeError(`not a layout hash: ${JSON.stringify(hash)}`);
  return hash;
}

/** Category counts per categorical feature (top `perFeature`), and missing counts per feature. */
export function categoricalCountsQuery(
  db: string,
  model: string,
  window: WindowBounds,
  perFeature: number,
  final = true,
): string {
  return `SELECT n, v, count() AS c FROM ${db}.predictions${final ? ' FINAL' : ''}
ARRAY JOIN arrayConcat(cat_names, missing_names) AS n, arrayConcat(cat_values, arrayMap(x -> ${sqlString(MISSING_MARKER)}, missing_names)) AS v
WHERE ${windowFilter(model, window)}
GROUP BY n, v ORDER BY n, c DESC LIMIT ${sqlNumber(perFeature)} BY n`;
}

/** Outcomes per model that the label joins below could use (none: the joins are skipped). */
export function outcomeCountsQuery(db: string, models: readonly string[], window: WindowBounds): string {
  return `SELECT model, count() AS n FROM ${db}.outcomes WHERE ${outcomeFilter(models, window)} GROUP BY model`;
}

function outcomeFilter(models: string | readonly string[], window: WindowBounds): string {
  return `${modelsFilter(models)} AND ts >= ${sqlDateTime(window.startMs - 1000)}`;
}

/**
 * The label joins' key: model and prediction id as one string. Model names cannot hold `/`
 * (MODEL_NAME_PATTERN), so the key is one-to-one. On 18.16 a join on one string key took 1.45 s
 * where the two keys (model, id) took 3.1 s (1M outcomes, 10M predictions).
 */
const LABEL_KEY = "concat(model, '/', id) AS k";

/**
 * The window's outcomes, one per model and prediction id: the latest received (a later outcome
 * corrects an earlier one; FINAL would collapse copies only within a day partition). Reducing the
 * right side to one row per key makes the ALL join below mean the same on 18.16 and on current
 * ClickHouse, whose ANY joins changed meaning; both sides carry aliases, which current ClickHouse
 * requires.
 */
function latestOutcomes(
  db: string,
  models: string | readonly string[],
  window: WindowBounds,
  columns: string,
  where = '',
): string {
  return `(SELECT ${LABEL_KEY}, argMax(ts_ms, ingested_at) AS label_ms, ${columns} FROM ${db}.outcomes
 WHERE ${outcomeFilter(models, window)}${where} GROUP BY k) AS o`;
}

/** Confusion counts per model of the labelled part of the window (outcomes within the horizon). */
export function confusionQuery(
  db: string,
  models: string | readonly string[],
  window: WindowBounds,
  horizonMs: number,
  final = true,
): string {
  return `SELECT model, prediction_label AS predicted, label AS actual, count() AS c FROM
(SELECT model, ${LABEL_KEY}, ts_ms, prediction_label FROM ${db}.predictions${final ? ' FINAL' : ''} WHERE ${windowFilter(models, window)}) AS p
ALL INNER JOIN
${latestOutcomes(db, models, window, 'argMax(label, ingested_at) AS label')} USING (k)
WHERE label_ms <= ts_ms + ${sqlNumber(horizonMs)} AND label != ''
GROUP BY model, predicted, actual`;
}

/** Regression sums per model of the labelled part of the window. */
export function regressionSumsQuery(
  db: string,
  models: string | readonly string[],
  window: WindowBounds,
  horizonMs: number,
  final = true,
): string {
  const e = 'abs(y - yhat)';
  return `SELECT model, count() AS n, sum(${e}) AS sae, sum((y - yhat) * (y - yhat)) AS sse,
sum(${e} / greatest(abs(y), 2.220446049250313e-16)) AS sape, sum(y) AS sy, sum(y * y) AS syy FROM
(SELECT model, ${LABEL_KEY}, ts_ms, assumeNotNull(prediction_number) AS yhat FROM ${db}.predictions${final ? ' FINAL' : ''} WHERE ${windowFilter(models, window)} AND isNotNull(prediction_number)) AS p
ALL INNER JOIN
${latestOutcomes(db, models, window, 'assumeNotNull(argMax(label_number, ingested_at)) AS y', ' AND isNotNull(label_number)')} USING (k)
WHERE label_ms <= ts_ms + ${sqlNumber(horizonMs)}
GROUP BY model`;
}

/**
 * The first `count` events of a model (a first-N reference), or of each of several models (one
 * query for many references), pulled once (again for segment slices).
 */
export function firstEventsQuery(
  db: string,
  models: string | readonly string[],
  count: number,
  range?: WindowBounds,
): string {
  const where = range === undefined ? modelsFilter(models) : windowFilter(models, range);
  return `SELECT model, num_names, num_values, cat_names, cat_values, missing_names, prediction_label, prediction_number, version, ts_ms
FROM ${db}.predictions FINAL WHERE ${where} ORDER BY model, ts_ms, id LIMIT ${sqlNumber(count)} BY model`;
}

/**
 * Events per value of a tag column in the window, most frequent first: which segments a tag
 * spec names. Without FINAL: an unmerged replay can only tip a value over `minEvents` early.
 */
export function tagCountsQuery(db: string, model: string, window: WindowBounds, column: string): string {
  const c = sqlIdentifier(column);
  return `SELECT ${c} AS v, count() AS c FROM ${db}.predictions WHERE ${windowFilter(model, window)}
GROUP BY v ORDER BY c DESC, v LIMIT 1000`;
}

/**
 * Rows stored per model in `table` (predictions or outcomes): all of them, and those at or after
 * the model's window start (`since`, by model, else `defaultSinceMs`). Without FINAL: a replayed
 * copy counts until ClickHouse merges it away (the API says so).
 */
export function storedCountsQuery(
  db: string,
  table: 'predictions' | 'outcomes',
  since: ReadonlyMap<string, number>,
  defaultSinceMs: number,
): string {
  const models = [...since.keys()];
  const starts = models.map((m) => sqlNumber(Math.max(0, Math.floor(since.get(m) ?? 0))));
  const start =
    models.length === 0
      ? `toUInt64(${sqlNumber(Math.max(0, Math.floor(defaultSinceMs)))})`
      : `transform(model, [${models.map(sqlString).join(', ')}], [${starts.map((s) => `toUInt64(${s})`).join(', ')}], toUInt64(${sqlNumber(Math.max(0, Math.floor(defaultSinceMs)))}))`;
  return `SELECT model, count() AS total, countIf(ts_ms >= ${start}) AS recent FROM ${db}.${sqlIdentifier(table)} GROUP BY model ORDER BY model`;
}

/** Models seen recently, with their event counts (approximate: no FINAL, it is only for listing). */
export function seenModelsQuery(db: string, sinceMs: number): string {
  return `SELECT model, count() AS events, max(ts_ms) AS last_ms FROM ${db}.predictions WHERE ts >= ${sqlDateTime(sinceMs)} GROUP BY model ORDER BY model`;
}

/** Full-precision float literal (sqlNumber prints integers without a fraction, which would make Int arrays). */
function sqlFloat(value: number): string {
  const text = sqlNumber(value);
  return /[.eE]/.test(text) ? text : `${text}.`;
}
