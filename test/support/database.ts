import { createLogger } from '../../src/logger.js';
import { createClickHouse, type ClickHouseClient } from '../../src/store/clickhouse.js';
import { migrate, type Migration } from '../../src/store/migrations.js';
import { uniqueName } from './names.js';
import { servicesEnv } from './services.js';

/**
 * A fresh database `prefix_<unique>` on the local ClickHouse with `migrations` applied, and a
 * client for it (30 s request timeout). The caller closes the client and drops the database.
 */
export async function migratedDatabase(
  prefix: string,
  migrations: readonly Migration[],
): Promise<{ db: string; client: ClickHouseClient }> {
  const db = uniqueName(prefix);
  const client = createClickHouse({
    url: servicesEnv().clickhouseUrl,
    database: db,
    username: 'default',
    password: '',
    requestTimeoutMs: 30_000,
  });
  await migrate(client, db, createLogger('silent'), migrations);
  return { db, client };
}
