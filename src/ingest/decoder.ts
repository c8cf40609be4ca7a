import type { OutcomeEvent, PredictionEvent, Rejection } from '../events/types.js';
import type { InputRecord, RecordRef } from './record.js';

/**
 * The port between Kafka records and driftguard events. A decoder turns one record into zero or
 * more events, a rejection, or "held" (kept in memory waiting for a partner record, e.g. a
 * CloudEvents request waiting for its response).
 *
 * At-least-once rests on one rule: a record's offset is committed only once everything it
 * produced is stored, or it was dead-lettered. Held records therefore pin their partition's
 * commit point until they are released (paired into an output) or expired (rejected).
 */
export interface DecodeOutput {
  readonly predictions: readonly PredictionEvent[];
  readonly outcomes: readonly OutcomeEvent[];
  /** Set when the record itself is invalid: it goes to the dead-letter topic with this reason. */
  readonly rejection?: Rejection;
  /** The record is kept by the decoder; its offset must not be committed yet. */
  readonly held?: boolean;
  /** Earlier held records completed by this one: committable once this output is stored. */
  readonly released?: readonly RecordRef[];
}

export interface ExpiredRecord {
  readonly record: InputRecord;
  readonly rejection: Rejection;
}

export interface RecordDecoder {
  decode(record: InputRecord, nowMs: number): DecodeOutput;
  /**
   * The kind of native event `record` is when nothing but its body decides (no envelope headers,
   * no Seldon topic, a body within the size limit): the pipeline may then write a plain body's row
   * straight from its bytes (see PlainRowWriter) and call `decode` only for the rest. Undefined:
   * always `decode`.
   */
  nativeKind?(record: InputRecord): 'prediction' | 'outcome' | undefined;
  /** Held records whose wait ran out, now rejected (dead-lettered by the caller). */
  expire?(nowMs: number): readonly ExpiredRecord[];
  /** Forget held records of partitions this consumer no longer owns (after a rebalance). */
  dropPartitions?(refs: ReadonlyArray<{ topic: string; partition: number }>): void;
  /** Number of records currently held, for the unpaired gauge and buffer bounds. */
  heldCount?(): number;
}

export const EMPTY_OUTPUT: DecodeOutput = Object.freeze({ predictions: [], outcomes: [] });

export function rejected(rejection: Rejection): DecodeOutput {
  return { predictions: [], outcomes: [], rejection };
}
