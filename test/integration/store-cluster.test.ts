import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, type Migration } from '../../kernel/migrations.js';
import type { Store } from '../../kernel/store.js';
import { ALL_MIGRATIONS } from '../../src/store/schema.js';
import { openServerStore } from '../../src/store/clickhouse-server.js';
import { dropExpiredPartitions } from '../../src/store/retention.js';
import {
  clickhouseQuery,
  clusterEnv,
  dropStoreDatabase,
  servicesEnv,
  ENGINES,
  migratedDatabase,
  openTestStore,
  uniqueName,
} from '../support/index.js';

/**
 * Cluster mode of the storage port, on the local 2 × 2 cluster, looked at node by node (through
 * each node's own HTTP port, not through the port): the schema on every node, the sharding key,
 * MATERIALIZED columns through Distributed tables, read-your-writes on every replica, retention
 * on every shard and replica, and a materialized view into an aggregating table — the kind of
 * migration incremental aggregation adds — which also runs on the other backends.
 */
const logger = pino({ level: 'silent' });
const drops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const drop of drops.splice(0)) await drop();
});

/** An example of incremental aggregation: per-minute counts fed by a view over predictions. */
const ROLLUP: readonly Migration[] = [
  {
    version: 90,
    name: 'example: minute rollup of predictions',
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.minute_counts (
        model String,
        minute DateTime,
        events AggregateFunction(count),
        ids AggregateFunction(uniqExact, String),
        amount AggregateFunction(sum, Float64)
      ) ENGINE = AggregatingMergeTree()
      PARTITION BY toYYYYMM(minute)
      ORDER BY (model, minute)`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.minute_counts_mv TO ${db}.minute_counts AS
      SELECT model, toStartOfMinute(ts) AS minute, countState() AS events, uniqExactState(id) AS ids,
        sumState(arraySum(num_values)) AS amount
      FROM ${db}.predictions GROUP BY model, minute`,
    ],
  },
  {
    version: 91,
    name: 'example: a column computed at insert, added later',
    statements: () => [
      {
        addColumn: {
          table: 'predictions',
          column: 'id_length',
          definition: 'UInt64 MATERIALIZED length(id)',
        },
      },
    ],
  },
];

const T0 = 1_796_000_040; // 2026-11-30 00:54:00 UTC: the test rows fill two whole minutes of one day

function predictionLine(model: string, id: string, tsSec: number, ingestedAt = T0): string {
  return `${JSON.stringify({
    model,
    ts: tsSec,
    ts_ms: tsSec * 1000,
    id,
    num_names: ['amount', 'age'],
    num_values: [id.length, 1],
    ingested_at: ingestedAt,
  })}\n`;
}

function predictionLines(count: number, ingestedAt = T0): string[] {
  return Array.from({ length: count }, (_, i) =>
    predictionLine(i % 3 === 0 ? 'fraud' : 'churn', `e-${i}`, T0 + (i % 120), ingestedAt),
  );
}

describe.each(ENGINES)('a materialized view into an aggregating table on the %s backend', (engine) => {
  it('aggregates every inserted row once, and a column added later is computed at insert', async () => {
    const { db, store, drop } = await migratedDatabase('rollup', [...ALL_MIGRATIONS, ...ROLLUP], engine);
    drops.push(drop);
    expect(await migrate(store, logger, [...ALL_MIGRATIONS, ...ROLLUP])).toMatchObject({ applied: [] });
    await store.insert('predictions', predictionLines(300));
    await store.insert('predictions', [predictionLine('fraud', 'late-one', T0 + 30)]);
    const rolled = await store.select(
      'rollup',
      `SELECT model, toUInt32(minute) AS minute, countMerge(events) AS n, uniqExactMerge(ids) AS ids, sumMerge(amount) AS amount
       FROM ${db}.minute_counts GROUP BY model, minute ORDER BY model, minute`,
    );
    const scanned = await store.select(
      'scan',
      `SELECT model, toUInt32(toStartOfMinute(ts)) AS minute, count() AS n, uniqExact(id) AS ids, sum(arraySum(num_values)) AS amount
       FROM ${db}.predictions FINAL GROUP BY model, minute ORDER BY model, minute`,
    );
    expect(rolled).toHaveLength(4);
    expect(rolled).toEqual(scanned);
    const [lengths] = await store.select<{ bad: string; n: string }>(
      'materialized',
      `SELECT countIf(id_length != length(id)) AS bad, count() AS n FROM ${db}.predictions`,
    );
    expect(lengths).toEqual({ bad: '0', n: '301' });
  });
});

