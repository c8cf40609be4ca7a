import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { createDecoder, createDecoderRuntime, parseSeldonTopic } from '../../../src/decoders/index.js';
import { MAX_BYTES, nativeTwin, only, record, T0 } from './fixtures.js';

// The messages as the public open-inference-protocol grpc_predict_v2.proto declares them, parsed
// from proto text here so that the decoder's hand-written descriptor is checked against it.
const PROTO = `
syntax = "proto3";
package inference;
message InferParameter { oneof parameter_choice { bool bool_param = 1; int64 int64_param = 2; string string_param = 3; } }
message InferTensorContents {
  repeated bool bool_contents = 1; repeated int32 int_contents = 2; repeated int64 int64_contents = 3;
  repeated uint32 uint_contents = 4; repeated uint64 uint64_contents = 5; repeated float fp32_contents = 6;
  repeated double fp64_contents = 7; repeated bytes bytes_contents = 8;
}
message ModelInferRequest {
  message InferInputTensor {
    string name = 1; string datatype = 2; repeated int64 shape = 3;
    map<string, InferParameter> parameters = 4; InferTensorContents contents = 5;
  }
  message InferRequestedOutputTensor { string name = 1; map<string, InferParameter> parameters = 2; }
  string model_name = 1; string model_version = 2; string id = 3; map<string, InferParameter> parameters = 4;
  repeated InferInputTensor inputs = 5; repeated InferRequestedOutputTensor outputs = 6; repeated bytes raw_input_contents = 7;
}
message ModelInferResponse {
  message InferOutputTensor {
    string name = 1; string datatype = 2; repeated int64 shape = 3;
    map<string, InferParameter> parameters = 4; InferTensorContents contents = 5;
  }
  string model_name = 1; string model_version = 2; string id = 3; map<string, InferParameter> parameters = 4;
  repeated InferOutputTensor outputs = 5; repeated bytes raw_output_contents = 6;
}`;
const root = protobuf.parse(PROTO, { keepCase: true }).root;
const Req = root.lookupType('inference.ModelInferRequest');
const Res = root.lookupType('inference.ModelInferResponse');
const encodeReq = (m: object): Buffer => Buffer.from(Req.encode(Req.fromObject(m)).finish());
const encodeRes = (m: object): Buffer => Buffer.from(Res.encode(Res.fromObject(m)).finish());

const INPUTS = 'seldon.prod.model.iris.inputs';
const OUTPUTS = 'seldon.prod.model.iris.outputs';

function le(kind: 'f32' | 'f64' | 'i64', values: number[]): Buffer {
  const size = kind === 'f32' ? 4 : 8;
  const buf = Buffer.alloc(values.length * size);
  values.forEach((v, i) => {
    if (kind === 'f32') buf.writeFloatLE(v, i * 4);
    else if (kind === 'f64') buf.writeDoubleLE(v, i * 8);
    else buf.writeBigInt64LE(BigInt(v), i * 8);
  });
  return buf;
}

function bytesRaw(values: string[]): Buffer {
  return Buffer.concat(
    values.flatMap((v) => {
      const len = Buffer.alloc(4);
      len.writeUInt32LE(Buffer.byteLength(v));
      return [len, Buffer.from(v)];
    }),
  );
}

const TWIN = {
  model: 'iris',
  version: '2',
  id: 'req-1',
  timestamp: T0,
  features: { sepal_length: 1.5, sepal_width: 2.25 },
  prediction: 'virginica',
  scores: { setosa: 0.25, virginica: 0.75 },
  namespace: 'prod',
};
const OPTIONS = {
  models: {
    iris: { inputs: { x: ['sepal_length', 'sepal_width'] }, outputs: { proba: ['setosa', 'virginica'] } },
  },
};

