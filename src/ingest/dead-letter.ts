import { formatRejection, type Rejection } from '../events/types.js';
import type { InputRecord } from './record.js';

/**
 * A dead-lettered record keeps the original key, value and headers untouched and adds headers
 * that say where it came from and why it was refused, so it can be inspected and replayed.
 */
export interface DeadLetterMessage {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, Buffer | string>;
}

export const DEAD_LETTER_HEADERS = {
  reason: 'driftguard-reason',
  code: 'driftguard-reason-code',
  path: 'driftguard-reason-path',
  topic: 'driftguard-source-topic',
  partition: 'driftguard-source-partition',
  offset: 'driftguard-source-offset',
  timestamp: 'driftguard-source-timestamp',
  rejectedAt: 'driftguard-rejected-at',
} as const;

export function deadLetterMessage(
  record: InputRecord,
  rejection: Rejection,
  nowMs: number,
): DeadLetterMessage {
  const headers: Record<string, Buffer | string> = {};
  for (const [name, value] of Object.entries(record.headers)) if (value !== undefined) headers[name] = value;
  headers[DEAD_LETTER_HEADERS.reason] = formatRejection(rejection);
  headers[DEAD_LETTER_HEADERS.code] = rejection.code;
  headers[DEAD_LETTER_HEADERS.path] = rejection.path;
  headers[DEAD_LETTER_HEADERS.topic] = record.topic;
  headers[DEAD_LETTER_HEADERS.partition] = String(record.partition);
  headers[DEAD_LETTER_HEADERS.offset] = record.offset;
  headers[DEAD_LETTER_HEADERS.timestamp] = String(record.timestampMs);
  headers[DEAD_LETTER_HEADERS.rejectedAt] = new Date(nowMs).toISOString();
  return { key: record.key, value: record.value, headers };
}

/** The port for sending dead letters; the Kafka adapter implements it. */
export interface DeadLetterSink {
  send(messages: readonly DeadLetterMessage[]): Promise<void>;
}
