import path from 'node:path';
import { localTable } from '../../kernel/cluster-ddl.js';
import { createLogger } from '../../kernel/logger.js';
import { migrate, type Migration } from '../../kernel/migrations.js';
import { sqlIdentifier } from '../../kernel/sql.js';
import type { Store } from '../../kernel/store.js';
import { openEmbeddedStore } from '../../src/store/embedded-store.js';
import { openServerStore } from '../../src/store/clickhouse-server.js';
import { clickhouseQuery } from './clickhouse.js';
import { uniqueName } from './names.js';
import { clusterEnv, servicesEnv } from './services.js';

/**
 * The storage backends integration suites run on: the 18.16 server, the current engine embedded,
 * and the local 18.16 cluster (2 shards × 2 replicas, schema ON CLUSTER behind Distributed
 * tables). Suites that cover every backend run once per entry.
 */
export type TestBackend = 'server' | 'embedded' | 'cluster';
export const ENGINES: readonly TestBackend[] = ['server', 'embedded', 'cluster'];

/**
 * The embedded engine's directory for this test process: chDB opens one directory per process,
 * so every embedded store of a test file shares it (each test in a database of its own).
 * test/global-setup.ts clears the folder before a run.
 */
export function embeddedTestPath(): string {
  return path.resolve('.driftguard', 'test-embedded', String(process.pid));
}

/**
 * A store on a fresh database `prefix_<unique>` of the given backend, with `migrations`
 * applied. `drop()` removes the database (on every node of the cluster) and closes the store.
 */
export async function migratedDatabase(
  prefix: string,
  migrations: readonly Migration[],
  engine: TestBackend = 'server',
): Promise<{ db: string; store: Store; drop: () => Promise<void> }> {
  const store = await openTestStore(engine, uniqueName(prefix));
  await migrate(store, createLogger('silent'), migrations);
  return {
    db: store.database,
    store,
    drop: async () => {
      await dropStoreDatabase(store);
      await store.close();
    },
  };
}

/** Drops the store's database, ON CLUSTER when the store is a cluster's. */
export async function dropStoreDatabase(store: Store): Promise<void> {
  const onCluster = store.cluster === undefined ? '' : ` ON CLUSTER ${sqlIdentifier(store.cluster)}`;
  await store.command(
    'drop test database',
    `DROP DATABASE IF EXISTS ${sqlIdentifier(store.database)}${onCluster}`,
  );
}

export interface OpenTestStoreOptions {
  /** On the cluster: the node to talk to (one of `clusterEnv().nodeUrls`). @default the first */
  nodeUrl?: string;
}

/** A store of the given backend on `database` (not created: migrate() creates it). */
export async function openTestStore(
  engine: TestBackend,
  database: string,
  options: OpenTestStoreOptions = {},
): Promise<Store> {
  if (engine === 'embedded') return openEmbeddedStore({ path: embeddedTestPath(), database, sessions: 3 });
  const cluster = engine === 'cluster' ? clusterEnv() : undefined;
  return openServerStore({
    url: options.nodeUrl ?? cluster?.clickhouseUrl ?? servicesEnv().clickhouseUrl,
    database,
    username: 'default',
    password: '',
    requestTimeoutMs: 60_000,
    cluster: cluster?.cluster,
  });
}

/** A ClickHouse a daemon process can be pointed at: the local server, or the local cluster. */
export interface DaemonClickhouse {
  /** The HTTP URL the daemon and the test's own queries use (one node of the cluster). */
  readonly url: string;
  /** The `DRIFTGUARD_*` variables that point a daemon at it, on `database`. */
  env(database: string): Record<string, string>;
  /** Drops `database` (on every node of the cluster). */
  drop(database: string): Promise<void>;
}

export function daemonClickhouse(engine: Exclude<TestBackend, 'embedded'>): DaemonClickhouse {
  if (engine === 'server') {
    const url = servicesEnv().clickhouseUrl;
    return {
      url,
      env: (database) => ({ DRIFTGUARD_CLICKHOUSE_URL: url, DRIFTGUARD_CLICKHOUSE_DATABASE: database }),
      drop: async (database) => {
        await clickhouseQuery(url, `DROP DATABASE IF EXISTS ${sqlIdentifier(database)}`);
      },
    };
  }
  const { clickhouseUrl: url, cluster } = clusterEnv();
  return {
    url,
    env: (database) => ({
      DRIFTGUARD_CLICKHOUSE_URL: url,
      DRIFTGUARD_CLICKHOUSE_CLUSTER: cluster,
      DRIFTGUARD_CLICKHOUSE_DATABASE: database,
    }),
    drop: async (database) => {
      await clickhouseQuery(
        url,
        `DROP DATABASE IF EXISTS ${sqlIdentifier(database)} ON CLUSTER ${sqlIdentifier(cluster)}`,
      );
    },
  };
}

/**
 * `OPTIMIZE TABLE … FINAL`: merges every part of `table` now. On the cluster a Distributed table
 * cannot be optimized and 18.16 runs no OPTIMIZE … ON CLUSTER, so each shard's leader replica
 * merges its local table (and assigns the merge to the other replicas). There 18.16 never merges
 * the newest part written with an insert quorum (it keeps it as the quorum's last part), and an
 * OPTIMIZE … FINAL that must include it fails ("Unknown log entry type: 0"): the leader merges
 * what it can, and reads with FINAL collapse the rest, as they do any unmerged part.
 */
export async function optimizeFinal(store: Store, table: string): Promise<void> {
  const db = sqlIdentifier(store.database);
  if (store.cluster === undefined) {
    await store.command('optimize', `OPTIMIZE TABLE ${db}.${sqlIdentifier(table)} FINAL`);
    return;
  }
  const local = localTable(table);
  for (const url of clusterEnv().nodeUrls) {
    const [leader] = await clickhouseQuery<{ is_leader: number }>(
      url,
      `SELECT is_leader FROM system.replicas WHERE database = '${store.database}' AND table = '${local}'`,
    );
    if (leader?.is_leader === 1) await clickhouseQuery(url, `OPTIMIZE TABLE ${db}.${sqlIdentifier(local)}`);
  }
}
