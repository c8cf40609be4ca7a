import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { DriftguardError } from '../../kernel/errors.js';
import { migrate } from '../../kernel/migrations.js';
import { sqlIdentifier, sqlString } from '../../kernel/sql.js';
import type { Store } from '../../kernel/store.js';
import { ALL_MIGRATIONS } from '../../src/store/schema.js';
import { dropExpiredPartitions } from '../../src/store/retention.js';
import { ENGINES, migratedDatabase, openTestStore, uniqueName } from '../support/index.js';

/**
 * The storage port's own contract, on every backend: migrations, settings that must not depend
 * on the engine's defaults, and retention. (The subsystems' tables and queries on every backend:
 * store-contract.test.ts.)
 */
const logger = pino({ level: 'silent' });
const drops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const drop of drops.splice(0)) await drop();
});

const LATEST = Math.max(...ALL_MIGRATIONS.map((m) => m.version));

async function fresh(
  engine: (typeof ENGINES)[number],
  prefix: string,
): Promise<{ db: string; store: Store }> {
  const { db, store, drop } = await migratedDatabase(prefix, ALL_MIGRATIONS, engine);
  drops.push(drop);
  return { db, store };
}

describe.each(ENGINES)('store port on the %s backend', (engine) => {
  it('migrates idempotently, even when two replicas migrate at once', async () => {
    const db = uniqueName('store');
    const [one, two] = [await openTestStore(engine, db), await openTestStore(engine, db)];
    drops.push(async () => {
      await one.command('drop', `DROP DATABASE IF EXISTS ${sqlIdentifier(db)}`);
      await one.close();
      await two.close();
    });
    const [a, b] = await Promise.all([
      migrate(one, logger, ALL_MIGRATIONS),
      migrate(two, logger, ALL_MIGRATIONS),
    ]);
    expect(Math.max(a.current, b.current)).toBe(LATEST);
    expect(await migrate(one, logger, ALL_MIGRATIONS)).toEqual({ applied: [], current: LATEST });
    const tables = await one.select<{ name: string }>(
      'tables',
      `SELECT name FROM system.tables WHERE database = ${sqlString(db)} ORDER BY name`,
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
    const columns = await one.select<{ name: string }>(
      'columns',
      `SELECT name FROM system.columns WHERE database = ${sqlString(db)} AND table = 'predictions' AND name = 'num_layout'`,
    );
    expect(columns).toHaveLength(1);
  });

  it('quotes 64-bit integers in JSON and stores synchronously, whatever the engine defaults', async () => {
    const { db, store } = await fresh(engine, 'settings');
    const [row] = await store.select<{ big: unknown; small: unknown }>(
      'quoting',
      'SELECT toUInt64(18446744073709551615) AS big, toUInt32(7) AS small',
    );
    expect(row).toEqual({ big: '18446744073709551615', small: 7 });
    // An insert that has resolved is visible to the next read (no asynchronous insert buffer).
    for (let i = 0; i < 5; i++) {
      await store.insert('outcomes', [
        `{"model":"m","ts":1700000000,"ts_ms":1700000000000,"id":"o${i}","label":"x"}\n`,
      ]);
      const [count] = await store.select<{ n: string }>('count', `SELECT count() AS n FROM ${db}.outcomes`);
      expect(Number(count?.n)).toBe(i + 1);
    }
    // Epoch seconds into DateTime, read back as epoch seconds: no time zone in between.
    const [ts] = await store.select<{ s: string }>(
      'ts',
      `SELECT toUInt64(ts) AS s FROM ${db}.outcomes LIMIT 1`,
    );
    expect(Number(ts?.s)).toBe(1_700_000_000);
  });

  it('keeps equal writes marked repeatsRows, inserts and INSERT … SELECT alike', async () => {
    const { db, store } = await fresh(engine, 'repeats');
    const line = `${JSON.stringify({ model: 'm', bucket: 1_795_399_200, n: 1 })}\n`;
    const select = `INSERT INTO ${db}.rollup_events_1m (model, bucket, n) SELECT 'm', toDateTime(1795399200), toInt64(2)`;
    for (let i = 0; i < 2; i++) {
      await store.insert('rollup_ledger', [line], { repeatsRows: true });
      await store.command('repeat', select, { repeatsRows: true });
    }
    const [counts] = await store.select<{ ledger: string; events: string }>(
      'counts',
      `SELECT (SELECT sum(n) FROM ${db}.rollup_ledger) AS ledger, (SELECT sum(n) FROM ${db}.rollup_events_1m) AS events`,
    );
    // On a replicated table an unmarked repeat would be dropped as a retried block.
    expect(counts).toEqual({ ledger: '2', events: '4' });
  });

  it('maps a refused statement to STORE_QUERY_FAILED and refused data to STORE_DATA_REJECTED, neither retriable', async () => {
    const { store } = await fresh(engine, 'errors');
    await expect(store.select('bad', 'SELECT no_such_column FROM system.one')).rejects.toMatchObject({
      code: 'STORE_QUERY_FAILED',
      retriable: false,
    });
    // Data a column cannot hold: ingest isolates such rows (and dead-letters them) by this code.
    const refused = store.insert('predictions', ['{"model": 1, "ts": "not a time"}\n']);
    await expect(refused).rejects.toMatchObject({ code: 'STORE_DATA_REJECTED', retriable: false });
    await expect(store.insert('predictions', ['{"model":"m","id":"\\ud800x"}\n'])).rejects.toMatchObject({
      code: 'STORE_DATA_REJECTED',
    });
    // What a client may be told names the code, not the server's text.
    await refused.catch((error: DriftguardError) => {
      expect(error.publicMessage).toMatch(/ClickHouse error \d+/);
      expect(error.publicMessage).not.toMatch(/DB::Exception|not a time/);
    });
  });

  it('drops whole day partitions older than the retention, and nothing newer', async () => {
    const { db, store } = await fresh(engine, 'retention');
    const now = Date.parse('2026-11-23T12:00:00Z');
    const days = [40, 31, 29, 1, 0];
    const values = days
      .map((d) => `('m', toDateTime(${Math.floor((now - d * 86_400_000) / 1000)}), ${sqlString(`id-${d}`)})`)
      .join(', ');
    await store.command('seed', `INSERT INTO ${db}.predictions (model, ts, id) VALUES ${values}`);
    // The ingest ledger of those rows, as the daemon's ingest writes it.
    await store.command(
      'seed ledger',
      `INSERT INTO ${db}.rollup_ledger (model, bucket, n) SELECT model, toStartOfMinute(ts), count() FROM ${db}.predictions GROUP BY model, ts`,
    );
    const dropped = await dropExpiredPartitions(store, { events: 30, history: 0 }, now, logger);
    // The monitor's rollups of those days go with them.
    expect(dropped.sort()).toEqual([
      'predictions/20261014',
      'predictions/20261023',
      'rollup_ledger/20261014',
      'rollup_ledger/20261023',
    ]);
    const left = await store.select<{ id: string }>('left', `SELECT id FROM ${db}.predictions ORDER BY id`);
    expect(left.map((r) => r.id)).toEqual(['id-0', 'id-1', 'id-29']);
    const rolled = await store.select<{ n: string }>('rolled', `SELECT sum(n) AS n FROM ${db}.rollup_ledger`);
    expect(rolled).toEqual([{ n: '3' }]);
  });

  it('drops month partitions of results and alerts once all of the month is past the history horizon', async () => {
    const { db, store } = await fresh(engine, 'history');
    const now = Date.parse('2026-11-23T12:00:00Z');
    // September 2025; October 2025 (the month the 400-day horizon falls in: kept); this month.
    // Mid-day times, so that the server's time zone cannot move them to another month.
    const times = ['2025-09-30T00:00:00Z', '2025-10-01T12:00:00Z', '2026-11-20T00:00:00Z'].map((iso) =>
      Math.floor(Date.parse(iso) / 1000),
    );
    await store.command(
      'seed',
      `INSERT INTO ${db}.model_health (model, evaluated_at) VALUES ${times.map((t, i) => `('m${i}', toDateTime(${t}))`).join(', ')}`,
    );
    await store.command(
      'seed',
      `INSERT INTO ${db}.alert_deliveries (delivery_id, at) VALUES ${times.map((t, i) => `('d${i}', toDateTime(${t}))`).join(', ')}`,
    );
    await store.command(
      'seed',
      `INSERT INTO ${db}.predictions (model, ts, id) VALUES ('m', toDateTime(${times[0]}), 'old-event')`,
    );
    const dropped = await dropExpiredPartitions(store, { events: 0, history: 400 }, now, logger);
    expect(dropped.sort()).toEqual(['alert_deliveries/202509', 'model_health/202509']);
    const health = await store.select<{ model: string }>(
      'health',
      `SELECT model FROM ${db}.model_health ORDER BY model`,
    );
    expect(health.map((r) => r.model)).toEqual(['m1', 'm2']);
    // Events follow their own horizon (0 here: kept).
    const events = await store.select<{ id: string }>('events', `SELECT id FROM ${db}.predictions`);
    expect(events.map((r) => r.id)).toEqual(['old-event']);
  });
});
