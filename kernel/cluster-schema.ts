import {
  clusterCatalogue,
  clusterSteps,
  foldAddedColumns,
  createDistributed,
  distributedColumns,
  everyNodeReplicationPath,
  everyShard,
  localTable,
  type ClusterStep,
  type ClusterTarget,
  type LocalColumn,
} from './cluster-ddl.js';
import { DriftguardError } from './errors.js';
import type { Migration } from './migrations.js';
import { MIGRATIONS_TABLE, type SchemaTarget } from './schema-target.js';
import { sqlIdentifier, sqlString } from './sql.js';
import type { Store } from './store.js';

/**
 * Applies migrations to every node of `cluster` (see cluster-ddl.ts for what each statement
 * becomes). Every step is idempotent and checked against every shard, not just the node this
 * store reached, so a re-run, a run after a half-applied migration, or two daemons migrating at
 * once (their ON CLUSTER statements queue in ZooKeeper and run in order on each node) converge.
 *
 * Applied migrations are recorded in `schema_migrations`, replicated to every node: a daemon
 * reaching any node sees what any other daemon recorded, and the record survives the loss of a
 * node.
 */
export function clusterSchema(store: Store, cluster: string, migrations: readonly Migration[]): SchemaTarget {
  const target: ClusterTarget = { cluster, database: store.database };
  const db = sqlIdentifier(store.database);
  const onCluster = `ON CLUSTER ${sqlIdentifier(cluster)}`;
  const catalogue = clusterCatalogue(migrations, db);
  const run = (sql: string): Promise<void> => store.command('schema migration', sql);

  let shards: Promise<number> | undefined;
  const shardCount = (): Promise<number> => {
    shards ??= store
      .select<{ n: string | number }>(
        'schema migration',
        `SELECT uniqExact(shard_num) AS n FROM system.clusters WHERE cluster = ${sqlString(cluster)}`,
      )
      .then((rows) => {
        const n = Number(rows[0]?.n ?? 0);
        if (n === 0) throw notACluster(store, cluster);
        return n;
      });
    return shards;
  };

  /** The columns of `table` on one replica of every shard, with how many shards have each. */
  const columnsOnEveryShard = (table: string): Promise<Array<LocalColumn & { n: string | number }>> =>
    store.select(
      'schema migration',
      `SELECT name, type, default_kind, default_expression, count() AS n FROM ${everyShard(cluster, 'columns')} WHERE database = ${sqlString(store.database)} AND table = ${sqlString(table)} GROUP BY name, type, default_kind, default_expression`,
    );

  /** Creates or re-creates `table`'s Distributed table so that it matches its local table. */
  const syncDistributed = async (table: string): Promise<void> => {
    const local = await store.select<LocalColumn>(
      'schema migration',
      `SELECT name, type, default_kind, default_expression FROM system.columns WHERE database = ${sqlString(store.database)} AND table = ${sqlString(localTable(table))}`,
    );
    if (local.length === 0) {
      throw new DriftguardError(
        'STORE_QUERY_FAILED',
        `${store.database}.${localTable(table)} does not exist on ${store.location} after ON CLUSTER created it: is this node in cluster ${cluster}?`,
        { retriable: false },
      );
    }
    const wanted = local.map((column) =>
      column.default_kind === 'MATERIALIZED' ? { ...column, default_kind: 'ALIAS' } : column,
    );
    const [present, n] = await Promise.all([columnsOnEveryShard(table), shardCount()]);
    const same =
      present.length === wanted.length &&
      wanted.every((column) =>
        present.some(
          (p) =>
            p.name === column.name &&
            p.type === column.type &&
            p.default_kind === column.default_kind &&
            p.default_expression === column.default_expression &&
            Number(p.n) === n,
        ),
      );
    if (same) return;
    // 18.16 refuses ALTER … ON CLUSTER of a table that is not replicated on a cluster whose
    // shards are ("Table … isn't replicated, but shard #1 is replicated"), so a Distributed table
    // that lacks a column is re-created. It holds no data: inserts through it are synchronous.
    if (present.length > 0) await run(`DROP TABLE IF EXISTS ${db}.${sqlIdentifier(table)} ${onCluster}`);
    const shardingKey = catalogue.get(table)?.shardingKey;
    if (shardingKey === undefined)
      throw new DriftguardError('INTERNAL', `no sharding key for ${table}`, { retriable: false });
    await run(createDistributed(table, distributedColumns(local), target, shardingKey));
  };

  const hasColumnOnEveryShard = async (table: string, column: string): Promise<boolean> => {
    const [rows, n] = await Promise.all([
      store.select<{ n: string | number }>(
        'schema migration',
        `SELECT count() AS n FROM ${everyShard(cluster, 'columns')} WHERE database = ${sqlString(store.database)} AND table = ${sqlString(localTable(table))} AND name = ${sqlString(column)}`,
      ),
      shardCount(),
    ]);
    return Number(rows[0]?.n ?? 0) === n;
  };

  const step = async (item: ClusterStep): Promise<void> => {
    switch (item.kind) {
      case 'sql':
        await run(item.sql);
        return;
      case 'local':
        await run(item.sql);
        await syncDistributed(item.table);
        return;
      case 'addColumn': {
        const { table, column, definition } = item;
        if (!(await hasColumnOnEveryShard(table, column))) {
          try {
            // A replicated ALTER changes the shard's shared metadata: every replica applies it.
            await run(
              `ALTER TABLE ${db}.${sqlIdentifier(localTable(table))} ${onCluster} ADD COLUMN ${sqlIdentifier(column)} ${definition}`,
            );
          } catch (error) {
            // Another daemon migrating at the same moment may have added it first.
            if (!(await hasColumnOnEveryShard(table, column))) throw error;
          }
        }
        await syncDistributed(table);
        return;
      }
    }
  };

  return {
    async prepare() {
      await run(`CREATE DATABASE IF NOT EXISTS ${db} ${onCluster}`);
      await refuseSingleNodeSchema(store, cluster);
      await run(
        `CREATE TABLE IF NOT EXISTS ${db}.${MIGRATIONS_TABLE} ${onCluster} (version UInt32, name String, applied_at DateTime) ENGINE = ReplicatedMergeTree(${sqlString(everyNodeReplicationPath(store.database, MIGRATIONS_TABLE))}, '{shard}-{replica}') ORDER BY version`,
      );
    },
    async apply(pending, applied) {
      const planned = pending.flatMap((migration) =>
        migration
          .statements(db)
          .flatMap((statement) => clusterSteps(statement, db, target, catalogue))
          .map((item) => ({ item, migration })),
      );
      const folded = foldAddedColumns(planned.map(({ item }) => item));
      const steps = planned.map(({ migration }, index) => ({
        item: folded[index] as ClusterStep,
        migration,
      }));
      // Each migration is recorded once its last step has run (and every earlier one's).
      const lastStep = new Map(steps.map(({ migration }, index) => [migration, index]));
      let recorded = 0;
      const recordUpTo = async (index: number): Promise<void> => {
        const ready: Migration[] = [];
        for (; recorded < pending.length; recorded++) {
          const migration = pending[recorded] as Migration;
          if ((lastStep.get(migration) ?? -1) > index) break;
          ready.push(migration);
        }
        if (ready.length > 0) await applied(ready);
      };
      // ON CLUSTER DDL costs a round trip through ZooKeeper to every node, so consecutive new
      // tables (which depend on nothing but themselves), across migrations, are created side by
      // side, then their Distributed tables; views, ALTERs, columns and drops keep their order.
      for (let i = 0; i < steps.length;) {
        let end = i;
        while (end < steps.length && isNewTable(steps[end]?.item)) end++;
        if (end > i) {
          const batch = steps
            .slice(i, end)
            .map(({ item }) => item as Extract<ClusterStep, { kind: 'local' }>);
          await Promise.all(batch.map((item) => run(item.sql)));
          await Promise.all(batch.map((item) => syncDistributed(item.table)));
        } else {
          end = i + 1;
          await step(steps[i]?.item as ClusterStep);
        }
        await recordUpTo(end - 1);
        i = end;
      }
      await recordUpTo(steps.length);
    },
  };
}

