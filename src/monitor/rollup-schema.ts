import type { Migration } from '../../kernel/migrations.js';

/**
 * Partial aggregates of the windows' rows, so that a monitor cycle merges O(buckets × cells)
 * states instead of scanning rows (docs/monitoring.md, "Rollups").
 *
 * Per model and minute: event counts, numeric moments (count, sum, sum of squares, min, max) per
 * feature, numeric counts per cell of the feature's reference grid (tagged with the grid's id),
 * and category counts per feature (missing values under a marker); per model and hour, the same
 * summed from its minutes.
 *
 * - A ledger, `rollup_ledger` (model, minute, rows inserted), is written by the daemon's ingest
 *   after each insert of rows (src/store/ingest-ledger.ts; the table is an event table, migration 3). It tells the monitor that a minute
 *   changed — a late row, a replayed copy — without reading the rows. It counts inserts, not
 *   distinct rows: only its changes matter. (A materialized view would count every writer's
 *   rows, but on replicated 18.16 tables a view's failed insert makes the retried block of
 *   events be stored twice.)
 * - Everything else is filled by the monitor's keeper (rollup-keeper.ts), off the ingest path:
 *   once a minute is sealed (older than `monitoring.rollups.openMs`) it aggregates the minute's
 *   rows (FINAL, so a replayed copy counts once) for every model of a cycle in one statement per
 *   table, inserting the difference between the rows and what the rollup holds (again for a
 *   minute whose ledger moved, which takes in a late row's share). Views that
 *   ARRAY JOIN every feature of every inserted row cost the ingest path ~15% of its CPU; a
 *   statement per cycle over an hour's rows costs the monitor a fraction of one full scan.
 * - Rows written by anything else (an INSERT … SELECT backfill) are taken in when their minutes
 *   are first proved; to have them taken into minutes already proved, write their counts to the
 *   ledger too (docs/monitoring.md, "Rollups").
 *
 * Tables are partitioned by day like the events, so retention drops them with the events.
 * Readers never rely on merges: they GROUP BY and sum (-Merge the states).
 */

/** The rollup levels: minutes and hours. */
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

/**
 * The cell of `value` on a grid (lo, iw = cells / width, cells): 1..cells inside, 0 below,
 * cells + 1 at or above the top — the same cells as the raw histogram query (queries.ts).
 */
export function cellExpression(value: string, lo: string, iw: string, cells: string): string {
  return `toInt32(greatest(-1., least(toFloat64(${cells}), floor((${value} - ${lo}) * ${iw}))) + 1)`;
}

export const ROLLUP_MIGRATIONS: readonly Migration[] = [
  {
    version: 12,
    name: 'monitor rollups',
    statements: (db) => [
      // Which hours the monitor has rolled up, at which ledger count and on which grid.
      `CREATE TABLE IF NOT EXISTS ${db}.rollup_hours (
        model String, bucket DateTime, grid UInt64, ledger Int64, sealed_at_ms UInt64
      ) ENGINE = ReplacingMergeTree(sealed_at_ms) ${partitioned} ORDER BY (model, bucket)`,
      ...ROLLUP_LEVELS.flatMap((level) => tables(db, level)),
    ],
  },
];
