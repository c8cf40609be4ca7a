import protobuf from 'protobufjs';
import { rejection, type Decoded } from '../events/types.js';
import type { InferenceBody, InferenceRequest, InferenceResponse } from './inference-body.js';
import { checkDatatype, commonRows, makeTensor, type OipDatatype, type Tensor } from './tensor.js';

/**
 * Open Inference Protocol (KServe v2 gRPC) messages `inference.ModelInferRequest` and
 * `inference.ModelInferResponse`, as Seldon Core 2 writes them to Kafka. The schema is the public
 * grpc_predict_v2.proto, transcribed as a protobufjs JSON descriptor (field names and numbers as
 * in the .proto) so that no .proto file has to be shipped and loaded at run time.
 */

const parameters = (id: number) => ({ keyType: 'string', type: 'InferParameter', id });
const repeated = (type: string, id: number) => ({ rule: 'repeated', type, id });

export const OIP_PROTO_DESCRIPTOR = {
  nested: {
    inference: {
      nested: {
        InferParameter: {
          // Parameters are not interpreted; declared so that the messages decode completely.
          oneofs: { parameter_choice: { oneof: ['bool_param', 'int64_param', 'string_param'] } },
          fields: {
            bool_param: { type: 'bool', id: 1 },
            int64_param: { type: 'int64', id: 2 },
            string_param: { type: 'string', id: 3 },
          },
        },
        InferTensorContents: {
          fields: {
            bool_contents: repeated('bool', 1),
            int_contents: repeated('int32', 2),
            int64_contents: repeated('int64', 3),
            uint_contents: repeated('uint32', 4),
            uint64_contents: repeated('uint64', 5),
            fp32_contents: repeated('float', 6),
            fp64_contents: repeated('double', 7),
            bytes_contents: repeated('bytes', 8),
          },
        },
        ModelInferRequest: {
          fields: {
            model_name: { type: 'string', id: 1 },
            model_version: { type: 'string', id: 2 },
            id: { type: 'string', id: 3 },
            parameters: parameters(4),
            inputs: repeated('InferInputTensor', 5),
            outputs: repeated('InferRequestedOutputTensor', 6),
            raw_input_contents: repeated('bytes', 7),
          },
          nested: {
            InferInputTensor: {
              fields: {
                name: { type: 'string', id: 1 },
                datatype: { type: 'string', id: 2 },
                shape: repeated('int64', 3),
                parameters: parameters(4),
                contents: { type: 'InferTensorContents', id: 5 },
              },
            },
            InferRequestedOutputTensor: {
              fields: { name: { type: 'string', id: 1 }, parameters: parameters(2) },
            },
          },
        },
        ModelInferResponse: {
          fields: {
            model_name: { type: 'string', id: 1 },
            model_version: { type: 'string', id: 2 },
            id: { type: 'string', id: 3 },
            parameters: parameters(4),
            outputs: repeated('InferOutputTensor', 5),
            raw_output_contents: repeated('bytes', 6),
          },
          nested: {
            InferOutputTensor: {
              fields: {
                name: { type: 'string', id: 1 },
                datatype: { type: 'string', id: 2 },
                shape: repeated('int64', 3),
                parameters: parameters(4),
                contents: { type: 'InferTensorContents', id: 5 },
              },
            },
          },
        },
      },
    },
  },
} as const;

const root = protobuf.Root.fromJSON(OIP_PROTO_DESCRIPTOR as unknown as protobuf.INamespace);
/** Exported for tests and producers that need to encode the same messages. */
export const ModelInferRequest = root.lookupType('inference.ModelInferRequest');
export const ModelInferResponse = root.lookupType('inference.ModelInferResponse');

/** The plain-object view `toObject` gives us; every field optional because proto3 omits defaults. */
interface PlainContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: number[];
  uint_contents?: number[];
  uint64_contents?: number[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Uint8Array[];
}
interface PlainTensor {
  name?: string;
  datatype?: string;
  shape?: number[];
  contents?: PlainContents;
}
interface PlainMessage {
  model_name?: string;
  model_version?: string;
  id?: string;
  inputs?: PlainTensor[];
  outputs?: PlainTensor[];
  raw_input_contents?: Uint8Array[];
  raw_output_contents?: Uint8Array[];
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, arrays: true, defaults: false };

