import type { Migration } from './migrations.js';

/** The table that records which migrations a database has applied. */
export const MIGRATIONS_TABLE = 'schema_migrations';

/** Where migrations are applied: one node (migrations.ts), or every node of a cluster (cluster-schema.ts). */
export interface SchemaTarget {
  /** Creates the database and the table that records applied migrations. */
  prepare(): Promise<void>;
  /**
   * Applies the pending migrations' statements in order (or with the same effect), calling
   * `applied` with migrations, in version order, once all of their statements have run.
   */
  apply(
    pending: readonly Migration[],
    applied: (migrations: readonly Migration[]) => Promise<void>,
  ): Promise<void>;
}
