import { DriftguardError } from './errors.js';
import type { Migration, Statement } from './migrations.js';
import { sqlIdentifier, sqlString } from './sql.js';

/**
 * Cluster mode for the schema, as pure text: what each migration statement becomes when the
 * store's tables are replicated and sharded. Migrations are written once, for one node; on a
 * cluster every table `t` becomes
 *
 * - `t_local` on every node, created `ON CLUSTER`, on the `Replicated` twin of its engine with the
 *   standard macros: ZooKeeper path `/clickhouse/tables/{shard}/<database>/t_local`, replica
 *   `{replica}` (both filled in by each node's `<macros>`);
 * - `t`, a `Distributed` table over `t_local` under today's name, so every query stays as it is,
 *   with a sharding key that keeps every copy of one row key on one shard (so `FINAL` and
 *   background merges still collapse replays). Its columns are derived from `t_local`'s (see
 *   {@link distributedColumns}) by the runner once `t_local` exists.
 *
 * Materialized views must write `TO` a table of the schema: they are created on every node and
 * read from and write to the local tables, so each node aggregates the rows it stores (the
 * aggregate tables are read through their Distributed table, merging the shards' partial states).
 *
 * The translation covers the statements migrations use — CREATE TABLE of the MergeTree family,
 * CREATE [MATERIALIZED] VIEW, ALTER TABLE, DROP TABLE, and addColumn — and refuses anything else
 * with a message that says what is supported, rather than guessing.
 */

export const LOCAL_SUFFIX = '_local';

/** The node-local, replicated table behind the Distributed table `table`. */
export function localTable(table: string): string {
  return `${table}${LOCAL_SUFFIX}`;
}

/** Where a node-local table of the schema keeps its replication log in ZooKeeper/Keeper. */
export function replicationPath(database: string, table: string): string {
  return `/clickhouse/tables/{shard}/${database}/${table}`;
}

/**
 * Where tables replicated to every node (one copy per node, not sharded) keep their log; their
 * replica name is `{shard}-{replica}`, unique across the cluster.
 */
export function everyNodeReplicationPath(database: string, table: string): string {
  return `/clickhouse/tables/every-node/${database}/${table}`;
}

export interface ClusterTarget {
  /** The cluster's name in `remote_servers` (a validated identifier). */
  readonly cluster: string;
  /** The database, unquoted (a validated identifier). */
  readonly database: string;
}

/** A table of the schema: its sharding key on a cluster. */
export interface CatalogueEntry {
  readonly table: string;
  readonly shardingKey: string;
}

/** Every table the migrations create, by name. */
export type Catalogue = ReadonlyMap<string, CatalogueEntry>;

/** One step of a migration on a cluster; the runner executes them in order. */
export type ClusterStep =
  /** Run as it is (already `ON CLUSTER`). */
  | { readonly kind: 'sql'; readonly sql: string }
  /** Run `sql` (DDL of `localTable(table)`), then bring `table`'s Distributed table in line with it. */
  | { readonly kind: 'local'; readonly table: string; readonly sql: string }
  /** Add a column to `localTable(table)` unless every shard has it, then sync the Distributed table. */
  | {
      readonly kind: 'addColumn';
      readonly table: string;
      readonly column: string;
      readonly definition: string;
    };

/**
 * The tables `migrations` create and each one's sharding key on a cluster: the migration's
 * `shardingKeys` entry where it names one, else a hash of the table's sorting key (which keeps
 * the copies that `FINAL` must collapse on one shard).
 */
export function clusterCatalogue(migrations: readonly Migration[], db: string): Catalogue {
  const catalogue = new Map<string, CatalogueEntry>();
  for (const migration of migrations) {
    for (const statement of migration.statements(db)) {
      if (typeof statement !== 'string') continue;
      const create = parseCreateTable(statement, db);
      if (create === undefined) continue;
      const declared = migration.shardingKeys?.[create.table];
      catalogue.set(create.table, {
        table: create.table,
        shardingKey: declared ?? shardingKeyFromOrderBy(create),
      });
    }
  }
  return catalogue;
}

