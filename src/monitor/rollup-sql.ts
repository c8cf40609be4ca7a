import { sqlIdentifier, sqlNumber, sqlString, sqlStringList } from '../../kernel/sql.js';
import { MISSING_MARKER, type FeatureGrid } from './queries.js';
import { cellExpression } from './rollup-schema.js';

/**
 * SQL over the rollup tables (rollup-schema.ts): reading a window's partial states, proving
 * minutes against the raw rows, correcting them, and rolling minutes up into hours. Times are
 * epoch seconds on minute (hour) boundaries; ranges are half-open [from, to). Values are bound
 * through kernel/sql.ts only; 18.16 subset (UNION ALL inside FROM, -State/-Merge, no CTEs).
 */

/** A half-open range of epoch seconds. */
export interface SecondsRange {
  readonly fromS: number;
  readonly toS: number;
}

/** The grid a model's cells are counted on: its id and each numeric feature's constants. */
export interface GridSpec {
  readonly id: number;
  readonly cells: number;
  readonly features: ReadonlyMap<string, FeatureGrid>;
}

const at = (seconds: number): string => `toDateTime(${sqlNumber(seconds)})`;

// Hours are cut with integer arithmetic, never toStartOfHour: a server in a time zone whose
// offset is not whole hours would otherwise start its hours at :30. (Every zone's offset is whole
// minutes, so toStartOfMinute is safe.)

/** `(column >= a AND column < b) OR ...`; `0` (false) for no range. */
export function rangesFilter(column: string, ranges: readonly SecondsRange[]): string {
  if (ranges.length === 0) return '0';
  return `(${ranges.map((r) => `(${column} >= ${at(r.fromS)} AND ${column} < ${at(r.toS)})`).join(' OR ')})`;
}

/** Full-precision float literal (an integer would make an Int array). */
function float(value: number): string {
  const text = sqlNumber(value);
  return /[.eE]/.test(text) ? text : `${text}.`;
}

/** The grid's constants per feature, as `transform(name, ...)` lookups. */
function gridLookups(grid: GridSpec, name: string): { names: string; lo: string; iw: string } {
  const entries = [...grid.features.values()];
  const names = sqlStringList(entries.map((g) => g.name));
  return {
    names,
    lo: `transform(${name}, ${names}, [${entries.map((g) => float(g.lo)).join(', ')}], 0.)`,
    iw: `transform(${name}, ${names}, [${entries.map((g) => float(g.inverseWidth)).join(', ')}], 0.)`,
  };
}

export type GridRow = {
  readonly model: string;
  readonly feature: string;
  readonly grid: number;
  readonly lo: number;
  readonly iw: number;
  readonly cells: number;
  readonly updated_at_ms: number;
};

/** The rows that publish a model's grid to the materialized views. */
export function gridRows(model: string, grid: GridSpec, nowMs: number): GridRow[] {
  return [...grid.features.values()].map((g) => ({
    model,
    feature: g.name,
    grid: grid.id,
    lo: g.lo,
    iw: g.inverseWidth,
    cells: grid.cells,
    updated_at_ms: nowMs,
  }));
}

/** The grid the views currently use per feature of one model. */
export function currentGridQuery(db: string, model: string): string {
  return `SELECT feature, argMax(grid, updated_at_ms) AS grid FROM ${db}.monitor_grids WHERE model = ${sqlString(model)} GROUP BY feature`;
}

// ---- status and proofs ---------------------------------------------------------------------

/** Events per minute stored in the minute rollup, in the given ranges. */
export function minuteEventsQuery(db: string, model: string, ranges: readonly SecondsRange[]): string {
  return `SELECT toUInt32(bucket) AS b, sum(n) AS n FROM ${db}.rollup_events_1m
WHERE model = ${sqlString(model)} AND ${rangesFilter('bucket', ranges)} GROUP BY b ORDER BY b`;
}

/** Per hour of the range: the events its minutes hold, and the hour's seal (events, grid). */
export function hourStatusQuery(db: string, model: string, hours: SecondsRange): string {
  const m = sqlString(model);
  const inRange = `bucket >= ${at(hours.fromS)} AND bucket < ${at(hours.toS)}`;
  return `SELECT h, sumIf(v, src = 1) AS minutes, sumIf(v, src = 2) AS sealed, maxIf(g, src = 2) AS grid FROM (
  SELECT toUInt32(toDateTime(intDiv(toUInt32(bucket), 3600) * 3600)) AS h, sum(n) AS v, toUInt64(0) AS g, 1 AS src FROM ${db}.rollup_events_1m
    WHERE model = ${m} AND ${inRange} GROUP BY h
  UNION ALL
  SELECT toUInt32(bucket) AS h, argMax(events, sealed_at_ms) AS v, argMax(grid, sealed_at_ms) AS g, 2 AS src FROM ${db}.rollup_hours
    WHERE model = ${m} AND ${inRange} GROUP BY h
) GROUP BY h ORDER BY h`;
}

