import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Alerting, type AlertingDeps } from '../../src/alerts/alerting.js';
import { verifyWebhookSignature } from '../../src/alerts/sinks/webhook.js';
import { DriftguardError } from '../../kernel/errors.js';
import { ALERT_MIGRATIONS } from '../../src/alerts/migrations.js';
import type { AlertsConfigInput } from '../../src/alerts/options.js';
import type { Notification, RuleEvaluation } from '../../src/alerts/types.js';
import { createLogger } from '../../kernel/logger.js';
import { openServerStore } from '../../src/store/clickhouse-server.js';
import type { Store } from '../../kernel/store.js';
import { ENGINES, migratedDatabase, waitFor } from '../support/index.js';

/**
 * Alerting against the real ClickHouse and a real HTTP receiver (node:http on 127.0.0.1:0):
 * what arrives on the wire, signatures, outages, restarts, duplicates.
 */

const SECRET = 'integration-test-hmac-secret';
const WINDOW_MS = 60_000;
const T0 = Date.UTC(2026, 0, 1);
const logger = createLogger('silent');

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver whose answer can be switched: up (2xx), 503, or a fixed status per path. */
class Receiver {
  readonly received: Received[] = [];
  mode: 'up' | 'down' = 'up';
  statusByPath = new Map<string, number>();
  private server: Server | undefined;
  port = 0;

  async listen(port = 0): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const path = req.url ?? '/';
        if (this.mode === 'down') {
          res.writeHead(503).end('maintenance');
          return;
        }
        this.received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const status = this.statusByPath.get(path) ?? (path.startsWith('/pd') ? 202 : 200);
        res
          .writeHead(status, { 'content-type': 'text/plain' })
          .end(path.startsWith('/slack') ? 'ok' : '{"status":"success"}');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Stops listening: connections are refused until listen() again. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  on(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }
}

function evaluation(model: string, n: number, overrides: Partial<RuleEvaluation> = {}): RuleEvaluation {
  const windowStartMs = T0 + n * WINDOW_MS;
  return {
    model,
    rule: 'performance:accuracy',
    severity: 'critical',
    breaching: true,
    value: 0.7,
    threshold: 0.8,
    summary: `accuracy of ${model} 0.7 < 0.8`,
    windowStartMs,
    windowEndMs: windowStartMs + WINDOW_MS,
    evaluatedAtMs: windowStartMs + WINDOW_MS + 1_000,
    ...overrides,
  };
}

let database: string;
let store: Store;
let drop: () => Promise<void>;
let receiver: Receiver;
const instances: Alerting[] = [];

function alerting(config: AlertsConfigInput, overrides: Partial<AlertingDeps> = {}): Alerting {
  const instance = new Alerting({ store, config, logger, registry: new Registry(), ...overrides });
  instances.push(instance);
  return instance;
}

/** Fast retry settings so outages play out in seconds. */
const fastDelivery = { dispatchIntervalMs: 50, initialDelayMs: 50, maxDelayMs: 200, jitter: 0 };

