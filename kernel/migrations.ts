import type { Logger } from './logger.js';
import { sqlIdentifier, sqlNumber, sqlString } from './sql.js';
import type { Store } from './store.js';

/**
 * Versioned schema migrations, run through the storage port. Each migration is a list of
 * idempotent statements (IF NOT EXISTS), so a half-applied migration, or two replicas migrating
 * at once, converge on the same schema. The SQL stays inside what ClickHouse 18.16 and current
 * releases both run: no TTL, CODEC, DateTime64, Map, LowCardinality.
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

const MIGRATIONS_TABLE = 'schema_migrations';

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
  await store.command('schema migration', `CREATE DATABASE IF NOT EXISTS ${db}`);
  await store.command(
    'schema migration',
    `CREATE TABLE IF NOT EXISTS ${db}.${MIGRATIONS_TABLE} (version UInt32, name String, applied_at DateTime) ENGINE = MergeTree ORDER BY version`,
  );
  const rows = await store.select<{ version: number | string }>(
    'schema migration',
    `SELECT DISTINCT version FROM ${db}.${MIGRATIONS_TABLE}`,
  );
  const done = new Set(rows.map((row) => Number(row.version)));
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(migration.version)) continue;
    logger.info({ version: migration.version, name: migration.name }, 'applying migration');
    for (const statement of migration.statements(db)) await apply(store, db, statement);
    await store.command(
      'schema migration',
      `INSERT INTO ${db}.${MIGRATIONS_TABLE} (version, name, applied_at) VALUES (${sqlNumber(migration.version)}, ${sqlString(migration.name)}, now())`,
    );
    applied.push(migration.version);
  }
  const current = Math.max(0, ...done, ...applied);
  return { applied, current };
}

async function apply(store: Store, db: string, statement: Statement): Promise<void> {
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
