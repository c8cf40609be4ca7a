import { z } from 'zod';
import { alertsSchema } from '../alerts/options.js';
import { decoderOptionsSchema } from '../decoders/options.js';
import { monitoringSchema } from '../monitor/options.js';
import { retuneSchema } from '../../retune/options.js';

/**
 * The configuration file's schema. Every option has its default here and its unit in its name.
 * Raw YAML + environment → this schema → a frozen `CompiledConfig` (see compile.ts).
 */

const durationMs = z.number().int().nonnegative();
const port = z.number().int().min(0).max(65_535);
/** ClickHouse identifiers are spliced into SQL, so they are held to a strict pattern. */
const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, {
  message: 'must start with a letter or "_" and contain only letters, digits and "_" (at most 64 characters)',
});
const topicName = z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, {
  message: 'Kafka topic names use letters, digits, ".", "_" and "-" (1-249 characters)',
});

export const kafkaSchema = z
  .object({
    /** Bootstrap brokers, `host:port`. @default ["127.0.0.1:9092"] */
    brokers: z
      .array(z.string().regex(/^[^\s:]+:\d{1,5}$/, { message: 'each broker is "host:port"' }))
      .min(1)
      .default(['127.0.0.1:9092']),
    /** @default "driftguard" */
    clientId: z.string().min(1).default('driftguard'),
    /** Consumer group shared by all replicas. @default "driftguard" */
    consumerGroup: z.string().min(1).default('driftguard'),
    topics: z
      .object({
        /** @default "predictions" */
        predictions: topicName.default('predictions'),
        /** @default "outcomes" */
        outcomes: topicName.default('outcomes'),
        /** Where invalid records go, with the reason in headers. @default "driftguard.dead-letter" */
        deadLetter: topicName.default('driftguard.dead-letter'),
        /**
         * More prediction topics, each optionally pinned to one format (e.g. Seldon Core 2's
         * per-model `seldon.<ns>.model.<name>.inputs` / `.outputs`). @default []
         */
        inputs: z
          .array(
            z
              .object({ topic: topicName, format: decoderOptionsSchema.shape.inputFormat.optional() })
              .strict(),
          )
          .default([]),
        /** Where driftguard publishes its own events (promotions, rollbacks). @default "driftguard.events" */
        events: topicName.default('driftguard.events'),
      })
      .strict()
      .prefault({}),
    /** A consumer that misses heartbeats this long is removed from the group. @default 30000 */
    sessionTimeoutMs: durationMs.default(30_000),
    /** @default 3000 */
    heartbeatIntervalMs: durationMs.default(3_000),
    /** Fetch cap per partition; bounds memory together with ingest.maxBufferBytes. @default 1048576 */
    maxBytesPerPartition: z.number().int().positive().default(1_048_576),
    /** Start from the earliest offset when the group has none committed. @default true */
    fromBeginning: z.boolean().default(true),
  })
  .strict();

export const clickhouseSchema = z
  .object({
    /**
     * HTTP endpoint of a ClickHouse server. Setting it selects the server store (unless
     * `store.engine` says otherwise); without it driftguard stores in its embedded engine.
     * @default "http://127.0.0.1:8123" when `store.engine` is "server", else unset
     */
    url: z.url().optional(),
    /** @default "driftguard" */
    database: identifier.default('driftguard'),
    /** @default "default" */
    username: z.string().default('default'),
    /** @default "" */
    password: z.string().default(''),
    /** @default 30000 */
    requestTimeoutMs: durationMs.default(30_000),
    /**
     * The cluster (a name in the servers' `remote_servers`) whose nodes hold the schema: every
     * DDL runs ON CLUSTER, tables are replicated (`{shard}`/`{replica}` macros) and sharded behind
     * Distributed tables of the usual names. Unset: one node. See docs/deployment.md.
     */
    cluster: identifier.optional(),
    /**
     * On a cluster: how many replicas of a shard must hold a batch before it counts as stored
     * (and its Kafka offsets are committed). The default, every replica of the smallest shard,
     * makes every committed row visible on whichever replica a read lands on; while a replica is
     * down, inserts then wait (ingest backs off, nothing is lost) until it returns. 1 keeps
     * inserting through a replica outage, but a read may then miss rows a lagging replica has not
     * fetched yet. @default every replica of a shard
     */
    insertQuorum: z.number().int().positive().optional(),
  })
  .strict();

