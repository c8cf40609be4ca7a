import { rejection, type Decoded } from '../events/types.js';
import { invalidUtf8Offset } from '../events/storable.js';
import { checkTimestamp, parseJson } from '../events/validate.js';
import { headerText, type InputRecord } from '../ingest/record.js';
import { parseInferenceBody, type InferenceBody } from './inference-body.js';
import { decodeProtobufBody } from './oip-protobuf.js';
import type { CompiledDecoderOptions } from './options.js';
import type { InferenceHalf } from './to-predictions.js';

/**
 * CloudEvents 1.0 envelopes of KServe's InferenceLogger, from Kafka records (binary mode: `ce_*`
 * headers; structured mode: the whole event as JSON) and from HTTP (binary: `ce-*` headers;
 * structured: `application/cloudevents+json`). Both transports reduce to one envelope type and
 * then to an InferenceHalf, so the pairer cannot tell them apart.
 */

export const KSERVE_REQUEST_TYPE = 'org.kubeflow.serving.inference.request';
export const KSERVE_RESPONSE_TYPE = 'org.kubeflow.serving.inference.response';
const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json';

export type CloudEventData =
  | { readonly kind: 'bytes'; readonly bytes: Buffer }
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'none' };

export interface CloudEventEnvelope {
  readonly mode: 'binary' | 'structured';
  /** Context attributes and extensions by lower-case name, values as text. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly data: CloudEventData;
  /** How the attributes are addressed in this transport, for rejection paths (`ce_`, `ce-` or `$.`). */
  readonly pathPrefix: string;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether Kafka record headers carry a binary-mode CloudEvent. */
export function hasCloudEventHeaders(headers: InputRecord['headers']): boolean {
  return headers.ce_specversion !== undefined || headers.ce_type !== undefined;
}

export function isStructuredContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.trim().toLowerCase().startsWith(STRUCTURED_CONTENT_TYPE);
}

/** Whether a parsed JSON value is a structured CloudEvent. */
export function looksLikeStructuredCloudEvent(value: unknown): boolean {
  return isObject(value) && typeof value.specversion === 'string' && typeof value.type === 'string';
}

/**
 * Binary mode on Kafka: attributes from `ce_*` headers, datacontenttype from `content-type`.
 * Attribute values must be UTF-8: bytes that are not are refused rather than replaced.
 */
export function binaryEnvelopeFromRecord(record: InputRecord): Decoded<CloudEventEnvelope> {
  const attributes: Record<string, string> = {};
  for (const [name, raw] of Object.entries(record.headers)) {
    const lower = name.toLowerCase();
    const isAttribute = lower.startsWith('ce_');
    if (!isAttribute && lower !== 'content-type') continue;
    if (Buffer.isBuffer(raw) && invalidUtf8Offset(raw) >= 0)
      return rejection('bad_text', `header ${name}`, 'the header value is not valid UTF-8; send UTF-8 text');
    const value = headerText(raw);
    if (value === undefined) continue;
    if (isAttribute) attributes[lower.slice(3)] = value;
    else attributes.datacontenttype = value;
  }
  const data: CloudEventData =
    record.value === null ? { kind: 'none' } : { kind: 'bytes', bytes: record.value };
  return { ok: true, value: { mode: 'binary', attributes, data, pathPrefix: 'header ce_' } };
}

