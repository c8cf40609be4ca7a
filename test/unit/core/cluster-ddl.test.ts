import { describe, expect, it } from 'vitest';
import {
  clusterCatalogue,
  clusterSteps,
  createDistributed,
  distributedColumns,
  everyShard,
  foldAddedColumns,
  matchingParenthesis,
} from '../../../kernel/cluster-ddl.js';
import type { Migration, Statement } from '../../../kernel/migrations.js';
import { ALL_MIGRATIONS } from '../../../src/store/schema.js';

const db = '`shop`';
const target = { cluster: 'main', database: 'shop' };

const migrations: Migration[] = [
  {
    version: 1,
    name: 'events',
    shardingKeys: { events: 'cityHash64(model, id)' },
    statements: (d) => [
      `CREATE TABLE IF NOT EXISTS ${d}.events (model String, ts DateTime, id String, v Float64, note String DEFAULT 'a(b', ver DateTime)
       ENGINE = ReplacingMergeTree(ver) PARTITION BY toYYYYMMDD(ts) ORDER BY (model, ts, id)`,
      `CREATE TABLE IF NOT EXISTS ${d}.results (model String, at DateTime, x Float64) ENGINE = MergeTree PARTITION BY toYYYYMM(at) ORDER BY (model, at)`,
    ],
  },
  {
    version: 2,
    name: 'rollup',
    statements: (d) => [
      `CREATE TABLE IF NOT EXISTS ${d}.minutes (model String, minute DateTime, n AggregateFunction(count), s AggregateFunction(sum, Float64)) ENGINE = AggregatingMergeTree() ORDER BY (model, minute)`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${d}.minutes_mv TO ${d}.minutes AS SELECT model, toStartOfMinute(ts) AS minute, countState() AS n, sumState(v) AS s FROM ${d}.events WHERE note != 'shop.events' GROUP BY model, minute`,
      { addColumn: { table: 'events', column: 'h', definition: 'UInt64 MATERIALIZED cityHash64(id)' } },
      `ALTER TABLE ${d}.results MODIFY COLUMN x Float32`,
      `DROP TABLE IF EXISTS ${d}.results`,
    ],
  },
];

const catalogue = clusterCatalogue(migrations, db);
const steps = (statement: Statement) => clusterSteps(statement, db, target, catalogue);
const statementsOf = (version: number) => migrations.find((m) => m.version === version)?.statements(db) ?? [];

describe('cluster DDL', () => {
  it('shards by the declared key, else by a hash of the sorting key', () => {
    expect(catalogue.get('events')?.shardingKey).toBe('cityHash64(model, id)');
    expect(catalogue.get('results')?.shardingKey).toBe('cityHash64(model, at)');
    expect(catalogue.get('minutes')?.shardingKey).toBe('cityHash64(model, minute)');
    expect(catalogue.has('minutes_mv')).toBe(false);
  });

  it('creates each table as a replicated local table ON CLUSTER with the standard macros', () => {
    const [events, results] = statementsOf(1);
    expect(steps(events as string)).toEqual([
      {
        kind: 'local',
        table: 'events',
        sql: expect.stringMatching(
          /^CREATE TABLE IF NOT EXISTS `shop`\.`events_local` ON CLUSTER `main` \(model String,[^]*note String DEFAULT 'a\(b', ver DateTime\) ENGINE = ReplicatedReplacingMergeTree\('\/clickhouse\/tables\/\{shard\}\/shop\/events_local', '\{replica\}', ver\) PARTITION BY toYYYYMMDD\(ts\) ORDER BY \(model, ts, id\)$/,
        ) as string,
      },
    ]);
    expect(steps(results as string)[0]).toMatchObject({
      sql: expect.stringContaining(
        "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/shop/results_local', '{replica}') PARTITION BY",
      ) as string,
    });
    const minutes = steps(statementsOf(2)[0] as string)[0];
    expect(minutes).toMatchObject({
      sql: expect.stringContaining(
        "ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/shop/minutes_local', '{replica}') ORDER BY",
      ) as string,
    });
  });

  it('points a materialized view at the local tables it reads and writes, outside string literals', () => {
    const [view] = steps(statementsOf(2)[1] as string);
    expect(view).toEqual({
      kind: 'sql',
      sql: "CREATE MATERIALIZED VIEW IF NOT EXISTS `shop`.`minutes_mv` ON CLUSTER `main` TO `shop`.`minutes_local` AS SELECT model, toStartOfMinute(ts) AS minute, countState() AS n, sumState(v) AS s FROM `shop`.`events_local` WHERE note != 'shop.events' GROUP BY model, minute",
    });
  });

  it('turns ALTER, DROP and addColumn into their cluster forms', () => {
    const [, , addColumn, alter, drop] = statementsOf(2);
    expect(steps(addColumn as Statement)).toEqual([
      { kind: 'addColumn', table: 'events', column: 'h', definition: 'UInt64 MATERIALIZED cityHash64(id)' },
    ]);
    expect(steps(alter as string)).toEqual([
      {
        kind: 'local',
        table: 'results',
        sql: 'ALTER TABLE `shop`.`results_local` ON CLUSTER `main` MODIFY COLUMN x Float32',
      },
    ]);
    expect(steps(drop as string)).toEqual([
      { kind: 'sql', sql: 'DROP TABLE IF EXISTS `shop`.`results` ON CLUSTER `main`' },
      { kind: 'sql', sql: 'DROP TABLE IF EXISTS `shop`.`results_local` ON CLUSTER `main`' },
    ]);
  });

  it('refuses what it cannot translate, saying what it supports', () => {
    expect(() => steps(`CREATE TABLE ${db}.mem (a UInt8) ENGINE = Memory`)).toThrow(
      /cannot run migration statement .* on a cluster: only MergeTree-family engines/,
    );
    expect(() =>
      steps(
        `CREATE MATERIALIZED VIEW ${db}.v ENGINE = SummingMergeTree ORDER BY a AS SELECT a FROM ${db}.events`,
      ),
    ).toThrow(/must write TO a table that a migration creates/);
    expect(() => steps(`ALTER TABLE ${db}.unknown ADD COLUMN a UInt8`)).toThrow(
      /not created by any migration/,
    );
    expect(() => steps('OPTIMIZE TABLE x')).toThrow(/Cluster mode translates CREATE TABLE/);
    expect(() =>
      clusterCatalogue(
        [
          {
            version: 1,
            name: 'x',
            statements: (d) => [`CREATE TABLE ${d}.t (a UInt8) ENGINE = MergeTree ORDER BY tuple()`],
          },
        ],
        db,
      ),
    ).toThrow(/empty ORDER BY: name a sharding key/);
  });

  it('gives a Distributed table the local columns, MATERIALIZED ones as ALIAS so inserts do not send them', () => {
    const columns = distributedColumns([
      { name: 'model', type: 'String', default_kind: '', default_expression: '' },
      { name: 'n', type: 'UInt8', default_kind: 'DEFAULT', default_expression: '1' },
      { name: 'h', type: 'UInt64', default_kind: 'MATERIALIZED', default_expression: 'cityHash64(names)' },
      { name: 'a', type: 'UInt64', default_kind: 'ALIAS', default_expression: 'n + 1' },
    ]);
    expect(columns).toEqual([
      '`model` String',
      '`n` UInt8 DEFAULT 1',
      '`h` UInt64 ALIAS cityHash64(names)',
      '`a` UInt64 ALIAS n + 1',
    ]);
    expect(createDistributed('events', columns.slice(0, 1), target, 'cityHash64(model, id)')).toBe(
      "CREATE TABLE IF NOT EXISTS `shop`.`events` ON CLUSTER `main` (`model` String) ENGINE = Distributed('main', 'shop', 'events_local', cityHash64(model, id))",
    );
    expect(everyShard('main', 'parts')).toBe("cluster('main', system, `parts`)");
  });

  it('translates every statement of the daemon schema, sharding events by (model, id)', () => {
    const all = clusterCatalogue(ALL_MIGRATIONS, db);
    expect(all.get('predictions')?.shardingKey).toBe('cityHash64(model, id)');
    expect(all.get('outcomes')?.shardingKey).toBe('cityHash64(model, id)');
    expect(all.get('alert_state')?.shardingKey).toBe('cityHash64(model)');
    for (const migration of ALL_MIGRATIONS) {
      for (const statement of migration.statements(db)) {
        expect(() => clusterSteps(statement, db, target, all)).not.toThrow();
      }
    }
  });

  it('skips quoted parentheses when matching', () => {
    const sql = '(a, \')\', `b)`, f("c)"), (d))';
    expect(matchingParenthesis(sql, 0)).toBe(sql.length - 1);
  });

  it('folds a column added later into the CREATE of the same run, and leaves tables it does not create alone', () => {
    const planned = migrations.flatMap((m) => m.statements(db).flatMap(steps));
    const folded = foldAddedColumns(planned);
    const create = folded.find((s) => s.kind === 'local' && s.table === 'events');
    expect(create?.kind === 'local' && create.sql).toMatch(
      /\(model String,[^]*ver DateTime, `h` UInt64 MATERIALIZED cityHash64\(id\)\) ENGINE = ReplicatedReplacingMergeTree/,
    );
    // The addColumn step stays: it adds the column only where it is missing.
    expect(folded.filter((s) => s.kind === 'addColumn')).toHaveLength(1);
    // Only the second migration pending: its table exists already, so the ALTER runs.
    const later = foldAddedColumns(statementsOf(2).flatMap(steps));
    expect(later).toEqual(statementsOf(2).flatMap(steps));
  });
});
