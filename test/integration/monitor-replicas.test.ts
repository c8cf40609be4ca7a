import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { partitionOf } from '../../src/coordination/ownership.js';
import { DaemonProcess } from '../support/daemon-process.js';
import {
  cleanupsAfterEach,
  clickhouseQuery,
  dropDatabase,
  kcatProduce,
  servicesEnv,
  uniqueName,
  waitFor,
} from '../support/index.js';

/**
 * Two real replicas in one consumer group: each model is evaluated by exactly one of them per
 * interval; after one is killed (SIGKILL, no goodbye) the survivor takes its models over once
 * the coordination group notices (session timeout) and rebalances.
 */

const cleanups = cleanupsAfterEach();

interface Row {
  model: string;
  replica: string;
  at: string;
}

describe('monitor replicas', () => {
  it('evaluates every model exactly once per interval across two replicas and moves models to the survivor', async () => {
    const { kafkaBrokers, clickhouseUrl } = servicesEnv();
    const name = uniqueName('monrep');
    cleanups.push(() => dropDatabase(clickhouseUrl, name));
    // Models spread over all 4 partitions of the coordination topic, so both replicas own some.
    const models: string[] = [];
    for (let i = 0; models.length < 8 && i < 1000; i++) {
      const m = `m${i}`;
      const p = partitionOf(m, 4);
      if (models.filter((x) => partitionOf(x, 4) === p).length < 2) models.push(m);
    }
    const dir = await mkdtemp(path.join(tmpdir(), 'driftguard-rep-'));
    const configFile = path.join(dir, 'driftguard.yaml');
    await writeFile(
      configFile,
      // A short ingest session: the local mock broker finishes a rebalance only when a member's
      // session runs out, so a second replica would otherwise wait ~30 s to join.
      `kafka: { sessionTimeoutMs: 8000, heartbeatIntervalMs: 1000 }
monitoring:
  intervalMs: 2000
  defaults:
    window: { type: time, durationMs: 6000 }
    reference: { type: first_events, count: 200 }
  coordination: { topic: ${name}.coord, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 }
`,
    );
    const env = {
      DRIFTGUARD_KAFKA_BROKERS: kafkaBrokers,
      DRIFTGUARD_CLICKHOUSE_URL: clickhouseUrl,
      DRIFTGUARD_CLICKHOUSE_DATABASE: name,
      DRIFTGUARD_TOPIC_PREDICTIONS: `${name}.p`,
      DRIFTGUARD_TOPIC_OUTCOMES: `${name}.o`,
      DRIFTGUARD_TOPIC_DEAD_LETTER: `${name}.dlq`,
      DRIFTGUARD_CONSUMER_GROUP: `${name}-group`,
    };
    const a = await DaemonProcess.start(env, ['--config', configFile]);
    cleanups.push(() => a.dispose());
    const b = await DaemonProcess.start(env, ['--config', configFile]);
    cleanups.push(() => b.dispose());

    let producing = true;
    let seq = 0;
    const producer = (async () => {
      while (producing) {
        const now = Date.now();
        const batch = models.flatMap((model) =>
          Array.from({ length: 50 }, () => ({
            value: JSON.stringify({
              model,
              id: `e${seq++}`,
              timestamp: now,
              features: { x: (seq * 7919) % 1000, c: ['a', 'b', 'c'][seq % 3] },
              prediction: 'p',
            }),
          })),
        );
        await kcatProduce(kafkaBrokers, `${name}.p`, batch);
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    cleanups.push(async () => {
      producing = false;
      await producer;
    });

    const rows = async (fromS: number, toS: number): Promise<Row[]> =>
      clickhouseQuery<Row>(
        clickhouseUrl,
        `SELECT model, replica, toString(toUInt32(evaluated_at)) AS at FROM ${name}.model_health WHERE evaluated_at >= toDateTime(${fromS}) AND evaluated_at < toDateTime(${toS}) ORDER BY model, evaluated_at`,
      );
    const nowS = (): number => Math.floor(Date.now() / 1000);

    // Both replicas evaluating, every model covered.
    await waitFor(
      async () => {
        const r = await rows(nowS() - 4, nowS() + 1);
        return (
          new Set(r.map((x) => x.replica)).size === 2 && new Set(r.map((x) => x.model)).size === models.length
        );
      },
      { timeoutMs: 120_000, intervalMs: 500, description: 'both replicas evaluating all models' },
    );
    const steadyFrom = nowS() + 1;
    await new Promise((r) => setTimeout(r, 12_000));
    const steady = await rows(steadyFrom, steadyFrom + 10);
    const check = (sample: Row[], expectReplicas: number): void => {
      for (const model of models) {
        const mine = sample.filter((r) => r.model === model);
        // One replica per model, evaluated every ~2 s interval: 10 s hold 3 to 5 evaluations, never two in one second.
        expect(new Set(mine.map((r) => r.replica)).size, model).toBe(1);
        expect(mine.length, model).toBeGreaterThanOrEqual(3);
        expect(mine.length, model).toBeLessThanOrEqual(5);
        expect(new Set(mine.map((r) => r.at)).size, model).toBe(mine.length);
      }
      expect(new Set(sample.map((r) => r.replica)).size).toBe(expectReplicas);
    };
    check(steady, 2);

    // Kill one replica without a goodbye; the survivor takes over after the session timeout.
    const killedAt = nowS();
    a.kill('SIGKILL');
    await a.exited;
    const survivor = (await rows(killedAt - 4, killedAt)).find((r) => r.model === models[0])?.replica;
    await waitFor(
      async () => {
        const r = await rows(nowS() - 3, nowS() + 1);
        return (
          new Set(r.map((x) => x.replica)).size === 1 && new Set(r.map((x) => x.model)).size === models.length
        );
      },
      { timeoutMs: 40_000, intervalMs: 500, description: 'the survivor evaluating every model' },
    );
    const afterFrom = nowS() + 1;
    await new Promise((r) => setTimeout(r, 12_000));
    const after = await rows(afterFrom, afterFrom + 10);
    check(after, 1);
    expect(survivor).toBeDefined();
    const whole = await rows(killedAt - 30, nowS() + 1);
    // Across the failover, no model was ever evaluated twice in the same second.
    for (const model of models) {
      const mine = whole.filter((r) => r.model === model);
      expect(new Set(mine.map((r) => r.at)).size, model).toBe(mine.length);
    }
    producing = false;
    await producer;
    console.log(JSON.stringify({ models: models.length, steady: steady.length, after: after.length }));
  });
});