/** What `statement` (of a migration on `db`, the quoted database) becomes on a cluster. */
export function clusterSteps(
  statement: Statement,
  db: string,
  target: ClusterTarget,
  catalogue: Catalogue,
): ClusterStep[] {
  if (typeof statement !== 'string') {
    const { table, column, definition } = statement.addColumn;
    known(catalogue, table, `ADD COLUMN ${column}`);
    return [{ kind: 'addColumn', table, column, definition }];
  }
  const onCluster = `ON CLUSTER ${sqlIdentifier(target.cluster)}`;
  const create = parseCreateTable(statement, db);
  if (create !== undefined) {
    return [{ kind: 'local', table: create.table, sql: replicatedCreate(create, db, target, onCluster) }];
  }
  const view = VIEW.exec(statement);
  if (view !== null) return [{ kind: 'sql', sql: clusterView(statement, view, db, onCluster, catalogue) }];
  const alter = ALTER.exec(statement);
  if (alter !== null && sameDatabase(alter[1], db)) {
    const table = unquote(alter[2] ?? '');
    known(catalogue, table, statement);
    return [
      {
        kind: 'local',
        table,
        sql: `ALTER TABLE ${db}.${sqlIdentifier(localTable(table))} ${onCluster} ${alter[3] ?? ''}`,
      },
    ];
  }
  const drop = DROP.exec(statement);
  if (drop !== null && sameDatabase(drop[2], db)) {
    const name = unquote(drop[3] ?? '');
    const ifExists = drop[1] ?? '';
    const dropOne = (table: string): ClusterStep => ({
      kind: 'sql',
      sql: `DROP TABLE ${ifExists}${db}.${sqlIdentifier(table)} ${onCluster}`,
    });
    return catalogue.has(name) ? [dropOne(name), dropOne(localTable(name))] : [dropOne(name)];
  }
  throw unsupported(statement);
}

/**
 * Folds each column a later step adds to a table that an earlier step of the same list creates
 * into that CREATE: a fresh cluster schema then runs no ALTER at all. (18.16's DDL worker can die
 * on a replicated ALTER … ON CLUSTER — two replicas of a shard racing for the task, "Node exists"
 * — and then executes no DDL until restarted.) The addColumn steps stay: each adds its column
 * only where it is missing, which is nowhere once the CREATE made it.
 */
export function foldAddedColumns(steps: readonly ClusterStep[]): ClusterStep[] {
  const out = [...steps];
  const creates = new Map<string, number>();
  for (const [index, step] of out.entries()) {
    if (step.kind === 'local' && /^CREATE TABLE/i.test(step.sql)) creates.set(step.table, index);
    if (step.kind !== 'addColumn') continue;
    const at = creates.get(step.table);
    if (at === undefined) continue;
    const create = out[at];
    if (create?.kind !== 'local') continue;
    const open = create.sql.indexOf('(', create.sql.search(/\bON CLUSTER\b/i));
    const close = matchingParenthesis(create.sql, open);
    out[at] = {
      ...create,
      sql: `${create.sql.slice(0, close)}, ${sqlIdentifier(step.column)} ${step.definition}${create.sql.slice(close)}`,
    };
  }
  return out;
}

/**
 * The Distributed table's column definitions for a local table's columns (as system.columns
 * lists them). A MATERIALIZED column becomes an ALIAS of the same expression: a Distributed table
 * that declares it MATERIALIZED computes it and sends it along, which the local table refuses
 * ("Cannot insert column …, because it is MATERIALIZED column" on 18.16, and an asynchronous
 * insert's block then never arrives); as an ALIAS it is not sent, each node computes it from its
 * own columns at insert, and reads through the Distributed table return the stored value.
 */
export function distributedColumns(columns: readonly LocalColumn[]): string[] {
  return columns.map(({ name, type, default_kind: kind, default_expression: expression }) => {
    const head = `${sqlIdentifier(name)} ${type}`;
    if (kind === '') return head;
    return `${head} ${kind === 'MATERIALIZED' ? 'ALIAS' : kind} ${expression}`;
  });
}

/** A row of system.columns, as {@link distributedColumns} reads it. */
export interface LocalColumn {
  readonly name: string;
  readonly type: string;
  /** '', DEFAULT, MATERIALIZED or ALIAS. */
  readonly default_kind: string;
  readonly default_expression: string;
}

/** `CREATE TABLE … ENGINE = Distributed(…)` for `table` over its local table. */
export function createDistributed(
  table: string,
  columns: readonly string[],
  target: ClusterTarget,
  shardingKey: string,
): string {
  const { cluster, database } = target;
  return `CREATE TABLE IF NOT EXISTS ${sqlIdentifier(database)}.${sqlIdentifier(table)} ON CLUSTER ${sqlIdentifier(cluster)} (${columns.join(', ')}) ENGINE = Distributed(${sqlString(cluster)}, ${sqlString(database)}, ${sqlString(localTable(table))}, ${shardingKey})`;
}

// ---------------------------------------------------------------------------------------------
// Parsing: just enough of ClickHouse's DDL to move the parts that matter, with string literals,
// back-quoted names and nested parentheses skipped correctly.

