import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DaemonProcess } from '../support/daemon-process.js';
import {
  cleanupsAfterEach,
  clickhouseQuery,
  dropDatabase,
  kcatConsume,
  kcatProduce,
  servicesEnv,
  uniqueName,
  waitFor,
} from '../support/index.js';

/**
 * Serving formats through a real `driftguard start`, configured as a user would: KServe's logger
 * posting CloudEvents over HTTP, Seldon Core 2 model topics listed as extra inputs, and a KServe
 * request whose response never comes (dead-lettered as unpaired after the pair timeout).
 */
const cleanups = cleanupsAfterEach();

interface StoredRow {
  id: string;
  num_names: string[];
  num_values: number[];
  prediction_label: string;
  score_classes: string[];
  score_values: number[];
}

describe('serving formats through the daemon', () => {
  it('stores KServe HTTP CloudEvents and Seldon topic pairs like native events, and dead-letters unpaired halves', async () => {
    const { kafkaBrokers, clickhouseUrl } = servicesEnv();
    const name = uniqueName('formats');
    const prefix = uniqueName('sdn');
    const seldonIn = `${prefix}.prod.model.iris.inputs`;
    const seldonOut = `${prefix}.prod.model.iris.outputs`;
    const deadLetter = `${name}.dlq`;
    cleanups.push(() => dropDatabase(clickhouseUrl, name));
    const dir = await mkdtemp(path.join(tmpdir(), 'driftguard-formats-'));
    const configFile = path.join(dir, 'driftguard.yaml');
    await writeFile(
      configFile,
      `kafka:
  topics:
    inputs:
      - { topic: ${seldonIn}, format: seldon }
      - { topic: ${seldonOut}, format: seldon }
http:
  openCloudEvents: true
decoders:
  pairTimeoutMs: 4000
  seldonTopicPrefix: ${prefix}
  models:
    fraud:
      inputs: { input0: [amount, account_age_days] }
      outputs: { output0: [fraud, ok], predictions: [fraud, ok] }   # v2 tensor name; v1 responses are the tensor 'predictions'
    iris:
      inputs: { input0: [sepal_length, sepal_width] }
      outputs: { output0: [setosa, versicolor] }
`,
    );
    const daemon = await DaemonProcess.start(
      {
        DRIFTGUARD_KAFKA_BROKERS: kafkaBrokers,
        DRIFTGUARD_CLICKHOUSE_URL: clickhouseUrl,
        DRIFTGUARD_CLICKHOUSE_DATABASE: name,
        DRIFTGUARD_TOPIC_PREDICTIONS: `${name}.p`,
        DRIFTGUARD_TOPIC_OUTCOMES: `${name}.o`,
        DRIFTGUARD_TOPIC_DEAD_LETTER: deadLetter,
        DRIFTGUARD_CONSUMER_GROUP: `${name}-group`,
      },
      ['--config', configFile],
    );
    cleanups.push(() => daemon.dispose());

    // KServe InferenceLogger, binary mode over HTTP: the response arrives first.
    const ce = (type: string): Record<string, string> => ({
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': 'ks-1',
      'ce-source': 'http://localhost:9081/',
      'ce-type': `org.kubeflow.serving.inference.${type}`,
      'ce-inferenceservicename': 'fraud',
      'ce-time': '2026-11-23T02:00:00Z',
    });
    const response = await fetch(`${daemon.url}/v1/cloudevents`, {
      method: 'POST',
      headers: ce('response'),
      body: JSON.stringify({
        model_name: 'fraud',
        outputs: [{ name: 'output0', shape: [1, 2], datatype: 'FP32', data: [0.8, 0.2] }],
      }),
    });
    expect(response.status).toBe(202);
    const request = await fetch(`${daemon.url}/v1/cloudevents`, {
      method: 'POST',
      headers: ce('request'),
      body: JSON.stringify({
        inputs: [{ name: 'input0', shape: [1, 2], datatype: 'FP32', data: [120.5, 30] }],
      }),
    });
    expect(await request.json()).toEqual({ status: 'stored', predictions: 1 });

    // Seldon Core 2: OIP JSON on the model's topics, keyed by request id, outputs first.
    await kcatProduce(kafkaBrokers, seldonOut, [
      {
        key: 'sd-1',
        value: JSON.stringify({
          model_name: 'iris',
          outputs: [{ name: 'output0', shape: [1, 2], datatype: 'FP32', data: [0.1, 0.9] }],
        }),
        headers: { 'seldon-infer-type': 'json' },
      },
    ]);
    await kcatProduce(kafkaBrokers, seldonIn, [
      {
        key: 'sd-1',
        value: JSON.stringify({
          inputs: [{ name: 'input0', shape: [1, 2], datatype: 'FP32', data: [5.1, 3.5] }],
        }),
        headers: { 'seldon-infer-type': 'json' },
      },
    ]);
    // KServe v1 payloads in binary-mode CloudEvents on Kafka: a batch of two rows given as objects.
    const v1 = (type: string): Record<string, string> => ({
      ce_specversion: '1.0',
      ce_id: 'v1-batch',
      ce_source: 'x',
      ce_type: `org.kubeflow.serving.inference.${type}`,
      ce_inferenceservicename: 'fraud',
      'content-type': 'application/json',
    });
    await kcatProduce(kafkaBrokers, `${name}.p`, [
      {
        value: JSON.stringify({
          instances: [
            { amount: 10, account_age_days: 400 },
            { amount: 990, account_age_days: 3 },
          ],
        }),
        headers: v1('request'),
      },
      {
        value: JSON.stringify({
          predictions: [
            [0.1, 0.9],
            [0.7, 0.3],
          ],
        }),
        headers: v1('response'),
      },
    ]);
    // A KServe request on Kafka whose response never comes.
    await kcatProduce(kafkaBrokers, `${name}.p`, [
      {
        value: JSON.stringify({
          inputs: [{ name: 'input0', shape: [1, 2], datatype: 'FP32', data: [1, 2] }],
        }),
        headers: {
          ce_specversion: '1.0',
          ce_id: 'lonely',
          ce_source: 'x',
          ce_type: 'org.kubeflow.serving.inference.request',
          ce_inferenceservicename: 'fraud',
        },
      },
    ]);

    const rows = await waitFor(
      async () => {
        const stored = await clickhouseQuery<StoredRow>(
          clickhouseUrl,
          `SELECT id, num_names, num_values, prediction_label, score_classes, score_values FROM ${name}.predictions FINAL ORDER BY id`,
        );
        return stored.length === 4 ? stored : undefined;
      },
      { timeoutMs: 60_000, description: 'four paired predictions stored' },
    );
    expect(rows).toEqual([
      {
        id: 'ks-1',
        num_names: ['amount', 'account_age_days'],
        num_values: [120.5, 30],
        prediction_label: 'fraud',
        score_classes: ['fraud', 'ok'],
        score_values: [0.8, 0.2],
      },
      {
        id: 'sd-1',
        num_names: ['sepal_length', 'sepal_width'],
        num_values: [5.1, 3.5],
        prediction_label: 'versicolor',
        score_classes: ['setosa', 'versicolor'],
        score_values: [0.1, 0.9],
      },
      {
        id: 'v1-batch:0',
        num_names: ['amount', 'account_age_days'],
        num_values: [10, 400],
        prediction_label: 'ok',
        score_classes: ['fraud', 'ok'],
        score_values: [0.1, 0.9],
      },
      {
        id: 'v1-batch:1',
        num_names: ['amount', 'account_age_days'],
        num_values: [990, 3],
        prediction_label: 'fraud',
        score_classes: ['fraud', 'ok'],
        score_values: [0.7, 0.3],
      },
    ]);
    const [dead] = await kcatConsume(kafkaBrokers, deadLetter, { count: 1, timeoutMs: 60_000 });
    expect(dead?.headers['driftguard-reason-code']).toBe('unpaired');
    expect(dead?.headers['driftguard-source-topic']).toBe(`${name}.p`);
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(metrics).toMatch(/driftguard_ingest_unpaired_total\{side="request",cause="timeout"\} 1/);
  });
});
