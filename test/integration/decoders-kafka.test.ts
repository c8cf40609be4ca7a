import protobuf from 'protobufjs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../src/config/compile.js';
import { createDecoder, createDecoderRuntime, type DecoderOptionsInput } from '../../src/decoders/index.js';
import type { RecordDecoder } from '../../src/ingest/decoder.js';
import { IngestPipeline } from '../../src/ingest/pipeline.js';
import { createKafka } from '../../src/kafka/client.js';
import { KafkaDeadLetterSink } from '../../src/kafka/dead-letter-producer.js';
import { IngestConsumer } from '../../src/kafka/ingest-consumer.js';
import { createLogger } from '../../kernel/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { openStore } from '../../src/store/open-store.js';
import { createEventStore } from '../../src/store/event-store.js';
import { migrate } from '../../kernel/migrations.js';
import { EVENT_MIGRATIONS } from '../../src/store/event-migrations.js';
import {
  cleanupsAfterEach,
  clickhouseQuery,
  dropDatabase,
  kcatConsume,
  kcatProduce,
  servicesEnv,
  type KcatMessage,
  uniqueName,
  waitFor,
} from '../support/index.js';

/**
 * The serving-format decoders in the real ingest pipeline: kcat (an independent client) produces
 * messages shaped like KServe's InferenceLogger and Seldon Core 2 write them, the pipeline
 * consumes them from the broker with the decoders plugged in, and ClickHouse is read back. Each
 * exchange has a native twin on a native topic: their stored rows must be identical.
 *
 * The pipeline is assembled here as the daemon assembles it, so each format can be checked at the
 * pipeline's boundary; test/integration/serving-formats-daemon.test.ts covers a real daemon.
 */

const cleanups = cleanupsAfterEach();

// Long enough for the broker's fetch wait between two batches (a request and its response can
// arrive seconds apart even when produced together), short enough for the unpaired case to finish.
const PAIR_TIMEOUT_MS = 10_000;

interface Harness {
  db: string;
  topics: { kserve: string; native: string; deadLetter: string; seldonIn: string; seldonOut: string };
  seldonPrefix: string;
}

async function startPipeline(decoderOptions: DecoderOptionsInput): Promise<Harness> {
  const { kafkaBrokers, clickhouseUrl } = servicesEnv();
  const name = uniqueName('decoders');
  const seldonPrefix = uniqueName('sdn');
  const topics = {
    kserve: `${name}.kserve`,
    native: `${name}.native`,
    deadLetter: `${name}.dlq`,
    seldonIn: `${seldonPrefix}.prod.model.iris.inputs`,
    seldonOut: `${seldonPrefix}.prod.model.iris.outputs`,
  };
  const config = compileConfig({
    kafka: {
      brokers: [kafkaBrokers],
      consumerGroup: `${name}-group`,
      topics: { predictions: topics.native, outcomes: `${name}.outcomes`, deadLetter: topics.deadLetter },
    },
    clickhouse: { url: clickhouseUrl, database: name },
  });
  const logger = createLogger('warn');
  const clickhouse = await openStore(config);
  cleanups.push(() => clickhouse.close());
  cleanups.push(() => dropDatabase(clickhouseUrl, name));
  await migrate(clickhouse, logger, EVENT_MIGRATIONS);
  const kafka = createKafka(config.kafka, logger);
  const deadLetters = new KafkaDeadLetterSink(kafka, topics.deadLetter);
  cleanups.push(() => deadLetters.close());
  const metrics = createMetrics(new Registry(), { defaultMetrics: false });
  const options: DecoderOptionsInput = {
    ...decoderOptions,
    seldonTopicPrefix: seldonPrefix,
    pairTimeoutMs: PAIR_TIMEOUT_MS,
  };
  const runtime = createDecoderRuntime(options);
  const max = config.ingest.maxEventBytes;
  const decoders = new Map<string, RecordDecoder>([
    [topics.native, createDecoder('prediction', { ...options, inputFormat: 'native' }, max, runtime)],
    [topics.kserve, createDecoder('prediction', options, max, runtime)],
    [topics.seldonIn, createDecoder('prediction', { ...options, inputFormat: 'seldon' }, max, runtime)],
    [topics.seldonOut, createDecoder('prediction', { ...options, inputFormat: 'seldon' }, max, runtime)],
  ]);
  const pipeline = new IngestPipeline(config.ingest, {
    decoders,
    store: createEventStore(clickhouse),
    deadLetters,
    metrics,
    logger,
  });
  const consumer = new IngestConsumer(
    kafka,
    pipeline,
    {
      groupId: config.kafka.consumerGroup,
      topics: [...decoders.keys()],
      fromBeginning: true,
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      heartbeatIntervalMs: config.kafka.heartbeatIntervalMs,
      maxBytesPerPartition: config.kafka.maxBytesPerPartition,
      partitionsConsumedConcurrently: config.ingest.partitionsConsumedConcurrently,
      expireIntervalMs: 250,
    },
    metrics,
    logger,
    (error) => logger.error({ err: error }, 'consumer crashed in test'),
  );
  await consumer.start();
  cleanups.push(async () => {
    await consumer.stop();
    await pipeline.drain();
  });
  return { db: name, topics, seldonPrefix };
}