const NAME = '(`[A-Za-z_][A-Za-z0-9_]*`|[A-Za-z_][A-Za-z0-9_]*)';
const CREATE_TABLE = new RegExp(
  `^\\s*CREATE\\s+TABLE\\s+(IF\\s+NOT\\s+EXISTS\\s+)?${NAME}\\.${NAME}\\s*\\(`,
  'i',
);
const VIEW = new RegExp(
  `^\\s*CREATE\\s+(MATERIALIZED\\s+)?VIEW\\s+(IF\\s+NOT\\s+EXISTS\\s+)?${NAME}\\.${NAME}\\s+([\\s\\S]*)$`,
  'i',
);
const ALTER = new RegExp(`^\\s*ALTER\\s+TABLE\\s+${NAME}\\.${NAME}\\s+([\\s\\S]*)$`, 'i');
const DROP = new RegExp(`^\\s*DROP\\s+(?:TABLE|VIEW)\\s+(IF\\s+EXISTS\\s+)?${NAME}\\.${NAME}\\s*$`, 'i');

/** The engines whose Replicated twin is `Replicated<Engine>(path, replica, …same arguments)`. */
const REPLICABLE_ENGINES = new Set([
  'MergeTree',
  'ReplacingMergeTree',
  'SummingMergeTree',
  'AggregatingMergeTree',
  'CollapsingMergeTree',
  'VersionedCollapsingMergeTree',
  'GraphiteMergeTree',
]);

interface CreateTable {
  readonly table: string;
  readonly ifNotExists: boolean;
  /** The column list, without its parentheses. */
  readonly columns: string;
  readonly engine: string;
  /** The engine's arguments, without parentheses ('' when none). */
  readonly engineArgs: string;
  /** Everything after the engine: PARTITION BY, ORDER BY, SETTINGS … */
  readonly clauses: string;
}

function parseCreateTable(sql: string, db: string): CreateTable | undefined {
  const header = CREATE_TABLE.exec(sql);
  if (header === null || !sameDatabase(header[2], db)) return undefined;
  const open = header[0].length - 1;
  const close = matchingParenthesis(sql, open);
  const rest = sql.slice(close + 1);
  const engine = /^\s*ENGINE\s*=\s*([A-Za-z]+)\s*/i.exec(rest);
  if (engine === null) throw unsupported(sql, 'it has no ENGINE clause');
  let after = rest.slice(engine[0].length);
  let engineArgs = '';
  if (after.startsWith('(')) {
    const end = matchingParenthesis(after, 0);
    engineArgs = after.slice(1, end).trim();
    after = after.slice(end + 1);
  }
  return {
    table: unquote(header[3] ?? ''),
    ifNotExists: header[1] !== undefined,
    columns: sql.slice(open + 1, close),
    engine: engine[1] ?? '',
    engineArgs,
    clauses: after.trim(),
  };
}

function replicatedCreate(create: CreateTable, db: string, target: ClusterTarget, onCluster: string): string {
  if (!REPLICABLE_ENGINES.has(create.engine)) {
    throw unsupported(
      `CREATE TABLE ${create.table} … ENGINE = ${create.engine}`,
      `only MergeTree-family engines (${[...REPLICABLE_ENGINES].join(', ')}) can be replicated`,
    );
  }
  const local = localTable(create.table);
  const args = [
    sqlString(replicationPath(target.database, local)),
    sqlString('{replica}'),
    ...(create.engineArgs === '' ? [] : [create.engineArgs]),
  ].join(', ');
  return `CREATE TABLE ${create.ifNotExists ? 'IF NOT EXISTS ' : ''}${db}.${sqlIdentifier(local)} ${onCluster} (${create.columns}) ENGINE = Replicated${create.engine}(${args}) ${create.clauses}`;
}

/** `cityHash64(<sorting key columns>)`: every row with the same sorting key lands on one shard. */
function shardingKeyFromOrderBy(create: CreateTable): string {
  const orderBy = /\bORDER\s+BY\s+/i.exec(create.clauses);
  if (orderBy === null) throw unsupported(`CREATE TABLE ${create.table}`, 'it has no ORDER BY to shard by');
  let key = create.clauses.slice(orderBy.index + orderBy[0].length);
  key = key.split(/\s+(?:PRIMARY\s+KEY|SAMPLE\s+BY|SETTINGS|TTL)\s+/i)[0]?.trim() ?? '';
  if (key.startsWith('(') && matchingParenthesis(key, 0) === key.length - 1) key = key.slice(1, -1).trim();
  if (key === '' || /^tuple\(\s*\)$/i.test(key))
    throw unsupported(`CREATE TABLE ${create.table}`, 'it has an empty ORDER BY: name a sharding key');
  return `cityHash64(${key})`;
}

