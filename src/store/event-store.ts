import type { Store } from '../../kernel/store.js';

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

/** The ingest port over the storage port: both tables' rows stored together. */
export function createEventStore(store: Store): EventStore {
  return {
    async insert(rows) {
      await Promise.all([
        store.insert('predictions', rows.predictions),
        store.insert('outcomes', rows.outcomes),
      ]);
    },
    ping: () => store.ping(),
  };
}
