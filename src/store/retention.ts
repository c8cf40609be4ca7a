import type { Logger } from '../logger.js';
import type { ClickHouseClient } from './clickhouse.js';
import { storeError } from './clickhouse.js';
import { sqlIdentifier, sqlString } from './sql.js';

/**
 * Retention without TTL (ClickHouse 18.16 has none): whole partitions older than a horizon are
 * dropped. Events are partitioned by day (`toYYYYMMDD(ts)`, ids `YYYYMMDD`) and kept
 * `store.retentionDays`; evaluation history and the alert log by month (`toYYYYMM(...)`, ids
 * `YYYYMM`) and kept `store.historyRetentionDays`: a month goes once all of it is older.
 * Current state (alert_state, reference profiles) and the retune registry are never swept.
 */
export const EVENT_TABLES = ['predictions', 'outcomes'] as const;
export const HISTORY_TABLES = [
  'drift_results',
  'performance_results',
  'quality_results',
  'segment_quality_results',
  'model_health',
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

/** Drops expired partitions of every swept table; returns them as `table/partition`. */
export async function dropExpiredPartitions(
  client: ClickHouseClient,
  database: string,
  retention: RetentionDays,
  nowMs: number,
  logger: Logger,
): Promise<string[]> {
  const sweeps: Array<{ tables: readonly string[]; cutoff: string; id: RegExp; days: number }> = [];
  if (retention.events > 0)
    sweeps.push({
      tables: EVENT_TABLES,
      cutoff: cutoffPartition(nowMs, retention.events),
      id: /^\d{8}$/,
      days: retention.events,
    });
  if (retention.history > 0)
    sweeps.push({
      tables: HISTORY_TABLES,
      cutoff: cutoffMonthPartition(nowMs, retention.history),
      id: /^\d{6}$/,
      days: retention.history,
    });
  const dropped: string[] = [];
  try {
    for (const { tables, cutoff, id, days } of sweeps) {
      for (const table of tables) {
        const result = await client.query({
          query: `SELECT DISTINCT partition FROM system.parts WHERE database = ${sqlString(database)} AND table = ${sqlString(table)} AND active AND partition < ${sqlString(cutoff)}`,
          format: 'JSONEachRow',
        });
        const partitions = (await result.json<{ partition: string }>()).map((row) => row.partition);
        for (const partition of partitions) {
          if (!id.test(partition)) continue; // not one of ours; never drop what we did not name
          await client.command({
            query: `ALTER TABLE ${sqlIdentifier(database)}.${sqlIdentifier(table)} DROP PARTITION ID ${sqlString(partition)}`,
          });
          logger.info({ table, partition, retentionDays: days }, 'dropped expired partition');
          dropped.push(`${table}/${partition}`);
        }
      }
    }
  } catch (error) {
    throw storeError('retention sweep', error);
  }
  return dropped;
}
