import type { PagerdutySinkConfig } from '../options.js';
import { generatorUrl, ruleCategory } from '../policy.js';
import type { AlertRecord, ModelEvent } from '../types.js';
import { JSON_HEADERS, rfc3339, selectMessage, truncate, type Sink, type SinkRequest } from './sink.js';

/**
 * PagerDuty Events API v2: one event per alert, `dedup_key` = the alert's fingerprint, so a
 * repeated trigger updates the same incident and a resolve closes it. Model events become
 * Change Events (deploys and promotions are what PagerDuty's change feed is for).
 */

/** PagerDuty caps `payload.summary` at 1024 characters. */
const SUMMARY_MAX = 1024;

export interface PagerdutyTrigger {
  routing_key: string;
  event_action: 'trigger';
  dedup_key: string;
  payload: {
    summary: string;
    source: string;
    severity: 'critical' | 'error' | 'warning' | 'info';
    timestamp: string;
    component: string;
    group: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
}

export interface PagerdutyResolve {
  routing_key: string;
  event_action: 'resolve';
  dedup_key: string;
}

export function pagerdutyEvent(
  alert: AlertRecord,
  model: string,
  config: Pick<PagerdutySinkConfig, 'routingKey' | 'source'>,
  externalUrl: string,
): PagerdutyTrigger | PagerdutyResolve {
  if (alert.status === 'resolved') {
    return { routing_key: config.routingKey, event_action: 'resolve', dedup_key: alert.fingerprint };
  }
  return {
    routing_key: config.routingKey,
    event_action: 'trigger',
    dedup_key: alert.fingerprint,
    payload: {
      summary: truncate(`[${model}] ${alert.summary}`, SUMMARY_MAX),
      source: config.source,
      // Our two severities exist in PagerDuty under the same names.
      severity: alert.severity,
      timestamp: rfc3339(alert.startsAtMs),
      component: model,
      group: ruleCategory(alert.rule),
      class: alert.rule,
      custom_details: {
        model,
        rule: alert.rule,
        value: alert.value,
        threshold: alert.threshold,
        window_start: alert.annotations['window_start'],
        window_end: alert.annotations['window_end'],
        alerts_url: generatorUrl(externalUrl, model),
        ...(alert.details === undefined ? {} : { details: alert.details }),
      },
    },
  };
}

export function pagerdutyChangeEvent(
  event: ModelEvent,
  config: Pick<PagerdutySinkConfig, 'routingKey' | 'source'>,
) {
  return {
    routing_key: config.routingKey,
    payload: {
      summary: truncate(`[${event.model}] ${event.kind}: ${event.summary}`, SUMMARY_MAX),
      timestamp: rfc3339(event.atMs),
      source: config.source,
      custom_details: { model: event.model, kind: event.kind, ...(event.details ?? {}) },
    },
  };
}

export function createPagerdutySink(config: PagerdutySinkConfig, externalUrl: string): Sink {
  return {
    name: config.name,
    type: 'pagerduty',
    timeoutMs: config.timeoutMs,
    select: (message) => selectMessage(config, message),
    requests(message): SinkRequest[] {
      if (message.type === 'event') {
        return [
          {
            url: config.changeUrl,
            headers: JSON_HEADERS,
            body: JSON.stringify(pagerdutyChangeEvent(message.event, config)),
          },
        ];
      }
      const { notification } = message;
      return notification.alerts.map((alert) => ({
        url: config.url,
        headers: JSON_HEADERS,
        body: JSON.stringify(pagerdutyEvent(alert, notification.model, config, externalUrl)),
      }));
    },
  };
}
