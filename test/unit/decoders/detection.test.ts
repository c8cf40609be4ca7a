import { describe, expect, it } from 'vitest';
import { createDecoder } from '../../../src/decoders/index.js';
import { createNativeDecoder } from '../../../src/ingest/native-decoder.js';
import { DriftguardError } from '../../../kernel/errors.js';
import { ceHeaders, MAX_BYTES, nativeTwin, only, OIP_REQUEST, OIP_RESPONSE, record, T0 } from './fixtures.js';

const NATIVE = { model: 'fraud', id: 'n1', features: { amount: 3 }, prediction: 1 };
const ceRecord = () => record({ value: OIP_REQUEST, headers: ceHeaders('c', 'request') });

describe('format detection and pinned formats', () => {
  it('auto: passes native events to the native decoder unchanged', () => {
    const decoder = createDecoder('prediction', {}, MAX_BYTES);
    expect(only(decoder.decode(record({ value: NATIVE }), T0))).toStrictEqual(nativeTwin(NATIVE));
    // A native event whose feature happens to be called "inputs" is still native.
    const tricky = { ...NATIVE, features: { inputs: 2 } };
    expect(only(decoder.decode(record({ value: tricky }), T0))).toStrictEqual(nativeTwin(tricky));
    expect(decoder.decode(record({ value: 'nope' }), T0).rejection?.code).toBe('not_json');
    expect(decoder.decode(record({ value: null }), T0).rejection?.code).toBe('not_json');
  });

  it('lets the fast lane take only records whose body alone decides that they are native', () => {
    const auto = createDecoder('prediction', {}, MAX_BYTES);
    expect(auto.nativeKind?.(record({ value: NATIVE }))).toBe('prediction');
    expect(createDecoder('outcome', {}, MAX_BYTES).nativeKind?.(record({ value: NATIVE }))).toBe('outcome');
    expect(
      createDecoder('prediction', { inputFormat: 'native' }, MAX_BYTES).nativeKind?.(
        record({ value: NATIVE }),
      ),
    ).toBe('prediction');
    // Envelopes and pinned envelope formats always take the full decode.
    expect(auto.nativeKind?.(ceRecord())).toBeUndefined();
    const structured = record({ value: NATIVE, headers: { 'content-type': 'application/cloudevents+json' } });
    expect(auto.nativeKind?.(structured)).toBeUndefined();
    expect(
      auto.nativeKind?.(record({ value: NATIVE, topic: 'seldon.default.model.fraud.outputs' })),
    ).toBeUndefined();
    expect(auto.nativeKind?.(record({ value: NATIVE }))).toBe('prediction'); // per topic, not sticky
    // Oversized bodies take the full decode, which rejects them with their size.
    const small = createDecoder('prediction', {}, 20);
    expect(small.nativeKind?.(record({ value: NATIVE }))).toBeUndefined();
    expect(small.decode(record({ value: NATIVE }), T0).rejection?.code).toBe('oversized');
    expect(createNativeDecoder('prediction', 20).nativeKind?.(record({ value: NATIVE }))).toBeUndefined();
    expect(createNativeDecoder('prediction', MAX_BYTES).nativeKind?.(record({ value: NATIVE }))).toBe(
      'prediction',
    );
    expect(
      createDecoder('prediction', { inputFormat: 'oip' }, MAX_BYTES).nativeKind?.(record({ value: NATIVE })),
    ).toBeUndefined();
  });

  it('auto: pairs bare OIP bodies by OIP id and bare v1 bodies by record key', () => {
    const decoder = createDecoder('prediction', { model: 'fallback' }, MAX_BYTES);
    decoder.decode(record({ value: OIP_REQUEST }), T0);
    const oip = only(decoder.decode(record({ value: OIP_RESPONSE }), T0));
    expect(oip).toStrictEqual(
      nativeTwin({
        model: 'fraud',
        version: '3',
        id: 'r1',
        timestamp: T0,
        features: { input0_0: 1.5, input0_1: 2.25, input0_2: 3 },
        prediction: '1',
        scores: { '0': 0.25, '1': 0.75 },
      }),
    );
    decoder.decode(record({ key: 'k9', value: { instances: [[4, 5]] } }), T0);
    const v1 = only(decoder.decode(record({ key: 'k9', value: { predictions: [7.5] } }), T0));
    expect(v1).toStrictEqual(
      nativeTwin({
        model: 'fallback',
        id: 'k9',
        timestamp: T0,
        features: { instances_0: 4, instances_1: 5 },
        prediction: 7.5,
      }),
    );
    expect(decoder.decode(record({ value: { instances: [[1]] } }), T0).rejection).toMatchObject({
      code: 'missing_field',
      path: '$.id',
    });
  });

  it('pinned: rejects records of other formats, naming the pin and what was seen', () => {
    const native = createDecoder('prediction', { inputFormat: 'native' }, MAX_BYTES);
    const r1 = native.decode(ceRecord(), T0).rejection;
    expect(r1).toMatchObject({ code: 'unsupported_format', path: '$' });
    expect(r1?.message).toContain('pinned to inputFormat "native"');
    expect(r1?.message).toContain('a CloudEvent (ce_* record headers)');
    expect(only(native.decode(record({ value: NATIVE }), T0)).id).toBe('n1');

    const ce = createDecoder('prediction', { inputFormat: 'cloudevents' }, MAX_BYTES);
    expect(ce.decode(record({ value: NATIVE }), T0).rejection?.message).toContain(
      'a native driftguard event',
    );
    expect(ce.decode(record({ value: OIP_REQUEST }), T0).rejection?.message).toContain(
      'bare Open Inference Protocol',
    );
    expect(ce.decode(record({ value: '{oops' }), T0).rejection?.code).toBe('not_json');
    expect(ce.decode(ceRecord(), T0).held).toBe(true);

    const seldon = createDecoder('prediction', { inputFormat: 'seldon' }, MAX_BYTES);
    const r2 = seldon.decode(
      record({ topic: 'seldon.prod.pipeline.p.inputs', value: OIP_REQUEST }),
      T0,
    ).rejection;
    expect(r2?.message).toContain('seldon.<namespace>.model.<name>.inputs|outputs');

    const oip = createDecoder('prediction', { inputFormat: 'oip' }, MAX_BYTES);
    expect(oip.decode(record({ key: 'a', value: { instances: [[1]] } }), T0).rejection?.message).toContain(
      'KServe v1',
    );
    expect(oip.decode(record({ value: OIP_REQUEST }), T0).held).toBe(true);
  });

  it('outcome topics take native outcomes only', () => {
    const outcomes = createDecoder('outcome', {}, MAX_BYTES);
    expect(
      outcomes.decode(record({ value: { model: 'fraud', id: 'n1', label: 1 } }), T0).outcomes,
    ).toHaveLength(1);
    expect(outcomes.decode(ceRecord(), T0).rejection?.message).toContain(
      'outcome topics take native outcome events only',
    );
    expect(() => createDecoder('outcome', { inputFormat: 'seldon' }, MAX_BYTES)).toThrow(DriftguardError);
  });
});

