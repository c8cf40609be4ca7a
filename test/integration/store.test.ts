import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createClickHouse } from '../../src/store/clickhouse.js';
import { migrate } from '../../src/store/migrations.js';
import { ALL_MIGRATIONS } from '../../src/store/schema.js';
import { dropExpiredPartitions } from '../../src/store/retention.js';
import { sqlString } from '../../src/store/sql.js';
import {
  clickhouseQuery,
  dropDatabase,
  migratedDatabase,
  servicesEnv,
  uniqueName,
} from '../support/index.js';

const logger = pino({ level: 'silent' });
const databases: string[] = [];
afterEach(async () => {
  for (const db of databases.splice(0)) await dropDatabase(servicesEnv().clickhouseUrl, db);
});

describe('store on the real ClickHouse', () => {
  it('migrates idempotently, even when two replicas migrate at once', async () => {
    const { clickhouseUrl } = servicesEnv();
    const db = uniqueName('store');
    databases.push(db);
    const client = createClickHouse({
      url: clickhouseUrl,
      database: db,
      username: 'default',
      password: '',
      requestTimeoutMs: 30_000,
    });
    const [a, b] = await Promise.all([
      migrate(client, db, logger, ALL_MIGRATIONS),
      migrate(client, db, logger, ALL_MIGRATIONS),
    ]);
    expect(Math.max(a.current, b.current)).toBe(Math.max(...ALL_MIGRATIONS.map((m) => m.version)));
    expect(await migrate(client, db, logger, ALL_MIGRATIONS)).toEqual({
      applied: [],
      current: Math.max(...ALL_MIGRATIONS.map((m) => m.version)),
    });
    const tables = await clickhouseQuery<{ name: string }>(
      clickhouseUrl,
      `SELECT name FROM system.tables WHERE database = '${db}' ORDER BY name`,
    );
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'outcomes',
        'predictions',
        'schema_migrations',
        'drift_results',
        'model_health',
      ]),
    );
    await client.close();
  });

  it('drops whole day partitions older than the retention, and nothing newer', async () => {
    const { clickhouseUrl } = servicesEnv();
    const { db, client } = await migratedDatabase('retention', ALL_MIGRATIONS);
    databases.push(db);
    const now = Date.parse('2026-11-23T12:00:00Z');
    const days = [40, 31, 29, 1, 0];
    const values = days
      .map((d) => `('m', toDateTime(${Math.floor((now - d * 86_400_000) / 1000)}), ${sqlString(`id-${d}`)})`)
      .join(', ');
    await clickhouseQuery(clickhouseUrl, `INSERT INTO ${db}.predictions (model, ts, id) VALUES ${values}`);
    const dropped = await dropExpiredPartitions(client, db, { events: 30, history: 0 }, now, logger);
    expect(dropped.sort()).toEqual(['predictions/20261014', 'predictions/20261023']);
    const left = await clickhouseQuery<{ id: string }>(
      clickhouseUrl,
      `SELECT id FROM ${db}.predictions ORDER BY id`,
    );
    expect(left.map((r) => r.id)).toEqual(['id-0', 'id-1', 'id-29']);
    await client.close();
  });

  it('drops month partitions of results and alerts once all of the month is past the history horizon', async () => {
    const { clickhouseUrl } = servicesEnv();
    const { db, client } = await migratedDatabase('history', ALL_MIGRATIONS);
    databases.push(db);
    const now = Date.parse('2026-11-23T12:00:00Z');
    // September 2025; October 2025 (the month the 400-day horizon falls in: kept); this month.
    // Mid-day times, so that the server's time zone cannot move them to another month.
    const times = ['2025-09-30T00:00:00Z', '2025-10-01T12:00:00Z', '2026-11-20T00:00:00Z'].map((iso) =>
      Math.floor(Date.parse(iso) / 1000),
    );
    await clickhouseQuery(
      clickhouseUrl,
      `INSERT INTO ${db}.model_health (model, evaluated_at) VALUES ${times.map((t, i) => `('m${i}', toDateTime(${t}))`).join(', ')}`,
    );
    await clickhouseQuery(
      clickhouseUrl,
      `INSERT INTO ${db}.alert_deliveries (delivery_id, at) VALUES ${times.map((t, i) => `('d${i}', toDateTime(${t}))`).join(', ')}`,
    );
    await clickhouseQuery(
      clickhouseUrl,
      `INSERT INTO ${db}.predictions (model, ts, id) VALUES ('m', toDateTime(${times[0]}), 'old-event')`,
    );
    const dropped = await dropExpiredPartitions(client, db, { events: 0, history: 400 }, now, logger);
    expect(dropped.sort()).toEqual(['alert_deliveries/202509', 'model_health/202509']);
    const health = await clickhouseQuery<{ model: string }>(
      clickhouseUrl,
      `SELECT model FROM ${db}.model_health ORDER BY model`,
    );
    expect(health.map((r) => r.model)).toEqual(['m1', 'm2']);
    // Events follow their own horizon (0 here: kept).
    const events = await clickhouseQuery<{ id: string }>(clickhouseUrl, `SELECT id FROM ${db}.predictions`);
    expect(events.map((r) => r.id)).toEqual(['old-event']);
    await client.close();
  });
});
