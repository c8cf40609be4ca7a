import type { Store } from '../../kernel/store.js';
import type { CompiledConfig } from '../config/compile.js';
import { openEmbeddedStore } from './embedded-store.js';
import { openServerStore } from './clickhouse-server.js';

/**
 * The one way the daemon, the CLI, the demo and the benchmarks get a store: the backend
 * `store.engine` names (compiled from the config: a ClickHouse server when `clickhouse.url` is
 * set, else the embedded engine under `store.path`).
 */
export async function openStore(config: Pick<CompiledConfig, 'store' | 'clickhouse'>): Promise<Store> {
  if (config.store.engine === 'embedded') {
    return openEmbeddedStore({
      path: config.store.path,
      database: config.clickhouse.database,
      sessions: config.store.embeddedSessions,
    });
  }
  return openServerStore(config.clickhouse);
}

/** One line saying which store is in use and how to choose the other, for the start-up log. */
export function describeStore(store: Store): string {
  return store.engine === 'embedded'
    ? `storing in the embedded ClickHouse engine (chDB) at ${store.location}, database ${store.database}; set DRIFTGUARD_CLICKHOUSE_URL (or store.engine: server) to use a ClickHouse server instead`
    : `storing in the ClickHouse server at ${store.location}, database ${store.database}${store.cluster === undefined ? '' : ` on cluster ${store.cluster}`}`;
}
