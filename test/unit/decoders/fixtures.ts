import type { PredictionEvent } from '../../../src/events/types.js';
import type { DecodeOutput } from '../../../src/ingest/decoder.js';
import { createNativeDecoder } from '../../../src/ingest/native-decoder.js';
import type { InputRecord } from '../../../src/ingest/record.js';

/** Fixture builders shared by the decoder tests: records, CloudEvent headers, native twins. */

export const MAX_BYTES = 1_000_000;
export const T0 = Date.parse('2026-11-23T02:00:00.000Z');

let nextOffset = 0;

export function record(fields: {
  topic?: string;
  partition?: number;
  offset?: string;
  key?: string | Buffer | null;
  value: string | Buffer | object | null;
  headers?: Record<string, string | Buffer>;
  timestampMs?: number;
}): InputRecord {
  nextOffset += 1;
  const { value, key } = fields;
  return {
    topic: fields.topic ?? 'predictions',
    partition: fields.partition ?? 0,
    offset: fields.offset ?? String(nextOffset),
    key: key === undefined || key === null ? null : Buffer.isBuffer(key) ? key : Buffer.from(key),
    value:
      value === null
        ? null
        : Buffer.isBuffer(value)
          ? value
          : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: fields.headers ?? {},
    timestampMs: fields.timestampMs ?? T0,
  };
}

/** Kafka binary-mode headers for a KServe InferenceLogger event. */
export function ceHeaders(
  id: string,
  side: 'request' | 'response',
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ce_specversion: '1.0',
    ce_id: id,
    ce_type: `org.kubeflow.serving.inference.${side}`,
    ce_source: 'http://localhost:9081/',
    ce_inferenceservicename: 'fraud',
    ce_namespace: 'prod',
    ce_component: 'predictor',
    ce_endpoint: 'default',
    'content-type': 'application/json',
    ...extra,
  };
}

/** The same prediction as a native driftguard event, decoded by the native decoder. */
export function nativeTwin(event: Record<string, unknown>, timestampMs = T0): PredictionEvent {
  const out = createNativeDecoder('prediction', MAX_BYTES).decode(record({ value: event, timestampMs }), 0);
  const first = out.predictions[0];
  if (first === undefined) throw new Error(`native twin rejected: ${JSON.stringify(out.rejection)}`);
  return first;
}

export function only(out: DecodeOutput): PredictionEvent {
  if (out.rejection !== undefined) throw new Error(`rejected: ${JSON.stringify(out.rejection)}`);
  if (out.predictions.length !== 1) throw new Error(`expected one prediction, got ${out.predictions.length}`);
  return out.predictions[0] as PredictionEvent;
}

export const OIP_REQUEST = {
  id: 'r1',
  inputs: [{ name: 'input0', shape: [1, 3], datatype: 'FP32', data: [1.5, 2.25, 3] }],
};
export const OIP_RESPONSE = {
  model_name: 'fraud',
  model_version: '3',
  id: 'r1',
  outputs: [{ name: 'output0', shape: [1, 2], datatype: 'FP32', data: [0.25, 0.75] }],
};