describe('malformed OIP JSON tensors', () => {
  const decoder = createDecoder('prediction', {}, MAX_BYTES);

  it.each([
    [
      'shape × data length',
      [{ name: 'a', shape: [2, 2], datatype: 'FP32', data: [1, 2, 3] }],
      'wrong_type',
      '$.inputs[0].data',
    ],
    [
      'unknown datatype',
      [{ name: 'a', shape: [1], datatype: 'FLOAT', data: [1] }],
      'unsupported_format',
      '$.inputs[0].datatype',
    ],
    [
      'non-finite number (1e999)',
      [{ name: 'a', shape: [1], datatype: 'FP64', data: ['__INF__'] }],
      'non_finite_number',
      '$.inputs[0].data[0]',
    ],
    [
      'string in a numeric tensor',
      [{ name: 'a', shape: [1], datatype: 'FP32', data: ['1'] }],
      'wrong_type',
      '$.inputs[0].data[0]',
    ],
    [
      'fraction in an integer tensor',
      [{ name: 'a', shape: [1], datatype: 'INT32', data: [1.5] }],
      'wrong_type',
      '$.inputs[0].data[0]',
    ],
    [
      'number in a BYTES tensor',
      [{ name: 'a', shape: [1], datatype: 'BYTES', data: [1] }],
      'wrong_type',
      '$.inputs[0].data[0]',
    ],
    [
      'negative dimension',
      [{ name: 'a', shape: [-1], datatype: 'FP32', data: [1] }],
      'wrong_type',
      '$.inputs[0].shape[0]',
    ],
    ['missing name', [{ shape: [1], datatype: 'FP32', data: [1] }], 'missing_field', '$.inputs[0].name'],
    ['missing data', [{ name: 'a', shape: [1], datatype: 'FP32' }], 'missing_field', '$.inputs[0].data'],
    ['tensor not an object', [3], 'not_object', '$.inputs[0]'],
    ['no tensors', [], 'missing_field', '$.inputs'],
    [
      'batch sizes disagree',
      [
        { name: 'a', shape: [2], datatype: 'FP32', data: [1, 2] },
        { name: 'b', shape: [1], datatype: 'FP32', data: [1] },
      ],
      'wrong_type',
      '$.inputs[1]',
    ],
  ])('%s', (_name, inputs, code, path) => {
    // JSON cannot spell Infinity, but 1e999 parses to it: splice it in as raw text.
    const text = JSON.stringify({ inputs }).replace('"__INF__"', '1e999');
    const out = decoder.decode(record({ key: 'x', value: text }), T0).rejection;
    expect(out).toMatchObject({ code, path });
  });

  it('names the config to fix when a mapping has the wrong number of columns', () => {
    const mapped = createDecoder('prediction', { models: { m: { inputs: { a: ['only-one'] } } } }, MAX_BYTES);
    mapped.decode(
      record({ key: 'x', value: { inputs: [{ name: 'a', shape: [1, 2], datatype: 'FP32', data: [1, 2] }] } }),
      T0,
    );
    const out = mapped.decode(
      record({
        key: 'x',
        value: { model_name: 'm', outputs: [{ name: 'y', shape: [1], datatype: 'FP32', data: [1] }] },
      }),
      T0,
    );
    expect(out.rejection?.message).toContain('fix decoders.models.m.inputs.a');
  });

  it('refuses an empty batch and an over-wide tensor when the pair is joined', () => {
    const pair = (id: string, inputs: unknown, outputs: unknown) => {
      const d = createDecoder('prediction', { model: 'm' }, MAX_BYTES);
      d.decode(record({ key: id, value: { inputs } }), T0);
      return d.decode(record({ key: id, value: { outputs } }), T0).rejection;
    };
    expect(
      pair(
        'z',
        [{ name: 'a', shape: [0, 2], datatype: 'FP32', data: [] }],
        [{ name: 'y', shape: [0], datatype: 'FP32', data: [] }],
      ),
    ).toMatchObject({ code: 'missing_field', message: expect.stringContaining('no rows') as string });
    const wide = new Array<number>(2_001).fill(0);
    expect(
      pair(
        'w',
        [{ name: 'img', shape: [1, 2_001], datatype: 'UINT8', data: wide }],
        [{ name: 'y', shape: [1], datatype: 'FP32', data: [1] }],
      ),
    ).toMatchObject({ code: 'oversized' });
  });
});