interface StoredRow {
  model: string;
  id: string;
  version: string;
  ts_ms: string;
  num_names: string[];
  num_values: number[];
  cat_names: string[];
  cat_values: string[];
  missing_names: string[];
  prediction_number: number | null;
  prediction_label: string;
  score: number | null;
  score_classes: string[];
  score_values: number[];
  extra: string;
}

async function storedRows(db: string, where: string): Promise<StoredRow[]> {
  const { clickhouseUrl } = servicesEnv();
  return clickhouseQuery<StoredRow>(
    clickhouseUrl,
    `SELECT model, id, version, ts_ms, num_names, num_values, cat_names, cat_values, missing_names,
            prediction_number, prediction_label, score, score_classes, score_values, extra
       FROM ${db}.predictions FINAL WHERE ${where} ORDER BY id`,
  );
}

function ce(
  id: string,
  side: 'request' | 'response',
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ce_specversion: '1.0',
    ce_id: id,
    ce_type: `org.kubeflow.serving.inference.${side}`,
    ce_source: 'http://localhost:9081/',
    ce_inferenceservicename: 'fraud',
    ce_namespace: 'prod',
    ce_component: 'predictor',
    ce_endpoint: 'default',
    'content-type': 'application/json',
    ...extra,
  };
}

const T0 = Date.parse('2026-11-23T02:00:00.000Z');