function clusterView(
  sql: string,
  view: RegExpExecArray,
  db: string,
  onCluster: string,
  catalogue: Catalogue,
): string {
  const [, materialized, ifNotExists = '', database, name = '', body = ''] = view;
  if (!sameDatabase(database, db)) throw unsupported(sql);
  const head = `CREATE ${materialized ?? ''}VIEW ${ifNotExists}${db}.${sqlIdentifier(unquote(name))} ${onCluster}`;
  if (materialized === undefined) return `${head} ${body}`;
  const to = new RegExp(`^TO\\s+${NAME}\\.${NAME}\\s+`, 'i').exec(body);
  if (to === null || !sameDatabase(to[1], db) || !catalogue.has(unquote(to[2] ?? ''))) {
    throw unsupported(
      sql,
      'on a cluster a materialized view must write TO a table that a migration creates (CREATE MATERIALIZED VIEW … TO db.table AS SELECT …)',
    );
  }
  // Each node's view reads the rows inserted into its own local table and writes its own local
  // aggregate: every reference to a table of the schema means its local table here.
  return `${head} ${toLocalReferences(body, db, catalogue)}`;
}

/** Rewrites `db.t` to `db.t_local` for every table `t` of the catalogue, outside string literals. */
function toLocalReferences(sql: string, db: string, catalogue: Catalogue): string {
  const reference = new RegExp(`${escapeRegExp(db)}\\.${NAME}`, 'g');
  return mapOutsideStrings(sql, (code) =>
    code.replace(reference, (whole, name: string) => {
      const table = unquote(name);
      return catalogue.has(table) ? `${db}.${sqlIdentifier(localTable(table))}` : whole;
    }),
  );
}

/** Applies `map` to the parts of `sql` outside '…' string literals. */
function mapOutsideStrings(sql: string, map: (code: string) => string): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < sql.length; i++) {
    if (sql[i] !== "'") continue;
    out += map(sql.slice(start, i));
    const end = skipQuoted(sql, i);
    out += sql.slice(i, end);
    start = end;
    i = end - 1;
  }
  return out + map(sql.slice(start));
}

/** The index of the parenthesis that closes the one at `open`, skipping quoted text. */
export function matchingParenthesis(sql: string, open: number): number {
  let depth = 0;
  for (let i = open; i < sql.length; i++) {
    const ch = sql[i];
    if (ch === "'" || ch === '`' || ch === '"') {
      i = skipQuoted(sql, i) - 1;
    } else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i;
  }
  throw unsupported(sql.slice(open, open + 80), 'its parentheses do not balance');
}

/** The index just past the quoted text that starts at `start` (backslash escapes honoured). */
function skipQuoted(sql: string, start: number): number {
  const quote = sql[start];
  for (let i = start + 1; i < sql.length; i++) {
    if (sql[i] === '\\') i++;
    else if (sql[i] === quote) return i + 1;
  }
  return sql.length;
}

function sameDatabase(name: string | undefined, db: string): boolean {
  return name !== undefined && unquote(name) === unquote(db);
}

function unquote(name: string): string {
  return name.replace(/^`|`$/g, '');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function known(catalogue: Catalogue, table: string, what: string): void {
  if (!catalogue.has(table)) {
    throw unsupported(
      what,
      `table ${table} is not created by any migration, so it has no local table on the cluster`,
    );
  }
}

function unsupported(statement: string, why?: string): DriftguardError {
  const shown = statement.replace(/\s+/g, ' ').trim().slice(0, 120);
  return new DriftguardError(
    'INTERNAL',
    `cannot run migration statement "${shown}" on a cluster${why === undefined ? '' : `: ${why}`}. Cluster mode translates CREATE TABLE (MergeTree family), CREATE [MATERIALIZED] VIEW (materialized: TO a table of the schema), ALTER TABLE, DROP TABLE and addColumn statements`,
    { retriable: false },
  );
}

/**
 * A table expression over a system table (`parts`, `columns`, …) of one healthy replica of every
 * shard: `cluster('<name>', system, <table>)`, which queries them with the cluster's own
 * credentials. Replicas of a shard hold the same parts and columns (their log and metadata are
 * shared through ZooKeeper), so this sees what every node holds, where `system.<table>` alone
 * sees only the node the query reached.
 */
export function everyShard(cluster: string, systemTable: string): string {
  return `cluster(${sqlString(cluster)}, system, ${sqlIdentifier(systemTable)})`;
}