/** Structured mode (either transport): the parsed JSON event. */
export function structuredEnvelope(event: unknown): Decoded<CloudEventEnvelope> {
  if (!isObject(event)) return rejection('not_object', '$', 'a structured CloudEvent must be a JSON object');
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(event)) {
    if (name === 'data' || name === 'data_base64') continue;
    if (typeof value === 'string') attributes[name.toLowerCase()] = value;
    else if (typeof value === 'number' || typeof value === 'boolean')
      attributes[name.toLowerCase()] = String(value);
  }
  let data: CloudEventData = { kind: 'none' };
  if (event.data_base64 !== undefined) {
    if (typeof event.data_base64 !== 'string')
      return rejection('wrong_type', '$.data_base64', 'data_base64 must be a base64 string');
    data = { kind: 'bytes', bytes: Buffer.from(event.data_base64, 'base64') };
  } else if (typeof event.data === 'string') {
    // KServe payloads are JSON objects; a string here is JSON text that a producer serialised twice.
    data = { kind: 'bytes', bytes: Buffer.from(event.data, 'utf8') };
  } else if (event.data !== undefined && event.data !== null) {
    data = { kind: 'json', value: event.data };
  }
  return { ok: true, value: { mode: 'structured', attributes, data, pathPrefix: '$.' } };
}

export type HttpHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

function httpHeader(headers: HttpHeaders, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== name) continue;
    return typeof v === 'string' ? v : v?.[0];
  }
  return undefined;
}

/** HTTP binary mode (`ce-*` headers + body) or structured mode (`application/cloudevents+json`). */
export function envelopeFromHttp(
  headers: HttpHeaders,
  body: Buffer,
  maxEventBytes: number,
): Decoded<CloudEventEnvelope> {
  const contentType = httpHeader(headers, 'content-type');
  if (contentType?.toLowerCase().startsWith('application/cloudevents-batch+json')) {
    return rejection(
      'unsupported_format',
      '$',
      'batched CloudEvents are not accepted; send one event per request',
    );
  }
  if (isStructuredContentType(contentType)) {
    const parsed = parseJson(body, maxEventBytes);
    if (!parsed.ok) return parsed;
    return structuredEnvelope(parsed.value);
  }
  const attributes: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    const value = typeof raw === 'string' ? raw : raw?.[0];
    if (value === undefined) continue;
    if (lower.startsWith('ce-')) attributes[lower.slice(3)] = value;
  }
  if (attributes.specversion === undefined && attributes.type === undefined) {
    return rejection(
      'missing_field',
      'header ce-specversion',
      'not a CloudEvent: send ce-specversion, ce-type, ce-id, ce-source headers (binary mode) or content-type application/cloudevents+json (structured mode)',
    );
  }
  if (contentType !== undefined) attributes.datacontenttype = contentType;
  return {
    ok: true,
    value: { mode: 'binary', attributes, data: { kind: 'bytes', bytes: body }, pathPrefix: 'header ce-' },
  };
}

function decodeData(
  envelope: CloudEventEnvelope,
  side: 'request' | 'response',
  maxEventBytes: number,
): Decoded<InferenceBody> {
  const { data } = envelope;
  if (data.kind === 'none')
    return rejection(
      'missing_field',
      `${envelope.pathPrefix === '$.' ? '$.data' : '$'}`,
      'the CloudEvent carries no data: the inference payload is required',
    );
  if (data.kind === 'json') return parseInferenceBody(data.value, '$.data');
  const contentType = (envelope.attributes.datacontenttype ?? '').toLowerCase();
  const first = data.bytes.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
  if (
    contentType.includes('protobuf') ||
    contentType.includes('grpc') ||
    (first !== undefined && first !== 0x7b && !contentType.includes('json'))
  ) {
    return decodeProtobufBody(data.bytes, side, maxEventBytes);
  }
  const parsed = parseJson(data.bytes, maxEventBytes);
  if (!parsed.ok) return parsed;
  return parseInferenceBody(parsed.value, envelope.mode === 'structured' ? '$.data' : '$');
}

function sideOfType(type: string): 'request' | 'response' | undefined {
  if (type === KSERVE_REQUEST_TYPE || type.endsWith('.inference.request')) return 'request';
  if (type === KSERVE_RESPONSE_TYPE || type.endsWith('.inference.response')) return 'response';
  return undefined;
}

/** Extension attributes kept on the event's `extra`, in this order, when present. */
const CONTEXT_ATTRIBUTES = ['namespace', 'endpoint', 'component'] as const;

