import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { AttemptRow, PendingDelivery } from '../../../src/alerts/alert-store.js';
import { DeliveryDispatcher, type DeliveryLog } from '../../../src/alerts/dispatcher.js';
import { createAlertMetrics } from '../../../src/alerts/metrics.js';
import { compileAlertsOptions } from '../../../src/alerts/options.js';
import type { FetchLike } from '../../../src/alerts/sinks/http-delivery.js';
import type { Sink } from '../../../src/alerts/sinks/sink.js';
import type { OutboundMessage } from '../../../src/alerts/types.js';
import { createLogger } from '../../../kernel/logger.js';
import { backoffDelayMs } from '../../../kernel/retry.js';
import { T0 } from './fixtures.js';

/**
 * The dispatcher's decisions with a plain-object store that behaves like the ClickHouse one
 * (latest attempt wins), a fake clock and a scripted receiver.
 */
class MemoryLog implements DeliveryLog {
  readonly outbox: PendingDelivery[] = [];
  readonly attempts: AttemptRow[] = [];

  add(deliveryId: string, sink: string, createdAtMs: number): void {
    const message: OutboundMessage = {
      type: 'event',
      event: {
        id: deliveryId,
        model: 'm',
        kind: 'test',
        severity: 'info',
        summary: deliveryId,
        atMs: createdAtMs,
      },
    };
    this.outbox.push({
      deliveryId,
      notificationId: deliveryId,
      sink,
      model: 'm',
      seq: this.outbox.length,
      createdAtMs,
      message: JSON.stringify(message),
      attempts: 0,
      lastStatus: 'pending',
      lastError: '',
      nextAttemptAtMs: 0,
    });
  }

  pendingDeliveries(sinceMs: number, limit: number): Promise<PendingDelivery[]> {
    const rows = this.outbox
      .filter((row) => row.createdAtMs >= sinceMs)
      .map((row) => {
        const mine = this.attempts.filter((a) => a.deliveryId === row.deliveryId);
        const last = mine.at(-1);
        return last === undefined
          ? row
          : {
              ...row,
              attempts: last.attempt,
              lastStatus: last.status,
              lastError: last.error,
              nextAttemptAtMs: last.nextAttemptAtMs,
            };
      })
      .filter((row) => row.lastStatus !== 'delivered' && row.lastStatus !== 'dead');
    return Promise.resolve(rows.slice(0, limit));
  }

  insertAttempts(rows: readonly AttemptRow[]): Promise<void> {
    this.attempts.push(...rows);
    return Promise.resolve();
  }

  statusOf(deliveryId: string): string {
    return this.attempts.filter((a) => a.deliveryId === deliveryId).at(-1)?.status ?? 'pending';
  }
}

const sink = (name: string): Sink => ({
  name,
  type: 'webhook',
  timeoutMs: 1000,
  select: (message) => message,
  requests: (message, deliveryId) => [
    { url: `http://receiver/${name}`, headers: { 'x-delivery': deliveryId }, body: JSON.stringify(message) },
  ],
});

function setup(statusFor: (url: string, body: string) => number) {
  const config = compileAlertsOptions({
    delivery: { initialDelayMs: 1000, maxDelayMs: 8000, jitter: 0, maxAgeMs: 60_000 },
  });
  const log = new MemoryLog();
  const clock = { now: T0 };
  const sent: { url: string; delivery: string }[] = [];
  const fetchImpl: FetchLike = (url, init) => {
    const headers = init.headers as Record<string, string>;
    sent.push({ url, delivery: headers['x-delivery'] ?? '' });
    return Promise.resolve(
      new Response('', { status: statusFor(url, typeof init.body === 'string' ? init.body : '') }),
    );
  };
  const registry = new Registry();
  const dispatcher = new DeliveryDispatcher({
    store: log,
    sinks: [sink('a'), sink('b')],
    delivery: config.delivery,
    logger: createLogger('silent'),
    metrics: createAlertMetrics(registry),
    now: () => clock.now,
    fetch: fetchImpl,
  });
  return { log, clock, sent, dispatcher, registry, config };
}

