import type { Logger } from '../logger.js';
import type { ClickHouseClient } from './clickhouse.js';
import { storeError } from './clickhouse.js';
import { sqlIdentifier, sqlString } from './sql.js';

/**
 * Retention without TTL (ClickHouse 18.16 has none): whole day partitions older than the
 * horizon are dropped. Partition ids are `YYYYMMDD`, from `PARTITION BY toYYYYMMDD(ts)`.
 */
export const RETAINED_TABLES = ['predictions', 'outcomes'] as const;

export function cutoffPartition(nowMs: number, retentionDays: number): string {
  const cutoff = new Date(nowMs - retentionDays * 86_400_000);
  return cutoff.toISOString().slice(0, 10).replaceAll('-', '');
}

export async function dropExpiredPartitions(
  client: ClickHouseClient,
  database: string,
  retentionDays: number,
  nowMs: number,
  logger: Logger,
): Promise<string[]> {
  if (retentionDays <= 0) return [];
  const cutoff = cutoffPartition(nowMs, retentionDays);
  const dropped: string[] = [];
  try {
    for (const table of RETAINED_TABLES) {
      const result = await client.query({
        query: `SELECT DISTINCT partition FROM system.parts WHERE database = ${sqlString(database)} AND table = ${sqlString(table)} AND active AND partition < ${sqlString(cutoff)}`,
        format: 'JSONEachRow',
      });
      const partitions = (await result.json<{ partition: string }>()).map((row) => row.partition);
      for (const partition of partitions) {
        if (!/^\d{8}$/.test(partition)) continue; // not one of ours; never drop what we did not name
        await client.command({
          query: `ALTER TABLE ${sqlIdentifier(database)}.${sqlIdentifier(table)} DROP PARTITION ID ${sqlString(partition)}`,
        });
        logger.info({ table, partition, retentionDays }, 'dropped expired partition');
        dropped.push(`${table}/${partition}`);
      }
    }
  } catch (error) {
    throw storeError('retention sweep', error);
  }
  return dropped;
}
