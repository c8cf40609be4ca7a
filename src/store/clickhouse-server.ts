import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { Readable } from 'node:stream';
import { DriftguardError } from '../../kernel/errors.js';
import { sqlIdentifier, sqlStringList } from '../../kernel/sql.js';
import type { Store } from '../../kernel/store.js';
import { clusterSettings, clusterTopology, waitingForQuorumTurns } from './cluster-settings.js';
import { explainTransient, serverErrorCode } from './server-error-codes.js';
import { clickHouseCodeOf, clickHouseFailure, clickHouseReason } from './clickhouse-codes.js';

/**
 * The ClickHouse server adapter (HTTP, any version from 18.16 on). The client is private to this
 * file: the rest of driftguard sees the `Store` port only.
 *
 * Settings whose defaults differ between versions are pinned per request once the server's
 * settings are known (18.16 rejects any setting it does not know, so each is sent only where it
 * exists): 64-bit integers quoted in JSON, synchronous inserts, the new analyzer where there is
 * one, non-null defaults in outer joins, and a query size that fits the monitor's histogram query.
 * On a cluster (`cluster` set) the read-your-writes settings of cluster-settings.ts are added.
 */
export interface ServerStoreOptions {
  readonly url: string;
  readonly database: string;
  readonly username: string;
  readonly password: string;
  readonly requestTimeoutMs: number;
  readonly cluster?: string | undefined;
  /** On a cluster: replicas that must hold an insert (see cluster-settings.ts). */
  readonly insertQuorum?: number | undefined;
}

/** Settings every query runs with, where the server knows them. */
const PINNED_SETTINGS: Readonly<Record<string, string>> = {
  output_format_json_quote_64bit_integers: '1',
  join_use_nulls: '0',
  async_insert: '0',
  enable_analyzer: '1',
  max_query_size: '16777216',
};

type Settings = Record<string, string>;

export function openServerStore(options: ServerStoreOptions): Store {
  sqlIdentifier(options.database);
  const client = createClient({
    url: options.url,
    username: options.username,
    password: options.password,
    request_timeout: options.requestTimeoutMs,
    // Settings go with each request once known (see pinnedSettings); none by default.
    clickhouse_settings: {},
    compression: { request: false, response: false },
    keep_alive: { enabled: true },
    application: 'driftguard',
    // Failures surface as thrown errors that our callers log with context; the client's own
    // console logging would duplicate them outside the structured log.
    log: { level: ClickHouseLogLevel.OFF },
  });
  let known: Promise<Settings> | undefined;
  /** Asks the server once which pinned settings it has; asks again after a failure. */
  const settings = (): Promise<Settings> => {
    known ??= pinnedSettings(client, options).catch((error: unknown) => {
      known = undefined;
      throw error;
    });
    return known;
  };
  let closed: Promise<void> | undefined;
  const store: Store = {
    engine: 'server',
    database: options.database,
    cluster: options.cluster,
    location: withoutCredentials(options.url),

    async select<Row>(operation: string, sql: string): Promise<Row[]> {
      try {
        const result = await client.query({
          query: sql,
          format: 'JSONEachRow',
          clickhouse_settings: await settings(),
        });
        return await result.json<Row>();
      } catch (error) {
        throw storeError(operation, error);
      }
    },

    async selectText(operation, sql) {
      try {
        const result = await client.query({
          query: sql,
          format: 'TabSeparated',
          clickhouse_settings: await settings(),
        });
        return await result.text();
      } catch (error) {
        throw storeError(operation, error);
      }
    },

    async command(operation, sql, commandOptions) {
      try {
        const pinned = await settings();
        await client.command({
          query: sql,
          clickhouse_settings:
            commandOptions?.repeatsRows === true ? { ...pinned, insert_deduplicate: 0 } : pinned,
        });
      } catch (error) {
        throw storeError(operation, error);
      }
    },

    async insert(table, pieces, insertOptions) {
      if (pieces.length === 0) return;
      try {
        const pinned = await settings();
        const result = await client.exec({
          query: `INSERT INTO ${sqlIdentifier(options.database)}.${sqlIdentifier(table)} FORMAT JSONEachRow`,
          clickhouse_settings:
            insertOptions?.repeatsRows === true ? { ...pinned, insert_deduplicate: 0 } : pinned,
          // Many short lines (row-at-a-time callers) are joined rather than written one write each.
          values: Readable.from(pieces.length > MAX_STREAMED_PIECES ? [joinPieces(pieces)] : pieces, {
            objectMode: false,
          }),
        });
        result.stream.resume();
      } catch (error) {
        throw storeError(`insert into ${table}`, error);
      }
    },

    async ping() {
      try {
        const result = await client.ping();
        if (!result.success) throw result.error;
      } catch (error) {
        throw storeError('ping', error);
      }
    },

    close() {
      closed ??= client.close();
      return closed;
    },
  };
  return options.cluster === undefined ? store : waitingForQuorumTurns(store);
}

