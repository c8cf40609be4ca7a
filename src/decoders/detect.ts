import type { Rejection } from '../events/types.js';
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
  | { readonly format: 'native'; readonly why: string }
  /** The body had to be JSON to tell the format and is not. */
  | { readonly format: 'invalid'; readonly rejection: Rejection };

/** Keys that only envelopes and inference bodies have at their top level. */
const MARKERS = ['"specversion"', '"inputs"', '"outputs"', '"instances"', '"predictions"'].map((m) =>
  Buffer.from(m),
);

/**
 * `sniff`: skip parsing bodies that contain none of the marker keys (they can only be native
 * events, which the native decoder parses itself). Pinned non-native topics parse always so that
 * a non-JSON record gets the JSON error rather than "looks native".
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
  if (sniff && !structured && !MARKERS.some((m) => value.includes(m)))
    return { format: 'native', why: 'plain JSON event' };
  const parsed = parseJson(value, maxEventBytes);
  if (!parsed.ok)
    return structured || !sniff
      ? { format: 'invalid', rejection: parsed.rejection }
      : { format: 'native', why: 'not JSON' };
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
  return { format: 'native', why: 'plain JSON event' };
}
