import { clusterSchema } from './cluster-schema.js';
import { MIGRATIONS_TABLE, type SchemaTarget } from './schema-target.js';
import type { Logger } from './logger.js';
import { sqlIdentifier, sqlNumber, sqlString } from './sql.js';
import type { Store } from './store.js';

/**
 * Versioned schema migrations, run through the storage port. Each migration is a list of
 * idempotent statements (IF NOT EXISTS), so a half-applied migration, or two replicas migrating
 * at once, converge on the same schema. The SQL stays inside what ClickHouse 18.16 and current
 * releases both run: no TTL, CODEC, DateTime64, Map, LowCardinality.
 *
 * Statements are written for one node. On a cluster (`store.cluster`) cluster-schema.ts runs each
 * one ON CLUSTER as replicated local tables behind Distributed tables of today's names, and
 * records the migrations in a table replicated to every node.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: (db: string) => Statement[];
  /**
   * On a cluster: the sharding key of a table this migration creates, by table name, where a
   * hash of its sorting key (the default) is not the right one. Every row that FINAL or a merge
   * must collapse with another needs the same key.
   */
  readonly shardingKeys?: Readonly<Record<string, string>>;
}

/**
 * A statement is SQL, or a column to add: ClickHouse 18.16 has no `ADD COLUMN IF NOT EXISTS`, so
 * migrate() checks system.columns first to keep a re-run harmless.
 */
export type Statement = string | AddColumn;

export interface AddColumn {
  readonly addColumn: { readonly table: string; readonly column: string; readonly definition: string };
}

export interface MigrationResult {
  readonly applied: readonly number[];
  readonly current: number;
}

export async function migrate(
  store: Store,
  logger: Logger,
  migrations: readonly Migration[],
): Promise<MigrationResult> {
  const db = sqlIdentifier(store.database);
  const target =
    store.cluster === undefined ? singleNode(store) : clusterSchema(store, store.cluster, migrations);
  await target.prepare();
  const rows = await store.select<{ version: number | string }>(
    'schema migration',
    `SELECT DISTINCT version FROM ${db}.${MIGRATIONS_TABLE}`,
  );
  const done = new Set(rows.map((row) => Number(row.version)));
  const pending = [...migrations].sort((a, b) => a.version - b.version).filter((m) => !done.has(m.version));
  for (const migration of pending) {
    logger.info(
      { version: migration.version, name: migration.name, cluster: store.cluster },
      'applying migration',
    );
  }
  const applied: number[] = [];
  await target.apply(pending, async (migrations) => {
    const values = migrations.map((m) => `(${sqlNumber(m.version)}, ${sqlString(m.name)}, now())`);
    await store.command(
      'schema migration',
      `INSERT INTO ${db}.${MIGRATIONS_TABLE} (version, name, applied_at) VALUES ${values.join(', ')}`,
    );
    applied.push(...migrations.map((m) => m.version));
  });
  const current = Math.max(0, ...done, ...applied);
  return { applied, current };
}

function singleNode(store: Store): SchemaTarget {
  const db = sqlIdentifier(store.database);
  return {
    async prepare() {
      await store.command('schema migration', `CREATE DATABASE IF NOT EXISTS ${db}`);
      await store.command(
        'schema migration',
        `CREATE TABLE IF NOT EXISTS ${db}.${MIGRATIONS_TABLE} (version UInt32, name String, applied_at DateTime) ENGINE = MergeTree ORDER BY version`,
      );
    },
    async apply(pending, applied) {
      for (const migration of pending) {
        for (const statement of migration.statements(db)) await applyOne(statement);
        await applied([migration]);
      }
    },
  };

  async function applyOne(statement: Statement): Promise<void> {
    if (typeof statement === 'string') {
      await store.command('schema migration', statement);
      return;
    }
    const { table, column, definition } = statement.addColumn;
    const exists = async (): Promise<boolean> => {
      const rows = await store.select<{ n: number | string }>(
        'schema migration',
        `SELECT count() AS n FROM system.columns WHERE database = ${sqlString(store.database)} AND table = ${sqlString(table)} AND name = ${sqlString(column)}`,
      );
      return Number(rows[0]?.n ?? 0) > 0;
    };
    if (await exists()) return;
    try {
      await store.command(
        'schema migration',
        `ALTER TABLE ${db}.${sqlIdentifier(table)} ADD COLUMN ${sqlIdentifier(column)} ${definition}`,
      );
    } catch (error) {
      // Another replica migrating at the same moment may have added it between our check and ALTER.
      if (!(await exists())) throw error;
    }
  }
}