async function pinnedSettings(client: ClickHouseClient, options: ServerStoreOptions): Promise<Settings> {
  const select = async <Row>(query: string): Promise<Row[]> =>
    (await client.query({ query, format: 'JSONEachRow' })).json<Row>();
  const wanted =
    options.cluster === undefined
      ? PINNED_SETTINGS
      : {
          ...PINNED_SETTINGS,
          ...clusterSettings({
            topology: await clusterTopology(select, options.cluster, withoutCredentials(options.url)),
            insertQuorum: options.insertQuorum,
            requestTimeoutMs: options.requestTimeoutMs,
          }),
        };
  const present = new Set(
    (
      await select<{ name: string }>(
        `SELECT name FROM system.settings WHERE has(${sqlStringList(Object.keys(wanted))}, name)`,
      )
    ).map((row) => row.name),
  );
  return Object.fromEntries(Object.entries(wanted).filter(([name]) => present.has(name)));
}

/** Above this many strings, an insert body is joined into one before it is sent. */
const MAX_STREAMED_PIECES = 256;

function joinPieces(pieces: ReadonlyArray<string | Uint8Array>): Buffer {
  return Buffer.concat(pieces.map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece)));
}

function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    // The config schema validated the URL; anything else is shown as nothing rather than leaked.
    return '(invalid url)';
  }
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
 * network error code, the client's timeout, or a server error code that names a passing state (a
 * replica or ZooKeeper down, merges behind); any other server-side SQL error is not retriable.
 */
export function storeError(operation: string, error: unknown): DriftguardError {
  if (error instanceof DriftguardError) return error;
  const serverCode = serverErrorCode(error);
  const passing = serverCode === undefined ? undefined : explainTransient(serverCode, messageOf(error));
  if (passing !== undefined) {
    return new DriftguardError(
      'STORE_UNAVAILABLE',
      `ClickHouse cannot complete ${operation} right now (${passing}): ${firstLine(error)}`,
      {
        retriable: true,
        cause: error,
        details: { serverCode, clickhouseCode: serverCode },
        // `passing` comes from our own table of codes, never from the server's text, so /readyz
        // can say which passing state the store is waiting out (a replica down, ZooKeeper gone).
        publicMessage: `ClickHouse cannot complete ${operation} right now (${passing}); the daemon log has the details`,
      },
    );
  }
  const code = networkCode(error);
  // The client reports its own request timeout as a plain Error("Timeout error.") with no code:
  // that exact text is the only fact there is (a frozen server looks like this).
  const timedOut =
    error instanceof Error && (/timeout/i.test(error.name) || error.message === 'Timeout error.');
  if ((code !== undefined && TRANSIENT_NETWORK_CODES.has(code)) || timedOut) {
    return new DriftguardError(
      'STORE_UNAVAILABLE',
      `ClickHouse unreachable during ${operation}: ${code ?? 'timeout'}`,
      { retriable: true, cause: error },
    );
  }
  const text = messageOf(error);
  const reason = clickHouseReason(text);
  return clickHouseFailure(
    'ClickHouse',
    operation,
    clickHouseCodeOf(text),
    { refused: reason, busy: reason, rejected: firstLine(error) },
    error,
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function firstLine(error: unknown): string {
  return messageOf(error).split('\n')[0] ?? '';
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
