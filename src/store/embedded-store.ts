import { readFile } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Session as ChdbSession } from 'chdb';
import { DriftguardError } from '../../kernel/errors.js';
import { sqlIdentifier } from '../../kernel/sql.js';
import type { Store } from '../../kernel/store.js';
import { clickHouseFailure, clickHouseReason } from './clickhouse-codes.js';

/**
 * The embedded adapter: the current ClickHouse engine in-process (npm `chdb`), its tables on disk
 * under one directory. No server, no root, no Debian: a small team can run driftguard on one box.
 *
 * chDB runs one session's queries one at a time, in order (an insert blocks a select on the same
 * session), while sessions on the same directory run in parallel. So the adapter keeps a small
 * pool of sessions and gives each call an idle one: ingest, the monitor and the HTTP API never
 * queue behind each other unless all sessions are busy. Queries run off the event loop.
 *
 * One process may open one directory, and a directory may be open in one process: a second
 * daemon (or a CLI command while the daemon runs) is refused with STORE_LOCKED, naming the
 * directory and the fix.
 */
export interface EmbeddedStoreOptions {
  /** The data directory (created when missing). */
  readonly path: string;
  readonly database: string;
  /** Sessions in the pool. @default 4 */
  readonly sessions?: number;
}

/** Engine settings pinned at connect: the same behaviour as the server adapter pins per query. */
const CONNECT_ARGS = [
  '--output_format_json_quote_64bit_integers=1',
  '--join_use_nulls=0',
  '--async_insert=0',
  '--enable_analyzer=1',
  '--max_query_size=16777216',
];

interface Chdb {
  readonly Session: new (path: string, options?: { connectionArgs?: readonly string[] }) => ChdbSession;
}

/** Loads the optional `chdb` package, or says in one sentence how to get it. */
async function loadChdb(): Promise<Chdb> {
  try {
    return await import('chdb');
  } catch (error) {
    throw new DriftguardError(
      'CONFIG_INVALID',
      'the embedded store needs the optional package "chdb", which is not installed (npm ci --omit=optional leaves it out): run `npm install chdb`, or point driftguard at a ClickHouse server with DRIFTGUARD_CLICKHOUSE_URL',
      { retriable: false, cause: error },
    );
  }
}

export async function openEmbeddedStore(options: EmbeddedStoreOptions): Promise<Store> {
  sqlIdentifier(options.database);
  const directory = path.resolve(options.path);
  const engine = await openEngine(directory, Math.max(1, options.sessions ?? 4));
  const { pool } = engine;

  const run = async (operation: string, sql: string, format: string): Promise<string> => {
    const session = await pool.acquire(operation);
    try {
      return (await session.queryAsync(sql, { format })).text();
    } catch (error) {
      throw embeddedError(operation, error);
    } finally {
      pool.release(session);
    }
  };

  let closed = false;
  return {
    engine: 'embedded',
    database: options.database,
    cluster: undefined,
    location: directory,

    async select<Row>(operation: string, sql: string): Promise<Row[]> {
      const text = await run(operation, sql, 'JSONEachRow');
      const rows: Row[] = [];
      for (const line of text.split('\n')) if (line.length > 0) rows.push(JSON.parse(line) as Row);
      return rows;
    },

    selectText(operation, sql) {
      return run(operation, sql, 'TabSeparated');
    },

    // The embedded engine's tables are not replicated: no insert is ever dropped as a repeat.
    async command(operation, sql) {
      await run(operation, sql, 'TabSeparated');
    },

    async insert(table, pieces) {
      if (pieces.length === 0) return;
      const values = Buffer.concat(
        pieces.map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece)),
      );
      const operation = `insert into ${table}`;
      const session = await pool.acquire(operation);
      try {
        await session.insert({
          // chDB takes the target unquoted and checks it itself; sqlIdentifier vouches for both.
          table: `${bare(options.database)}.${bare(table)}`,
          values,
          format: 'JSONEachRow',
        });
      } catch (error) {
        throw embeddedError(operation, error);
      } finally {
        pool.release(session);
      }
    },

    async ping() {
      await run('ping', 'SELECT 1', 'TabSeparated');
    },

    close() {
      if (!closed) {
        closed = true;
        engine.release();
      }
      return Promise.resolve();
    },
  };
}

interface Engine {
  readonly pool: SessionPool;
  release(): void;
}

/**
 * The engines this process has open, by directory. chDB allows one directory per process, so
 * stores of several databases (the daemon's, a test's) share one engine and its sessions; the
 * sessions close when the last store on them closes.
 */
const engines = new Map<string, { pool: SessionPool; stores: number }>();

