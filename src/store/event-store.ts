import type { Store } from '../../kernel/store.js';
import { ledgerCounts, ledgerRows } from './ingest-ledger.js';

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

/** The ingest path's port to storage; createEventStore below puts it on the storage port. */
export interface EventStore {
  insert(rows: SerializedRows): Promise<void>;
  ping(): Promise<void>;
}

export interface EventStoreOptions {
  /**
   * Also write the ingest ledger (rows per model and minute, ingest-ledger.ts) after the rows,
   * for the monitor's rollups. @default true
   */
  readonly ledger?: boolean;
}

/**
 * The ingest port over the storage port: both tables' rows stored together, then the ledger of
 * the predictions. The ledger comes after the rows, so a keeper that sees it also sees them; a
 * crash in between leaves the batch uncommitted, and its replay writes the ledger.
 */
export function createEventStore(store: Store, options: EventStoreOptions = {}): EventStore {
  return {
    async insert(rows) {
      await Promise.all([
        store.insert('predictions', rows.predictions),
        store.insert('outcomes', rows.outcomes),
      ]);
      if (options.ledger === false || rows.predictions.length === 0) return;
      // Two batches can have equal counts (one late row in a minute, then another): both count.
      await store.insert('rollup_ledger', ledgerRows(ledgerCounts(rows.predictions)), {
        repeatsRows: true,
      });
    },
    ping: () => store.ping(),
  };
}