describe('delivery dispatcher', () => {
  it('delivers in order and records one attempt each', async () => {
    const { log, dispatcher, sent } = setup(() => 200);
    log.add('d1', 'a', T0);
    log.add('d2', 'a', T0);
    expect(await dispatcher.runOnce()).toEqual({ delivered: 2, failed: 0, dead: 0, waiting: 0 });
    expect(sent.map((s) => s.delivery)).toEqual(['d1', 'd2']);
    expect(await dispatcher.runOnce()).toEqual({ delivered: 0, failed: 0, dead: 0, waiting: 0 });
  });

  it('schedules retries at last attempt + backoffDelayMs(attempt) and holds the sink queue behind them', async () => {
    let down = true;
    const { log, dispatcher, sent, clock, config } = setup(() => (down ? 503 : 200));
    log.add('d1', 'a', T0);
    log.add('d2', 'a', T0);
    expect(await dispatcher.runOnce()).toEqual({ delivered: 0, failed: 1, dead: 0, waiting: 1 });
    const first = log.attempts[0];
    const delay1 = backoffDelayMs(1, { ...config.delivery, random: Math.random });
    expect(first).toMatchObject({
      deliveryId: 'd1',
      attempt: 1,
      status: 'failed',
      httpStatus: 503,
      nextAttemptAtMs: T0 + delay1,
    });

    // Not due yet: nothing is sent, d2 waits behind d1.
    clock.now = T0 + delay1 - 1;
    expect(await dispatcher.runOnce()).toEqual({ delivered: 0, failed: 0, dead: 0, waiting: 2 });
    clock.now = T0 + delay1;
    await dispatcher.runOnce();
    expect(log.attempts[1]).toMatchObject({
      attempt: 2,
      nextAttemptAtMs: clock.now + backoffDelayMs(2, { ...config.delivery, random: Math.random }),
    });

    // The delay grows and is capped at maxDelayMs.
    for (let i = 0; i < 5; i++) {
      clock.now = log.attempts.at(-1)?.nextAttemptAtMs ?? 0;
      await dispatcher.runOnce();
    }
    const delays = log.attempts.map((a) => a.nextAttemptAtMs - a.atMs);
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000, 8000, 8000]);

    down = false;
    clock.now = log.attempts.at(-1)?.nextAttemptAtMs ?? 0;
    expect(await dispatcher.runOnce()).toEqual({ delivered: 2, failed: 0, dead: 0, waiting: 0 });
    expect(sent.map((s) => s.delivery).slice(-2)).toEqual(['d1', 'd2']);
    // d1 was sent 8 times (7 failures, 1 success), d2 once, after it.
    expect(sent.filter((s) => s.delivery === 'd1')).toHaveLength(8);
  });

  it('a failing sink does not hold back another sink', async () => {
    const { log, dispatcher } = setup((url) => (url.endsWith('/a') ? 500 : 202));
    log.add('a1', 'a', T0);
    log.add('b1', 'b', T0);
    expect(await dispatcher.runOnce()).toEqual({ delivered: 1, failed: 1, dead: 0, waiting: 0 });
    expect(log.statusOf('b1')).toBe('delivered');
  });

  it('records a permanent refusal as dead and moves on', async () => {
    const { log, dispatcher, registry } = setup((_url, body) => (body.includes('"id":"bad"') ? 400 : 200));
    log.add('bad', 'a', T0);
    log.add('good', 'a', T0);
    expect(await dispatcher.runOnce()).toEqual({ delivered: 1, failed: 0, dead: 1, waiting: 0 });
    expect(log.statusOf('bad')).toBe('dead');
    const text = await registry.metrics();
    expect(text).toContain('driftguard_alert_deliveries_total{sink="a",result="dead"} 1');
    expect(text).toContain('driftguard_alert_deliveries_total{sink="a",result="delivered"} 1');
  });

  it('records a row it cannot parse as dead instead of blocking the queue', async () => {
    const { log, dispatcher } = setup(() => 200);
    log.add('broken', 'a', T0);
    log.add('fine', 'a', T0);
    const broken = log.outbox[0];
    if (broken !== undefined) broken.message = '{not json';
    expect(await dispatcher.runOnce()).toEqual({ delivered: 1, failed: 0, dead: 1, waiting: 0 });
    expect(log.attempts[0]?.error).toMatch(/cannot build the request/);
  });

  it('gives up on deliveries older than maxAgeMs', async () => {
    const { log, dispatcher, clock, sent } = setup(() => 503);
    log.add('old', 'a', T0);
    await dispatcher.runOnce();
    clock.now = T0 + 60_001;
    expect(await dispatcher.runOnce()).toEqual({ delivered: 0, failed: 0, dead: 1, waiting: 0 });
    expect(log.attempts.at(-1)).toMatchObject({
      status: 'dead',
      error: expect.stringMatching(/given up after 1 attempt/) as string,
    });
    expect(sent).toHaveLength(1);
  });

  it('reports pending deliveries per sink', async () => {
    const { log, dispatcher, registry } = setup(() => 503);
    log.add('a1', 'a', T0);
    log.add('a2', 'a', T0);
    await dispatcher.runOnce();
    const text = await registry.metrics();
    expect(text).toContain('driftguard_alert_delivery_pending{sink="a"} 2');
    expect(text).toContain('driftguard_alert_delivery_pending{sink="b"} 0');
  });
});