function decodeMessage(type: protobuf.Type, bytes: Uint8Array): Decoded<PlainMessage> {
  try {
    const message = type.decode(bytes);
    // toObject is typed as an index signature of `any`; PlainMessage is the descriptor's shape.
    const plain: PlainMessage = type.toObject(message, TO_OBJECT);
    return { ok: true, value: plain };
  } catch (error) {
    return rejection(
      'unsupported_format',
      '$',
      `not a valid ${type.fullName.slice(1)} protobuf message (${error instanceof Error ? error.message : String(error)}); if the payload is JSON set header seldon-infer-type: json`,
    );
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: false });

function typedValues(datatype: OipDatatype, c: PlainContents | undefined): unknown[] | undefined {
  if (c === undefined) return undefined;
  switch (datatype) {
    case 'BOOL':
      return c.bool_contents;
    case 'INT8':
    case 'INT16':
    case 'INT32':
      return c.int_contents;
    case 'INT64':
      return c.int64_contents;
    case 'UINT8':
    case 'UINT16':
    case 'UINT32':
      return c.uint_contents;
    case 'UINT64':
      return c.uint64_contents;
    case 'FP32':
      return c.fp32_contents;
    case 'FP64':
      return c.fp64_contents;
    case 'BYTES':
      return c.bytes_contents?.map((b) => UTF8.decode(b));
    case 'FP16':
      return undefined; // the protocol has no typed field for FP16: raw contents only
  }
}

/** IEEE 754 half precision → number. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

const ELEMENT_BYTES: Record<Exclude<OipDatatype, 'BYTES'>, number> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  FP16: 2,
  UINT32: 4,
  INT32: 4,
  FP32: 4,
  UINT64: 8,
  INT64: 8,
  FP64: 8,
};

/** Little-endian, row-major raw tensor bytes (the protocol's `raw_*_contents`) → elements. */
export function decodeRawContents(
  datatype: OipDatatype,
  bytes: Uint8Array,
  path: string,
): Decoded<unknown[]> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: unknown[] = [];
  if (datatype === 'BYTES') {
    // Each element is a 4-byte little-endian length followed by that many bytes.
    let at = 0;
    while (at < buf.length) {
      if (at + 4 > buf.length)
        return rejection('unsupported_format', path, `truncated BYTES element length at byte ${at}`);
      const length = buf.readUInt32LE(at);
      if (at + 4 + length > buf.length) {
        return rejection(
          'unsupported_format',
          path,
          `BYTES element at byte ${at} claims ${length} bytes; only ${buf.length - at - 4} remain`,
        );
      }
      out.push(buf.toString('utf8', at + 4, at + 4 + length));
      at += 4 + length;
    }
    return { ok: true, value: out };
  }
  const size = ELEMENT_BYTES[datatype];
  if (buf.length % size !== 0) {
    return rejection(
      'unsupported_format',
      path,
      `${buf.length} raw bytes is not a whole number of ${size}-byte ${datatype} elements`,
    );
  }
  for (let at = 0; at < buf.length; at += size) {
    switch (datatype) {
      case 'BOOL':
        out.push(buf.readUInt8(at) !== 0);
        break;
      case 'UINT8':
        out.push(buf.readUInt8(at));
        break;
      case 'INT8':
        out.push(buf.readInt8(at));
        break;
      case 'UINT16':
        out.push(buf.readUInt16LE(at));
        break;
      case 'INT16':
        out.push(buf.readInt16LE(at));
        break;
      case 'FP16':
        out.push(halfToNumber(buf.readUInt16LE(at)));
        break;
      case 'UINT32':
        out.push(buf.readUInt32LE(at));
        break;
      case 'INT32':
        out.push(buf.readInt32LE(at));
        break;
      case 'FP32':
        out.push(buf.readFloatLE(at));
        break;
      case 'UINT64':
        out.push(Number(buf.readBigUInt64LE(at)));
        break;
      case 'INT64':
        out.push(Number(buf.readBigInt64LE(at)));
        break;
      case 'FP64':
        out.push(buf.readDoubleLE(at));
        break;
    }
  }
  return { ok: true, value: out };
}