async function openEngine(directory: string, size: number): Promise<Engine> {
  let open = engines.get(directory);
  if (open === undefined) {
    const { Session } = await loadChdb();
    // Another caller may have opened it while chdb was loading.
    open = engines.get(directory);
    if (open === undefined) {
      mkdirSync(directory, { recursive: true });
      // Refuse before the engine does: it would also print its own error to stderr.
      const holder = await lockHolder(directory);
      if (holder !== undefined) throw lockedError(directory, holder);
      const sessions: ChdbSession[] = [];
      try {
        for (let i = 0; i < size; i++)
          sessions.push(new Session(directory, { connectionArgs: CONNECT_ARGS }));
      } catch (error) {
        for (const session of sessions) session.close();
        throw await openError(directory, error);
      }
      open = { pool: new SessionPool(sessions), stores: 0 };
      engines.set(directory, open);
    }
  }
  const entry = open;
  entry.stores += 1;
  return {
    pool: entry.pool,
    release() {
      entry.stores -= 1;
      if (entry.stores > 0) return;
      engines.delete(directory);
      entry.pool.close();
    },
  };
}

/** A validated identifier without its quotes. */
function bare(name: string): string {
  sqlIdentifier(name);
  return name;
}

/** Idle sessions handed out in turn; callers wait in order when every session is busy. */
class SessionPool {
  private readonly idle: ChdbSession[];
  private readonly waiting: Array<(session: ChdbSession) => void> = [];
  private closed = false;

  constructor(private readonly all: readonly ChdbSession[]) {
    this.idle = [...all];
  }

  acquire(operation: string): Promise<ChdbSession> {
    if (this.closed) {
      return Promise.reject(
        new DriftguardError('STORE_UNAVAILABLE', `embedded store is closed (during ${operation})`, {
          retriable: false,
        }),
      );
    }
    const session = this.idle.pop();
    if (session !== undefined) return Promise.resolve(session);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(session: ChdbSession): void {
    const next = this.waiting.shift();
    if (next !== undefined) next(session);
    else this.idle.push(session);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const session of this.all) session.close();
  }
}

/** Maps a chDB error to the taxonomy: the engine's refusals are not retriable. */
function embeddedError(operation: string, error: unknown): DriftguardError {
  if (error instanceof DriftguardError) return error;
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  if (name === 'ChdbClosedError') {
    return new DriftguardError('STORE_UNAVAILABLE', `embedded store closed during ${operation}`, {
      retriable: false,
      cause: error,
    });
  }
  const code = (error as { clickhouseCode?: unknown } | null)?.clickhouseCode;
  return clickHouseFailure(
    'embedded ClickHouse',
    operation,
    typeof code === 'number' ? code : undefined,
    { refused: clickHouseReason(message ?? ''), busy: String(message), rejected: String(message) },
    error,
  );
}

/**
 * The live process that holds the directory, from ClickHouse's `<dir>/status` file ("PID: n"),
 * which exists while a process has the directory open (a SIGKILLed one leaves it behind: its PID
 * is then gone, or — rarely — reused; the engine's own lock decides in that case).
 */
async function lockHolder(directory: string): Promise<number | undefined> {
  const text = await readFile(path.join(directory, 'status'), 'utf8').catch(() => '');
  const pid = Number(/PID:\s*(\d+)/.exec(text)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    // EPERM: alive but someone else's; ESRCH: gone.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

function lockedError(directory: string, holder: number | undefined, cause?: unknown): DriftguardError {
  const by = holder === undefined ? 'another process' : `process ${holder}`;
  return new DriftguardError(
    'STORE_LOCKED',
    `the embedded store ${directory} is locked by ${by} (a running driftguard?): one process at a time may open it — stop that process, or send the command through the running daemon's HTTP API (--url)`,
    { retriable: false, ...(cause === undefined ? {} : { cause }) },
  );
}

/** Why the engine refused to open a directory. */
async function openError(directory: string, error: unknown): Promise<DriftguardError> {
  const detail = chainText(error);
  // chDB's error does not say why; the engine printed it. A `status` file means a holder.
  const held = await readFile(path.join(directory, 'status'), 'utf8').then(
    () => true,
    () => false,
  );
  if (held || /Cannot lock file|already running/i.test(detail)) {
    return lockedError(directory, await lockHolder(directory), error);
  }
  if (/only one active data directory/i.test(detail)) {
    return new DriftguardError(
      'STORE_LOCKED',
      `this process already has another embedded store open; one process can open one directory (${directory} refused)`,
      { retriable: false, cause: error },
    );
  }
  return new DriftguardError(
    'STORE_UNAVAILABLE',
    `cannot open the embedded store ${directory}: ${detail.split('\n')[0] ?? ''}`,
    { retriable: false, cause: error },
  );
}

function chainText(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error, depth = 0; current !== undefined && depth < 4; depth++) {
    parts.push(current instanceof Error ? current.message : typeof current === 'string' ? current : 'error');
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(': ');
}
