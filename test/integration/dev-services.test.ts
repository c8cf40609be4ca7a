import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../kernel/logger.js';
import { servicesStatus, servicesUp } from '../../src/dev-services/index.js';
import {
  addPrometheusTarget,
  clickhouseQuery,
  createDatabase,
  dropDatabase,
  kcatConsume,
  kcatProduce,
  prometheusQuery,
  removePrometheusTarget,
  servicesEnv,
  clusterEnv,
  uniqueName,
  waitFor,
} from '../support/index.js';

const services = servicesEnv();

describe('local services', () => {
  it('are provided to test files by the global setup', () => {
    expect(inject('driftguardServices')).toEqual(services);
    expect(services.kafkaBrokers).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(process.env['DRIFTGUARD_CLICKHOUSE_URL']).toBe(services.clickhouseUrl);
  });

  it('ClickHouse answers SELECT version()', async () => {
    const [row] = await clickhouseQuery<{ v: string }>(services.clickhouseUrl, 'SELECT version() AS v');
    expect(row?.v).toMatch(/^\d+\.\d+/);
  });

  describe('ClickHouse database helpers', () => {
    const database = uniqueName('dev_services');
    beforeAll(() => createDatabase(services.clickhouseUrl, database));
    afterAll(() => dropDatabase(services.clickhouseUrl, database));

    it('create a database that tables can live in', async () => {
      await clickhouseQuery(
        services.clickhouseUrl,
        'CREATE TABLE t (id UInt32, s String) ENGINE = MergeTree ORDER BY id',
        { database },
      );
      await clickhouseQuery(services.clickhouseUrl, `INSERT INTO t VALUES (1, 'a'), (2, 'b')`, { database });
      expect(
        await clickhouseQuery(services.clickhouseUrl, 'SELECT id, s FROM t ORDER BY id', { database }),
      ).toEqual([
        { id: 1, s: 'a' },
        { id: 2, s: 'b' },
      ]);
    });
  });

  it('Kafka round-trips a message through kafkajs producer and consumer group', async () => {
    const topic = uniqueName('dev_services');
    const kafka = new Kafka({
      clientId: 'dev-services-test',
      brokers: [services.kafkaBrokers],
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'k1', value: 'hello', headers: { h: 'v' } }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName('group') });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = await new Promise<{ key: string; value: string; header: string }>((resolve) => {
        void consumer.run({
          eachMessage: ({ message }) => {
            resolve({
              key: String(message.key),
              value: String(message.value),
              header: String(message.headers?.['h']),
            });
            return Promise.resolve();
          },
        });
      });
      expect(received).toEqual({ key: 'k1', value: 'hello', header: 'v' });
    } finally {
      await consumer.disconnect();
    }
  });

  it('kcatProduce → kcatConsume keeps keys, headers, newlines and order per batch', async () => {
    const topic = uniqueName('dev_services');
    await kcatProduce(services.kafkaBrokers, topic, [
      { key: 'a', value: 'first\nline two', headers: { ce_type: 'x', ce_id: '1' } },
      { key: 'b', value: Buffer.from('second'), headers: { ce_type: 'x', ce_id: '1' } },
      { value: '{"json":true}', headers: { ce_id: '2' } },
      { key: 'tomb', value: null },
    ]);
    const messages = await kcatConsume(services.kafkaBrokers, topic, { count: 4, timeoutMs: 20_000 });
    const byValue = new Map(messages.map((message) => [message.value, message]));
    expect(byValue.get('first\nline two')).toMatchObject({ key: 'a', headers: { ce_type: 'x', ce_id: '1' } });
    expect(byValue.get('second')).toMatchObject({ key: 'b', headers: { ce_type: 'x', ce_id: '1' } });
    expect(byValue.get('{"json":true}')).toMatchObject({ key: null, headers: { ce_id: '2' } });
    expect(byValue.get(null)).toMatchObject({ key: 'tomb', headers: {} });
    for (const message of messages) {
      expect(message.topic).toBe(topic);
      expect(message.partition).toBeGreaterThanOrEqual(0);
      expect(message.offset).toBeGreaterThanOrEqual(0);
    }
  });

  it('kcatConsume without a count reads what the topic holds and stops', async () => {
    const topic = uniqueName('dev_services');
    await kcatProduce(services.kafkaBrokers, topic, [{ value: 'one' }, { value: 'two' }], { partition: 0 });
    const messages = await kcatConsume(services.kafkaBrokers, topic, { timeoutMs: 20_000 });
    expect(messages.map((message) => message.value)).toEqual(['one', 'two']);
  });

  it('Prometheus is ready and scrapes a target added through a file', async () => {
    const ready = await fetch(new URL('/-/ready', services.prometheusUrl));
    expect(ready.status).toBe(200);
    // Prometheus scrapes itself, as a stand-in for a running daemon.
    const name = uniqueName('self');
    const target = new URL(services.prometheusUrl).host;
    await addPrometheusTarget(name, target, { test: name });
    try {
      const samples = await waitFor(
        async () => {
          const result = await prometheusQuery(services.prometheusUrl, `up{job="driftguard",test="${name}"}`);
          return result.length > 0 ? result : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500, description: 'Prometheus to scrape the file_sd target' },
      );
      expect(samples[0]?.value[1]).toBe('1');
    } finally {
      await removePrometheusTarget(name);
    }
  });

  it('a second servicesUp reuses the running services and cluster (same pids and ports)', async () => {
    const before = await servicesStatus();
    // ZooKeeper and 2 shards x 2 replicas of ClickHouse, beside the three services.
    expect(before.map((status) => status.name).sort()).toEqual(
      [
        'clickhouse',
        'clickhouse-1-1',
        'clickhouse-1-2',
        'clickhouse-2-1',
        'clickhouse-2-2',
        'kafka',
        'prometheus',
        'zookeeper',
      ].sort(),
    );
    const info = await servicesUp({ logger: createLogger('silent'), cluster: true });
    const processes = new Map<string, { reused: boolean; pid: number; ports: Record<string, number> }>([
      ...Object.values(info.services).map((service) => [service.name, service] as const),
      ...(info.cluster?.processes ?? []).map((process) => [process.name, process] as const),
    ]);
    for (const status of before) {
      expect(status.state).toBe('up');
      const service = processes.get(status.name);
      if (service === undefined) throw new Error(`servicesUp did not report ${status.name}`);
      expect(service.reused).toBe(true);
      expect(service.pid).toBe(status.pid);
      expect(service.ports).toEqual(status.ports);
    }
    expect(info.kafkaBrokers).toBe(services.kafkaBrokers);
    expect(info.clickhouseUrl).toBe(services.clickhouseUrl);
    expect(info.prometheusUrl).toBe(services.prometheusUrl);
    expect(info.cluster?.nodeUrls).toEqual(clusterEnv().nodeUrls);
  });

  it('the cluster has 2 shards of 2 replicas, each node with its own macros, sharing one ZooKeeper', async () => {
    const { cluster, nodeUrls } = clusterEnv();
    expect(nodeUrls).toHaveLength(4);
    const macros = await Promise.all(
      nodeUrls.map(async (url) => {
        const rows = await clickhouseQuery<{ macro: string; substitution: string }>(
          url,
          'SELECT macro, substitution FROM system.macros ORDER BY macro',
        );
        return Object.fromEntries(rows.map((row) => [row.macro, row.substitution]));
      }),
    );
    expect(macros).toEqual([
      { replica: 'clickhouse-1-1', shard: '1' },
      { replica: 'clickhouse-1-2', shard: '1' },
      { replica: 'clickhouse-2-1', shard: '2' },
      { replica: 'clickhouse-2-2', shard: '2' },
    ]);
    const [shape] = await clickhouseQuery<{ shards: string; nodes: string }>(
      nodeUrls[0] ?? '',
      `SELECT uniqExact(shard_num) AS shards, count() AS nodes FROM system.clusters WHERE cluster = '${cluster}'`,
    );
    expect(shape).toEqual({ shards: '2', nodes: '4' });
    const [zookeeper] = await clickhouseQuery<{ n: string }>(
      nodeUrls[3] ?? '',
      "SELECT count() AS n FROM system.zookeeper WHERE path = '/'",
    );
    expect(Number(zookeeper?.n)).toBeGreaterThan(0);
  });
});