function toTensors(
  list: readonly PlainTensor[],
  raw: readonly Uint8Array[],
  listName: 'inputs' | 'outputs',
  rawName: string,
): Decoded<Tensor[]> {
  if (raw.length > 0 && raw.length !== list.length) {
    return rejection(
      'wrong_type',
      `$.${rawName}`,
      `${raw.length} raw contents for ${list.length} tensors; the protocol needs one per tensor, in order`,
    );
  }
  const tensors: Tensor[] = [];
  for (const [i, t] of list.entries()) {
    const at = `$.${listName}[${i}]`;
    const name = t.name ?? '';
    if (name === '') return rejection('missing_field', `${at}.name`, 'each tensor needs a non-empty name');
    const datatype = checkDatatype(t.datatype, `${at}.datatype`);
    if (!datatype.ok) return datatype;
    const rawBytes = raw[i];
    let values: unknown[];
    if (rawBytes !== undefined) {
      const decoded = decodeRawContents(datatype.value, rawBytes, `$.${rawName}[${i}]`);
      if (!decoded.ok) return decoded;
      values = decoded.value;
    } else {
      const typed = typedValues(datatype.value, t.contents);
      if (typed === undefined) {
        return rejection(
          'missing_field',
          `${at}.contents`,
          `tensor ${JSON.stringify(name)} has no ${datatype.value} contents and no ${rawName} entry`,
        );
      }
      values = typed;
    }
    const shape = (t.shape ?? []).map(Number);
    if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      return rejection(
        'wrong_type',
        `${at}.shape`,
        `shape dimensions must be non-negative integers, got [${shape.join(', ')}]`,
      );
    }
    const tensor = makeTensor(name, datatype.value, shape, values, at);
    if (!tensor.ok) return tensor;
    tensors.push(tensor.value);
  }
  return { ok: true, value: tensors };
}

const orUndefined = (s: string | undefined): string | undefined =>
  s === undefined || s === '' ? undefined : s;

export function decodeInferRequest(bytes: Uint8Array): Decoded<InferenceRequest> {
  const message = decodeMessage(ModelInferRequest, bytes);
  if (!message.ok) return message;
  const m = message.value;
  const tensors = toTensors(m.inputs ?? [], m.raw_input_contents ?? [], 'inputs', 'raw_input_contents');
  if (!tensors.ok) return tensors;
  const rows = commonRows(tensors.value, '$.inputs');
  if (!rows.ok) return rows;
  return {
    ok: true,
    value: {
      kind: 'tensors',
      tensors: tensors.value,
      rows: rows.value,
      id: orUndefined(m.id),
      model: orUndefined(m.model_name),
      version: orUndefined(m.model_version),
    },
  };
}

export function decodeInferResponse(bytes: Uint8Array): Decoded<InferenceResponse> {
  const message = decodeMessage(ModelInferResponse, bytes);
  if (!message.ok) return message;
  const m = message.value;
  const tensors = toTensors(m.outputs ?? [], m.raw_output_contents ?? [], 'outputs', 'raw_output_contents');
  if (!tensors.ok) return tensors;
  const rows = commonRows(tensors.value, '$.outputs');
  if (!rows.ok) return rows;
  return {
    ok: true,
    value: {
      tensors: tensors.value,
      rows: rows.value,
      id: orUndefined(m.id),
      model: orUndefined(m.model_name),
      version: orUndefined(m.model_version),
    },
  };
}

/** A protobuf payload whose side the envelope (CloudEvent type, Seldon topic) already told us. */
export function decodeProtobufBody(
  bytes: Buffer,
  side: 'request' | 'response',
  maxEventBytes: number,
): Decoded<InferenceBody> {
  if (bytes.length > maxEventBytes) {
    return rejection(
      'oversized',
      '$',
      `payload is ${bytes.length} bytes; the limit is ${maxEventBytes} (ingest.maxEventBytes)`,
    );
  }
  if (side === 'request') {
    const decoded = decodeInferRequest(bytes);
    return decoded.ok ? { ok: true, value: { side, request: decoded.value } } : decoded;
  }
  const decoded = decodeInferResponse(bytes);
  return decoded.ok ? { ok: true, value: { side, response: decoded.value } } : decoded;
}
