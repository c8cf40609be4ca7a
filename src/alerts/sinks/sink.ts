import type { SinkConfig } from '../options.js';
import type { OutboundMessage, Severity } from '../types.js';
import { severityRank } from '../types.js';

/**
 * One HTTP request a sink wants made. Built purely: every retry sends the same body, and the same
 * headers but for a signature's timestamp, which is the time of the attempt.
 */
export interface SinkRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /**
   * Checks a 2xx reply body; returns why it is not a success, or null. Slack, for one, answers
   * `ok` and anything else means the message was not posted.
   */
  readonly checkReply?: (body: string) => string | null;
}

/** A receiver of alerts. Adapters to the wire formats live beside this file. */
export interface Sink {
  readonly name: string;
  readonly type: SinkConfig['type'];
  readonly timeoutMs: number;
  /** The part of `message` this sink takes (severity filter, events on/off); null for nothing. */
  select(message: OutboundMessage): OutboundMessage | null;
  /**
   * The requests of one delivery, made in order; all must succeed. `nowMs`: the time of this
   * attempt (signed by the webhook sink, so a receiver can refuse a replayed delivery).
   */
  requests(message: OutboundMessage, deliveryId: string, nowMs: number): SinkRequest[];
}

/** The severities a sink accepts: its explicit list, else everything at or above minSeverity. */
export function severityFilter(
  config: Pick<SinkConfig, 'minSeverity' | 'severities'>,
): (severity: Severity) => boolean {
  if (config.severities !== undefined) {
    const allowed = new Set(config.severities);
    return (severity) => allowed.has(severity);
  }
  const min = severityRank(config.minSeverity);
  return (severity) => severityRank(severity) >= min;
}

/**
 * The common selection: alerts narrowed to accepted severities (nothing left, nothing sent, and
 * the group's status recomputed), events passed when the sink takes events.
 */
export function selectMessage(
  config: Pick<SinkConfig, 'minSeverity' | 'severities' | 'events'>,
  message: OutboundMessage,
  takesEvents = true,
): OutboundMessage | null {
  if (message.type === 'event') return config.events && takesEvents ? message : null;
  const accepts = severityFilter(config);
  const alerts = message.notification.alerts.filter((alert) => accepts(alert.severity));
  if (alerts.length === 0) return null;
  if (alerts.length === message.notification.alerts.length) return message;
  return {
    type: 'alert',
    notification: {
      ...message.notification,
      status: alerts.some((alert) => alert.status === 'firing') ? 'firing' : 'resolved',
      alerts,
    },
  };
}

export const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/json',
  'user-agent': 'driftguard-alerts/1',
});

/** RFC 3339 in UTC, as Alertmanager and PagerDuty take it. */
export function rfc3339(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
