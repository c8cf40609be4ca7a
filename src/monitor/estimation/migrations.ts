import type { Migration } from '../../../kernel/migrations.js';

/**
 * Tables of estimated performance, multivariate drift and attribution (issue 15). New tables
 * rather than new columns: migrations stay plain `CREATE TABLE IF NOT EXISTS`, idempotent on
 * ClickHouse 18.16 and current alike, and the monitor's other tables keep their shape.
 *
 * - `reference_estimators`: the estimators fitted on a reference (plain JSON, one row per fit;
 *   a reference whose labels arrive later is fitted again, the newest fit wins), keyed by the
 *   model and the reference's creation time (its identity, as the rollups' grid id).
 * - `estimation_results`: per evaluation window and estimated metric, the estimate, its band,
 *   the reference band, the realized value once labels arrived and the label coverage.
 * - `feature_attribution`: the top features that explain a warning or critical model.
 *
 * The multivariate drift result is a row of `drift_results` (feature `__multivariate__`,
 * detector `pca_reconstruction`), like every other drift result.
 */
export const ESTIMATION_MIGRATIONS: readonly Migration[] = [
  {
    version: 13,
    name: 'estimated performance',
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.reference_estimators (
        model String,
        reference_created_at_ms UInt64,
        fitted_at_ms UInt64,
        status String,
        estimators String
      ) ENGINE = ReplacingMergeTree(fitted_at_ms)
      ORDER BY (model, reference_created_at_ms)`,
      `CREATE TABLE IF NOT EXISTS ${db}.estimation_results (
        model String,
        evaluated_at DateTime,
        window_start DateTime,
        window_end DateTime,
        segment String,
        metric String,
        method String,
        estimated Nullable(Float64),
        estimated_lower Nullable(Float64),
        estimated_upper Nullable(Float64),
        reference_value Nullable(Float64),
        reference_lower Nullable(Float64),
        reference_upper Nullable(Float64),
        realized Nullable(Float64),
        labelled UInt64,
        total UInt64,
        coverage Float64,
        threshold Nullable(Float64),
        breaching UInt8,
        details String
      ) ENGINE = MergeTree
      PARTITION BY toYYYYMM(evaluated_at)
      ORDER BY (model, evaluated_at, metric)`,
      `CREATE TABLE IF NOT EXISTS ${db}.feature_attribution (
        model String,
        evaluated_at DateTime,
        window_start DateTime,
        window_end DateTime,
        status String,
        rank UInt8,
        feature String,
        score Float64,
        effect Nullable(Float64),
        reconstruction Nullable(Float64),
        performance Nullable(Float64),
        basis String
      ) ENGINE = MergeTree
      PARTITION BY toYYYYMM(evaluated_at)
      ORDER BY (model, evaluated_at, rank)`,
    ],
  },
];
