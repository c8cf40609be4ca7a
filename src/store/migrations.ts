import type { Logger } from '../logger.js';
import type { ClickHouseClient } from './clickhouse.js';
import { storeError } from './clickhouse.js';
import { sqlIdentifier, sqlNumber, sqlString } from './sql.js';

/**
 * Versioned schema migrations. Each is a list of idempotent statements (IF NOT EXISTS), so a
 * half-applied migration, or two replicas migrating at once, converge on the same schema. The
 * SQL stays inside what ClickHouse 18.16 runs: no TTL, CODEC, DateTime64, Map, LowCardinality.
 *
 * Events are keyed by (model, ts, id) in a ReplacingMergeTree: a replay after a crash re-sends the
 * same record, with the same timestamp, so its copy collapses onto the original; readers that
 * must not see the short-lived copy before the merge use `FINAL` (see queries in the monitor).
 * Features are stored as parallel arrays per kind so one pass with ARRAY JOIN aggregates every
 * feature of a window at once.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: (db: string) => Statement[];
}

/**
 * A statement is SQL, or a column to add: ClickHouse 18.16 has no `ADD COLUMN IF NOT EXISTS`, so
 * migrate() checks system.columns first to keep a re-run harmless.
 */
export type Statement = string | AddColumn;

export interface AddColumn {
  readonly addColumn: { readonly table: string; readonly column: string; readonly definition: string };
}

export const EVENT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events',
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.predictions (
        model String,
        ts DateTime,
        ts_ms UInt64,
        id String,
        version String,
        num_names Array(String),
        num_values Array(Float64),
        cat_names Array(String),
        cat_values Array(String),
        missing_names Array(String),
        prediction_number Nullable(Float64),
        prediction_label String,
        score Nullable(Float64),
        score_classes Array(String),
        score_values Array(Float64),
        extra String,
        source String,
        ingested_at DateTime
      ) ENGINE = ReplacingMergeTree(ingested_at)
      PARTITION BY toYYYYMMDD(ts)
      ORDER BY (model, ts, id)`,
      `CREATE TABLE IF NOT EXISTS ${db}.outcomes (
        model String,
        ts DateTime,
        ts_ms UInt64,
        id String,
        label String,
        label_number Nullable(Float64),
        extra String,
        source String,
        ingested_at DateTime
      ) ENGINE = ReplacingMergeTree(ingested_at)
      PARTITION BY toYYYYMMDD(ts)
      ORDER BY (model, id)`,
    ],
  },
  {
    version: 2,
    name: 'predictions numeric layout hash',
    // The monitor aggregates numeric features by position within a layout (the event's list of
    // numeric feature names) instead of hashing a name per value; ClickHouse computes the
    // layout's hash once per event at insert (old parts compute it when read).
    statements: () => [
      {
        addColumn: {
          table: 'predictions',
          column: 'num_layout',
          definition: 'UInt64 MATERIALIZED cityHash64(num_names)',
        },
      },
    ],
  },
];

const MIGRATIONS_TABLE = 'schema_migrations';

export interface MigrationResult {
  readonly applied: readonly number[];
  readonly current: number;
}

export async function migrate(
  client: ClickHouseClient,
  database: string,
  logger: Logger,
  migrations: readonly Migration[],
): Promise<MigrationResult> {
  const db = sqlIdentifier(database);
  try {
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
    await client.command({
      query: `CREATE TABLE IF NOT EXISTS ${db}.${MIGRATIONS_TABLE} (version UInt32, name String, applied_at DateTime) ENGINE = MergeTree ORDER BY version`,
    });
    const rows = await (
      await client.query({
        query: `SELECT DISTINCT version FROM ${db}.${MIGRATIONS_TABLE}`,
        format: 'JSONEachRow',
      })
    ).json<{ version: number | string }>();
    const done = new Set(rows.map((row) => Number(row.version)));
    const applied: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      logger.info({ version: migration.version, name: migration.name }, 'applying migration');
      for (const statement of migration.statements(db)) await apply(client, db, database, statement);
      await client.command({
        query: `INSERT INTO ${db}.${MIGRATIONS_TABLE} (version, name, applied_at) VALUES (${sqlNumber(migration.version)}, ${sqlString(migration.name)}, now())`,
      });
      applied.push(migration.version);
    }
    const current = Math.max(0, ...done, ...applied);
    return { applied, current };
  } catch (error) {
    throw storeError('schema migration', error);
  }
}

async function apply(
  client: ClickHouseClient,
  db: string,
  database: string,
  statement: Statement,
): Promise<void> {
  if (typeof statement === 'string') {
    await client.command({ query: statement });
    return;
  }
  const { table, column, definition } = statement.addColumn;
  const exists = async (): Promise<boolean> => {
    const rows = await (
      await client.query({
        query: `SELECT count() AS n FROM system.columns WHERE database = ${sqlString(database)} AND table = ${sqlString(table)} AND name = ${sqlString(column)}`,
        format: 'JSONEachRow',
      })
    ).json<{ n: number | string }>();
    return Number(rows[0]?.n ?? 0) > 0;
  };
  if (await exists()) return;
  try {
    await client.command({
      query: `ALTER TABLE ${db}.${sqlIdentifier(table)} ADD COLUMN ${sqlIdentifier(column)} ${definition}`,
    });
  } catch (error) {
    // Another replica migrating at the same moment may have added it between our check and ALTER.
    if (!(await exists())) throw error;
  }
}
