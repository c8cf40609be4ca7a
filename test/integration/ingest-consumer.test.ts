import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../src/config/compile.js';
import { DriftguardError } from '../../kernel/errors.js';
import { createNativeDecoder } from '../../src/ingest/native-decoder.js';
import { IngestPipeline } from '../../src/ingest/pipeline.js';
import { createKafka } from '../../src/kafka/client.js';
import { KafkaDeadLetterSink } from '../../src/kafka/dead-letter-producer.js';
import { IngestConsumer } from '../../src/kafka/ingest-consumer.js';
import { createLogger } from '../../kernel/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { openStore } from '../../src/store/open-store.js';
import { createEventStore, type EventStore } from '../../src/store/event-store.js';
import { migrate } from '../../kernel/migrations.js';
import { EVENT_MIGRATIONS } from '../../src/store/event-migrations.js';
import {
  cleanupsAfterEach,
  clickhouseQuery,
  committedTotal,
  dropDatabase,
  kcatProduce,
  servicesEnv,
  uniqueName,
  waitFor,
} from '../support/index.js';

/**
 * The Kafka consumer adapter against the real broker and ClickHouse: batches are queued while the
 * previous insert runs, so these check what that must not change. Offsets are committed only for
 * stored rows; a store failure makes the consumer read again from the committed offsets; a stop
 * stores and commits what was consumed before leaving the group.
 */

const cleanups = cleanupsAfterEach();

interface Harness {
  db: string;
  topic: string;
  groupId: string;
  consumer: IngestConsumer;
  crashes: unknown[];
}

/** Assembles the consumer as the daemon does, around `wrap(store)` (and `Pipeline`, for faults). */
async function startConsumer(
  wrap: (store: EventStore) => EventStore,
  Pipeline: typeof IngestPipeline = IngestPipeline,
): Promise<Harness> {
  const { kafkaBrokers, clickhouseUrl } = servicesEnv();
  const name = uniqueName('consumer');
  const topic = `${name}.p`;
  const config = compileConfig({
    kafka: {
      brokers: [kafkaBrokers],
      consumerGroup: `${name}-group`,
      topics: { predictions: topic },
      // The local broker lets a member that left and joins again in only when the session it had
      // timed out: keep that short, since a failed insert restarts the consumer.
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 1_000,
    },
    clickhouse: { url: clickhouseUrl, database: name },
    ingest: { maxBatchRows: 500, retryInitialDelayMs: 50, retryMaxDelayMs: 200 },
  });
  const logger = createLogger('warn');
  const clickhouse = await openStore(config);
  cleanups.push(() => clickhouse.close());
  cleanups.push(() => dropDatabase(clickhouseUrl, name));
  await migrate(clickhouse, logger, EVENT_MIGRATIONS);
  const kafka = createKafka(config.kafka, logger);
  const deadLetters = new KafkaDeadLetterSink(kafka, `${name}.dlq`);
  cleanups.push(() => deadLetters.close());
  const metrics = createMetrics(new Registry(), { defaultMetrics: false });
  const pipeline = new Pipeline(config.ingest, {
    decoders: new Map([[topic, createNativeDecoder('prediction', config.ingest.maxEventBytes)]]),
    store: wrap(createEventStore(clickhouse)),
    deadLetters,
    metrics,
    logger,
  });
  const crashes: unknown[] = [];
  const consumer = new IngestConsumer(
    kafka,
    pipeline,
    {
      groupId: config.kafka.consumerGroup,
      topics: [topic],
      fromBeginning: true,
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      heartbeatIntervalMs: config.kafka.heartbeatIntervalMs,
      maxBytesPerPartition: config.kafka.maxBytesPerPartition,
      partitionsConsumedConcurrently: 4,
      expireIntervalMs: 0,
    },
    metrics,
    logger,
    (error, willRestart) => {
      if (!willRestart) crashes.push(error);
    },
  );
  return { db: name, topic, groupId: config.kafka.consumerGroup, consumer, crashes };
}

function events(count: number): Array<{ value: string }> {
  return Array.from({ length: count }, (_, i) => ({
    value: JSON.stringify({ model: 'm', id: `e-${i}`, timestamp: 1_795_399_200_000 + i, features: { x: i } }),
  }));
}

