import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DaemonProcess } from '../support/daemon-process.js';
import {
  cleanupsAfterEach,
  clickhouseQuery,
  daemonClickhouse,
  kcatProduce,
  normal,
  rng,
  servicesEnv,
  uniqueName,
  waitFor,
} from '../support/index.js';

/**
 * Acceptance: a real `driftguard start` process, fed by kcat, evaluates two models every 2 s
 * over an 8 s window. `credit` shifts at a known point and returns; `steady` never changes.
 * A real HTTP receiver checks the signed webhook alerts.
 */

const TOKEN = 'test-token-0123456789abcdef';
const SECRET = 'monitor-test-webhook-secret-0123';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

const cleanups = cleanupsAfterEach();

// On the ClickHouse server, and on the cluster (its Distributed tables, label joins across shards).
describe.each(['server', 'cluster'] as const)('monitoring end to end on the %s', (backend) => {
  it('goes critical on a shift, sends one signed firing alert, resolves after the return; a stationary model fires nothing', async () => {
    const { kafkaBrokers } = servicesEnv();
    const clickhouse = daemonClickhouse(backend);
    const clickhouseUrl = clickhouse.url;
    const name = uniqueName('mondrift');
    cleanups.push(() => clickhouse.drop(name));
    const received: Received[] = [];
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;

    const dir = await mkdtemp(path.join(tmpdir(), 'driftguard-mon-'));
    const configFile = path.join(dir, 'driftguard.yaml');
    const modelBlock = `
      features: { x1: numeric, x2: numeric, country: categorical }
      reference: { type: first_events, count: 1500 }
      alpha: 0.01
      numericEffectThreshold: 0.15
      categoricalEffectThreshold: 0.1`;
    await writeFile(
      configFile,
      `monitoring:
  intervalMs: 2000
  defaults:
    window: { type: time, durationMs: 8000 }
  coordination: { topic: ${name}.coord, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 }
  models:
    credit:${modelBlock}
    steady:${modelBlock}
alerts:
  cooldownMs: 0
  resolveAfterWindows: 2
  delivery: { dispatchIntervalMs: 200 }
  sinks:
    - type: webhook
      name: test-hook
      url: http://127.0.0.1:${port}/hook
      secret: ${SECRET}
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
    cleanups.push(() => {
      if (process.env['DRIFTGUARD_TEST_LOGS'] === '1')
        console.log(
          daemon.logs
            .filter((l) => l['component'] === 'monitor' || l['component'] === 'coordination' || l.level >= 40)
            .slice(-30)
            .map((l) => JSON.stringify(l))
            .join('\n'),
        );
      return Promise.resolve();
    });

    const random = rng(42);
    let seq = 0;
    let shift = 0;
    const batch = (count: number): Array<{ value: string }> => {
      const now = Date.now();
      const out: Array<{ value: string }> = [];
      for (let i = 0; i < count; i++) {
        for (const model of ['credit', 'steady']) {
          const s = model === 'credit' ? shift : 0;
          out.push({
            value: JSON.stringify({
              model,
              id: `e-${seq++}`,
              timestamp: now - Math.floor(random() * 500),
              features: {
                x1: normal(random) + s,
                x2: normal(random) * 2 + 5,
                country: ['DE', 'FR', 'US', 'IT'][Math.floor(random() * 4)],
              },
              prediction: random() < 0.3 ? 'yes' : 'no',
            }),
          });
        }
      }
      return out;
    };
    let producing = true;
    const producer = (async () => {
      await kcatProduce(kafkaBrokers, `${name}.p`, batch(1500));
      while (producing) {
        const started = Date.now();
        await kcatProduce(kafkaBrokers, `${name}.p`, batch(250));
        await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - started))));
      }
    })();
    cleanups.push(async () => {
      producing = false;
      await producer;
    });

    const health = async (model: string): Promise<string[]> =>
      (
        await clickhouseQuery<{ status: string }>(
          clickhouseUrl,
          `SELECT status FROM ${name}.model_health WHERE model = '${model}' ORDER BY evaluated_at`,
        )
      ).map((r) => r.status);

    // Stationary phase: both models evaluated ok, several windows.
    await waitFor(async () => (await health('credit')).length >= 4, { timeoutMs: 60_000 });
    expect(await health('credit')).not.toContain('critical');

    // Shift credit's x1 by 2 sigma: critical within two evaluation windows (2 x 8 s).
    const shiftedAt = Date.now();
    shift = 2;
    await waitFor(async () => (await health('credit')).includes('critical'), { timeoutMs: 16_000 + 4_000 });
    const firing = await waitFor(
      () => {
        const found = received.filter((r) => r.headers['x-driftguard-event'] === 'alert.firing');
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 10_000 },
    );
    const detectedMs = Date.now() - shiftedAt;

    // Back to the reference: resolved once two windows are clean.
    shift = 0;
    const resolved = await waitFor(
      () => received.find((r) => r.headers['x-driftguard-event'] === 'alert.resolved'),
      { timeoutMs: 40_000 },
    );
    producing = false;
    await producer;

    for (const r of [...firing, resolved]) {
      const expected = `sha256=${createHmac('sha256', SECRET).update(r.body, 'utf8').digest('hex')}`;
      const got = String(r.headers['x-driftguard-signature-256']);
      expect(timingSafeEqual(Buffer.from(got), Buffer.from(expected))).toBe(true);
    }
    const firingBodies = firing.map(
      (r) => JSON.parse(r.body) as { model: string; alerts: Array<{ rule: string; status: string }> },
    );
    // One group (model) notification carries the model-level alert; nothing for the steady model.
    const modelDrift = firingBodies.filter((b) =>
      b.alerts.some((a) => a.rule === 'model:drift' && a.status === 'firing'),
    );
    expect(modelDrift).toHaveLength(1);
    expect(modelDrift[0]?.model).toBe('credit');
    expect(received.map((r) => (JSON.parse(r.body) as { model: string }).model)).not.toContain('steady');
    expect(await health('steady')).not.toContain('critical');
    const resolvedBody = JSON.parse(resolved.body) as {
      model: string;
      alerts: Array<{ rule: string; status: string }>;
    };
    expect(resolvedBody.model).toBe('credit');

    // The history is in ClickHouse and the API.
    const drift = await clickhouseQuery<{ c: string }>(
      clickhouseUrl,
      `SELECT count() AS c FROM ${name}.drift_results WHERE model = 'credit' AND feature = 'x1' AND detector = 'default' AND drifted = 1`,
    );
    expect(Number(drift[0]?.c)).toBeGreaterThan(0);
    const api = (await (await fetch(`${daemon.url}/v1/models/credit/drift?feature=x1&limit=5`)).json()) as {
      results: unknown[];
    };
    expect(api.results).toHaveLength(5);
    const models = (await (await fetch(`${daemon.url}/v1/models`)).json()) as {
      models: Array<{ model: string }>;
    };
    expect(models.models.map((m) => m.model)).toEqual(['credit', 'steady']);
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(metrics).toMatch(/driftguard_model_health\{model="steady"\} 0/);
    expect(metrics).toMatch(/driftguard_feature_drift_p_value\{model="credit",feature="x1",detector="ks"\}/);
    const alerts = (await (await fetch(`${daemon.url}/v1/alerts?model=credit`)).json()) as {
      alerts: unknown[];
    };
    expect(alerts.alerts.length).toBeGreaterThanOrEqual(2);
    console.log(JSON.stringify({ detectedMs, notifications: received.length }));
  });
});
