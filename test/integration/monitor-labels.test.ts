import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DaemonProcess } from '../support/daemon-process.js';
import {
  cleanupsAfterEach,
  clickhouseQuery,
  daemonClickhouse,
  kcatProduce,
  servicesEnv,
  uniqueName,
  waitFor,
} from '../support/index.js';

/**
 * Delayed labels: predictions first, outcomes later. Performance appears once outcomes land,
 * computed on the labelled part of the window, with the label coverage beside it.
 */

const TOKEN = 'labels-test-token-0123456789';

const cleanups = cleanupsAfterEach();

// On the ClickHouse server, and on the cluster (its Distributed tables, label joins across shards).
describe.each(['server', 'cluster'] as const)('monitor with late labels on the %s', (backend) => {
  it('reports accuracy and coverage once outcomes arrive, joined by id within the horizon', async () => {
    const { kafkaBrokers } = servicesEnv();
    const clickhouse = daemonClickhouse(backend);
    const clickhouseUrl = clickhouse.url;
    const name = uniqueName('monlab');
    cleanups.push(() => clickhouse.drop(name));
    const dir = await mkdtemp(path.join(tmpdir(), 'driftguard-lab-'));
    const configFile = path.join(dir, 'driftguard.yaml');
    await writeFile(
      configFile,
      `monitoring:
  intervalMs: 2000
  labelHorizonMs: 600000
  coordination: { topic: ${name}.coord, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 }
  models:
    loan:
      task: { type: classification, classes: [yes, no] }
      reference: { type: first_events, count: 300 }
      window: { type: events, count: 400 }
      performance:
        - { metric: accuracy, min: 0.9 }
`,
    );
    const daemon = await DaemonProcess.start(
      {
        DRIFTGUARD_KAFKA_BROKERS: kafkaBrokers,
        ...clickhouse.env(name),
        DRIFTGUARD_TOPIC_PREDICTIONS: `${name}.p`,
        DRIFTGUARD_TOPIC_OUTCOMES: `${name}.o`,
        DRIFTGUARD_TOPIC_DEAD_LETTER: `${name}.dlq`,
        DRIFTGUARD_CONSUMER_GROUP: `${name}-group`,
        DRIFTGUARD_API_TOKEN: TOKEN,
      },
      ['--config', configFile],
    );
    cleanups.push(() => daemon.dispose());

    const t0 = Date.now() - 60_000;
    const predicted = (i: number): string => (i % 3 === 0 ? 'yes' : 'no');
    await kcatProduce(
      kafkaBrokers,
      `${name}.p`,
      Array.from({ length: 600 }, (_, i) => ({
        value: JSON.stringify({
          model: 'loan',
          id: `r${i}`,
          timestamp: t0 + i * 50,
          features: { amount: (i * 37) % 500, region: ['n', 's'][i % 2] },
          prediction: predicted(i),
        }),
      })),
    );
    const perf = async (): Promise<
      Array<{ metric: string; value: number; labelled: string; total: string; coverage: number }>
    > =>
      clickhouseQuery(
        clickhouseUrl,
        `SELECT metric, value, toString(labelled) AS labelled, toString(total) AS total, coverage FROM ${name}.performance_results WHERE model = 'loan' ORDER BY evaluated_at DESC LIMIT 20`,
      );
    // Evaluated, but without labels there is no performance yet.
    await waitFor(
      async () =>
        Number(
          (
            await clickhouseQuery<{ c: string }>(
              clickhouseUrl,
              `SELECT count() AS c FROM ${name}.model_health WHERE model = 'loan'`,
            )
          )[0]?.c,
        ) >= 2,
      { timeoutMs: 60_000 },
    );
    expect(await perf()).toHaveLength(0);
    const coverageBefore = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(coverageBefore).toMatch(/driftguard_label_coverage_ratio\{model="loan"\} 0/);

    // Outcomes for r300..r599 (the last 400 predictions are r200..r599): coverage 300 / 400.
    // 80 % of them agree with the prediction: accuracy 0.8, below the 0.9 threshold.
    await kcatProduce(
      kafkaBrokers,
      `${name}.o`,
      Array.from({ length: 300 }, (_, k) => {
        const i = 300 + k;
        const right = k % 5 !== 0;
        return {
          value: JSON.stringify({
            model: 'loan',
            id: `r${i}`,
            timestamp: t0 + i * 50 + 30_000,
            label: right ? predicted(i) : predicted(i) === 'yes' ? 'no' : 'yes',
          }),
        };
      }),
    );
    const rows = await waitFor(
      async () => {
        const r = await perf();
        return r.find((x) => x.metric === 'accuracy' && x.labelled === '300') ? r : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const accuracy = rows.find((x) => x.metric === 'accuracy' && x.labelled === '300');
    expect(accuracy?.value).toBeCloseTo(0.8, 10);
    expect(accuracy?.total).toBe('400');
    expect(accuracy?.coverage).toBeCloseTo(0.75, 10);
    // Gauges are set just after the rows are written: poll rather than race them.
    const metrics = await waitFor(
      async () => {
        const text = await (await fetch(`${daemon.url}/metrics`)).text();
        return /driftguard_label_coverage_ratio\{model="loan"\} 0\.75/.test(text) ? text : undefined;
      },
      { timeoutMs: 10_000, description: 'coverage gauge 0.75' },
    );
    expect(metrics).toMatch(/driftguard_performance_metric\{model="loan",metric="accuracy"\} 0\.8/);
    const health = (await (await fetch(`${daemon.url}/v1/models/loan/health`)).json()) as {
      status: string;
      reasons: string[];
    };
    expect(health.status).toBe('critical');
    expect(health.reasons.join(' ')).toContain('accuracy');

    // Reference upload: token required, body validated, kinds inferred, then used by the next cycle.
    const sample = Array.from({ length: 50 }, (_, i) =>
      JSON.stringify({ features: { amount: i * 10, region: 'n' } }),
    ).join('\n');
    const post = (body: string, token?: string): Promise<Response> =>
      fetch(`${daemon.url}/v1/models/loan/reference`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-ndjson',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body,
      });
    expect((await post(sample)).status).toBe(401);
    const bad = await post('{"features": {"amount": [1]}}', TOKEN);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_body');
    const ok = await post(sample, TOKEN);
    expect(ok.status).toBe(201);
    expect(await ok.json()).toEqual({
      model: 'loan',
      rows: 50,
      features: { amount: 'numeric', region: 'categorical' },
    });
    const badQuery = await fetch(`${daemon.url}/v1/models/loan/drift?limit=0`);
    expect(badQuery.status).toBe(400);
    const missing = await fetch(`${daemon.url}/v1/models/nobody/health`);
    expect(missing.status).toBe(404);
  });
});