export const ingestSchema = z
  .object({
    /**
     * Rows per ClickHouse insert at most, give or take the batches decoded meanwhile. One insert
     * runs at a time; the rows that arrive meanwhile form the next. @default 20000
     */
    maxBatchRows: z.number().int().positive().default(20_000),
    /**
     * Bytes of serialised rows held, queued and being stored together; fetching pauses while the
     * buffer is full. @default 33554432
     */
    maxBufferBytes: z
      .number()
      .int()
      .positive()
      .default(32 * 1024 * 1024),
    /** Longest time a row waits in the buffer before it is flushed. @default 200 */
    flushIntervalMs: durationMs.default(200),
    /** Larger records are dead-lettered as oversized. @default 1048576 */
    maxEventBytes: z.number().int().positive().default(1_048_576),
    /**
     * Partitions processed concurrently; their batches share one buffer and one insert. Set it to
     * the number of partitions a replica consumes so that a fetch's batches go into one insert. @default 4
     */
    partitionsConsumedConcurrently: z.number().int().positive().max(64).default(4),
    /**
     * Ingest counts as stalled (`/readyz` not ready, `driftguard_consumer_stalled` 1) when records
     * wait and no offset was committed for this long. @default 60000
     */
    stallAfterMs: z.number().int().min(1_000).default(60_000),
    /** Backoff for store and broker retries (retried until they succeed or shutdown). @default 200 */
    retryInitialDelayMs: durationMs.default(200),
    /** @default 10000 */
    retryMaxDelayMs: durationMs.default(10_000),
  })
  .strict();

export const storeSchema = z
  .object({
    /**
     * Where events and results are stored: "server" (a ClickHouse server, `clickhouse.url`) or
     * "embedded" (ClickHouse in-process through the optional npm package chdb, under `path`).
     * @default "server" when `clickhouse.url` is set, else "embedded"
     */
    engine: z.enum(['server', 'embedded']).optional(),
    /** The embedded store's data directory. @default "./driftguard-data" */
    path: z.string().min(1).default('./driftguard-data'),
    /**
     * Embedded sessions queried in parallel (each runs one query at a time), so ingest, the
     * monitor and the HTTP API do not queue behind each other. @default 4
     */
    embeddedSessions: z.number().int().min(1).max(16).default(4),
    /** Day partitions older than this are dropped; 0 keeps everything. @default 30 */
    retentionDays: z.number().int().nonnegative().default(30),
    /**
     * Evaluation history (drift, performance, quality results, health) and the alert log are kept
     * this long, in whole months; 0 keeps everything. @default 400
     */
    historyRetentionDays: z.number().int().nonnegative().default(400),
    /** How often the retention sweep runs. @default 3600000 */
    retentionCheckIntervalMs: durationMs.default(3_600_000),
  })
  .strict();

export const httpSchema = z
  .object({
    /** Bind address; loopback unless you mean to expose the API. @default "127.0.0.1" */
    host: z.string().min(1).default('127.0.0.1'),
    /** 0 picks a free port (logged at start). @default 8080 */
    port: port.default(8080),
    /** Bearer token for every state-changing request. Without one, those requests are refused. */
    apiToken: z
      .string()
      .min(16, { message: 'use at least 16 characters (e.g. `openssl rand -hex 24`)' })
      .optional(),
    /** Also require the token for reads under /v1. @default false */
    protectReads: z.boolean().default(false),
    /** Also require the token for /metrics. @default false */
    protectMetrics: z.boolean().default(false),
    /**
     * Accept `POST /v1/cloudevents` without the bearer token: KServe's InferenceLogger cannot
     * send one. Only turn on where the network limits who reaches the port. @default false
     */
    openCloudEvents: z.boolean().default(false),
    /**
     * Bytes of request bodies held at once across all requests, ingest rows made from them
     * included: beyond it a request is answered 429 with Retry-After. At least `maxBodyBytes`.
     * @default 67108864
     */
    maxBodyBytesInFlight: z
      .number()
      .int()
      .positive()
      .default(64 * 1024 * 1024),
    /** Largest accepted request body. @default 16777216 */
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .default(16 * 1024 * 1024),
  })
  .strict();

export const configSchema = z
  .object({
    kafka: kafkaSchema.prefault({}),
    clickhouse: clickhouseSchema.prefault({}),
    ingest: ingestSchema.prefault({}),
    store: storeSchema.prefault({}),
    http: httpSchema.prefault({}),
    /** How input records are decoded (formats, CloudEvents pairing, tensor → feature names); see docs/serving-formats.md. */
    decoders: decoderOptionsSchema.prefault({}),
    /** Alert policy and sinks; see docs/alerts.md. */
    alerts: alertsSchema.prefault({}),
    /** Per-model drift, quality and performance monitoring; see docs/monitoring.md. */
    monitoring: monitoringSchema.prefault({}),
    /** Hyperparameter search on fresh data and gated promotion; see docs/retune.md and docs/trainers.md. */
    retune: retuneSchema.prefault({}),
    /** Graceful shutdown: stop fetching, flush, commit, leave the group; forced exit after this. @default 15000 */
    shutdownGraceMs: durationMs.default(15_000),
    /** @default "info" */
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict()
  .transform((config) => {
    // The store is resolved once, here: the rest of the daemon reads a definite engine and URL.
    const engine = config.store.engine ?? (config.clickhouse.url === undefined ? 'embedded' : 'server');
    return {
      ...config,
      store: { ...config.store, engine },
      clickhouse: { ...config.clickhouse, url: config.clickhouse.url ?? DEFAULT_CLICKHOUSE_URL },
    };
  });

/** The server a `store.engine: server` without `clickhouse.url` talks to. */
export const DEFAULT_CLICKHOUSE_URL = 'http://127.0.0.1:8123';

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