/** Rows per minute left after replayed copies collapse (FINAL), in the given ranges. */
export function finalMinuteCountsQuery(db: string, model: string, ranges: readonly SecondsRange[]): string {
  return `SELECT toUInt32(toStartOfMinute(ts)) AS b, count() AS n FROM ${db}.predictions FINAL
WHERE model = ${sqlString(model)} AND ${rangesFilter('ts', ranges)} GROUP BY b ORDER BY b`;
}

/**
 * Per minute of the ranges: values counted on `grid` and numeric values of the grid's features
 * (equal when every value of the minute has its cell on that grid).
 */
export function gridCoverageQuery(
  db: string,
  model: string,
  ranges: readonly SecondsRange[],
  grid: GridSpec,
): string {
  const m = sqlString(model);
  const names = sqlStringList([...grid.features.keys()]);
  return `SELECT b, sumIf(v, src = 1) AS cells, sumIf(v, src = 2) AS values FROM (
  SELECT toUInt32(bucket) AS b, sum(n) AS v, 1 AS src FROM ${db}.rollup_cells_1m
    WHERE model = ${m} AND grid = ${sqlNumber(grid.id)} AND ${rangesFilter('bucket', ranges)} GROUP BY b
  UNION ALL
  SELECT toUInt32(bucket) AS b, sumMerge(n) AS v, 2 AS src FROM ${db}.rollup_moments_1m
    WHERE model = ${m} AND has(${names}, feature) AND ${rangesFilter('bucket', ranges)} GROUP BY b
) GROUP BY b ORDER BY b`;
}

// ---- corrections: what the raw rows say, less what the rollup holds --------------------------

/**
 * Statements that make the minute rollups of `ranges` equal to the raw rows (FINAL): each inserts
 * the difference, so running one twice, or beside the views, converges. Cells are corrected for
 * `grid` only (cells of other grids are never read).
 */
export function correctMinutesStatements(
  db: string,
  model: string,
  ranges: readonly SecondsRange[],
  grid: GridSpec | undefined,
): string[] {
  const m = sqlString(model);
  const raw = `${db}.predictions FINAL`;
  const rawWhere = `model = ${m} AND ${rangesFilter('ts', ranges)}`;
  const rollupWhere = `model = ${m} AND ${rangesFilter('bucket', ranges)}`;
  const minute = 'toStartOfMinute(ts)';
  const statements = [
    `INSERT INTO ${db}.rollup_events_1m (model, bucket, n)
SELECT model, bucket, sum(n) AS d FROM (
  SELECT model, ${minute} AS bucket, toInt64(count()) AS n FROM ${raw} WHERE ${rawWhere} GROUP BY model, bucket
  UNION ALL
  SELECT model, bucket, -sum(n) AS n FROM ${db}.rollup_events_1m WHERE ${rollupWhere} GROUP BY model, bucket
) GROUP BY model, bucket HAVING d != 0`,
    momentsDelta(
      db,
      '1m',
      `SELECT model, ${minute} AS bucket, name AS feature, toInt64(count()) AS n, sum(value) AS s,
      sum(value * value) AS sq, min(value) AS mn, max(value) AS mx
    FROM ${raw} ARRAY JOIN num_names AS name, num_values AS value WHERE ${rawWhere}
    GROUP BY model, bucket, feature`,
      `SELECT model, bucket, feature, -sumMerge(n) AS n, -sumMerge(s) AS s, -sumMerge(sq) AS sq,
      inf AS mn, -inf AS mx
    FROM ${db}.rollup_moments_1m WHERE ${rollupWhere} GROUP BY model, bucket, feature`,
    ),
    `INSERT INTO ${db}.rollup_categories_1m (model, bucket, feature, value, n)
SELECT model, bucket, feature, value, sum(n) AS d FROM (
  SELECT model, ${minute} AS bucket, name AS feature, value, toInt64(count()) AS n FROM ${raw}
    ARRAY JOIN arrayConcat(cat_names, missing_names) AS name,
      arrayConcat(cat_values, arrayMap(x -> ${sqlString(MISSING_MARKER)}, missing_names)) AS value
    WHERE ${rawWhere} GROUP BY model, bucket, feature, value
  UNION ALL
  SELECT model, bucket, feature, value, -sum(n) AS n FROM ${db}.rollup_categories_1m
    WHERE ${rollupWhere} GROUP BY model, bucket, feature, value
) GROUP BY model, bucket, feature, value HAVING d != 0`,
  ];
  if (grid !== undefined && grid.features.size > 0) {
    const { names, lo, iw } = gridLookups(grid, 'name');
    statements.push(`INSERT INTO ${db}.rollup_cells_1m (model, bucket, feature, grid, cell, n)
SELECT model, bucket, feature, ${sqlNumber(grid.id)} AS grid, cell, sum(n) AS d FROM (
  SELECT model, ${minute} AS bucket, name AS feature, ${cellExpression('value', lo, iw, sqlNumber(grid.cells))} AS cell,
      toInt64(count()) AS n
    FROM ${raw} ARRAY JOIN num_names AS name, num_values AS value WHERE ${rawWhere} AND has(${names}, name)
    GROUP BY model, bucket, feature, cell
  UNION ALL
  SELECT model, bucket, feature, cell, -sum(n) AS n FROM ${db}.rollup_cells_1m
    WHERE ${rollupWhere} AND grid = ${sqlNumber(grid.id)} GROUP BY model, bucket, feature, cell
) GROUP BY model, bucket, feature, cell HAVING d != 0`);
  }
  return statements;
}

