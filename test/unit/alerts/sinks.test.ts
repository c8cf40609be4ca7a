import { createHmac, timingSafeEqual } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compileAlertsOptions } from '../../../src/alerts/options.js';
import { applyEvaluations, emptyPolicyState } from '../../../src/alerts/policy.js';
import { ZERO_TIME, alertmanagerPayload } from '../../../src/alerts/sinks/alertmanager.js';
import { createSinks } from '../../../src/alerts/sinks/create-sinks.js';
import { classifyStatus, deliverRequests, type FetchLike } from '../../../src/alerts/sinks/http-delivery.js';
import { pagerdutyChangeEvent, pagerdutyEvent } from '../../../src/alerts/sinks/pagerduty.js';
import { escapeMrkdwn } from '../../../src/alerts/sinks/slack.js';
import { verifyWebhookSignature } from '../../../src/alerts/sinks/webhook.js';
import { selectMessage, type Sink } from '../../../src/alerts/sinks/sink.js';
import type { ModelEvent, Notification, OutboundMessage } from '../../../src/alerts/types.js';
import { T0, WINDOW_MS, evaluation, policyOptions } from './fixtures.js';

const SECRET = 'a-very-secret-hmac-key';
const NOW_MS = T0 + 5_000;
const EXTERNAL = 'https://driftguard.example.com';

const config = compileAlertsOptions({
  externalUrl: `${EXTERNAL}/`,
  sinks: [
    {
      type: 'webhook',
      name: 'hook',
      url: 'https://hooks.example.com/in',
      secret: SECRET,
      headers: { 'x-team': 'ml' },
    },
    {
      type: 'slack',
      name: 'slack',
      url: 'https://hooks.slack.com/services/T/B/XYZ',
      minSeverity: 'critical',
    },
    { type: 'pagerduty', name: 'pd', routingKey: 'R0UTING' },
    { type: 'alertmanager', name: 'am', url: 'https://am-bridge.example.com/hook', severities: ['warning'] },
  ],
});
const sinks = new Map(createSinks(config).map((s) => [s.name, s] as const));
const sink = (name: string): Sink => {
  const found = sinks.get(name);
  if (found === undefined) throw new Error(`no sink ${name}`);
  return found;
};

/** A notification with a critical firing alert and a warning resolving alert of model credit. */
function mixedNotification(): Notification {
  let state = emptyPolicyState();
  const cycle = (n: number, driftBreaching: boolean, accuracyBreaching: boolean) => {
    const result = applyEvaluations(
      state,
      [
        evaluation(n, { breaching: driftBreaching }),
        evaluation(n, {
          rule: 'performance:accuracy',
          severity: 'critical',
          breaching: accuracyBreaching,
          value: 0.71,
          threshold: 0.8,
          summary: 'accuracy 0.71 < 0.8',
          details: { support: 412 },
        }),
      ],
      evaluation(n).evaluatedAtMs,
      policyOptions,
    );
    state = result.state;
    return result.notifications;
  };
  cycle(0, true, false);
  cycle(1, true, false); // drift fires
  cycle(2, false, false);
  const [notification] = cycle(3, false, true); // drift resolves, accuracy fires
  if (notification === undefined) throw new Error('fixture produced no notification');
  return notification;
}

const alertMessage = (): OutboundMessage => ({ type: 'alert', notification: mixedNotification() });