describe('serving-format decoders through the real broker and store', () => {
  it('stores KServe InferenceLogger exchanges exactly like their native twins, and dead-letters the rest', async () => {
    const h = await startPipeline({
      models: { fraud: { inputs: { input0: ['amount', 'age'] }, outputs: { output0: ['legit', 'fraud'] } } },
    });
    const { kafkaBrokers } = servicesEnv();
    const time = (i: number) => new Date(T0 + i * 1000).toISOString();
    const single = { inputs: [{ name: 'input0', shape: [1, 2], datatype: 'FP64', data: [120.5, 40] }] };
    const singleOut = {
      model_name: 'fraud',
      model_version: '4',
      outputs: [{ name: 'output0', shape: [1, 2], datatype: 'FP64', data: [0.875, 0.125] }],
    };
    const batch = {
      inputs: [
        {
          name: 'input0',
          shape: [2, 2],
          datatype: 'FP64',
          data: [
            [10, 20],
            [30, 50],
          ],
        },
      ],
    };
    const batchOut = {
      model_name: 'fraud',
      model_version: '4',
      outputs: [{ name: 'output0', shape: [2, 2], datatype: 'FP64', data: [0.25, 0.75, 0.5, 0.5] }],
    };
    const structured = (id: string, side: 'request' | 'response', data: unknown) =>
      JSON.stringify({
        specversion: '1.0',
        id,
        source: 'http://localhost:9081/',
        type: `org.kubeflow.serving.inference.${side}`,
        time: time(3),
        inferenceservicename: 'fraud',
        namespace: 'prod',
        component: 'predictor',
        endpoint: 'default',
        data,
      });
    const messages: KcatMessage[] = [
      // Binary mode, request then response.
      { value: JSON.stringify(single), headers: ce('ev-1', 'request', { ce_time: time(1) }) },
      { value: JSON.stringify(singleOut), headers: ce('ev-1', 'response', { ce_time: time(1) }) },
      // Binary mode, the response first; a batch of two rows.
      { value: JSON.stringify(batchOut), headers: ce('ev-2', 'response') },
      { value: JSON.stringify(batch), headers: ce('ev-2', 'request', { ce_time: time(2) }) },
      // Structured mode.
      {
        value: structured('ev-3', 'request', single),
        headers: { 'content-type': 'application/cloudevents+json' },
      },
      {
        value: structured('ev-3', 'response', singleOut),
        headers: { 'content-type': 'application/cloudevents+json' },
      },
      // Malformed: dead-lettered with its reason.
      {
        value: JSON.stringify({
          inputs: [{ name: 'input0', shape: [1, 2], datatype: 'FLOAT', data: [1, 2] }],
        }),
        headers: ce('bad-1', 'request'),
      },
      // A request whose response never comes: dead-lettered as unpaired after the timeout.
      { value: JSON.stringify(single), headers: ce('lonely', 'request') },
    ];
    await kcatProduce(kafkaBrokers, h.topics.kserve, messages, { partition: 0 });

    const twin = (id: string, t: number, features: object, prediction: string, scores: object) =>
      JSON.stringify({
        model: 'fraud',
        version: '4',
        id: `twin-${id}`,
        timestamp: T0 + t * 1000,
        features,
        prediction,
        scores,
        namespace: 'prod',
        endpoint: 'default',
        component: 'predictor',
      });
    await kcatProduce(kafkaBrokers, h.topics.native, [
      { value: twin('ev-1', 1, { amount: 120.5, age: 40 }, 'legit', { legit: 0.875, fraud: 0.125 }) },
      { value: twin('ev-2:0', 2, { amount: 10, age: 20 }, 'fraud', { legit: 0.25, fraud: 0.75 }) },
      { value: twin('ev-2:1', 2, { amount: 30, age: 50 }, 'legit', { legit: 0.5, fraud: 0.5 }) },
      { value: twin('ev-3', 3, { amount: 120.5, age: 40 }, 'legit', { legit: 0.875, fraud: 0.125 }) },
    ]);

    await waitFor(async () => (await storedRows(h.db, "model = 'fraud'")).length === 8, {
      timeoutMs: 60_000,
      description: '4 decoded predictions and 4 native twins stored',
    });
    const rows = await storedRows(h.db, "model = 'fraud'");
    const decoded = rows.filter((r) => !r.id.startsWith('twin-'));
    const twins = rows
      .filter((r) => r.id.startsWith('twin-'))
      .map((r) => ({ ...r, id: r.id.slice('twin-'.length) }));
    expect(decoded.map((r) => r.id)).toEqual(['ev-1', 'ev-2:0', 'ev-2:1', 'ev-3']);
    expect(decoded).toEqual(twins);

    const dead = await kcatConsume(kafkaBrokers, h.topics.deadLetter, { count: 2, timeoutMs: 30_000 });
    const reasons = dead
      .filter((m) => m.headers['driftguard-source-topic'] === h.topics.kserve)
      .map((m) => m.headers['driftguard-reason-code'])
      .sort();
    expect(reasons).toEqual(['unpaired', 'unsupported_format']);

    // Every record, the unpaired one included, ends up committable: nothing pins the partition.
    const { kafkaBrokers: brokers } = servicesEnv();
    const admin = createKafka({ clientId: 'test-admin', brokers: [brokers] }, createLogger('silent')).admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    await waitFor(
      async () => {
        const [committed] = await admin.fetchOffsets({ groupId: `${h.db}-group`, topics: [h.topics.kserve] });
        return committed?.partitions.find((p) => p.partition === 0)?.offset === String(messages.length);
      },
      { timeoutMs: 20_000, description: 'the KServe topic committed to its end' },
    );
  });

  it('pairs Seldon Core 2 protobuf inputs and outputs across their two topics', async () => {
    const h = await startPipeline({
      models: {
        iris: { inputs: { x: ['sepal_length', 'sepal_width'] }, outputs: { proba: ['setosa', 'virginica'] } },
      },
    });
    const { kafkaBrokers } = servicesEnv();
    const root = protobuf.parse(SELDON_PROTO, { keepCase: true }).root;
    const Req = root.lookupType('inference.ModelInferRequest');
    const Res = root.lookupType('inference.ModelInferResponse');
    const raw = Buffer.alloc(8);
    raw.writeFloatLE(1.5, 0);
    raw.writeFloatLE(2.25, 4);
    const request = Buffer.from(
      Req.encode(
        Req.fromObject({
          model_name: 'iris',
          inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2] }],
          raw_input_contents: [raw],
        }),
      ).finish(),
    );
    const response = Buffer.from(
      Res.encode(
        Res.fromObject({
          model_name: 'iris',
          model_version: '2',
          outputs: [
            { name: 'proba', datatype: 'FP64', shape: [1, 2], contents: { fp64_contents: [0.25, 0.75] } },
          ],
        }),
      ).finish(),
    );
    const headers = { 'seldon-infer-type': 'proto/InferModelRequest' };
    await kcatProduce(kafkaBrokers, h.topics.seldonOut, [{ key: 'req-7', value: response }]);
    await kcatProduce(kafkaBrokers, h.topics.seldonIn, [
      { key: 'req-7', value: request, headers },
      { key: 'req-8', value: Buffer.from([0x0a, 0xff, 0xff]), headers },
    ]);
    await kcatProduce(kafkaBrokers, h.topics.native, [
      {
        value: JSON.stringify({
          model: 'iris',
          version: '2',
          id: 'twin-req-7',
          features: { sepal_length: 1.5, sepal_width: 2.25 },
          prediction: 'virginica',
          scores: { setosa: 0.25, virginica: 0.75 },
          namespace: 'prod',
        }),
      },
    ]);
    await waitFor(async () => (await storedRows(h.db, "model = 'iris'")).length === 2, {
      timeoutMs: 60_000,
      description: 'the Seldon prediction and its twin stored',
    });
    const rows = await storedRows(h.db, "model = 'iris'");
    const [twin, decoded] = [rows.find((r) => r.id === 'twin-req-7'), rows.find((r) => r.id === 'req-7')];
    expect(decoded).toBeDefined();
    // Time comes from each record's Kafka timestamp, so it is the one field allowed to differ.
    expect({ ...decoded, ts_ms: '' }).toEqual({ ...twin, id: 'req-7', ts_ms: '' });

    const dead = await kcatConsume(kafkaBrokers, h.topics.deadLetter, { count: 1, timeoutMs: 30_000 });
    expect(dead[0]?.headers['driftguard-reason-code']).toBe('unsupported_format');
    expect(dead[0]?.headers['driftguard-source-topic']).toBe(h.topics.seldonIn);
  });
});

