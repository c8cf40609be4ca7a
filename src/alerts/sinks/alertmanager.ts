import type { AlertmanagerSinkConfig } from '../options.js';
import { generatorUrl } from '../policy.js';
import type { AlertStatus, Notification } from '../types.js';
import { JSON_HEADERS, rfc3339, selectMessage, type Sink } from './sink.js';

/**
 * Alertmanager's webhook payload (version 4), so receivers written for Alertmanager (chat
 * bridges, ticketing hooks) take driftguard's alerts unchanged. Model events are not alerts
 * and are not sent here.
 */

/** Alertmanager's zero time: what `endsAt` says while an alert fires. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface AlertmanagerPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: AlertStatus;
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: {
    status: AlertStatus;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
    endsAt: string;
    generatorURL: string;
    fingerprint: string;
  }[];
}

/** The key/value pairs every map shares (Alertmanager's commonLabels/commonAnnotations). */
function common(maps: readonly Record<string, string>[]): Record<string, string> {
  const [first, ...rest] = maps;
  if (first === undefined) return {};
  return Object.fromEntries(
    Object.entries(first).filter(([key, value]) => rest.every((map) => map[key] === value)),
  );
}

export function alertmanagerPayload(
  notification: Notification,
  receiver: string,
  externalUrl: string,
): AlertmanagerPayload {
  return {
    version: '4',
    groupKey: notification.groupKey,
    truncatedAlerts: 0,
    status: notification.status,
    receiver,
    groupLabels: { model: notification.model },
    commonLabels: common(notification.alerts.map((a) => a.labels)),
    commonAnnotations: common(notification.alerts.map((a) => a.annotations)),
    externalURL: externalUrl,
    alerts: notification.alerts.map((alert) => ({
      status: alert.status,
      labels: alert.labels,
      annotations: alert.annotations,
      startsAt: rfc3339(alert.startsAtMs),
      endsAt:
        alert.status === 'resolved' && alert.endsAtMs !== undefined ? rfc3339(alert.endsAtMs) : ZERO_TIME,
      generatorURL: generatorUrl(externalUrl, notification.model),
      fingerprint: alert.fingerprint,
    })),
  };
}

export function createAlertmanagerSink(config: AlertmanagerSinkConfig, externalUrl: string): Sink {
  const headers: Record<string, string> = { ...JSON_HEADERS };
  if (config.bearerToken !== undefined) headers['authorization'] = `Bearer ${config.bearerToken}`;
  return {
    name: config.name,
    type: 'alertmanager',
    timeoutMs: config.timeoutMs,
    select: (message) => selectMessage(config, message, false),
    requests(message) {
      // select() never lets events through, so only alerts arrive here.
      if (message.type !== 'alert') return [];
      const payload = alertmanagerPayload(message.notification, config.receiver ?? config.name, externalUrl);
      return [{ url: config.url, headers, body: JSON.stringify(payload) }];
    },
  };
}
