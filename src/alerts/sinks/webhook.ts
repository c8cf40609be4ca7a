import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookSinkConfig } from '../options.js';
import type { OutboundMessage } from '../types.js';
import { JSON_HEADERS, selectMessage, type Sink, type SinkRequest } from './sink.js';

/**
 * Generic signed webhook. The body is the notification (or event) as JSON, and
 *  - `X-Driftguard-Timestamp: <unix seconds>`, the time of this attempt, and
 *  - `X-Driftguard-Signature: t=<same seconds>,v1=<hex HMAC-SHA256(secret, "<seconds>.<raw body>")>`
 * sign the body together with the time it was sent (as Stripe and Slack do): a receiver that
 * refuses signatures older than a few minutes cannot be fed a captured delivery again later.
 * `X-Driftguard-Delivery` is the same on every retry so receivers can drop duplicates.
 *
 * `X-Driftguard-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>` (GitHub style, no
 * timestamp) is still sent for one release so that receivers can move over; it goes away after.
 */
export const SIGNATURE_HEADER = 'x-driftguard-signature';
export const TIMESTAMP_HEADER = 'x-driftguard-timestamp';
/** @deprecated Carries no timestamp; sent for one more release. Verify SIGNATURE_HEADER. */
export const LEGACY_SIGNATURE_HEADER = 'x-driftguard-signature-256';
export const DELIVERY_HEADER = 'x-driftguard-delivery';
export const EVENT_HEADER = 'x-driftguard-event';

/** How old a signature receivers should accept by default (verifyWebhookSignature). */
export const DEFAULT_SIGNATURE_TOLERANCE_S = 300;

/** @deprecated The GitHub-style signature of the body alone (LEGACY_SIGNATURE_HEADER). */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** The `X-Driftguard-Signature` value for `body` sent at `timestampS` (unix seconds). */
export function signDelivery(secret: string, timestampS: number, body: string): string {
  const mac = createHmac('sha256', secret)
    .update(`${timestampS}.`, 'utf8')
    .update(body, 'utf8')
    .digest('hex');
  return `t=${timestampS},v1=${mac}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/**
 * What a receiver does (docs/alerts.md shows it in a few lines of Node and Python): recompute the
 * HMAC over "<t>.<raw body>", compare in constant time, and refuse a timestamp further than
 * `toleranceS` from now (a replay, or a clock far off).
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  rawBody: string,
  nowMs: number,
  toleranceS = DEFAULT_SIGNATURE_TOLERANCE_S,
): SignatureCheck {
  const parts = new Map<string, string[]>();
  for (const part of (header ?? '').split(',')) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    const key = part.slice(0, at).trim();
    parts.set(key, [...(parts.get(key) ?? []), part.slice(at + 1).trim()]);
  }
  const t = parts.get('t')?.[0];
  if (t === undefined || !/^\d{1,12}$/.test(t))
    return { ok: false, reason: 'no timestamp (t=) in the signature' };
  const timestampS = Number(t);
  if (Math.abs(nowMs / 1000 - timestampS) > toleranceS)
    return {
      ok: false,
      reason: `the signature is ${Math.round(nowMs / 1000 - timestampS)} s old; at most ${toleranceS} s are accepted`,
    };
  const expected = Buffer.from(signDelivery(secret, timestampS, rawBody).slice(`t=${timestampS},v1=`.length));
  const matches = (parts.get('v1') ?? []).some((v1) => {
    const received = Buffer.from(v1);
    return received.length === expected.length && timingSafeEqual(received, expected);
  });
  return matches ? { ok: true } : { ok: false, reason: 'the signature does not match the body' };
}

/** `alert.firing`, `alert.resolved`, or `model.<kind>` for model events. */
export function eventName(message: OutboundMessage): string {
  return message.type === 'alert' ? `alert.${message.notification.status}` : `model.${message.event.kind}`;
}

export function webhookBody(message: OutboundMessage): string {
  return JSON.stringify(message.type === 'alert' ? message.notification : message.event);
}

export function createWebhookSink(config: WebhookSinkConfig): Sink {
  return {
    name: config.name,
    type: 'webhook',
    timeoutMs: config.timeoutMs,
    select: (message) => selectMessage(config, message),
    requests(message, deliveryId, nowMs): SinkRequest[] {
      const body = webhookBody(message);
      const timestampS = Math.floor(nowMs / 1000);
      return [
        {
          url: config.url,
          headers: {
            ...config.headers,
            ...JSON_HEADERS,
            [EVENT_HEADER]: eventName(message),
            [DELIVERY_HEADER]: deliveryId,
            [TIMESTAMP_HEADER]: String(timestampS),
            [SIGNATURE_HEADER]: signDelivery(config.secret, timestampS, body),
            [LEGACY_SIGNATURE_HEADER]: signBody(config.secret, body),
          },
          body,
        },
      ];
    },
  };
}
