import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DaemonProcess } from '../support/daemon-process.js';
import {
  cleanupsAfterEach,
  dropDatabase,
  kcatProduce,
  normal,
  rng,
  servicesEnv,
  uniqueName,
  waitFor,
} from '../support/index.js';

/**
 * Estimated performance on the real pipeline: a `driftguard start` process fed by kcat with a
 * binary classifier's predictions (scores as maps) and their outcomes. The reference's labels
 * arrive through Kafka too, so the first fit may wait for them (refitted every 2 s here). Once
 * the inputs shift (covariate shift, the concept unchanged), the API serves per window the
 * estimated accuracy with its band beside the realized one, and /metrics exports it.
 */

const cleanups = cleanupsAfterEach();
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

interface PerformanceBody {
  estimators: { estimators: Record<string, string> } | null;
  results: Array<{
    metric: string;
    estimated: number | null;
    estimatedLower: number | null;
    estimatedUpper: number | null;
    realized: number | null;
    labelCoverage: number;
    events: number;
    windowStartMs: number;
  }>;
}

describe('estimated performance through a running daemon', () => {
  it('serves the estimated accuracy with its band beside the realized one under covariate shift', async () => {
    const { kafkaBrokers, clickhouseUrl } = servicesEnv();
    const name = uniqueName('estdaemon');
    cleanups.push(() => dropDatabase(clickhouseUrl, name));
    const dir = await mkdtemp(path.join(tmpdir(), 'driftguard-est-'));
    const configFile = path.join(dir, 'driftguard.yaml');
    await writeFile(
      configFile,
      `monitoring:
  intervalMs: 2000
  defaults:
    window: { type: time, durationMs: 10000 }
  coordination: { topic: ${name}.coord, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 }
  models:
    fraud:
      task: { type: classification, classes: [fraud, ok] }
      reference: { type: first_events, count: 2000 }
      estimation: { refitIntervalMs: 2000 }
`,
    );
    const daemon = await DaemonProcess.start(
      {
        DRIFTGUARD_KAFKA_BROKERS: kafkaBrokers,
        DRIFTGUARD_CLICKHOUSE_URL: clickhouseUrl,
        DRIFTGUARD_CLICKHOUSE_DATABASE: name,
        DRIFTGUARD_TOPIC_PREDICTIONS: `${name}.p`,
        DRIFTGUARD_TOPIC_OUTCOMES: `${name}.o`,
        DRIFTGUARD_TOPIC_DEAD_LETTER: `${name}.dlq`,
        DRIFTGUARD_CONSUMER_GROUP: `${name}-group`,
      },
      ['--config', configFile],
    );
    cleanups.push(() => daemon.dispose());

    const random = rng(77);
    let seq = 0;
    let shift = 0;
    const batch = (
      count: number,
    ): { predictions: Array<{ value: string }>; outcomes: Array<{ value: string }> } => {
      const now = Date.now();
      const predictions: Array<{ value: string }> = [];
      const outcomes: Array<{ value: string }> = [];
      for (let i = 0; i < count; i++) {
        const x1 = normal(random) + shift;
        const x2 = normal(random) - 0.6 * shift;
        const x3 = normal(random);
        const s = sigmoid(1.6 * (1.1 * x1 - 0.9 * x2 + 0.4 * x3 - 0.2));
        const id = `e-${seq++}`;
        const timestamp = now - Math.floor(random() * 500);
        predictions.push({
          value: JSON.stringify({
            model: 'fraud',
            id,
            timestamp,
            features: { x1, x2, x3 },
            prediction: s >= 0.5 ? 'fraud' : 'ok',
            scores: { fraud: s, ok: 1 - s },
          }),
        });
        const y = random() < sigmoid(1.2 * x1 - 0.8 * x2 + 0.5 * x3 - 0.3) ? 'fraud' : 'ok';
        outcomes.push({
          value: JSON.stringify({ model: 'fraud', id, timestamp: timestamp + 100, label: y }),
        });
      }
      return { predictions, outcomes };
    };
    const send = async (count: number): Promise<void> => {
      const { predictions, outcomes } = batch(count);
      await kcatProduce(kafkaBrokers, `${name}.p`, predictions);
      await kcatProduce(kafkaBrokers, `${name}.o`, outcomes);
    };
    let producing = true;
    let shiftedAt = Number.POSITIVE_INFINITY;
    const producer = (async () => {
      await send(2_000);
      while (producing) {
        const started = Date.now();
        await send(250);
        await new Promise((r) => setTimeout(r, Math.max(0, 1_000 - (Date.now() - started))));
      }
    })();
    cleanups.push(async () => {
      producing = false;
      await producer;
    });

    const performance = async (): Promise<PerformanceBody> =>
      (await (
        await fetch(`${daemon.url}/v1/models/fraud/performance?metric=accuracy&limit=50`)
      ).json()) as PerformanceBody;
    // The estimators are fitted once the reference's outcomes are in.
    await waitFor(
      async () => ((await performance()).estimators?.estimators['cbpe'] === 'fitted' ? true : undefined),
      {
        timeoutMs: 60_000,
        description: 'CBPE fitted on the labelled reference',
      },
    );
    shift = 1;
    shiftedAt = Date.now();
    // Windows entirely after the shift, with their labels in.
    const shifted = await waitFor(
      async () => {
        const rows = (await performance()).results.filter(
          (r) =>
            r.windowStartMs >= shiftedAt + 1_000 &&
            r.realized !== null &&
            r.labelCoverage > 0.8 &&
            r.events > 1_500,
        );
        return rows.length >= 2 ? rows : undefined;
      },
      { timeoutMs: 60_000, description: 'two shifted windows with estimate and realized accuracy' },
    );
    producing = false;
    await producer;
    const reference = (await performance()).results.find((r) => r.windowStartMs < shiftedAt - 10_000);
    for (const r of shifted) {
      const estimated = r.estimated as number;
      const realized = r.realized as number;
      expect(Math.abs(estimated - realized), JSON.stringify(r)).toBeLessThanOrEqual(0.06);
      expect(realized).toBeGreaterThanOrEqual(r.estimatedLower as number);
      expect(realized).toBeLessThanOrEqual(r.estimatedUpper as number);
    }
    // The shift changed accuracy (the model is more confident away from its boundary): the estimate followed.
    if (reference?.realized != null)
      expect((shifted[0]?.realized ?? 0) - reference.realized).toBeGreaterThan(0.03);
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(metrics).toMatch(/driftguard_estimated_performance\{model="fraud",metric="accuracy"\} 0\.\d+/);
    expect(metrics).toMatch(/driftguard_performance_metric\{model="fraud",metric="roc_auc"\} 0\.\d+/);
    console.log(JSON.stringify({ shifted: shifted.map((r) => [r.estimated, r.realized, r.events]) }));
  });
});