async function distinctIds(db: string): Promise<number> {
  const { clickhouseUrl } = servicesEnv();
  const rows = await clickhouseQuery<{ c: string }>(
    clickhouseUrl,
    `SELECT uniqExact(id) AS c FROM ${db}.predictions`,
  );
  return Number(rows[0]?.c ?? 0);
}

describe('ingest consumer', () => {
  it('reads again from the committed offsets after an insert fails for good, losing nothing', async () => {
    let inserts = 0;
    const h = await startConsumer((store) => ({
      ...store,
      insert: async (rows) => {
        inserts++;
        if (inserts === 2)
          throw new DriftguardError('STORE_QUERY_FAILED', 'injected failure', { retriable: false });
        await store.insert(rows);
      },
    }));
    const total = 6_000;
    const all = events(total);
    // In two waves: one fetch of everything can be stored in a single insert, which would never
    // reach the failing second one.
    await kcatProduce(servicesEnv().kafkaBrokers, h.topic, all.slice(0, total / 2));
    await h.consumer.start();
    cleanups.push(() => h.consumer.stop());
    await waitFor(() => inserts >= 1, { timeoutMs: 30_000, description: 'a first insert' });
    await kcatProduce(servicesEnv().kafkaBrokers, h.topic, all.slice(total / 2));

    await waitFor(async () => (await distinctIds(h.db)) === total, {
      timeoutMs: 60_000,
      description: `all ${total} events stored after the failed insert`,
    });
    await waitFor(async () => (await committedTotal(h.groupId, h.topic)) === total, {
      timeoutMs: 30_000,
      description: 'every offset committed',
    });
    expect(inserts).toBeGreaterThan(2);
    expect(h.crashes).toEqual([]);
  });

  it('stores and commits what it consumed before it leaves the group at stop', async () => {
    let started = 0;
    const h = await startConsumer((store) => ({
      ...store,
      // Slow inserts: at stop, one group is being stored and more rows wait behind it.
      insert: async (rows) => {
        started++;
        await new Promise((resolve) => setTimeout(resolve, 500));
        await store.insert(rows);
      },
    }));
    await kcatProduce(servicesEnv().kafkaBrokers, h.topic, events(4_000));
    await h.consumer.start();
    await waitFor(() => started > 0, { timeoutMs: 30_000, description: 'a first insert under way' });
    await h.consumer.stop();

    const stored = await distinctIds(h.db);
    expect(stored).toBeGreaterThan(0);
    // Everything consumed was stored and committed: the next owner starts right after it.
    expect(await committedTotal(h.groupId, h.topic)).toBe(stored);
  });

  it('restarts once at a time when a crash and a store failure come together (issue 16, item 3)', async () => {
    let calls = 0;
    /**
     * The first batch fails to store for good; the batch handed over with it makes kafkajs itself
     * crash (a non-retriable error out of eachBatch), so two restarts are asked for at once. Later
     * batches go through unharmed.
     */
    class FaultyPipeline extends IngestPipeline {
      override async submit(records: Parameters<IngestPipeline['submit']>[0]) {
        calls++;
        if (calls === 1) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          const failed = Promise.reject(
            new DriftguardError('STORE_QUERY_FAILED', 'injected store failure', { retriable: false }),
          );
          failed.catch(() => undefined);
          return { stored: failed };
        }
        if (calls === 2)
          throw Object.assign(new Error('injected crash'), { name: 'InjectedCrash', retriable: false });
        return super.submit(records);
      }
    }
    const h = await startConsumer((store) => store, FaultyPipeline);
    const total = 2_000;
    // Two partitions' batches arrive in one fetch: the first fails storing, the second crashes.
    await kcatProduce(servicesEnv().kafkaBrokers, h.topic, events(total).slice(0, total / 2), {
      partition: 0,
    });
    await kcatProduce(servicesEnv().kafkaBrokers, h.topic, events(total).slice(total / 2), { partition: 1 });
    await h.consumer.start();
    cleanups.push(() => h.consumer.stop());
    await waitFor(async () => (await distinctIds(h.db)) === total, {
      timeoutMs: 90_000,
      description: `all ${total} events stored after the double failure`,
    });
    expect(calls).toBeGreaterThan(2);
    // No restart failed ("Cannot subscribe to topic while consumer is running"): nothing fatal.
    expect(h.crashes).toEqual([]);
    expect(h.consumer.progress()).toEqual({ ok: true });
  });
});
