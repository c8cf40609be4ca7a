import type { Migration } from '../../kernel/migrations.js';
import { sqlString } from '../../kernel/sql.js';
import { MISSING_MARKER } from './queries.js';

/**
 * Partial aggregates of the window's rows, kept as events are stored, so that a monitor cycle
 * merges O(buckets × cells) states instead of scanning rows (docs/monitoring.md, "Rollups").
 *
 * Per model and minute: event counts, numeric moments (count, sum, sum of squares,
 * min, max) per feature, numeric counts per cell of the feature's reference grid, and category
 * counts per feature (missing values under a marker). Materialized views fill the minute tables
 * from every insert into `predictions`; the monitor keeps the hour tables (ClickHouse 18.16 does
 * not cascade one view's writes into another view) and the minute tables' corrections:
 *
 * - Grids: the cells a value falls in depend on the model's reference, so the views look up each
 *   feature's grid in `monitor_grids` (written by the monitor when it loads a reference) and tag
 *   every cell row with the grid's id. Rows stored before a grid existed get their cells for it
 *   by a rebuild from the raw rows.
 * - Replays: at-least-once ingest may store a row twice; the views count both copies, the
 *   ReplacingMergeTree keeps one. The monitor proves each minute's count against the raw rows
 *   with FINAL and, where they differ, inserts the difference (counts and sums are signed).
 *
 * Tables are partitioned by day like the events, so retention drops them with the events.
 * Readers never rely on merges: they GROUP BY and sum (-Merge the states).
 */

/** The rollup levels: minutes (kept by materialized views) and hours (kept by the monitor). */
export const ROLLUP_LEVELS = ['1m', '1h'] as const;
export type RollupLevel = (typeof ROLLUP_LEVELS)[number];

export const ROLLUP_TABLES = [
  'rollup_events',
  'rollup_moments',
  'rollup_cells',
  'rollup_categories',
] as const;
export type RollupTable = (typeof ROLLUP_TABLES)[number];

/** `rollup_cells_1m` and the like: every rollup table of every level (for retention). */
export const ROLLUP_TABLE_NAMES: readonly string[] = ROLLUP_LEVELS.flatMap((level) =>
  ROLLUP_TABLES.map((table) => `${table}_${level}`),
);

const partitioned = 'PARTITION BY toYYYYMMDD(bucket)';

function tables(db: string, level: RollupLevel): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${db}.rollup_events_${level} (
      model String, bucket DateTime, n Int64
    ) ENGINE = SummingMergeTree(n) ${partitioned} ORDER BY (model, bucket)`,
    `CREATE TABLE IF NOT EXISTS ${db}.rollup_moments_${level} (
      model String, bucket DateTime, feature String,
      n AggregateFunction(sum, Int64), s AggregateFunction(sum, Float64), sq AggregateFunction(sum, Float64),
      mn AggregateFunction(min, Float64), mx AggregateFunction(max, Float64)
    ) ENGINE = AggregatingMergeTree ${partitioned} ORDER BY (model, bucket, feature)`,
    `CREATE TABLE IF NOT EXISTS ${db}.rollup_cells_${level} (
      model String, bucket DateTime, feature String, grid UInt64, cell Int32, n Int64
    ) ENGINE = SummingMergeTree(n) ${partitioned} ORDER BY (model, bucket, feature, grid, cell)`,
    `CREATE TABLE IF NOT EXISTS ${db}.rollup_categories_${level} (
      model String, bucket DateTime, feature String, value String, n Int64
    ) ENGINE = SummingMergeTree(n) ${partitioned} ORDER BY (model, bucket, feature, value)`,
  ];
}

/** The latest grid of every (model, feature), as the views and rebuilds join it. */
export function latestGrids(db: string): string {
  return `(SELECT model, feature AS name, argMax(grid, updated_at_ms) AS grid, argMax(lo, updated_at_ms) AS lo,
  argMax(iw, updated_at_ms) AS iw, argMax(cells, updated_at_ms) AS cells FROM ${db}.monitor_grids GROUP BY model, feature)`;
}

/**
 * The cell of `value` on a grid (lo, iw = cells / width, cells): 1..cells inside, 0 below,
 * cells + 1 at or above the top — the same cells as the raw histogram query (queries.ts).
 */
export function cellExpression(value: string, lo: string, iw: string, cells: string): string {
  return `toInt32(greatest(-1., least(toFloat64(${cells}), floor((${value} - ${lo}) * ${iw}))) + 1)`;
}

const minute = 'toStartOfMinute(ts)';

function views(db: string): string[] {
  const missing = sqlString(MISSING_MARKER);
  return [
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.rollup_events_1m_mv TO ${db}.rollup_events_1m AS
      SELECT model, ${minute} AS bucket, toInt64(count()) AS n
      FROM ${db}.predictions GROUP BY model, bucket`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.rollup_moments_1m_mv TO ${db}.rollup_moments_1m AS
      SELECT model, ${minute} AS bucket, name AS feature, sumState(toInt64(1)) AS n, sumState(value) AS s,
        sumState(value * value) AS sq, minState(value) AS mn, maxState(value) AS mx
      FROM ${db}.predictions ARRAY JOIN num_names AS name, num_values AS value
      GROUP BY model, bucket, feature`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.rollup_cells_1m_mv TO ${db}.rollup_cells_1m AS
      SELECT model, ${minute} AS bucket, name AS feature, grid, ${cellExpression('value', 'lo', 'iw', 'cells')} AS cell,
        toInt64(count()) AS n
      FROM ${db}.predictions ARRAY JOIN num_names AS name, num_values AS value
      ALL INNER JOIN ${latestGrids(db)} AS g USING (model, name)
      GROUP BY model, bucket, feature, grid, cell`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.rollup_categories_1m_mv TO ${db}.rollup_categories_1m AS
      SELECT model, ${minute} AS bucket, name AS feature, value, toInt64(count()) AS n
      FROM ${db}.predictions
      ARRAY JOIN arrayConcat(cat_names, missing_names) AS name,
        arrayConcat(cat_values, arrayMap(x -> ${missing}, missing_names)) AS value
      GROUP BY model, bucket, feature, value`,
  ];
}

export const ROLLUP_MIGRATIONS: readonly Migration[] = [
  {
    version: 12,
    name: 'monitor rollups',
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.monitor_grids (
        model String, feature String, grid UInt64, lo Float64, iw Float64, cells UInt32, updated_at_ms UInt64
      ) ENGINE = ReplacingMergeTree(updated_at_ms) ORDER BY (model, feature)`,
      // Which hours the monitor has rolled up, from how many events and on which grid.
      `CREATE TABLE IF NOT EXISTS ${db}.rollup_hours (
        model String, bucket DateTime, grid UInt64, events Int64, sealed_at_ms UInt64
      ) ENGINE = ReplacingMergeTree(sealed_at_ms) ${partitioned} ORDER BY (model, bucket)`,
      ...ROLLUP_LEVELS.flatMap((level) => tables(db, level)),
      // Views last: every table they write exists.
      ...views(db),
    ],
  },
];
