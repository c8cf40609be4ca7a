import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * driftguard's Prometheus metrics, all on one registry per daemon instance (and per test).
 * Labels are bounded: topics, partitions, tables, rejection codes, model and feature names
 * from configuration; never ids.
 */
export function createMetrics(
  registry: Registry = new Registry(),
  options: { defaultMetrics?: boolean } = {},
) {
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'driftguard_' });
  const registers = [registry];
  return {
    registry,
    ingestEvents: new Counter({
      name: 'driftguard_ingest_events_total',
      help: 'Records taken from input topics (and HTTP), by result: accepted (stored) or rejected (dead-lettered).',
      labelNames: ['topic', 'result'] as const,
      registers,
    }),
    deadLettered: new Counter({
      name: 'driftguard_dead_lettered_total',
      help: 'Records sent to the dead-letter topic, by source topic and rejection code.',
      labelNames: ['topic', 'code'] as const,
      registers,
    }),
    insertSeconds: new Histogram({
      name: 'driftguard_ingest_batch_insert_seconds',
      help: 'Time to store one group-committed batch in ClickHouse, retries included.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    insertRows: new Counter({
      name: 'driftguard_ingest_rows_stored_total',
      help: 'Rows stored in ClickHouse, by table.',
      labelNames: ['table'] as const,
      registers,
    }),
    storeRetries: new Counter({
      name: 'driftguard_store_retries_total',
      help: 'ClickHouse operations retried after a transient failure.',
      registers,
    }),
    consumerLag: new Gauge({
      name: 'driftguard_consumer_lag',
      help: 'Records between the committed offset and the high watermark, per partition: what is not stored and committed yet.',
      labelNames: ['topic', 'partition'] as const,
      registers,
    }),
    bufferedRows: new Gauge({
      name: 'driftguard_ingest_buffered_rows',
      help: 'Rows waiting in the group-commit buffer.',
      registers,
    }),
    heldRecords: new Gauge({
      name: 'driftguard_ingest_held_records',
      help: 'Records held by decoders waiting for a pairing partner (e.g. a CloudEvents response).',
      registers,
    }),
    unpaired: new Counter({
      name: 'driftguard_ingest_unpaired_total',
      help: 'Request/response halves (CloudEvents, Seldon) dead-lettered because their partner never came, by side and cause.',
      labelNames: ['side', 'cause'] as const,
      registers,
    }),
    consumerStalled: new Gauge({
      name: 'driftguard_consumer_stalled',
      help: '1 while ingest cannot make progress: the consumer restarts after a failure, or records wait and no offset was committed for ingest.stallAfterMs; /readyz says why.',
      registers,
    }),
    consumerRestarts: new Counter({
      name: 'driftguard_consumer_restarts_total',
      help: 'Consumer restarts after a crash or a store failure (reading again from the committed offsets).',
      registers,
    }),
    storeUp: new Gauge({
      name: 'driftguard_store_up',
      help: '1 when the last ClickHouse operation succeeded, 0 while it is failing.',
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
