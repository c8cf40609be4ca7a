import { describe, expect, it } from 'vitest';
import { createDecoder } from '../../../src/decoders/index.js';
import { ceHeaders, MAX_BYTES, nativeTwin, only, OIP_REQUEST, OIP_RESPONSE, record, T0 } from './fixtures.js';

const CONTEXT = { namespace: 'prod', endpoint: 'default', component: 'predictor' };

describe('KServe CloudEvents on Kafka', () => {
  it('pairs a binary-mode OIP request and response into the same event as a native one', () => {
    const decoder = createDecoder('prediction', {}, MAX_BYTES);
    const req = decoder.decode(record({ value: OIP_REQUEST, headers: ceHeaders('ev-1', 'request') }), T0);
    expect(req).toEqual({ predictions: [], outcomes: [], held: true });
    const resRecord = record({
      value: OIP_RESPONSE,
      headers: ceHeaders('ev-1', 'response'),
      timestampMs: T0 + 5,
    });
    const out = decoder.decode(resRecord, T0 + 5);
    expect(only(out)).toStrictEqual(
      nativeTwin({
        model: 'fraud',
        version: '3',
        id: 'ev-1',
        timestamp: T0,
        features: { input0_0: 1.5, input0_1: 2.25, input0_2: 3 },
        prediction: '1',
        scores: { '0': 0.25, '1': 0.75 },
        ...CONTEXT,
      }),
    );
    expect(out.released).toHaveLength(1);
    expect(decoder.heldCount?.()).toBe(0);
  });

  it('pairs whichever side arrives first (response before request)', () => {
    const decoder = createDecoder('prediction', {}, MAX_BYTES);
    const resRecord = record({ value: OIP_RESPONSE, headers: ceHeaders('ev-2', 'response'), offset: '10' });
    expect(decoder.decode(resRecord, T0).held).toBe(true);
    const reqRecord = record({
      value: OIP_REQUEST,
      headers: ceHeaders('ev-2', 'request', { ce_time: '2026-11-23T01:59:59.500Z' }),
      offset: '11',
    });
    const out = decoder.decode(reqRecord, T0 + 1);
    const event = only(out);
    // Event time comes from the request's ce_time, not from the record that completed the pair.
    expect(event.timestampMs).toBe(T0 - 500);
    expect(event.id).toBe('ev-2');
    expect(out.released).toEqual([{ topic: 'predictions', partition: 0, offset: '10' }]);
  });

  it('decodes structured mode with data and with data_base64', () => {
    const decoder = createDecoder('prediction', {}, MAX_BYTES);
    const envelope = (id: string, side: 'request' | 'response') => ({
      specversion: '1.0',
      id,
      source: 'http://localhost:9081/',
      type: `org.kubeflow.serving.inference.${side}`,
      inferenceservicename: 'fraud',
      namespace: 'prod',
      endpoint: 'default',
      component: 'predictor',
      datacontenttype: 'application/json',
    });
    decoder.decode(record({ value: { ...envelope('s1', 'request'), data: OIP_REQUEST } }), T0);
    const b64 = Buffer.from(JSON.stringify(OIP_RESPONSE)).toString('base64');
    const out = decoder.decode(
      record({
        value: { ...envelope('s1', 'response'), data_base64: b64 },
        headers: { 'content-type': 'application/cloudevents+json' },
      }),
      T0,
    );
    expect(only(out)).toStrictEqual(
      nativeTwin({
        model: 'fraud',
        version: '3',
        id: 's1',
        timestamp: T0,
        features: { input0_0: 1.5, input0_1: 2.25, input0_2: 3 },
        prediction: '1',
        scores: { '0': 0.25, '1': 0.75 },
        ...CONTEXT,
      }),
    );
  });

  it('splits a batch of N rows into N predictions <id>:<row> with configured names', () => {
    const decoder = createDecoder(
      'prediction',
      {
        models: {
          fraud: { inputs: { input0: ['amount', 'age'] }, outputs: { output0: ['legit', 'fraud'] } },
        },
      },
      MAX_BYTES,
    );
    const request = {
      inputs: [
        {
          name: 'input0',
          shape: [3, 2],
          datatype: 'FP64',
          data: [
            [10, 30],
            [20, 40],
            [30, 50],
          ],
        },
      ],
    };
    const response = {
      outputs: [{ name: 'output0', shape: [3, 2], datatype: 'FP64', data: [0.9, 0.1, 0.2, 0.8, 0.5, 0.5] }],
    };
    decoder.decode(record({ value: request, headers: ceHeaders('b', 'request') }), T0);
    const out = decoder.decode(record({ value: response, headers: ceHeaders('b', 'response') }), T0);
    expect(out.predictions).toStrictEqual([
      nativeTwin({
        model: 'fraud',
        id: 'b:0',
        timestamp: T0,
        features: { amount: 10, age: 30 },
        prediction: 'legit',
        scores: { legit: 0.9, fraud: 0.1 },
        ...CONTEXT,
      }),
      nativeTwin({
        model: 'fraud',
        id: 'b:1',
        timestamp: T0,
        features: { amount: 20, age: 40 },
        prediction: 'fraud',
        scores: { legit: 0.2, fraud: 0.8 },
        ...CONTEXT,
      }),
      // A tie goes to the first class.
      nativeTwin({
        model: 'fraud',
        id: 'b:2',
        timestamp: T0,
        features: { amount: 30, age: 50 },
        prediction: 'legit',
        scores: { legit: 0.5, fraud: 0.5 },
        ...CONTEXT,
      }),
    ]);
  });

  it('takes a single-column output as the prediction and BYTES as labels', () => {
    const decoder = createDecoder('prediction', {}, MAX_BYTES);
    const request = {
      inputs: [
        { name: 'num', shape: [2, 1], datatype: 'INT64', data: [1, 2] },
        { name: 'cat', shape: [2], datatype: 'BYTES', data: ['red', 'blue'] },
        { name: 'flag', shape: [2, 1], datatype: 'BOOL', data: [true, false] },
      ],
    };
    const response = {
      outputs: [
        { name: 'label', shape: [2, 1], datatype: 'BYTES', data: ['cat', 'dog'] },
        { name: 'proba', shape: [2, 2], datatype: 'FP32', data: [0.75, 0.25, 0.5, 0.5] },
      ],
    };
    decoder.decode(record({ value: request, headers: ceHeaders('m', 'request') }), T0);
    const out = decoder.decode(record({ value: response, headers: ceHeaders('m', 'response') }), T0);
    expect(out.predictions[1]).toStrictEqual(
      nativeTwin({
        model: 'fraud',
        id: 'm:1',
        timestamp: T0,
        features: { num_0: 2, cat_0: 'blue', flag_0: false },
        prediction: 'dog',
        scores: { '0': 0.5, '1': 0.5 },
        ...CONTEXT,
      }),
    );
  });

  it('decodes KServe v1 bodies: array rows, object rows and scalar predictions', () => {
    const decoder = createDecoder('prediction', {}, MAX_BYTES);
    decoder.decode(
      record({
        value: {
          instances: [
            [1, 'a'],
            [2, 'b'],
          ],
        },
        headers: ceHeaders('v1a', 'request'),
      }),
      T0,
    );
    const arrays = decoder.decode(
      record({ value: { predictions: [0, 1] }, headers: ceHeaders('v1a', 'response') }),
      T0,
    );
    expect(arrays.predictions[0]).toStrictEqual(
      nativeTwin({
        model: 'fraud',
        id: 'v1a:0',
        timestamp: T0,
        features: { instances_0: 1, instances_1: 'a' },
        prediction: 0,
        ...CONTEXT,
      }),
    );
    decoder.decode(
      record({
        value: { instances: [{ amount: 5, country: 'FR', vip: null }] },
        headers: ceHeaders('v1o', 'request'),
      }),
      T0,
    );
    const objects = decoder.decode(
      record({ value: { predictions: [[0.25, 0.75]] }, headers: ceHeaders('v1o', 'response') }),
      T0,
    );
    expect(only(objects)).toStrictEqual(
      nativeTwin({
        model: 'fraud',
        id: 'v1o',
        timestamp: T0,
        features: { amount: 5, country: 'FR', vip: null },
        prediction: '1',
        scores: { '0': 0.25, '1': 0.75 },
        ...CONTEXT,
      }),
    );
  });

  it('falls back to the OIP model_name when the model attribute is absent, and says so when neither is there', () => {
    const decoder = createDecoder('prediction', { modelNameAttribute: 'isvc' }, MAX_BYTES);
    decoder.decode(record({ value: OIP_REQUEST, headers: ceHeaders('f1', 'request') }), T0);
    const out = decoder.decode(record({ value: OIP_RESPONSE, headers: ceHeaders('f1', 'response') }), T0);
    expect(only(out).model).toBe('fraud');

    decoder.decode(record({ value: OIP_REQUEST, headers: ceHeaders('f2', 'request') }), T0);
    const { model_name: _drop, ...anonymous } = OIP_RESPONSE;
    const missing = decoder.decode(record({ value: anonymous, headers: ceHeaders('f2', 'response') }), T0);
    expect(missing.rejection?.code).toBe('missing_field');
    expect(missing.rejection?.message).toContain('"isvc"');
    expect(missing.released).toHaveLength(1);
  });

  it('rejects malformed CloudEvents with code, path and message', () => {
    const decoder = createDecoder('prediction', {}, MAX_BYTES);
    const cases: Array<[Record<string, string>, unknown, string, string]> = [
      [
        ceHeaders('x', 'request', { ce_type: 'com.example.other' }),
        OIP_REQUEST,
        'unsupported_format',
        'header ce_type',
      ],
      [ceHeaders('', 'request'), OIP_REQUEST, 'missing_field', 'header ce_id'],
      [
        ceHeaders('x', 'request', { ce_specversion: '0.3' }),
        OIP_REQUEST,
        'unsupported_format',
        'header ce_specversion',
      ],
      [ceHeaders('x', 'request', { ce_time: 'yesterday' }), OIP_REQUEST, 'bad_timestamp', 'header ce_time'],
      [ceHeaders('x', 'request'), OIP_RESPONSE, 'wrong_type', '$'],
      [ceHeaders('x', 'request'), { hello: 1 }, 'unsupported_format', '$'],
      [ceHeaders('x', 'request'), '{"inputs": [', 'not_json', '$'],
    ];
    for (const [headers, value, code, path] of cases) {
      const out = decoder.decode(record({ value: value as object, headers }), T0);
      expect(out.rejection, JSON.stringify(headers)).toMatchObject({ code, path });
      expect(out.rejection?.message.length).toBeGreaterThan(10);
    }
    expect(decoder.heldCount?.()).toBe(0);
  });

  it('rejects a pair whose batch sizes disagree and releases the partner', () => {
    const decoder = createDecoder('prediction', {}, MAX_BYTES);
    decoder.decode(record({ value: OIP_REQUEST, headers: ceHeaders('n', 'request') }), T0);
    const response = { outputs: [{ name: 'o', shape: [2], datatype: 'FP32', data: [1, 0] }] };
    const out = decoder.decode(record({ value: response, headers: ceHeaders('n', 'response') }), T0);
    expect(out.rejection?.code).toBe('wrong_type');
    expect(out.rejection?.message).toMatch(/1 rows but its response has 2/);
    expect(out.released).toHaveLength(1);
  });
});
