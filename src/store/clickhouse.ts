import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { Readable } from 'node:stream';
import { DriftguardError } from '../errors.js';
import { sqlIdentifier } from './sql.js';
import type { CompiledConfig } from '../config/compile.js';

export type { ClickHouseClient };

/**
 * ClickHouse connection. Queries target tables by fully qualified name (`db.table`), so one
 * client works before and after the database exists.
 */
export function createClickHouse(config: CompiledConfig['clickhouse']): ClickHouseClient {
  return createClient({
    url: config.url,
    username: config.username,
    password: config.password,
    request_timeout: config.requestTimeoutMs,
    // 18.16 rejects settings it does not know; send none by default.
    clickhouse_settings: {},
    compression: { request: false, response: false },
    keep_alive: { enabled: true },
    application: 'driftguard',
    // Failures surface as thrown errors that our callers log with context; the client's own
    // console logging would duplicate them outside the structured log.
    log: { level: ClickHouseLogLevel.OFF },
  });
}

/** Network-level error codes after which the same request can succeed later. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Maps a client error to the taxonomy. Retriability is decided from structured facts: a Node
 * network error code, or the client's timeout; a server-side SQL error is not retriable.
 */
export function storeError(operation: string, error: unknown): DriftguardError {
  if (error instanceof DriftguardError) return error;
  const code = networkCode(error);
  const timedOut = error instanceof Error && /timeout/i.test(error.name);
  if ((code !== undefined && TRANSIENT_NETWORK_CODES.has(code)) || timedOut) {
    return new DriftguardError(
      'STORE_UNAVAILABLE',
      `ClickHouse unreachable during ${operation}: ${code ?? 'timeout'}`,
      { retriable: true, cause: error },
    );
  }
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new DriftguardError('STORE_QUERY_FAILED', `ClickHouse rejected ${operation}: ${message}`, {
    retriable: false,
    cause: error,
  });
}

function networkCode(error: unknown): string | undefined {
  // Node puts system error codes on `code`; undici nests the socket error in `cause`.
  for (
    let current: unknown = error, depth = 0;
    current instanceof Error && depth < 4;
    current = current.cause, depth++
  ) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Above this many strings, an insert body is joined into one before it is sent. */
const MAX_STREAMED_PIECES = 256;

/**
 * Inserts JSONEachRow lines (each ending in "\n") into `db.table`. The one insert path of the
 * daemon: a few pieces, strings or UTF-8 bytes (each may hold many lines, as the ingest
 * pipeline's batches do), are streamed one after another, never joined, so the whole body is not
 * copied once more.
 */
export async function insertJsonLines(
  client: ClickHouseClient,
  database: string,
  table: string,
  lines: ReadonlyArray<string | Uint8Array>,
): Promise<void> {
  if (lines.length === 0) return;
  try {
    const result = await client.exec({
      query: `INSERT INTO ${sqlIdentifier(database)}.${sqlIdentifier(table)} FORMAT JSONEachRow`,
      // Many short lines (row-at-a-time callers) are joined rather than written one write each.
      values: Readable.from(lines.length > MAX_STREAMED_PIECES ? [joinPieces(lines)] : lines, {
        objectMode: false,
      }),
    });
    result.stream.resume();
  } catch (error) {
    throw storeError(`insert into ${table}`, error);
  }
}

function joinPieces(pieces: ReadonlyArray<string | Uint8Array>): Buffer {
  return Buffer.concat(pieces.map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece)));
}

/** Inserts row objects (serialised here) into `db.table`. */
export function insertRows(
  client: ClickHouseClient,
  database: string,
  table: string,
  rows: readonly Record<string, unknown>[],
): Promise<void> {
  return insertJsonLines(
    client,
    database,
    table,
    rows.map((row) => `${JSON.stringify(row)}\n`),
  );
}

/** Runs a query and returns its JSONEachRow rows; failures are mapped to the error taxonomy. */
export async function selectRows<Row>(
  client: ClickHouseClient,
  query: string,
  operation: string,
): Promise<Row[]> {
  try {
    const result = await client.query({ query, format: 'JSONEachRow' });
    return await result.json<Row>();
  } catch (error) {
    throw storeError(operation, error);
  }
}
