import { everyShard, localTable } from '../../kernel/cluster-ddl.js';
import type { Logger } from '../../kernel/logger.js';
import type { Store } from '../../kernel/store.js';
import { ROLLUP_TABLE_NAMES } from '../monitor/rollup-schema.js';
import { sqlIdentifier, sqlString, sqlStringList } from '../../kernel/sql.js';

/**
 * Retention without TTL (ClickHouse 18.16 has none): whole partitions older than a horizon are
 * dropped. Events are partitioned by day (`toYYYYMMDD(ts)`, ids `YYYYMMDD`) and kept
 * `store.retentionDays`; evaluation history and the alert log by month (`toYYYYMM(...)`, ids
 * `YYYYMM`) and kept `store.historyRetentionDays`: a month goes once all of it is older.
 * Current state (alert_state, reference profiles) and the retune registry are never swept.
 *
 * On a cluster, partition operations do not go through Distributed tables and a plain ALTER
 * reaches the one node it was sent to: partitions are listed on every shard (`cluster()` over
 * system.parts of the local tables) and each is dropped `ON CLUSTER`, which each shard runs once
 * and replicates to all of its replicas.
 */
/** Events and their rollups (monitor/rollup-schema.ts): day partitions, one horizon. */
export const EVENT_TABLES = [
  'predictions',
  'outcomes',
  ...ROLLUP_TABLE_NAMES,
  'rollup_ledger',
  'rollup_hours',
] as const;
export const HISTORY_TABLES = [
  'drift_results',
  'performance_results',
  'quality_results',
  'segment_quality_results',
  'model_health',
  'estimation_results',
  'feature_attribution',
  'alert_notifications',
  'alert_outbox',
  'alert_deliveries',
] as const;

export interface RetentionDays {
  /** Day partitions of predictions/outcomes older than this go; 0 keeps everything. */
  readonly events: number;
  /** Month partitions of results and alerts older than this go; 0 keeps everything. */
  readonly history: number;
}

/** The oldest day partition to keep (`YYYYMMDD`). */
export function cutoffPartition(nowMs: number, retentionDays: number): string {
  const cutoff = new Date(nowMs - retentionDays * 86_400_000);
  return cutoff.toISOString().slice(0, 10).replaceAll('-', '');
}

/** The oldest month partition to keep (`YYYYMM`): the month the horizon falls in. */
export function cutoffMonthPartition(nowMs: number, retentionDays: number): string {
  return cutoffPartition(nowMs, retentionDays).slice(0, 6);
}

/** Which tables a horizon sweeps, how its partitions are named, and the oldest one to keep. */
interface Sweep {
  readonly tables: readonly string[];
  readonly days: number;
  /** Partition ids of ours; anything else is never dropped. */
  readonly id: RegExp;
  readonly cutoff: (nowMs: number, days: number) => string;
}

/** Drops expired partitions of every swept table; returns them as `table/partition`. */
export async function dropExpiredPartitions(
  store: Store,
  retention: RetentionDays,
  nowMs: number,
  logger: Logger,
): Promise<string[]> {
  const sweeps: readonly Sweep[] = [
    { tables: EVENT_TABLES, days: retention.events, id: /^\d{8}$/, cutoff: cutoffPartition },
    { tables: HISTORY_TABLES, days: retention.history, id: /^\d{6}$/, cutoff: cutoffMonthPartition },
  ].filter((sweep) => sweep.days > 0);
  const swept = sweeps.flatMap((sweep) => sweep.tables);
  if (swept.length === 0) return [];
  const dropped: string[] = [];
  const { database, cluster } = store;
  // The tables that hold the parts: each table itself on one node, its local table on a cluster.
  const stored = (table: string): string => (cluster === undefined ? table : localTable(table));
  const source = cluster === undefined ? 'system.parts' : everyShard(cluster, 'parts');
  // One look at the parts of every swept table; the cutoffs are applied per table below.
  const parts = await store.select<{ table: string; partition: string }>(
    'retention sweep',
    `SELECT DISTINCT table, partition FROM ${source} WHERE database = ${sqlString(database)} AND active AND has(${sqlStringList(swept.map(stored))}, table)`,
  );
  const onCluster = cluster === undefined ? '' : ` ON CLUSTER ${sqlIdentifier(cluster)}`;
  for (const { tables, days, id, cutoff } of sweeps) {
    const oldest = cutoff(nowMs, days);
    for (const part of parts) {
      const table = tables.find((name) => stored(name) === part.table);
      const { partition } = part;
      if (table === undefined || !id.test(partition) || partition >= oldest) continue;
      await store.command(
        'retention sweep',
        `ALTER TABLE ${sqlIdentifier(database)}.${sqlIdentifier(stored(table))}${onCluster} DROP PARTITION ID ${sqlString(partition)}`,
      );
      logger.info({ table, partition, retentionDays: days }, 'dropped expired partition');
      dropped.push(`${table}/${partition}`);
    }
  }
  return dropped;
}
