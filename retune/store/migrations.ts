import type { Migration } from '../../kernel/migrations.js';

/**
 * Retune tables (versions 30-39 are reserved for retune). The first columns of each table are a
 * contract with the Grafana dashboards: never rename or reorder them; add columns at the end.
 *
 * Every state change appends a row. `updated_at` has second resolution, so rows written within
 * one second tie on the ReplacingMergeTree version; `revision` (a per-writer monotonic
 * millisecond counter, added after the contract columns) orders them for readers, and merges
 * keep the last-inserted row of a tie, which is the highest revision.
 */
export const RETUNE_MIGRATIONS: readonly Migration[] = [
  {
    version: 30,
    name: 'retune studies and trials',
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.studies (
        study_id String,
        model String,
        created_at DateTime,
        updated_at DateTime,
        state String,
        trigger String,
        direction String,
        objective String,
        sampler String,
        pruner String,
        seed UInt64,
        max_trials UInt32,
        snapshot String,
        best_trial Int32,
        best_value Nullable(Float64),
        revision UInt64,
        error String,
        dataset String
      ) ENGINE = ReplacingMergeTree(updated_at)
      ORDER BY (model, study_id)`,
      `CREATE TABLE IF NOT EXISTS ${db}.trials (
        study_id String,
        model String,
        trial UInt32,
        state String,
        params String,
        value Nullable(Float64),
        intermediate String,
        started_at DateTime,
        finished_at DateTime,
        device String,
        updated_at DateTime,
        revision UInt64,
        fail_reason String,
        artifact_path String
      ) ENGINE = ReplacingMergeTree(updated_at)
      ORDER BY (study_id, trial)`,
    ],
  },
  {
    version: 31,
    name: 'retune model registry and promotion audit',
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.model_versions (
        model String,
        version String,
        created_at DateTime,
        study_id String,
        trial Int32,
        artifact_uri String,
        params String,
        metrics String
      ) ENGINE = ReplacingMergeTree(created_at)
      ORDER BY (model, version)`,
      `CREATE TABLE IF NOT EXISTS ${db}.alias_events (
        model String,
        alias String,
        version String,
        previous_version String,
        at DateTime,
        actor String,
        action String,
        reason String,
        evidence String,
        revision UInt64
      ) ENGINE = MergeTree
      ORDER BY (model, at)`,
      `CREATE TABLE IF NOT EXISTS ${db}.promotion_decisions (
        model String,
        study_id String,
        decided_at DateTime,
        challenger_version String,
        champion_version String,
        promoted UInt8,
        metric String,
        champion_value Float64,
        challenger_value Float64,
        improvement Float64,
        p_value Nullable(Float64),
        ci_low Nullable(Float64),
        ci_high Nullable(Float64),
        test String,
        reason String,
        evidence String
      ) ENGINE = MergeTree
      ORDER BY (model, decided_at)`,
    ],
  },
  {
    version: 32,
    name: 'retune: each model version carries its scoring spec; studies record their data window',
    statements: () => [
      { addColumn: { table: 'model_versions', column: 'scoring', definition: "String DEFAULT ''" } },
      { addColumn: { table: 'studies', column: 'data_window', definition: "String DEFAULT ''" } },
    ],
  },
];