/** An envelope → the request or response half it carries, keyed for pairing by model, component and id. */
export function cloudEventToHalf(
  envelope: CloudEventEnvelope,
  fallbackTimestampMs: number,
  options: CompiledDecoderOptions,
  maxEventBytes: number,
): Decoded<InferenceHalf> {
  const a = envelope.attributes;
  const p = envelope.pathPrefix;
  if (a.specversion === undefined)
    return rejection(
      'missing_field',
      `${p}specversion`,
      'CloudEvents attribute "specversion" is required ("1.0")',
    );
  if (!a.specversion.startsWith('1.')) {
    return rejection(
      'unsupported_format',
      `${p}specversion`,
      `CloudEvents specversion ${JSON.stringify(a.specversion)} is not supported; expected "1.0"`,
    );
  }
  if (a.type === undefined)
    return rejection('missing_field', `${p}type`, 'CloudEvents attribute "type" is required');
  const side = sideOfType(a.type);
  if (side === undefined) {
    return rejection(
      'unsupported_format',
      `${p}type`,
      `CloudEvent type ${JSON.stringify(a.type)} is not an inference log; expected ${KSERVE_REQUEST_TYPE} or ${KSERVE_RESPONSE_TYPE}`,
    );
  }
  if (a.id === undefined || a.id === '')
    return rejection(
      'missing_field',
      `${p}id`,
      'CloudEvents attribute "id" is required: it pairs a request with its response',
    );
  const time = checkTimestamp(a.time, fallbackTimestampMs, `${p}time`);
  if (!time.ok) return time;
  const body = decodeData(envelope, side, maxEventBytes);
  if (!body.ok) return body;
  if (body.value.side !== side) {
    return rejection(
      'wrong_type',
      envelope.mode === 'structured' ? '$.data' : '$',
      `CloudEvent type ${a.type} says ${side} but the payload is a ${body.value.side} (${side === 'request' ? 'expected "inputs" or "instances"' : 'expected "outputs" or "predictions"'})`,
    );
  }
  const attributeModel = a[options.modelNameAttribute];
  const payload = body.value.side === 'request' ? body.value.request : body.value.response;
  const context: Record<string, string> = {};
  for (const name of CONTEXT_ATTRIBUTES) {
    const v = a[name];
    if (v !== undefined && v !== '') context[name] = v;
  }
  const common = {
    // Only attributes both sides carry go into the key: a body's model_name is typically in the response only.
    pairKey: `ce\u0000${attributeModel ?? ''}\u0000${a.component ?? ''}\u0000${a.id}`,
    eventId: a.id,
    model: attributeModel !== undefined && attributeModel !== '' ? attributeModel : payload.model,
    version: payload.version,
    timestampMs: time.value,
    context,
  };
  return {
    ok: true,
    value:
      body.value.side === 'request'
        ? { ...common, side: 'request', request: body.value.request }
        : { ...common, side: 'response', response: body.value.response },
  };
}

/** A Kafka record that is a CloudEvent in either mode → its half. */
export function cloudEventRecordToHalf(
  record: InputRecord,
  parsedBody: unknown,
  options: CompiledDecoderOptions,
  maxEventBytes: number,
): Decoded<InferenceHalf> {
  if (hasCloudEventHeaders(record.headers)) {
    const envelope = binaryEnvelopeFromRecord(record);
    if (!envelope.ok) return envelope;
    return cloudEventToHalf(envelope.value, record.timestampMs, options, maxEventBytes);
  }
  let event = parsedBody;
  if (event === undefined) {
    if (record.value === null) return rejection('not_json', '$', 'record has no value (tombstone)');
    const parsed = parseJson(record.value, maxEventBytes);
    if (!parsed.ok) return parsed;
    event = parsed.value;
  }
  const envelope = structuredEnvelope(event);
  if (!envelope.ok) return envelope;
  return cloudEventToHalf(envelope.value, record.timestampMs, options, maxEventBytes);
}
