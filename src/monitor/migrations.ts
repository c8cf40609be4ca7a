import type { Migration } from '../../kernel/migrations.js';

/**
 * Tables the monitor writes. Every evaluation is appended (never updated) so Grafana can chart
 * history; "latest" views are `argMax(..., evaluated_at)` queries. Partitioned by month: these
 * tables grow by (models × features × detectors) rows per interval, not by events.
 */
export const MONITOR_MIGRATIONS: readonly Migration[] = [
  {
    version: 10,
    name: 'monitor',
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.reference_profiles (
        model String,
        created_at DateTime,
        source String,
        rows UInt64,
        profile String
      ) ENGINE = ReplacingMergeTree(created_at)
      ORDER BY model`,
      `CREATE TABLE IF NOT EXISTS ${db}.drift_results (
        model String,
        evaluated_at DateTime,
        window_start DateTime,
        window_end DateTime,
        segment String,
        feature String,
        kind String,
        detector String,
        statistic Float64,
        p_value Nullable(Float64),
        effect Nullable(Float64),
        threshold Float64,
        drifted UInt8,
        status String,
        window_count UInt64,
        reference_count UInt64,
        details String
      ) ENGINE = MergeTree
      PARTITION BY toYYYYMM(evaluated_at)
      ORDER BY (model, evaluated_at, feature, detector)`,
      `CREATE TABLE IF NOT EXISTS ${db}.performance_results (
        model String,
        evaluated_at DateTime,
        window_start DateTime,
        window_end DateTime,
        segment String,
        metric String,
        value Float64,
        threshold Nullable(Float64),
        breaching UInt8,
        labelled UInt64,
        total UInt64,
        coverage Float64
      ) ENGINE = MergeTree
      PARTITION BY toYYYYMM(evaluated_at)
      ORDER BY (model, evaluated_at, metric)`,
      `CREATE TABLE IF NOT EXISTS ${db}.quality_results (
        model String,
        evaluated_at DateTime,
        window_start DateTime,
        window_end DateTime,
        feature String,
        rule String,
        value Float64,
        threshold Float64,
        breaching UInt8,
        details String
      ) ENGINE = MergeTree
      PARTITION BY toYYYYMM(evaluated_at)
      ORDER BY (model, evaluated_at, rule, feature)`,
      `CREATE TABLE IF NOT EXISTS ${db}.model_health (
        model String,
        evaluated_at DateTime,
        window_start DateTime,
        window_end DateTime,
        status String,
        reasons String,
        window_count UInt64,
        features UInt32,
        drifted_features UInt32,
        replica String
      ) ENGINE = MergeTree
      PARTITION BY toYYYYMM(evaluated_at)
      ORDER BY (model, evaluated_at)`,
    ],
  },
  {
    // quality_results predates segments and has no segment column; 18.16 has no
    // `ADD COLUMN IF NOT EXISTS`, and migrations must stay idempotent (two replicas may run them
    // at once), so segments' quality rows get a table of their own.
    version: 11,
    name: 'monitor segments',
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.segment_quality_results (
        model String,
        evaluated_at DateTime,
        window_start DateTime,
        window_end DateTime,
        segment String,
        feature String,
        rule String,
        value Float64,
        threshold Float64,
        breaching UInt8,
        details String
      ) ENGINE = MergeTree
      PARTITION BY toYYYYMM(evaluated_at)
      ORDER BY (model, evaluated_at, segment, rule, feature)`,
    ],
  },
];
