/**
 * driftguard's own event model: what every decoder produces and what the store writes.
 * JSON Schema for the wire form: docs/schemas/prediction.schema.json, outcome.schema.json.
 */

/** A feature value: numbers are numeric, strings categorical, null missing. */
export type FeatureValue = number | string | null;

/** `scores`: one number (e.g. a regression score or positive-class probability) or class → probability. */
export type Scores = number | Readonly<Record<string, number>>;

export interface PredictionEvent {
  readonly model: string;
  /** Model version as the producer names it; '' when not given. */
  readonly version: string;
  readonly id: string;
  /** Epoch milliseconds; from the event, else the Kafka record time (or receive time over HTTP). */
  readonly timestampMs: number;
  readonly features: Readonly<Record<string, FeatureValue>>;
  /** A number (regression / score) or a label; null when the producer sent none. */
  readonly prediction: number | string | null;
  readonly scores: Scores | null;
  /** Unknown top-level fields, kept verbatim (as JSON text) but not interpreted. */
  readonly extra: string;
}

export interface OutcomeEvent {
  readonly model: string;
  readonly id: string;
  readonly timestampMs: number;
  readonly label: number | string;
  readonly extra: string;
}

export type EventKind = 'prediction' | 'outcome';

/** Why an input was rejected: a short machine code, the JSON path at fault and a message that says how to fix it. */
export interface Rejection {
  readonly code: RejectionCode;
  readonly path: string;
  readonly message: string;
}

export type RejectionCode =
  | 'not_json'
  | 'not_object'
  | 'missing_field'
  | 'wrong_type'
  | 'bad_model_name'
  | 'bad_id'
  | 'bad_timestamp'
  | 'non_finite_number'
  | 'oversized'
  | 'unsupported_format'
  | 'unpaired'
  /** Text the store cannot hold as sent: invalid UTF-8, a lone surrogate, a control character in a name. */
  | 'bad_text'
  /** Arrays and objects nested deeper than MAX_JSON_DEPTH. */
  | 'too_deep'
  /** The store refused the record's row (found by isolating it from its group insert). */
  | 'store_rejected'
  /** A decoder failed on the record (a bug): dead-lettered rather than stalling its partition. */
  | 'decode_failed';

export type Decoded<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly rejection: Rejection };

export function rejection(
  code: RejectionCode,
  path: string,
  message: string,
): { ok: false; rejection: Rejection } {
  return { ok: false, rejection: { code, path, message } };
}

export function formatRejection(r: Rejection): string {
  return `${r.code} at ${r.path}: ${r.message}`;
}
