import { createHmac } from 'node:crypto';
import type { WebhookSinkConfig } from '../options.js';
import type { OutboundMessage } from '../types.js';
import { JSON_HEADERS, selectMessage, type Sink, type SinkRequest } from './sink.js';

/**
 * Generic signed webhook, GitHub style: the body is the notification (or event) as JSON,
 * `X-Driftguard-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`, and
 * `X-Driftguard-Delivery` is the same on every retry so receivers can drop duplicates.
 */
export const SIGNATURE_HEADER = 'x-driftguard-signature-256';
export const DELIVERY_HEADER = 'x-driftguard-delivery';
export const EVENT_HEADER = 'x-driftguard-event';

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
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
    requests(message, deliveryId): SinkRequest[] {
      const body = webhookBody(message);
      return [
        {
          url: config.url,
          headers: {
            ...config.headers,
            ...JSON_HEADERS,
            [EVENT_HEADER]: eventName(message),
            [DELIVERY_HEADER]: deliveryId,
            [SIGNATURE_HEADER]: signBody(config.secret, body),
          },
          body,
        },
      ];
    },
  };
}