describe.each(ENGINES)('alerting with a real receiver on the %s backend', (engine) => {
  beforeEach(async () => {
    ({ db: database, store, drop } = await migratedDatabase('alerts', ALERT_MIGRATIONS, engine));
    receiver = new Receiver();
    await receiver.listen();
  });

  afterEach(async () => {
    await Promise.all(instances.splice(0).map((instance) => instance.stop()));
    await receiver.close();
    await drop();
  });

  it('delivers a signed webhook the receiver can verify, and records it as delivered', async () => {
    const instance = alerting({
      externalUrl: 'http://driftguard.test',
      sinks: [{ type: 'webhook', name: 'hook', url: receiver.url('/hook'), secret: SECRET }],
      delivery: fastDelivery,
    });
    await instance.start();
    const [notification] = await instance.handle([evaluation('credit', 0)]);
    expect(notification?.status).toBe('firing');

    const [request] = await waitFor(() =>
      receiver.on('/hook').length > 0 ? receiver.on('/hook') : undefined,
    );
    const signature = String(request?.headers['x-driftguard-signature-256']);
    const expected = `sha256=${createHmac('sha256', SECRET)
      .update(request?.body ?? '')
      .digest('hex')}`;
    expect(timingSafeEqual(Buffer.from(signature), Buffer.from(expected))).toBe(true);
    // The timestamped signature a receiver checks, as docs/alerts.md shows: fresh now, stale later.
    const timestamped = String(request?.headers['x-driftguard-signature']);
    expect(timestamped).toMatch(
      new RegExp(`^t=${String(request?.headers['x-driftguard-timestamp'])},v1=[0-9a-f]{64}$`),
    );
    expect(verifyWebhookSignature(SECRET, timestamped, request?.body ?? '', Date.now())).toEqual({
      ok: true,
    });
    expect(verifyWebhookSignature(SECRET, timestamped, request?.body ?? '', Date.now() + 600_000).ok).toBe(
      false,
    );
    expect(request?.headers['x-driftguard-event']).toBe('alert.firing');
    expect(request?.headers['x-driftguard-delivery']).toMatch(/^[0-9a-f]{32}$/);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request?.body ?? '')).toEqual(notification);

    const listed = await waitFor(async () => {
      const rows = await instance.listAlerts({ model: 'credit' });
      return rows[0]?.deliveries[0]?.status === 'delivered' ? rows : undefined;
    });
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: notification?.id, status: 'firing', model: 'credit' });
    expect(listed[0]?.deliveries).toEqual([
      {
        deliveryId: request?.headers['x-driftguard-delivery'],
        sink: 'hook',
        status: 'delivered',
        attempts: 1,
        lastError: null,
        lastAttemptAtMs: expect.any(Number) as number,
      },
    ]);
  });

  it('when the store is unreachable, handle() throws a retriable error and keeps its state', async () => {
    const config: AlertsConfigInput = {
      sinks: [{ type: 'webhook', name: 'hook', url: receiver.url('/hook'), secret: SECRET }],
    };
    const registry = new Registry();
    const instance = alerting(config, { registry });
    await instance.handle([evaluation('credit', 0)]);
    expect(await registry.getSingleMetricAsString('driftguard_alerts_firing')).toContain(
      'driftguard_alerts_firing{model="credit",severity="critical"} 1',
    );
    // A store that cannot be reached (whatever the backend under test: the failure is the point).
    const unreachable = openServerStore({
      url: 'http://127.0.0.1:1',
      database,
      username: 'default',
      password: '',
      requestTimeoutMs: 1_000,
    });
    const cut = alerting(config, { store: unreachable });
    const error = await cut.handle([evaluation('credit', 0)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DriftguardError);
    expect((error as DriftguardError).retriable).toBe(true);
    expect(cut.firing()).toEqual([]);
    await unreachable.close();

    // The first instance resolves it; the gauge drops to an explicit 0.
    await instance.handle([evaluation('credit', 1, { breaching: false })]);
    await instance.handle([evaluation('credit', 2, { breaching: false })]);
    expect(await registry.getSingleMetricAsString('driftguard_alerts_firing')).toContain(
      'driftguard_alerts_firing{model="credit",severity="critical"} 0',
    );
  });

  it('when a model moves to another replica, the new owner continues from its persisted state', async () => {
    const config: AlertsConfigInput = {
      sinks: [{ type: 'webhook', name: 'hook', url: receiver.url('/hook'), secret: SECRET }],
    };
    const registryA = new Registry();
    const a = alerting(config, { registry: registryA });
    const b = alerting(config);
    // Both replicas start (and load the state) before anything fires.
    await a.start();
    await b.start();
    const fired = await a.handle([evaluation('credit', 0)]);
    expect(fired.map((n) => n.status)).toEqual(['firing']);
    // The model moves from A to B: A forgets it, and exports no firing gauge for it any more.
    a.release('credit');
    expect(await registryA.getSingleMetricAsString('driftguard_alerts_firing')).not.toContain(
      'model="credit"',
    );
    // B's copy loaded at start said nothing fired; it reloads before evaluating, so it neither
    // fires again nor misses the resolution.
    expect(await b.handle([evaluation('credit', 1)])).toEqual([]);
    expect(b.firing().map((rule) => rule.model)).toEqual(['credit']);
    await b.handle([evaluation('credit', 2, { breaching: false })]);
    const resolved = await b.handle([evaluation('credit', 3, { breaching: false })]);
    expect(resolved.map((n) => n.status)).toEqual(['resolved']);
  });

  it('a receiver down for a while, and a restart in between, still gets every alert once it is back', async () => {
    const config: AlertsConfigInput = {
      sinks: [{ type: 'webhook', name: 'hook', url: receiver.url('/hook'), secret: SECRET }],
      delivery: fastDelivery,
      cooldownMs: 0,
    };
    receiver.mode = 'down';
    const registryA = new Registry();
    const first = alerting(config, { registry: registryA });
    await first.start();
    const firstNotifications = await first.handle(
      ['credit', 'fraud', 'churn'].map((model) => evaluation(model, 0)),
    );
    expect(firstNotifications).toHaveLength(3);
    // Some retries fail against the 503...
    await waitFor(
      async () =>
        (
          await store.select<{ n: string }>(
            'failed deliveries',
            `SELECT count() AS n FROM ${database}.alert_deliveries WHERE status = 'failed'`,
          )
        )[0]?.n !== '0' || undefined,
    );
    // The dispatcher counts an attempt once its row is stored, so the counter may trail the row.
    await waitFor(async () =>
      /sink="hook",result="failed"} [1-9]/.test(
        await registryA.getSingleMetricAsString('driftguard_alert_deliveries_total'),
      ),
    );
    // ...then the receiver stops listening altogether (connection refused), and the daemon restarts.
    await receiver.close();
    await first.stop();

    const second = alerting(config);
    // The restored state knows these alerts fire: the next breaching window notifies nothing.
    expect(await second.handle(['credit', 'fraud', 'churn'].map((model) => evaluation(model, 1)))).toEqual(
      [],
    );
    expect(
      second
        .firing()
        .map((r) => r.model)
        .sort(),
    ).toEqual(['churn', 'credit', 'fraud']);
    await second.start();
    // Two clear windows resolve credit; this is enqueued while the receiver is still gone.
    await second.handle([evaluation('credit', 2, { breaching: false })]);
    const [resolved] = await second.handle([evaluation('credit', 3, { breaching: false })]);
    expect(resolved?.status).toBe('resolved');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received).toHaveLength(0);

    receiver.mode = 'up';
    await receiver.listen(receiver.port);
    const expectedIds = [...firstNotifications.map((n) => n.id), resolved?.id];
    const bodies = await waitFor(
      () => {
        const ids = receiver.on('/hook').map((r) => (JSON.parse(r.body) as Notification).id);
        return expectedIds.every((id) => ids.includes(id as string)) ? ids : undefined;
      },
      { timeoutMs: 20_000, description: 'every notification at the receiver' },
    );
    expect(new Set(bodies).size).toBe(4);
    // Per sink, deliveries go out in the order they were produced: the resolve comes last.
    expect(bodies.at(-1)).toBe(resolved?.id);
    const listed = await waitFor(async () => {
      const rows = await second.listAlerts();
      return rows.length === 4 && rows.every((row) => row.deliveries[0]?.status === 'delivered')
        ? rows
        : undefined;
    });
    expect(listed.every((row) => (row.deliveries[0]?.attempts ?? 0) >= 1)).toBe(true);
  });

  it('a crash between send and record re-sends with the same delivery id', async () => {
    const config: AlertsConfigInput = {
      sinks: [{ type: 'webhook', name: 'hook', url: receiver.url('/hook'), secret: SECRET }],
      delivery: fastDelivery,
    };
    // The first daemon sends, then "crashes" before it can record the outcome: its fetch never returns.
    const crashing = new Alerting({
      store,
      config,
      logger,
      registry: new Registry(),
      fetch: async (url, init) => {
        await fetch(url, init);
        return new Promise<Response>(() => undefined);
      },
    });
    await crashing.handle([evaluation('credit', 0)]);
    void crashing.dispatchOnce();
    await waitFor(() => receiver.on('/hook').length === 1);

    const restarted = alerting(config);
    await restarted.start();
    await waitFor(() => receiver.on('/hook').length === 2);
    const [before, after] = receiver.on('/hook');
    expect(after?.headers['x-driftguard-delivery']).toBe(before?.headers['x-driftguard-delivery']);
    expect(after?.body).toBe(before?.body);
    expect(after?.headers['x-driftguard-signature-256']).toBe(before?.headers['x-driftguard-signature-256']);
    // The timestamped signature is made anew for each attempt, over the same body.
    expect(
      verifyWebhookSignature(
        SECRET,
        String(after?.headers['x-driftguard-signature']),
        after?.body ?? '',
        Date.now(),
      ).ok,
    ).toBe(true);
    await waitFor(async () => (await restarted.listAlerts())[0]?.deliveries[0]?.status === 'delivered');
    // Once recorded, it is not sent again.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.on('/hook')).toHaveLength(2);
  });

  it('speaks PagerDuty, Slack and Alertmanager on the wire, and gives up on a 4xx', async () => {
    receiver.statusByPath.set('/rejects', 400);
    const instance = alerting({
      externalUrl: 'http://driftguard.test',
      sinks: [
        {
          type: 'pagerduty',
          name: 'pd',
          routingKey: 'R0UTINGKEY',
          url: receiver.url('/pd'),
          changeUrl: receiver.url('/pd-change'),
        },
        { type: 'slack', name: 'slack', url: receiver.url('/slack') },
        { type: 'alertmanager', name: 'am', url: receiver.url('/am'), receiver: 'ml-team' },
        { type: 'webhook', name: 'rejects', url: receiver.url('/rejects'), secret: SECRET },
      ],
      delivery: fastDelivery,
      cooldownMs: 0,
    });
    await instance.start();
    const [fired] = await instance.handle([evaluation('credit', 0)]);
    await instance.handle([evaluation('credit', 1, { breaching: false })]);
    const [resolved] = await instance.handle([evaluation('credit', 2, { breaching: false })]);
    const event = await instance.notifyEvent({
      model: 'credit',
      kind: 'promotion',
      summary: 'v7 promoted to champion',
      details: { version: 7 },
    });

    await waitFor(
      () =>
        receiver.on('/pd').length === 2 &&
        receiver.on('/slack').length === 3 &&
        receiver.on('/am').length === 2 &&
        receiver.on('/pd-change').length === 1,
      {
        timeoutMs: 15_000,
      },
    );
    const fingerprint = fired?.alerts[0]?.fingerprint;
    const [trigger, resolve] = receiver.on('/pd').map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(trigger).toMatchObject({
      routing_key: 'R0UTINGKEY',
      event_action: 'trigger',
      dedup_key: fingerprint,
      payload: {
        severity: 'critical',
        source: 'driftguard',
        component: 'credit',
        group: 'performance',
        class: 'performance:accuracy',
        timestamp: new Date(T0).toISOString(),
      },
    });
    expect(resolve).toEqual({ routing_key: 'R0UTINGKEY', event_action: 'resolve', dedup_key: fingerprint });
    expect(JSON.parse(receiver.on('/pd-change')[0]?.body ?? '')).toMatchObject({
      routing_key: 'R0UTINGKEY',
      payload: { summary: '[credit] promotion: v7 promoted to champion' },
    });

    const slack = receiver.on('/slack').map((r) => JSON.parse(r.body) as { text: string; blocks: unknown[] });
    expect(slack.map((m) => m.text)).toEqual([
      '[FIRING:1] model credit: accuracy of credit 0.7 < 0.8',
      '[RESOLVED:1] model credit: accuracy of credit 0.7 < 0.8',
      '[promotion] model credit: v7 promoted to champion',
    ]);

    const am = receiver.on('/am').map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(am[0]).toMatchObject({
      version: '4',
      groupKey: '{}:{model="credit"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'ml-team',
      groupLabels: { model: 'credit' },
      externalURL: 'http://driftguard.test',
      alerts: [
        {
          status: 'firing',
          endsAt: '0001-01-01T00:00:00Z',
          fingerprint,
          labels: {
            alertname: 'DriftguardPerformance',
            model: 'credit',
            rule: 'performance:accuracy',
            severity: 'critical',
          },
        },
      ],
    });
    expect(am[1]).toMatchObject({
      status: 'resolved',
      alerts: [{ status: 'resolved', endsAt: new Date(resolved?.alerts[0]?.endsAtMs ?? 0).toISOString() }],
    });
    expect(event.id).toMatch(/^[0-9a-f]{32}$/);

    // The 4xx sink got each message once, was recorded dead, and is not retried.
    const rejects = await waitFor(async () => {
      const rows = await instance.listAlerts();
      const statuses = rows.map((row) => row.deliveries.find((d) => d.sink === 'rejects')?.status);
      return statuses.length === 2 && statuses.every((s) => s === 'dead') ? rows : undefined;
    });
    expect(rejects[0]?.deliveries.find((d) => d.sink === 'rejects')?.lastError).toBe(
      'sink rejects: HTTP 400: {"status":"success"}',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.on('/rejects')).toHaveLength(3);
    expect(await instance.listAlerts({ status: 'resolved' })).toHaveLength(1);
  });
});