/**
 * Inserts, into `rollup_moments_<level>`, the difference of two row sets of plain moments (count,
 * sum, sum of squares, min, max): `truth` minus `held` (whose n, s, sq are already negated and
 * whose mn/mx are ±inf, so they never move a min or max).
 */
function momentsDelta(db: string, level: '1m' | '1h', truth: string, held: string): string {
  return `INSERT INTO ${db}.rollup_moments_${level} (model, bucket, feature, n, s, sq, mn, mx)
SELECT model, bucket, feature, sumState(dn), sumState(ds), sumState(dsq), minState(vmin), maxState(vmax) FROM (
  SELECT model, bucket, feature, sum(n) AS dn, sum(s) AS ds, sum(sq) AS dsq, min(mn) AS vmin, max(mx) AS vmax FROM (
    ${truth}
    UNION ALL
    ${held}
  ) GROUP BY model, bucket, feature
) WHERE dn != 0 GROUP BY model, bucket, feature`;
}

/**
 * Statements that make the hour rollup of `hourS` equal to the sum of its minutes (cells of
 * `grid` only), then record the seal: the hour's events and grid.
 */
export function sealHourStatements(
  db: string,
  model: string,
  hourS: number,
  grid: GridSpec | undefined,
  events: number,
  nowMs: number,
): string[] {
  const m = sqlString(model);
  const minutes = `model = ${m} AND bucket >= ${at(hourS)} AND bucket < ${at(hourS + 3600)}`;
  const hour = `model = ${m} AND bucket = ${at(hourS)}`;
  const statements = [
    `INSERT INTO ${db}.rollup_events_1h (model, bucket, n)
SELECT model, h, sum(n) AS d FROM (
  SELECT model, toDateTime(intDiv(toUInt32(bucket), 3600) * 3600) AS h, sum(n) AS n FROM ${db}.rollup_events_1m WHERE ${minutes} GROUP BY model, h
  UNION ALL
  SELECT model, bucket AS h, -sum(n) AS n FROM ${db}.rollup_events_1h WHERE ${hour} GROUP BY model, h
) GROUP BY model, h HAVING d != 0`,
    momentsDelta(
      db,
      '1h',
      `SELECT model, h AS bucket, feature, n, s, sq, mn, mx FROM (
      SELECT model, toDateTime(intDiv(toUInt32(bucket), 3600) * 3600) AS h, feature, sumMerge(n) AS n, sumMerge(s) AS s,
        sumMerge(sq) AS sq, minMerge(mn) AS mn, maxMerge(mx) AS mx
      FROM ${db}.rollup_moments_1m WHERE ${minutes} GROUP BY model, h, feature)`,
      `SELECT model, bucket, feature, -sumMerge(n) AS n, -sumMerge(s) AS s, -sumMerge(sq) AS sq,
      inf AS mn, -inf AS mx
    FROM ${db}.rollup_moments_1h WHERE ${hour} GROUP BY model, bucket, feature`,
    ),
    `INSERT INTO ${db}.rollup_categories_1h (model, bucket, feature, value, n)
SELECT model, h, feature, value, sum(n) AS d FROM (
  SELECT model, toDateTime(intDiv(toUInt32(bucket), 3600) * 3600) AS h, feature, value, sum(n) AS n FROM ${db}.rollup_categories_1m
    WHERE ${minutes} GROUP BY model, h, feature, value
  UNION ALL
  SELECT model, bucket AS h, feature, value, -sum(n) AS n FROM ${db}.rollup_categories_1h
    WHERE ${hour} GROUP BY model, h, feature, value
) GROUP BY model, h, feature, value HAVING d != 0`,
  ];
  if (grid !== undefined && grid.features.size > 0) {
    const g = sqlNumber(grid.id);
    statements.push(`INSERT INTO ${db}.rollup_cells_1h (model, bucket, feature, grid, cell, n)
SELECT model, h, feature, ${g} AS grid, cell, sum(n) AS d FROM (
  SELECT model, toDateTime(intDiv(toUInt32(bucket), 3600) * 3600) AS h, feature, cell, sum(n) AS n FROM ${db}.rollup_cells_1m
    WHERE ${minutes} AND grid = ${g} GROUP BY model, h, feature, cell
  UNION ALL
  SELECT model, bucket AS h, feature, cell, -sum(n) AS n FROM ${db}.rollup_cells_1h
    WHERE ${hour} AND grid = ${g} GROUP BY model, h, feature, cell
) GROUP BY model, h, feature, cell HAVING d != 0`);
  }
  statements.push(
    `INSERT INTO ${db}.rollup_hours (model, bucket, grid, events, sealed_at_ms) VALUES (${m}, ${at(hourS)}, ${sqlNumber(grid?.id ?? 0)}, ${sqlNumber(events)}, ${sqlNumber(nowMs)})`,
  );
  return statements;
}

