import { rejection, type Decoded } from '../events/types.js';
import { invalidUtf8Offset } from '../events/storable.js';
import { parseJson } from '../events/validate.js';
import { headerText, type InputRecord } from '../ingest/record.js';
import { parseInferenceBody, type InferenceBody } from './inference-body.js';
import { decodeProtobufBody } from './oip-protobuf.js';
import type { CompiledDecoderOptions } from './options.js';
import type { InferenceHalf } from './to-predictions.js';

/**
 * Seldon Core 2 writes every model's traffic to `<prefix>.<namespace>.model.<name>.inputs` and
 * `.outputs`, keyed by request id, as OIP protobuf (default) or OIP JSON. The topic names the
 * model and the side; the key pairs inputs with outputs.
 */

export interface SeldonTopic {
  readonly namespace: string;
  readonly model: string;
  readonly side: 'request' | 'response';
}

/** Parse a Seldon model topic; undefined when the name does not follow the pattern. */
export function parseSeldonTopic(topic: string, prefix: string): SeldonTopic | undefined {
  if (!topic.startsWith(`${prefix}.`)) return undefined;
  const rest = topic.slice(prefix.length + 1);
  const match = /^([^.]+)\.model\.(.+)\.(inputs|outputs)$/.exec(rest);
  if (match === null) return undefined;
  const [, namespace, model, side] = match as unknown as [string, string, string, string];
  return { namespace, model, side: side === 'inputs' ? 'request' : 'response' };
}

export function seldonTopicPattern(prefix: string): string {
  return `${prefix}.<namespace>.model.<name>.inputs|outputs`;
}

const INFER_TYPE_HEADER = 'seldon-infer-type';

function isJsonPayload(record: InputRecord, value: Buffer): boolean {
  const declared = headerText(record.headers[INFER_TYPE_HEADER])?.toLowerCase();
  if (declared !== undefined && declared.includes('json')) return true;
  if (declared !== undefined && declared.includes('proto')) return false;
  // Undeclared: a protobuf ModelInfer message never starts with '{' (that would be a group start
  // for field 15, which the messages do not have), so the first byte tells the two apart.
  const first = value.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
  return first === 0x7b;
}

function decodePayload(
  record: InputRecord,
  value: Buffer,
  side: 'request' | 'response',
  maxEventBytes: number,
): Decoded<InferenceBody> {
  if (isJsonPayload(record, value)) {
    const parsed = parseJson(value, maxEventBytes);
    if (!parsed.ok) return parsed;
    return parseInferenceBody(parsed.value);
  }
  return decodeProtobufBody(value, side, maxEventBytes);
}

export function seldonRecordToHalf(
  record: InputRecord,
  topic: SeldonTopic,
  _options: CompiledDecoderOptions,
  maxEventBytes: number,
): Decoded<InferenceHalf> {
  if (record.key !== null && invalidUtf8Offset(record.key) >= 0)
    return rejection(
      'bad_text',
      'key',
      'the record key (the request id) is not valid UTF-8; send UTF-8 text',
    );
  const key = record.key === null ? '' : record.key.toString('utf8');
  if (key === '')
    return rejection(
      'missing_field',
      'key',
      'Seldon records are keyed by request id; this record has no key, so it cannot be paired',
    );
  if (record.value === null) return rejection('not_json', '$', 'record has no value (tombstone)');
  const body = decodePayload(record, record.value, topic.side, maxEventBytes);
  if (!body.ok) return body;
  if (body.value.side !== topic.side) {
    return rejection(
      'wrong_type',
      '$',
      `topic ${record.topic} carries ${topic.side === 'request' ? 'inputs' : 'outputs'} but the payload is a ${body.value.side}`,
    );
  }
  const payload = body.value.side === 'request' ? body.value.request : body.value.response;
  const common = {
    pairKey: `seldon\u0000${topic.namespace}\u0000${topic.model}\u0000${key}`,
    eventId: key,
    model: topic.model,
    version: payload.version,
    timestampMs: record.timestampMs,
    context: { namespace: topic.namespace },
  };
  return {
    ok: true,
    value:
      body.value.side === 'request'
        ? { ...common, side: 'request', request: body.value.request }
        : { ...common, side: 'response', response: body.value.response },
  };
}
