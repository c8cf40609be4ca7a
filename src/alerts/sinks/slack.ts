import type { SlackSinkConfig } from '../options.js';
import type { AlertRecord, ModelEvent, Notification } from '../types.js';
import { JSON_HEADERS, rfc3339, selectMessage, truncate, type Sink } from './sink.js';

/**
 * Slack incoming webhook: `{text, blocks}`. `text` is the notification fallback (and what
 * screen readers and push notifications show); blocks carry one section per alert. Slack
 * answers `ok`; anything else (even with a 2xx) means the message was not posted.
 */

/** Slack allows 50 blocks per message; keep room for the header and the footer. */
const MAX_ALERT_BLOCKS = 45;
/** Slack's limits: 150 characters in a header, 3000 in a section. */
const HEADER_MAX = 150;
const SECTION_MAX = 3000;

/** mrkdwn control characters, escaped as Slack documents. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

export function slackAlertMessage(notification: Notification, externalUrl: string): SlackMessage {
  const firing = notification.alerts.filter((a) => a.status === 'firing').length;
  const resolved = notification.alerts.length - firing;
  const counts = [firing > 0 ? `FIRING:${firing}` : '', resolved > 0 ? `RESOLVED:${resolved}` : '']
    .filter(Boolean)
    .join(' ');
  const title = `[${counts}] model ${notification.model}`;
  const first = notification.alerts[0];
  const more = notification.alerts.length > 1 ? ` (+${notification.alerts.length - 1} more)` : '';
  const text = `${title}: ${first?.summary ?? ''}${more}`;
  const shown = notification.alerts.slice(0, MAX_ALERT_BLOCKS);
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(title, HEADER_MAX) } },
    ...shown.map((alert) => ({
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(alertLines(alert), SECTION_MAX) },
    })),
  ];
  const hidden = notification.alerts.length - shown.length;
  const footer = [
    `<${externalUrl}/v1/alerts?model=${encodeURIComponent(notification.model)}|driftguard alerts>`,
  ];
  if (hidden > 0) footer.unshift(`${hidden} more not shown`);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: footer.join(' · ') }] });
  return { text, blocks };
}

function alertLines(alert: AlertRecord): string {
  const head = `*${alert.status === 'firing' ? alert.severity.toUpperCase() : 'RESOLVED'}* \`${escapeMrkdwn(alert.rule)}\``;
  const measure =
    alert.value === null
      ? ''
      : `value ${alert.value}${alert.threshold === null ? '' : ` (threshold ${alert.threshold})`} · `;
  const when =
    alert.status === 'firing'
      ? `since ${rfc3339(alert.startsAtMs)}`
      : `resolved ${rfc3339(alert.endsAtMs ?? alert.startsAtMs)}`;
  return `${head}\n${escapeMrkdwn(alert.summary)}\n${measure}${when}`;
}

export function slackEventMessage(event: ModelEvent): SlackMessage {
  const title = `[${event.kind}] model ${event.model}`;
  return {
    text: `${title}: ${event.summary}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(title, HEADER_MAX) } },
      { type: 'section', text: { type: 'mrkdwn', text: truncate(escapeMrkdwn(event.summary), SECTION_MAX) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: rfc3339(event.atMs) }] },
    ],
  };
}

export function createSlackSink(config: SlackSinkConfig, externalUrl: string): Sink {
  return {
    name: config.name,
    type: 'slack',
    timeoutMs: config.timeoutMs,
    select: (message) => selectMessage(config, message),
    requests(message) {
      const payload =
        message.type === 'alert'
          ? slackAlertMessage(message.notification, externalUrl)
          : slackEventMessage(message.event);
      return [
        {
          url: config.url,
          headers: JSON_HEADERS,
          body: JSON.stringify(payload),
          checkReply: (body) => (body.trim() === 'ok' ? null : `Slack did not answer "ok"`),
        },
      ];
    },
  };
}
