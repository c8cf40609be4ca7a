import { rejection, type Decoded } from '../events/types.js';
import type { InputRecord } from '../ingest/record.js';
import { parseInferenceBody } from './inference-body.js';
import type { InferenceHalf } from './to-predictions.js';

/**
 * An OIP or KServe v1 body written to Kafka as is, without an envelope (e.g. by a custom logger).
 * Request and response pair on the OIP `id`, else on the record key; the model comes from OIP
 * `model_name`, else the topic's `model` option (applied when the pair is joined).
 */
export function bareBodyToHalf(record: InputRecord, parsed: unknown): Decoded<InferenceHalf> {
  const body = parseInferenceBody(parsed);
  if (!body.ok) return body;
  const payload = body.value.side === 'request' ? body.value.request : body.value.response;
  const key = record.key === null ? undefined : record.key.toString('utf8');
  const eventId = payload.id ?? (key === '' ? undefined : key);
  if (eventId === undefined) {
    return rejection(
      'missing_field',
      '$.id',
      'a bare inference body is paired by its OIP "id" or the record key; this record has neither',
    );
  }
  const common = {
    pairKey: `body\u0000${eventId}`,
    eventId,
    model: payload.model,
    version: payload.version,
    timestampMs: record.timestampMs,
    context: {},
  };
  return {
    ok: true,
    value:
      body.value.side === 'request'
        ? { ...common, side: 'request', request: body.value.request }
        : { ...common, side: 'response', response: body.value.response },
  };
}