/** A database migrated on one node cannot become a cluster schema in place: say how to move it. */
async function refuseSingleNodeSchema(store: Store, cluster: string): Promise<void> {
  const rows = await store.select<{ engine: string }>(
    'schema migration',
    `SELECT engine FROM system.tables WHERE database = ${sqlString(store.database)} AND name = ${sqlString(MIGRATIONS_TABLE)}`,
  );
  const engine = rows[0]?.engine;
  if (engine !== undefined && !engine.startsWith('Replicated')) {
    throw new DriftguardError(
      'CONFIG_INVALID',
      `database ${store.database} on ${store.location} holds a single-node driftguard schema (${MIGRATIONS_TABLE} is ${engine}), so it cannot be migrated as cluster ${cluster} in place: migrate into a new database on the cluster and copy the data (docs/deployment.md, "Moving a single-node database onto a cluster")`,
      { retriable: false },
    );
  }
}

function notACluster(store: Store, cluster: string): DriftguardError {
  return new DriftguardError(
    'CONFIG_INVALID',
    `cluster ${cluster} is not defined in remote_servers of the ClickHouse server at ${store.location}: check clickhouse.cluster (DRIFTGUARD_CLICKHOUSE_CLUSTER) against SELECT DISTINCT cluster FROM system.clusters`,
    { retriable: false },
  );
}

function isNewTable(step: ClusterStep | undefined): boolean {
  return step?.kind === 'local' && /^CREATE TABLE/i.test(step.sql);
}