const SELDON_PROTO = `
syntax = "proto3";
package inference;
message InferParameter { oneof parameter_choice { bool bool_param = 1; int64 int64_param = 2; string string_param = 3; } }
message InferTensorContents {
  repeated bool bool_contents = 1; repeated int32 int_contents = 2; repeated int64 int64_contents = 3;
  repeated uint32 uint_contents = 4; repeated uint64 uint64_contents = 5; repeated float fp32_contents = 6;
  repeated double fp64_contents = 7; repeated bytes bytes_contents = 8;
}
message ModelInferRequest {
  message InferInputTensor { string name = 1; string datatype = 2; repeated int64 shape = 3; map<string, InferParameter> parameters = 4; InferTensorContents contents = 5; }
  string model_name = 1; string model_version = 2; string id = 3; map<string, InferParameter> parameters = 4;
  repeated InferInputTensor inputs = 5; repeated bytes raw_input_contents = 7;
}
message ModelInferResponse {
  message InferOutputTensor { string name = 1; string datatype = 2; repeated int64 shape = 3; map<string, InferParameter> parameters = 4; InferTensorContents contents = 5; }
  string model_name = 1; string model_version = 2; string id = 3; map<string, InferParameter> parameters = 4;
  repeated InferOutputTensor outputs = 5; repeated bytes raw_output_contents = 6;
}`;
