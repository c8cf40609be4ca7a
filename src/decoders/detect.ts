import type { Decoded, Rejection } from '../events/types.js';
import { parseJson } from '../events/validate.js';
import { headerText, type InputRecord } from '../ingest/record.js';
import {
  hasCloudEventHeaders,
  isStructuredContentType,
  looksLikeStructuredCloudEvent,
} from './cloudevents.js';
import { isOipBody, looksLikeInferenceBody } from './inference-body.js';
import { parseSeldonTopic, type SeldonTopic } from './seldon.js';

/**
 * Per-record format detection. Cheap signals first (headers, topic name), the body last; the
 * parsed body is handed on so that nothing is parsed twice.
 */

export type Detection =
  | { readonly format: 'cloudevents'; readonly why: string; readonly parsed: unknown }
  | { readonly format: 'seldon'; readonly why: string; readonly topic: SeldonTopic }
  | { readonly format: 'oip' | 'kserve-v1'; readonly why: string; readonly parsed: unknown }
  /**
   * `parsed`: the body's `parseJson` result when detection had to parse it (a success or the JSON
   * rejection), for the native decoder to use rather than parse again.
   */
  | { readonly format: 'native'; readonly why: string; readonly parsed?: Decoded<unknown> }
  /** The body had to be JSON to tell the format and is not. */
  | { readonly format: 'invalid'; readonly rejection: Rejection };

/** Keys that only envelopes and inference bodies have at their top level. */
const MARKERS = ['"specversion"', '"inputs"', '"outputs"', '"instances"', '"predictions"'].map((m) =>
  Buffer.from(m),
);

/**
 * `sniff`: a body that is not JSON, or has none of the marker keys, can only be a native event
 * (whose decoder then reports the JSON error). Pinned non-native topics get the JSON error here,
 * rather than "looks native". The body is parsed once: a native detection carries the result.
 */
export function detectFormat(
  record: InputRecord,
  seldonTopicPrefix: string,
  maxEventBytes: number,
  sniff: boolean,
): Detection {
  if (hasCloudEventHeaders(record.headers))
    return { format: 'cloudevents', why: 'ce_* record headers', parsed: undefined };
  const seldon = parseSeldonTopic(record.topic, seldonTopicPrefix);
  if (seldon !== undefined) return { format: 'seldon', why: `topic name ${record.topic}`, topic: seldon };
  const value = record.value;
  if (value === null) return { format: 'native', why: 'no value' };
  const structured = isStructuredContentType(headerText(record.headers['content-type']));
  const parsed = parseJson(value, maxEventBytes);
  if (sniff && !structured) {
    if (!parsed.ok) return { format: 'native', why: 'not JSON', parsed };
    // Native events, the common case, have none of the marker keys at their top level; only a body
    // that has one is searched for the markers' literal text, as before.
    if (!hasMarkerKey(parsed.value) || !MARKERS.some((m) => value.includes(m)))
      return { format: 'native', why: 'plain JSON event', parsed };
  }
  if (!parsed.ok) return { format: 'invalid', rejection: parsed.rejection };
  if (structured || looksLikeStructuredCloudEvent(parsed.value)) {
    return {
      format: 'cloudevents',
      why: structured ? 'content-type application/cloudevents+json' : 'structured CloudEvent body',
      parsed: parsed.value,
    };
  }
  if (looksLikeInferenceBody(parsed.value)) {
    return isOipBody(parsed.value)
      ? { format: 'oip', why: 'OIP "inputs"/"outputs" body', parsed: parsed.value }
      : { format: 'kserve-v1', why: 'KServe v1 "instances"/"predictions" body', parsed: parsed.value };
  }
  return { format: 'native', why: 'plain JSON event', parsed };
}

/**
 * Whether a parsed body has one of the MARKERS keys at its top level, the only place that
 * `looksLikeStructuredCloudEvent` and `looksLikeInferenceBody` look. A body without one is native
 * whatever its text contains.
 */
function hasMarkerKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const body = value as Record<string, unknown>;
  return (
    body.specversion !== undefined ||
    body.inputs !== undefined ||
    body.outputs !== undefined ||
    body.instances !== undefined ||
    body.predictions !== undefined
  );
}
