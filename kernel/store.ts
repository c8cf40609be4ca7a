/**
 * The storage port. Every backend driftguard stores in speaks ClickHouse SQL (a ClickHouse server
 * of any version from 18.16 on, or the embedded engine), so the port is SQL in, rows out — and
 * nothing else: no client, connection or session type crosses it. Each adapter owns its
 * connections and pins the settings whose defaults differ between engines (64-bit integers quoted
 * in JSON, synchronous inserts, the query analyzer), so a query means the same on every backend.
 *
 * The SQL callers send stays inside what ClickHouse 18.16 and current releases both run; values
 * are bound through sql.ts only. Subsystems (ingest, monitor, alerts, retune, retention,
 * migrations) take a `Store`; `openStore(config)` in src/store/ is the one place that makes one.
 */
export interface Store {
  /** Which kind of backend this is, for logs, readiness and the few behaviours that differ. */
  readonly engine: StoreEngine;
  /** The database every subsystem's tables live in (a validated identifier). */
  readonly database: string;
  /**
   * The cluster whose tables are replicated and sharded (`ON CLUSTER` DDL, Distributed tables),
   * or undefined on a single node.
   */
  readonly cluster: string | undefined;
  /** Where the data is, safe to log: a URL without credentials, or a directory. */
  readonly location: string;

  /** The rows of a SELECT (JSONEachRow: 64-bit integers arrive as strings on every engine). */
  select<Row>(operation: string, sql: string): Promise<Row[]>;
  /** The TabSeparated text of a SELECT, for large results of numbers parsed by the caller. */
  selectText(operation: string, sql: string): Promise<string>;
  /** A statement without a result: DDL, ALTER, INSERT … SELECT. */
  command(operation: string, sql: string, options?: WriteOptions): Promise<void>;
  /**
   * Inserts rows serialised as JSONEachRow lines (each ending in "\n") into a table of
   * `database`; the pieces (strings or UTF-8 bytes, each holding whole lines) are sent in order.
   * Resolves once the rows are stored: inserts are synchronous on every backend.
   */
  insert(table: string, pieces: ReadonlyArray<string | Uint8Array>, options?: WriteOptions): Promise<void>;
  /** Resolves when the backend answers; rejects with a STORE_UNAVAILABLE error otherwise. */
  ping(): Promise<void>;
  /** Releases connections or sessions. Idempotent. */
  close(): Promise<void>;
}

export type StoreEngine = 'server' | 'embedded';

export interface WriteOptions {
  /**
   * The write inserts rows that may equal an earlier insert's on purpose (a difference, a
   * count): a replicated table must not drop them as a retried block. (Only replicated tables
   * deduplicate inserts; elsewhere this changes nothing.) @default false
   */
  readonly repeatsRows?: boolean;
}

/** Inserts row objects, serialised here (one JSON line each), into `table`. */
export function insertObjects(
  store: Pick<Store, 'insert'>,
  table: string,
  rows: readonly Record<string, unknown>[],
): Promise<void> {
  if (rows.length === 0) return Promise.resolve();
  return store.insert(
    table,
    rows.map((row) => `${JSON.stringify(row)}\n`),
  );
}
