import type { Migration } from '../../kernel/migrations.js';

/**
 * The event tables. Events are keyed by (model, ts, id) in a ReplacingMergeTree: a replay after
 * a crash re-sends the same record, with the same timestamp, so its copy collapses onto the
 * original; readers that must not see the short-lived copy before the merge use `FINAL` (see
 * queries in the monitor). Features are stored as parallel arrays per kind so one pass with
 * ARRAY JOIN aggregates every feature of a window at once.
 */
export const EVENT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events',
    // On a cluster every copy of one event (a replay) and its outcome land on one shard: FINAL
    // collapses replays there, and a prediction meets its outcome on the same node.
    shardingKeys: { predictions: 'cityHash64(model, id)', outcomes: 'cityHash64(model, id)' },
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.predictions (
        model String,
        ts DateTime,
        ts_ms UInt64,
        id String,
        version String,
        num_names Array(String),
        num_values Array(Float64),
        cat_names Array(String),
        cat_values Array(String),
        missing_names Array(String),
        prediction_number Nullable(Float64),
        prediction_label String,
        score Nullable(Float64),
        score_classes Array(String),
        score_values Array(Float64),
        extra String,
        source String,
        ingested_at DateTime
      ) ENGINE = ReplacingMergeTree(ingested_at)
      PARTITION BY toYYYYMMDD(ts)
      ORDER BY (model, ts, id)`,
      `CREATE TABLE IF NOT EXISTS ${db}.outcomes (
        model String,
        ts DateTime,
        ts_ms UInt64,
        id String,
        label String,
        label_number Nullable(Float64),
        extra String,
        source String,
        ingested_at DateTime
      ) ENGINE = ReplacingMergeTree(ingested_at)
      PARTITION BY toYYYYMMDD(ts)
      ORDER BY (model, id)`,
    ],
  },
  {
    version: 2,
    name: 'predictions numeric layout hash',
    // The monitor aggregates numeric features by position within a layout (the event's list of
    // numeric feature names) instead of hashing a name per value; ClickHouse computes the
    // layout's hash once per event at insert (old parts compute it when read).
    statements: () => [
      {
        addColumn: {
          table: 'predictions',
          column: 'num_layout',
          definition: 'UInt64 MATERIALIZED cityHash64(num_names)',
        },
      },
    ],
  },
  {
    version: 3,
    name: 'ingest ledger',
    // Rows each insert put into each (model, minute), written by the ingest after the rows
    // (ingest-ledger.ts): the monitor's rollups learn from it which minutes changed.
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.rollup_ledger (
        model String, bucket DateTime, n Int64
      ) ENGINE = SummingMergeTree(n) PARTITION BY toYYYYMMDD(bucket) ORDER BY (model, bucket)`,
    ],
  },
];
