import type { Migration } from '../../kernel/migrations.js';

/**
 * The alerting tables, for the daemon's migration list (versions 20+ belong to alerting).
 * Everything is append-only: ClickHouse 18.16 has no cheap UPDATE, so the latest status of a
 * delivery is computed with argMax over its attempts log, and the policy state is the newest
 * row per model (ReplacingMergeTree collapses older ones in the background).
 *
 * - alert_notifications: every notification (and model event) as produced, for GET /v1/alerts.
 * - alert_outbox: one row per (message, sink) to deliver; the message JSON, never the sink's
 *   secrets (payloads are rebuilt from it at send time).
 * - alert_deliveries: one row per attempt; status delivered | failed (will retry) | dead.
 * - alert_state: the policy's per-model state JSON, so a restart neither re-fires nor forgets.
 */
export const ALERT_MIGRATIONS: readonly Migration[] = [
  {
    version: 20,
    name: 'alerts',
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.alert_notifications (
        notification_id String,
        kind String,
        group_key String,
        model String,
        status String,
        created_at_ms UInt64,
        created_at DateTime,
        body String
      ) ENGINE = MergeTree
      PARTITION BY toYYYYMM(created_at)
      ORDER BY (model, created_at_ms, notification_id)`,
      `CREATE TABLE IF NOT EXISTS ${db}.alert_outbox (
        delivery_id String,
        notification_id String,
        sink String,
        model String,
        seq UInt32,
        created_at_ms UInt64,
        created_at DateTime,
        message String
      ) ENGINE = MergeTree
      PARTITION BY toYYYYMM(created_at)
      ORDER BY (created_at_ms, seq, delivery_id)`,
      `CREATE TABLE IF NOT EXISTS ${db}.alert_deliveries (
        delivery_id String,
        notification_id String,
        sink String,
        attempt UInt32,
        status String,
        http_status UInt16,
        error String,
        at_ms UInt64,
        at DateTime,
        next_attempt_at_ms UInt64
      ) ENGINE = MergeTree
      PARTITION BY toYYYYMM(at)
      ORDER BY (delivery_id, attempt, at_ms)`,
      `CREATE TABLE IF NOT EXISTS ${db}.alert_state (
        model String,
        state String,
        updated_at_ms UInt64,
        updated_at DateTime
      ) ENGINE = ReplacingMergeTree(updated_at_ms)
      ORDER BY model`,
    ],
  },
];