describe('Seldon Core 2 model topics', () => {
  it('parses topic names with the configured prefix', () => {
    expect(parseSeldonTopic('seldon.prod.model.iris.inputs', 'seldon')).toEqual({
      namespace: 'prod',
      model: 'iris',
      side: 'request',
    });
    expect(parseSeldonTopic('acme.seldon.ns.model.a.b.outputs', 'acme.seldon')).toEqual({
      namespace: 'ns',
      model: 'a.b',
      side: 'response',
    });
    expect(parseSeldonTopic('seldon.prod.pipeline.p.inputs', 'seldon')).toBeUndefined();
    expect(parseSeldonTopic('other.prod.model.iris.inputs', 'seldon')).toBeUndefined();
  });

  it('pairs protobuf inputs and outputs (typed contents) across topics by key, like a native event', () => {
    const runtime = createDecoderRuntime(OPTIONS);
    const inputs = createDecoder('prediction', OPTIONS, MAX_BYTES, runtime);
    const outputs = createDecoder('prediction', OPTIONS, MAX_BYTES, runtime);
    const req = encodeReq({
      model_name: 'iris',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], contents: { fp32_contents: [1.5, 2.25] } }],
    });
    const res = encodeRes({
      model_name: 'iris',
      model_version: '2',
      outputs: [
        { name: 'proba', datatype: 'FP64', shape: [1, 2], contents: { fp64_contents: [0.25, 0.75] } },
      ],
    });
    const inRecord = record({ topic: INPUTS, key: 'req-1', value: req, offset: '40' });
    expect(inputs.decode(inRecord, T0).held).toBe(true);
    const out = outputs.decode(record({ topic: OUTPUTS, key: 'req-1', value: res }), T0 + 3);
    expect(only(out)).toStrictEqual(nativeTwin(TWIN));
    expect(out.released).toEqual([{ topic: INPUTS, partition: 0, offset: '40' }]);
    expect(inputs.heldCount?.()).toBe(0);
  });

  it('decodes raw_input_contents / raw_output_contents (little-endian, BYTES length-prefixed)', () => {
    const decoder = createDecoder('prediction', {}, MAX_BYTES);
    const req = encodeReq({
      inputs: [
        { name: 'f', datatype: 'FP32', shape: [2, 1] },
        { name: 'n', datatype: 'INT64', shape: [2, 1] },
        { name: 's', datatype: 'BYTES', shape: [2, 1] },
      ],
      raw_input_contents: [le('f32', [0.5, -1.25]), le('i64', [7, -3]), bytesRaw(['red', 'ünï'])],
    });
    const res = encodeRes({
      outputs: [{ name: 'y', datatype: 'FP64', shape: [2] }],
      raw_output_contents: [le('f64', [0.125, 42])],
    });
    decoder.decode(record({ topic: INPUTS, key: 'raw', value: req }), T0);
    const out = decoder.decode(record({ topic: OUTPUTS, key: 'raw', value: res }), T0);
    expect(out.predictions).toStrictEqual([
      nativeTwin({
        model: 'iris',
        id: 'raw:0',
        timestamp: T0,
        features: { f_0: 0.5, n_0: 7, s_0: 'red' },
        prediction: 0.125,
        namespace: 'prod',
      }),
      nativeTwin({
        model: 'iris',
        id: 'raw:1',
        timestamp: T0,
        features: { f_0: -1.25, n_0: -3, s_0: 'ünï' },
        prediction: 42,
        namespace: 'prod',
      }),
    ]);
  });

  it('decodes OIP JSON payloads, declared by seldon-infer-type or recognised by their first byte', () => {
    const decoder = createDecoder('prediction', OPTIONS, MAX_BYTES);
    const req = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1.5, 2.25] }] };
    const res = {
      model_name: 'iris',
      model_version: '2',
      outputs: [{ name: 'proba', datatype: 'FP64', shape: [1, 2], data: [0.25, 0.75] }],
    };
    decoder.decode(
      record({ topic: INPUTS, key: 'req-1', value: req, headers: { 'seldon-infer-type': 'json' } }),
      T0,
    );
    const out = decoder.decode(record({ topic: OUTPUTS, key: 'req-1', value: res }), T0);
    expect(only(out)).toStrictEqual(nativeTwin(TWIN));
  });

  it('rejects what it cannot decode, with the reason', () => {
    const decoder = createDecoder('prediction', {}, MAX_BYTES);
    const garbage = decoder.decode(
      record({ topic: INPUTS, key: 'g', value: Buffer.from([0x0a, 0xff, 0xff, 0xff]) }),
      T0,
    );
    expect(garbage.rejection).toMatchObject({ code: 'unsupported_format', path: '$' });
    expect(garbage.rejection?.message).toMatch(/not a valid inference\.ModelInferRequest protobuf message/);

    const noKey = decoder.decode(record({ topic: INPUTS, value: encodeReq({}) }), T0);
    expect(noKey.rejection).toMatchObject({ code: 'missing_field', path: 'key' });

    const empty = decoder.decode(record({ topic: INPUTS, key: 'e', value: encodeReq({}) }), T0);
    expect(empty.rejection).toMatchObject({ code: 'missing_field', path: '$.inputs' });

    const shortRaw = encodeReq({
      inputs: [{ name: 'f', datatype: 'FP32', shape: [1, 3] }],
      raw_input_contents: [le('f32', [1, 2])],
    });
    expect(decoder.decode(record({ topic: INPUTS, key: 's', value: shortRaw }), T0).rejection).toMatchObject({
      code: 'wrong_type',
      path: '$.inputs[0].data',
    });

    const nan = encodeReq({
      inputs: [{ name: 'f', datatype: 'FP32', shape: [1, 2] }],
      raw_input_contents: [le('f32', [1, Number.NaN])],
    });
    expect(decoder.decode(record({ topic: INPUTS, key: 'n', value: nan }), T0).rejection).toMatchObject({
      code: 'non_finite_number',
      path: '$.inputs[0].data[1]',
    });

    const fp16Typed = encodeReq({
      inputs: [{ name: 'h', datatype: 'FP16', shape: [1], contents: { fp32_contents: [1] } }],
    });
    expect(decoder.decode(record({ topic: INPUTS, key: 'h', value: fp16Typed }), T0).rejection).toMatchObject(
      {
        code: 'missing_field',
        path: '$.inputs[0].contents',
      },
    );

    const unknownType = encodeReq({
      inputs: [{ name: 'q', datatype: 'COMPLEX64', shape: [1], contents: {} }],
    });
    expect(
      decoder.decode(record({ topic: INPUTS, key: 'u', value: unknownType }), T0).rejection,
    ).toMatchObject({
      code: 'unsupported_format',
      path: '$.inputs[0].datatype',
    });

    const sideMismatch = { outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: [1] }] };
    expect(
      decoder.decode(record({ topic: INPUTS, key: 'm', value: sideMismatch }), T0).rejection,
    ).toMatchObject({
      code: 'wrong_type',
    });
    expect(decoder.heldCount?.()).toBe(0);
  });

  it('decodes FP16, UINT8 and BOOL raw tensors', () => {
    const decoder = createDecoder('prediction', {}, MAX_BYTES);
    const half = Buffer.alloc(4);
    half.writeUInt16LE(0x3c00, 0); // 1.0
    half.writeUInt16LE(0xc100, 2); // -2.5
    const req = encodeReq({
      inputs: [
        { name: 'h', datatype: 'FP16', shape: [1, 2] },
        { name: 'u', datatype: 'UINT8', shape: [1, 1] },
        { name: 'b', datatype: 'BOOL', shape: [1] },
      ],
      raw_input_contents: [half, Buffer.from([200]), Buffer.from([1])],
    });
    const res = encodeRes({
      outputs: [{ name: 'y', datatype: 'INT32', shape: [1, 1], contents: { int_contents: [3] } }],
    });
    decoder.decode(record({ topic: INPUTS, key: 'k', value: req }), T0);
    const event = only(decoder.decode(record({ topic: OUTPUTS, key: 'k', value: res }), T0));
    expect(event.features).toEqual({ h_0: 1, h_1: -2.5, u_0: 200, b_0: 'true' });
    expect(event.prediction).toBe(3);
  });
});
