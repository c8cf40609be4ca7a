import path from 'node:path';
import { createLogger } from '../../kernel/logger.js';
import { migrate, type Migration } from '../../kernel/migrations.js';
import { sqlIdentifier } from '../../kernel/sql.js';
import type { Store, StoreEngine } from '../../kernel/store.js';
import { openEmbeddedStore } from '../../src/store/embedded-store.js';
import { openServerStore } from '../../src/store/clickhouse-server.js';
import { uniqueName } from './names.js';
import { servicesEnv } from './services.js';

/** Both storage backends: integration suites that cover every backend run once per entry. */
export const ENGINES: readonly StoreEngine[] = ['server', 'embedded'];

/**
 * The embedded engine's directory for this test process: chDB opens one directory per process,
 * so every embedded store of a test file shares it (each test in a database of its own).
 * test/global-setup.ts clears the folder before a run.
 */
export function embeddedTestPath(): string {
  return path.resolve('.driftguard', 'test-embedded', String(process.pid));
}

/**
 * A store on a fresh database `prefix_<unique>` of the given backend (the local ClickHouse
 * server, or the embedded engine), with `migrations` applied. `drop()` removes the database and
 * closes the store.
 */
export async function migratedDatabase(
  prefix: string,
  migrations: readonly Migration[],
  engine: StoreEngine = 'server',
): Promise<{ db: string; store: Store; drop: () => Promise<void> }> {
  const store = await openTestStore(engine, uniqueName(prefix));
  await migrate(store, createLogger('silent'), migrations);
  return {
    db: store.database,
    store,
    drop: async () => {
      await store.command('drop test database', `DROP DATABASE IF EXISTS ${sqlIdentifier(store.database)}`);
      await store.close();
    },
  };
}

/** A store of the given backend on `database` (not created: migrate() creates it). */
export async function openTestStore(engine: StoreEngine, database: string): Promise<Store> {
  return engine === 'embedded'
    ? openEmbeddedStore({ path: embeddedTestPath(), database, sessions: 3 })
    : openServerStore({
        url: servicesEnv().clickhouseUrl,
        database,
        username: 'default',
        password: '',
        requestTimeoutMs: 60_000,
      });
}