describe('sink selection', () => {
  it('narrows alerts to the severities a sink takes and recomputes the group status', () => {
    const message = alertMessage();
    const onlyWarning = selectMessage(
      { minSeverity: 'warning', severities: ['warning'], events: true },
      message,
    );
    expect(onlyWarning?.type === 'alert' && onlyWarning.notification.status).toBe('resolved');
    expect(onlyWarning?.type === 'alert' && onlyWarning.notification.alerts.map((a) => a.rule)).toEqual([
      'drift:amount:ks',
    ]);
    expect(selectMessage({ minSeverity: 'critical', events: true }, message)).toMatchObject({
      notification: { status: 'firing', alerts: [{ rule: 'performance:accuracy' }] },
    });
    expect(selectMessage({ minSeverity: 'warning', events: true }, message)).toBe(message);
  });

  it('passes events only to sinks that take them', () => {
    const event: OutboundMessage = {
      type: 'event',
      event: { id: 'e', model: 'credit', kind: 'promotion', severity: 'info', summary: 's', atMs: T0 },
    };
    expect(sink('hook').select(event)).toBe(event);
    expect(sink('am').select(event)).toBeNull();
    expect(selectMessage({ minSeverity: 'warning', events: false }, event)).toBeNull();
  });
});

describe('generic webhook', () => {
  it('signs the raw body with HMAC-SHA256 and carries delivery id and event name', () => {
    const message = alertMessage();
    const [request] = sink('hook').requests(message, 'delivery-1', NOW_MS);
    expect(request?.url).toBe('https://hooks.example.com/in');
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-driftguard-delivery': 'delivery-1',
      'x-driftguard-event': 'alert.firing',
      'x-team': 'ml',
    });
    const body = request?.body ?? '';
    expect(JSON.parse(body)).toEqual(message.type === 'alert' ? message.notification : null);
    // The legacy header, kept for one release: HMAC of the body alone.
    const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`);
    const received = Buffer.from(request?.headers['x-driftguard-signature-256'] ?? '');
    expect(received.length).toBe(expected.length);
    expect(timingSafeEqual(received, expected)).toBe(true);
  });

  it('signs the time of sending with the body, so a receiver can refuse a replay', () => {
    const [request] = sink('hook').requests(alertMessage(), 'delivery-1', NOW_MS);
    const body = request?.body ?? '';
    const header = request?.headers['x-driftguard-signature'];
    const t = Math.floor(NOW_MS / 1000);
    expect(request?.headers['x-driftguard-timestamp']).toBe(String(t));
    // What a receiver does, by hand: HMAC over "<t>.<raw body>".
    const mac = createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex');
    expect(header).toBe(`t=${t},v1=${mac}`);
    expect(verifyWebhookSignature(SECRET, header, body, NOW_MS + 60_000)).toEqual({ ok: true });
    // Replayed ten minutes later: refused, though the HMAC still matches.
    expect(verifyWebhookSignature(SECRET, header, body, NOW_MS + 600_000)).toMatchObject({ ok: false });
    expect(verifyWebhookSignature(SECRET, header, `${body} `, NOW_MS)).toMatchObject({ ok: false });
    expect(verifyWebhookSignature('another-secret-0123456789', header, body, NOW_MS)).toMatchObject({
      ok: false,
    });
    expect(verifyWebhookSignature(SECRET, undefined, body, NOW_MS)).toMatchObject({ ok: false });
    // A retry a minute later is signed anew with its own time; the body is the same bytes.
    const [retry] = sink('hook').requests(alertMessage(), 'delivery-1', NOW_MS + 60_000);
    expect(retry?.body).toBe(body);
    expect(retry?.headers['x-driftguard-timestamp']).toBe(String(t + 60));
  });

  it('builds byte-identical requests for a retry', () => {
    const message = alertMessage();
    expect(sink('hook').requests(message, 'd', NOW_MS)).toEqual(sink('hook').requests(message, 'd', NOW_MS));
  });

  it('sends model events with a model.<kind> event name', () => {
    const event: ModelEvent = {
      id: 'e1',
      model: 'credit',
      kind: 'promotion',
      severity: 'info',
      summary: 'v7 promoted',
      atMs: T0,
    };
    const [request] = sink('hook').requests({ type: 'event', event }, 'd', NOW_MS);
    expect(request?.headers['x-driftguard-event']).toBe('model.promotion');
    expect(JSON.parse(request?.body ?? '')).toEqual(event);
  });
});

describe('Slack', () => {
  it('posts {text, blocks} with one section per alert and escapes mrkdwn', () => {
    const message = selectMessage({ minSeverity: 'warning', events: true }, alertMessage());
    if (message === null) throw new Error('unreachable');
    const [request] = sink('slack').requests(message, 'd', NOW_MS);
    const payload = JSON.parse(request?.body ?? '') as {
      text: string;
      blocks: { type: string; text?: { text: string } }[];
    };
    expect(Object.keys(payload).sort()).toEqual(['blocks', 'text']);
    expect(payload.text).toBe('[FIRING:1 RESOLVED:1] model credit: amount drifted (KS 0.31 > 0.2) (+1 more)');
    expect(payload.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context']);
    expect(payload.blocks[2]?.text?.text).toContain('*CRITICAL* `performance:accuracy`');
    expect(payload.blocks[2]?.text?.text).toContain('accuracy 0.71 &lt; 0.8');
    expect(escapeMrkdwn('a<b>&c')).toBe('a&lt;b&gt;&amp;c');
  });

  it('only an "ok" reply counts as posted', () => {
    const [request] = sink('slack').requests(alertMessage(), 'd', NOW_MS);
    expect(request?.checkReply?.('ok')).toBeNull();
    expect(request?.checkReply?.('invalid_blocks')).toMatch(/did not answer "ok"/);
  });
});

describe('PagerDuty Events v2', () => {
  it('triggers with the fingerprint as dedup key and the documented payload fields', () => {
    const notification = mixedNotification();
    const firing = notification.alerts.find((a) => a.status === 'firing');
    if (firing === undefined) throw new Error('unreachable');
    expect(
      pagerdutyEvent(firing, 'credit', { routingKey: 'R0UTING', source: 'driftguard' }, EXTERNAL),
    ).toEqual({
      routing_key: 'R0UTING',
      event_action: 'trigger',
      dedup_key: firing.fingerprint,
      payload: {
        summary: '[credit] accuracy 0.71 < 0.8',
        source: 'driftguard',
        severity: 'critical',
        timestamp: new Date(T0 + 3 * WINDOW_MS).toISOString(),
        component: 'credit',
        group: 'performance',
        class: 'performance:accuracy',
        custom_details: {
          model: 'credit',
          rule: 'performance:accuracy',
          value: 0.71,
          threshold: 0.8,
          window_start: new Date(T0 + 3 * WINDOW_MS).toISOString(),
          window_end: new Date(T0 + 4 * WINDOW_MS).toISOString(),
          alerts_url: `${EXTERNAL}/v1/alerts?model=credit`,
          details: { support: 412 },
        },
      },
    });
  });

  it('resolves with only routing_key, event_action and dedup_key, one event per alert', () => {
    const notification = mixedNotification();
    const requests = sink('pd').requests({ type: 'alert', notification }, 'd', NOW_MS);
    expect(requests.map((r) => r.url)).toEqual([
      'https://events.pagerduty.com/v2/enqueue',
      'https://events.pagerduty.com/v2/enqueue',
    ]);
    const bodies = requests.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    const resolve = bodies.find((b) => b['event_action'] === 'resolve');
    const drift = notification.alerts.find((a) => a.rule === 'drift:amount:ks');
    expect(resolve).toEqual({
      routing_key: 'R0UTING',
      event_action: 'resolve',
      dedup_key: drift?.fingerprint,
    });
  });

  it('maps warning to warning', () => {
    const notification = mixedNotification();
    const drift = notification.alerts.find((a) => a.rule === 'drift:amount:ks');
    if (drift === undefined) throw new Error('unreachable');
    const trigger = pagerdutyEvent(
      { ...drift, status: 'firing' },
      'credit',
      { routingKey: 'k', source: 's' },
      EXTERNAL,
    );
    expect('payload' in trigger && trigger.payload.severity).toBe('warning');
  });

  it('sends model events as Change Events', () => {
    const event: ModelEvent = {
      id: 'e',
      model: 'credit',
      kind: 'promotion',
      severity: 'info',
      summary: 'v7 promoted',
      details: { version: 7 },
      atMs: T0,
    };
    const [request] = sink('pd').requests({ type: 'event', event }, 'd', NOW_MS);
    expect(request?.url).toBe('https://events.pagerduty.com/v2/change/enqueue');
    expect(JSON.parse(request?.body ?? '')).toEqual(
      pagerdutyChangeEvent(event, { routingKey: 'R0UTING', source: 'driftguard' }),
    );
    expect(JSON.parse(request?.body ?? '')).toEqual({
      routing_key: 'R0UTING',
      payload: {
        summary: '[credit] promotion: v7 promoted',
        timestamp: new Date(T0).toISOString(),
        source: 'driftguard',
        custom_details: { model: 'credit', kind: 'promotion', version: 7 },
      },
    });
  });
});

describe('Alertmanager webhook v4', () => {
  it('has exactly the fields of the format, with the zero endsAt while firing', () => {
    const notification = mixedNotification();
    const payload = alertmanagerPayload(notification, 'am', EXTERNAL);
    expect(Object.keys(payload).sort()).toEqual(
      [
        'alerts',
        'commonAnnotations',
        'commonLabels',
        'externalURL',
        'groupKey',
        'groupLabels',
        'receiver',
        'status',
        'truncatedAlerts',
        'version',
      ].sort(),
    );
    expect(payload).toMatchObject({
      version: '4',
      groupKey: '{}:{model="credit"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'am',
      groupLabels: { model: 'credit' },
      commonLabels: { model: 'credit' },
      externalURL: EXTERNAL,
    });
    const firing = payload.alerts.find((a) => a.status === 'firing');
    const resolved = payload.alerts.find((a) => a.status === 'resolved');
    expect(firing).toMatchObject({
      labels: {
        alertname: 'DriftguardPerformance',
        model: 'credit',
        rule: 'performance:accuracy',
        severity: 'critical',
      },
      annotations: { summary: 'accuracy 0.71 < 0.8' },
      startsAt: new Date(T0 + 3 * WINDOW_MS).toISOString(),
      endsAt: ZERO_TIME,
      generatorURL: `${EXTERNAL}/v1/alerts?model=credit`,
    });
    expect(Object.keys(firing ?? {}).sort()).toEqual([
      'annotations',
      'endsAt',
      'fingerprint',
      'generatorURL',
      'labels',
      'startsAt',
      'status',
    ]);
    expect(firing?.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(resolved?.endsAt).toBe(new Date(evaluation(3).evaluatedAtMs).toISOString());
    expect(resolved?.startsAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });

  it('sends the configured receiver name and only the severities asked for', () => {
    const selected = sink('am').select(alertMessage());
    if (selected === null) throw new Error('unreachable');
    const [request] = sink('am').requests(selected, 'd', NOW_MS);
    const body = JSON.parse(request?.body ?? '') as { receiver: string; status: string; alerts: unknown[] };
    expect(body.receiver).toBe('am');
    expect(body.status).toBe('resolved');
    expect(body.alerts).toHaveLength(1);
  });
});

describe('delivery outcome classification', () => {
  it('classifies statuses: 2xx delivered, 408/429/5xx retriable, other 4xx permanent', () => {
    expect([200, 202, 204].map(classifyStatus)).toEqual(['delivered', 'delivered', 'delivered']);
    expect([408, 429, 500, 502, 503, 504].map(classifyStatus)).toEqual(Array(6).fill('retriable'));
    expect([400, 401, 403, 404, 410, 413, 422, 301].map(classifyStatus)).toEqual(Array(8).fill('permanent'));
  });

  const request = { url: 'https://hooks.slack.com/services/SECRET', headers: {}, body: '{}' };
  const reply =
    (status: number, body = ''): FetchLike =>
    () =>
      Promise.resolve(new Response(body, { status }));

  it('reports the status and a reply excerpt, never the URL', async () => {
    const outcome = await deliverRequests(
      { name: 's', timeoutMs: 1000 },
      [request],
      reply(404, 'no_service'),
    );
    expect(outcome).toEqual({ result: 'permanent', httpStatus: 404, error: 'sink s: HTTP 404: no_service' });
    expect(await deliverRequests({ name: 's', timeoutMs: 1000 }, [request], reply(503))).toMatchObject({
      result: 'retriable',
      httpStatus: 503,
    });
    expect(await deliverRequests({ name: 's', timeoutMs: 1000 }, [request], reply(202))).toEqual({
      result: 'delivered',
      httpStatus: 202,
    });
  });

  it('treats network errors and timeouts as retriable', async () => {
    const refused: FetchLike = () => {
      const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
      return Promise.reject(new TypeError('fetch failed', { cause }));
    };
    const outcome = await deliverRequests({ name: 's', timeoutMs: 1000 }, [request], refused);
    expect(outcome).toEqual({
      result: 'retriable',
      httpStatus: null,
      error: 'sink s: fetch failed: ECONNREFUSED',
    });
    const timeout: FetchLike = () => Promise.reject(new DOMException('timed out', 'TimeoutError'));
    expect(await deliverRequests({ name: 's', timeoutMs: 1000 }, [request], timeout)).toMatchObject({
      result: 'retriable',
      error: 'sink s: timed out',
    });
    const leaky: FetchLike = () => Promise.reject(new Error('bad https://hooks.slack.com/services/SECRET'));
    expect(
      JSON.stringify(await deliverRequests({ name: 's', timeoutMs: 1000 }, [request], leaky)),
    ).not.toContain('SECRET');
  });

  it('stops at the first failing request of a multi-request delivery', async () => {
    let calls = 0;
    const second503: FetchLike = () =>
      Promise.resolve(new Response('', { status: ++calls === 2 ? 503 : 202 }));
    const outcome = await deliverRequests(
      { name: 'pd', timeoutMs: 1000 },
      [request, request, request],
      second503,
    );
    expect(outcome).toMatchObject({ result: 'retriable', error: 'sink pd (request 2 of 3): HTTP 503' });
    expect(calls).toBe(2);
  });

  it('a 2xx whose reply check fails is permanent', async () => {
    const withCheck = { ...request, checkReply: (body: string) => (body === 'ok' ? null : 'not ok') };
    expect(
      await deliverRequests({ name: 's', timeoutMs: 1000 }, [withCheck], reply(200, 'ok')),
    ).toMatchObject({ result: 'delivered' });
    expect(
      await deliverRequests({ name: 's', timeoutMs: 1000 }, [withCheck], reply(200, 'nope')),
    ).toMatchObject({ result: 'permanent' });
  });
});

describe('alerts options', () => {
  it('fills documented defaults', () => {
    const compiled = compileAlertsOptions({});
    expect(compiled.policy).toEqual({
      forWindows: { warning: 2, critical: 1 },
      resolveAfterWindows: 2,
      cooldownMs: 1_800_000,
      staleAfterMs: 86_400_000,
    });
    expect(compiled.externalUrl).toBe('http://127.0.0.1:8080');
    expect(compiled.sinks).toEqual([]);
  });

  it('refuses duplicate sink names and a backoff that starts above its cap', () => {
    const hook = { type: 'webhook' as const, name: 'x', url: 'https://a.example/h', secret: SECRET };
    expect(() => compileAlertsOptions({ sinks: [hook, hook] })).toThrow(/used twice/);
    expect(() => compileAlertsOptions({ delivery: { initialDelayMs: 5000, maxDelayMs: 1000 } })).toThrow(
      /above alerts.delivery.maxDelayMs/,
    );
    expect(() => compileAlertsOptions({ sinks: [{ ...hook, secret: 'short' }] })).toThrow(/16 characters/);
  });
});