describe('the schema on a cluster, node by node', () => {
  const { cluster, nodeUrls } = clusterEnv();
  const onNode = <Row = Record<string, unknown>>(node: number, sql: string): Promise<Row[]> =>
    clickhouseQuery<Row>(nodeUrls[node] ?? '', sql);
  const shards = [
    [0, 1],
    [2, 3],
  ] as const;

  async function clusterDatabase(prefix: string, migrations: readonly Migration[] = ALL_MIGRATIONS) {
    const made = await migratedDatabase(prefix, migrations, 'cluster');
    drops.push(made.drop);
    return made;
  }

  it('puts a replicated local table behind a Distributed table on every node, and records migrations once', async () => {
    const { db, store } = await clusterDatabase('nodes', [...ALL_MIGRATIONS, ...ROLLUP]);
    const versions = [...ALL_MIGRATIONS, ...ROLLUP].map((m) => m.version).sort((a, b) => a - b);
    for (let node = 0; node < nodeUrls.length; node++) {
      const tables = await onNode<{ name: string; engine: string }>(
        node,
        `SELECT name, engine FROM system.tables WHERE database = '${db}' AND name IN ('predictions', 'predictions_local', 'minute_counts', 'minute_counts_local', 'minute_counts_mv', 'schema_migrations') ORDER BY name`,
      );
      expect(tables, `node ${node}`).toEqual([
        { name: 'minute_counts', engine: 'Distributed' },
        { name: 'minute_counts_local', engine: 'ReplicatedAggregatingMergeTree' },
        { name: 'minute_counts_mv', engine: 'MaterializedView' },
        { name: 'predictions', engine: 'Distributed' },
        { name: 'predictions_local', engine: 'ReplicatedReplacingMergeTree' },
        { name: 'schema_migrations', engine: 'ReplicatedMergeTree' },
      ]);
      const computed = await onNode<{ table: string; name: string; default_kind: string }>(
        node,
        `SELECT table, name, default_kind FROM system.columns WHERE database = '${db}' AND table IN ('predictions', 'predictions_local') AND default_kind != '' ORDER BY table, name`,
      );
      // Computed at insert on the local table; an ALIAS of the same expression on the Distributed one.
      expect(computed, `node ${node}`).toEqual([
        { table: 'predictions', name: 'id_length', default_kind: 'ALIAS' },
        { table: 'predictions', name: 'num_layout', default_kind: 'ALIAS' },
        { table: 'predictions_local', name: 'id_length', default_kind: 'MATERIALIZED' },
        { table: 'predictions_local', name: 'num_layout', default_kind: 'MATERIALIZED' },
      ]);
      // The record of applied migrations is replicated to every node.
      const recorded = await onNode<{ version: number }>(
        node,
        `SELECT DISTINCT version FROM ${db}.schema_migrations ORDER BY version`,
      );
      expect(
        recorded.map((r) => r.version),
        `node ${node}`,
      ).toEqual(versions);
    }
    // A daemon reaching another node finds the schema migrated.
    const elsewhere = await openTestStore('cluster', db, { nodeUrl: nodeUrls[3] });
    try {
      expect(await migrate(elsewhere, logger, [...ALL_MIGRATIONS, ...ROLLUP])).toEqual({
        applied: [],
        current: Math.max(...versions),
      });
    } finally {
      await elsewhere.close();
    }
    expect(store.cluster).toBe(cluster);
  });

  it('migrates safely when two daemons reach two nodes at once', async () => {
    const db = uniqueName('twice');
    const [one, two] = [
      await openTestStore('cluster', db, { nodeUrl: nodeUrls[0] }),
      await openTestStore('cluster', db, { nodeUrl: nodeUrls[2] }),
    ];
    drops.push(async () => {
      await dropStoreDatabase(one);
      await one.close();
      await two.close();
    });
    await Promise.all([migrate(one, logger, ALL_MIGRATIONS), migrate(two, logger, ALL_MIGRATIONS)]);
    for (let node = 0; node < nodeUrls.length; node++) {
      const [row] = await onNode<{ tables: string; layout: string }>(
        node,
        `SELECT (SELECT count() FROM system.tables WHERE database = '${db}') AS tables, (SELECT count() FROM system.columns WHERE database = '${db}' AND name = 'num_layout') AS layout`,
      );
      // 30 tables, each local and Distributed, and schema_migrations; num_layout on both
      // predictions tables.
      expect(row, `node ${node}`).toEqual({ tables: '61', layout: '2' });
    }
  });

  it('keeps every copy of one (model, id) on one shard, so replays collapse under FINAL', async () => {
    const { db, store } = await clusterDatabase('shards');
    await store.insert('predictions', predictionLines(400, T0));
    // A replay: the same events again, stored later.
    await store.insert('predictions', predictionLines(400, T0 + 60));
    const [through] = await store.select<{ all: string; final: string }>(
      'counts',
      `SELECT (SELECT count() FROM ${db}.predictions) AS all, (SELECT count() FROM ${db}.predictions FINAL) AS final`,
    );
    expect(through).toEqual({ all: '800', final: '400' });
    const idsOf = async (node: number): Promise<Set<string>> =>
      new Set(
        (await onNode<{ id: string }>(node, `SELECT DISTINCT id FROM ${db}.predictions_local`)).map(
          (r) => r.id,
        ),
      );
    const [first, second] = [await idsOf(shards[0][0]), await idsOf(shards[1][0])];
    expect(first.size + second.size).toBe(400);
    expect([...first].filter((id) => second.has(id))).toEqual([]);
    expect(first.size).toBeGreaterThan(100);
    expect(second.size).toBeGreaterThan(100);
  });

  it('an insert that returned is on every replica of its shard, computed columns included', async () => {
    const { db, store } = await clusterDatabase('ryw');
    for (let batch = 0; batch < 5; batch++) {
      await store.insert(
        'predictions',
        Array.from({ length: 50 }, (_, i) => predictionLine('fraud', `b${batch}-${i}`, T0 + i)),
      );
      // Right after the insert, on each replica directly: no waiting for replication.
      const counts = await Promise.all(
        nodeUrls.map(async (_, node) => {
          const [row] = await onNode<{ n: string; bad: string }>(
            node,
            `SELECT count() AS n, countIf(num_layout != cityHash64(num_names)) AS bad FROM ${db}.predictions_local`,
          );
          expect(row?.bad).toBe('0');
          return Number(row?.n);
        }),
      );
      expect(counts[0], 'replicas of shard 1 agree').toBe(counts[1]);
      expect(counts[2], 'replicas of shard 2 agree').toBe(counts[3]);
      expect((counts[0] ?? 0) + (counts[2] ?? 0)).toBe(50 * (batch + 1));
    }
  });

  it('drops expired partitions on every shard and every replica', async () => {
    const { db, store } = await clusterDatabase('retention');
    const now = Date.parse('2026-11-23T12:00:00Z');
    const days = [40, 31, 29, 1];
    await store.insert(
      'predictions',
      days.flatMap((d) =>
        Array.from({ length: 40 }, (_, i) =>
          predictionLine('m', `d${d}-${i}`, Math.floor((now - d * 86_400_000) / 1000)),
        ),
      ),
    );
    const partitions = async (node: number): Promise<string[]> =>
      (
        await onNode<{ partition: string }>(
          node,
          `SELECT DISTINCT partition FROM system.parts WHERE database = '${db}' AND table = 'predictions_local' AND active ORDER BY partition`,
        )
      ).map((r) => r.partition);
    for (let node = 0; node < nodeUrls.length; node++) {
      expect(await partitions(node), `node ${node} before`).toEqual([
        '20261014',
        '20261023',
        '20261025',
        '20261122',
      ]);
    }
    const dropped = await dropExpiredPartitions(store, { events: 30, history: 0 }, now, logger);
    expect(dropped.sort()).toEqual(['predictions/20261014', 'predictions/20261023']);
    for (let node = 0; node < nodeUrls.length; node++) {
      expect(await partitions(node), `node ${node} after`).toEqual(['20261025', '20261122']);
    }
    const [left] = await store.select<{ n: string }>('left', `SELECT count() AS n FROM ${db}.predictions`);
    expect(left?.n).toBe('80');
  });

  it('refuses to turn a single-node schema into a cluster schema in place, naming the way out', async () => {
    const db = uniqueName('single');
    const single = await openTestStore('server', db, { nodeUrl: nodeUrls[0] });
    const clustered = await openTestStore('cluster', db);
    drops.push(async () => {
      await dropStoreDatabase(clustered);
      await single.close();
      await clustered.close();
    });
    await migrate(single, logger, ALL_MIGRATIONS);
    await expect(migrate(clustered, logger, ALL_MIGRATIONS)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('holds a single-node driftguard schema') as string,
    });
  });

  it('moves a single-node database onto the cluster as docs/deployment.md says', async () => {
    // The single-node database, on the local server, with events (a replay among them) and results.
    const old = await migratedDatabase('single_node', ALL_MIGRATIONS, 'server');
    drops.push(old.drop);
    await old.store.insert('predictions', predictionLines(300, T0));
    await old.store.insert('predictions', predictionLines(50, T0 + 60));
    await old.store.insert('outcomes', [
      `${JSON.stringify({ model: 'fraud', ts: T0, ts_ms: T0 * 1000, id: 'e-0', label: 'yes' })}\n`,
    ]);
    await old.store.command(
      'seed',
      `INSERT INTO ${old.db}.model_health (model, evaluated_at, status) VALUES ('fraud', toDateTime(${T0}), 'ok')`,
    );
    const { db, store } = await clusterDatabase('moved');
    // Step 3: copy every table but schema_migrations through the Distributed tables.
    const tables = (
      await old.store.select<{ name: string }>(
        'tables',
        `SELECT name FROM system.tables WHERE database = '${old.db}' AND name != 'schema_migrations' ORDER BY name`,
      )
    ).map((t) => t.name);
    expect(tables).toHaveLength(30);
    const { clickhouseTcpPort } = servicesEnv();
    for (const table of tables) {
      await clickhouseQuery(
        nodeUrls[0] ?? '',
        `INSERT INTO ${db}.${table} SELECT * FROM remote('127.0.0.1:${clickhouseTcpPort}', ${old.db}, ${table})`,
        { settings: { insert_distributed_sync: 1 } },
      );
    }
    for (const [table, final] of [
      ['predictions', 'FINAL'],
      ['outcomes', 'FINAL'],
      ['model_health', ''],
    ] as const) {
      const count = async (target: Store, database: string): Promise<string | undefined> =>
        (
          await target.select<{ n: string }>(
            'count',
            `SELECT count() AS n FROM ${database}.${table} ${final}`,
          )
        )[0]?.n;
      expect(await count(store, db), table).toBe(await count(old.store, old.db));
    }
    // The cluster computed the MATERIALIZED column as the rows arrived.
    const [layout] = await store.select<{ bad: string; n: string }>(
      'layout',
      `SELECT countIf(num_layout != cityHash64(num_names)) AS bad, count() AS n FROM ${db}.predictions FINAL`,
    );
    expect(layout).toEqual({ bad: '0', n: '300' });
  });

  it('names a cluster the server does not know', async () => {
    const store = openClusterStoreNamed('no_such_cluster');
    try {
      await expect(store.select('x', 'SELECT 1')).rejects.toThrow(
        'cluster no_such_cluster is not defined in remote_servers of the ClickHouse server',
      );
    } finally {
      await store.close();
    }
  });

  function openClusterStoreNamed(name: string): Store {
    return openServerStore({
      url: nodeUrls[0] ?? '',
      database: 'default',
      username: 'default',
      password: '',
      requestTimeoutMs: 10_000,
      cluster: name,
    });
  }
});