// ---- reading a window's partial states -----------------------------------------------------

/** Where one model's window is read from the rollups: whole hours, and minutes around them. */
export interface RollupSpan {
  readonly hours: SecondsRange | undefined;
  readonly minutes: readonly SecondsRange[];
}

/**
 * The two levels of one aggregate as one row set: `hourSelect` over the hour table and the same
 * over the minute table, each restricted to the span and the model (and for a slice).
 */
function bothLevels(
  db: string,
  table: string,
  model: string,
  span: RollupSpan,
  select: string,
  groupBy: string,
  extraWhere = '',
): string {
  const m = sqlString(model);
  const branches: string[] = [];
  if (span.hours !== undefined)
    branches.push(
      `SELECT ${select} FROM ${db}.${table}_1h WHERE model = ${m} AND bucket >= ${at(span.hours.fromS)} AND bucket < ${at(span.hours.toS)}${extraWhere} GROUP BY ${groupBy}`,
    );
  if (span.minutes.length > 0)
    branches.push(
      `SELECT ${select} FROM ${db}.${table}_1m WHERE model = ${m} AND ${rangesFilter('bucket', span.minutes)}${extraWhere} GROUP BY ${groupBy}`,
    );
  return branches.join('\nUNION ALL\n');
}

/** Whether a span reads anything. */
export function spanIsEmpty(span: RollupSpan): boolean {
  return span.hours === undefined && span.minutes.length === 0;
}

export function partialEventsQuery(db: string, model: string, span: RollupSpan): string {
  return `SELECT sum(n) AS n FROM (
${bothLevels(db, 'rollup_events', model, span, 'sum(n) AS n', 'model')}
)`;
}

export function partialMomentsQuery(db: string, model: string, span: RollupSpan): string {
  return `SELECT feature, sum(n) AS n, sum(s) AS s, sum(sq) AS sq, min(mn) AS mn, max(mx) AS mx FROM (
${bothLevels(
  db,
  'rollup_moments',
  model,
  span,
  'feature, sumMerge(n) AS n, sumMerge(s) AS s, sumMerge(sq) AS sq, minMerge(mn) AS mn, maxMerge(mx) AS mx',
  'feature',
)}
) GROUP BY feature HAVING n != 0 ORDER BY feature`;
}

/** Cells of `grid` per feature, as TabSeparated `feature \t cell \t n` (features are identifiers-like names). */
export function partialCellsQuery(db: string, model: string, span: RollupSpan, gridId: number): string {
  return `SELECT feature, cell, sum(n) AS c FROM (
${bothLevels(
  db,
  'rollup_cells',
  model,
  span,
  'feature, cell, sum(n) AS n',
  'feature, cell',
  ` AND grid = ${sqlNumber(gridId)}`,
)}
) GROUP BY feature, cell HAVING c != 0`;
}

export function partialCategoriesQuery(
  db: string,
  model: string,
  span: RollupSpan,
  perFeature: number,
): string {
  return `SELECT feature AS n, value AS v, sum(c) AS c FROM (
${bothLevels(db, 'rollup_categories', model, span, 'feature, value, sum(n) AS c', 'feature, value')}
) GROUP BY feature, value HAVING c != 0 ORDER BY n, c DESC, v LIMIT ${sqlNumber(perFeature)} BY n`;
}

/** `db` for the queries above: validated and quoted once by the caller. */
export function rollupDatabase(database: string): string {
  return sqlIdentifier(database);
}
