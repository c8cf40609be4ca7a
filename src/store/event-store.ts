import type { ClickHouseClient } from './clickhouse.js';
import { insertJsonLines, storeError } from './clickhouse.js';
import { sqlIdentifier } from './sql.js';

/** Tables the ingest path writes. */
export type EventTable = 'predictions' | 'outcomes';

/**
 * Rows already serialised as JSONEachRow lines (each ending in "\n"), as strings or UTF-8 bytes,
 * each piece holding one or more whole lines. Serialising happens where the event is decoded, so a
 * flush only streams the pieces, and the buffer's byte count is exact.
 */
export interface SerializedRows {
  readonly predictions: ReadonlyArray<string | Uint8Array>;
  readonly outcomes: ReadonlyArray<string | Uint8Array>;
}

/** The ingest path's port to storage. The ClickHouse adapter below is the real one. */
export interface EventStore {
  insert(rows: SerializedRows): Promise<void>;
  ping(): Promise<void>;
}

export function createClickHouseEventStore(client: ClickHouseClient, database: string): EventStore {
  // Validate the name once, at construction, rather than on the first insert.
  sqlIdentifier(database);
  const insertInto = (table: EventTable, lines: ReadonlyArray<string | Uint8Array>): Promise<void> =>
    insertJsonLines(client, database, table, lines);
  return {
    async insert(rows) {
      await Promise.all([insertInto('predictions', rows.predictions), insertInto('outcomes', rows.outcomes)]);
    },
    async ping() {
      try {
        const result = await client.ping();
        if (!result.success) throw result.error;
      } catch (error) {
        throw storeError('ping', error);
      }
    },
  };
}
