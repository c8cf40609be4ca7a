import type { PredictionEvent, Rejection } from '../events/types.js';
import { rejection, type Decoded } from '../events/types.js';
import { cloudEventToHalf, envelopeFromHttp, type HttpHeaders } from './cloudevents.js';
import { newOwnerId, offerHalf, type DecoderRuntime } from './create-decoder.js';
import type { InferenceHalf } from './to-predictions.js';

/**
 * What `POST /v1/cloudevents` needs: KServe's InferenceLogger posting CloudEvents over HTTP
 * (binary mode with `ce-*` headers, or structured `application/cloudevents+json`). Halves go into
 * the same pairer (and count against the same `maxHeld`) as the Kafka topics, but they pair only
 * with HTTP halves: a Kafka record completed over HTTP would leave its offset with nobody to
 * commit it, and a logger sends both sides of an exchange to the same sink anyway.
 *
 * HTTP halves have no Kafka offset to hold back: a held half lives in memory only and is lost on a
 * crash (the logger does not retry a 202). Expired ones are counted in `unpairedTotal()`.
 */

/** One CloudEvent posted over HTTP → its request/response half (no pairing). */
export function decodeHttpCloudEvent(
  headers: HttpHeaders,
  body: Buffer | string,
  receivedAtMs: number,
  runtime: DecoderRuntime,
  maxEventBytes: number,
): Decoded<InferenceHalf> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  if (bytes.length > maxEventBytes) {
    return rejection(
      'oversized',
      '$',
      `event is ${bytes.length} bytes; the limit is ${maxEventBytes} (ingest.maxEventBytes)`,
    );
  }
  const envelope = envelopeFromHttp(headers, bytes, maxEventBytes);
  if (!envelope.ok) return envelope;
  const half = cloudEventToHalf(envelope.value, receivedAtMs, runtime.options, maxEventBytes);
  if (!half.ok) return half;
  return { ok: true, value: { ...half.value, pairKey: `http\u0000${half.value.pairKey}` } };
}

export type HttpCloudEventResult =
  /** 400 with the rejection: the event is malformed. */
  | { readonly status: 'rejected'; readonly rejection: Rejection }
  /** 202: waiting for its partner. */
  | { readonly status: 'held' }
  /** 202 (or 200): the pair is complete; store these predictions. */
  | { readonly status: 'paired'; readonly predictions: readonly PredictionEvent[] };

export interface HttpCloudEventIngest {
  submit(headers: HttpHeaders, body: Buffer | string, nowMs: number): HttpCloudEventResult;
  /**
   * Drop HTTP halves whose wait ran out (they are counted as unpaired; there is no record to
   * dead-letter). Kafka decoders' `expire` does the same, so this matters only without them.
   */
  expire(nowMs: number): void;
}

/** The endpoint's adapter: decode, pair, and report what to store. */
export function createHttpCloudEventIngest(
  runtime: DecoderRuntime,
  maxEventBytes: number,
): HttpCloudEventIngest {
  const owner = newOwnerId('http');
  return {
    submit(headers, body, nowMs) {
      const half = decodeHttpCloudEvent(headers, body, nowMs, runtime, maxEventBytes);
      if (!half.ok) return { status: 'rejected', rejection: half.rejection };
      const out = offerHalf(runtime, runtime.options, half.value, owner, undefined, nowMs);
      if (out.rejection !== undefined) return { status: 'rejected', rejection: out.rejection };
      if (out.held === true) return { status: 'held' };
      return { status: 'paired', predictions: out.predictions };
    },
    expire(nowMs) {
      runtime.pairer.expireDue(nowMs);
    },
  };
}
