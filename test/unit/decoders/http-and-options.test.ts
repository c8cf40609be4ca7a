import { describe, expect, it } from 'vitest';
import {
  compileDecoderOptions,
  createDecoder,
  createDecoderRuntime,
  createHttpCloudEventIngest,
  decodeHttpCloudEvent,
} from '../../../src/decoders/index.js';
import { DriftguardError } from '../../../kernel/errors.js';
import { ceHeaders, MAX_BYTES, nativeTwin, OIP_REQUEST, OIP_RESPONSE, record, T0 } from './fixtures.js';

const httpHeaders = (id: string, side: 'request' | 'response') => ({
  'Content-Type': 'application/json',
  'ce-specversion': '1.0',
  'ce-id': id,
  'ce-type': `org.kubeflow.serving.inference.${side}`,
  'ce-source': 'http://localhost:9081/',
  'ce-inferenceservicename': 'fraud',
  'ce-namespace': 'prod',
});

describe('POST /v1/cloudevents helpers', () => {
  it('pairs binary-mode HTTP events into the same event as a native one', () => {
    const runtime = createDecoderRuntime();
    const http = createHttpCloudEventIngest(runtime, MAX_BYTES);
    expect(http.submit(httpHeaders('h1', 'request'), JSON.stringify(OIP_REQUEST), T0)).toEqual({
      status: 'held',
    });
    const result = http.submit(
      httpHeaders('h1', 'response'),
      Buffer.from(JSON.stringify(OIP_RESPONSE)),
      T0 + 9,
    );
    expect(result).toStrictEqual({
      status: 'paired',
      predictions: [
        nativeTwin({
          model: 'fraud',
          version: '3',
          id: 'h1',
          timestamp: T0,
          features: { input0_0: 1.5, input0_1: 2.25, input0_2: 3 },
          prediction: '1',
          scores: { '0': 0.25, '1': 0.75 },
          namespace: 'prod',
        }),
      ],
    });
  });

  it('accepts structured mode and rejects non-CloudEvents and batches', () => {
    const runtime = createDecoderRuntime();
    const structured = {
      specversion: '1.0',
      id: 'h2',
      type: 'org.kubeflow.serving.inference.request',
      source: 'x',
      inferenceservicename: 'fraud',
      data: OIP_REQUEST,
    };
    const half = decodeHttpCloudEvent(
      { 'content-type': 'application/cloudevents+json; charset=utf-8' },
      JSON.stringify(structured),
      T0,
      runtime,
      MAX_BYTES,
    );
    expect(half).toMatchObject({ ok: true, value: { side: 'request', eventId: 'h2', model: 'fraud' } });
    expect(
      decodeHttpCloudEvent({ 'content-type': 'application/json' }, '{}', T0, runtime, MAX_BYTES),
    ).toMatchObject({
      ok: false,
      rejection: { code: 'missing_field', path: 'header ce-specversion' },
    });
    expect(
      decodeHttpCloudEvent(
        { 'content-type': 'application/cloudevents-batch+json' },
        '[]',
        T0,
        runtime,
        MAX_BYTES,
      ),
    ).toMatchObject({ ok: false, rejection: { code: 'unsupported_format' } });
    expect(
      decodeHttpCloudEvent(httpHeaders('big', 'request'), 'x'.repeat(100), T0, runtime, 50),
    ).toMatchObject({
      ok: false,
      rejection: { code: 'oversized' },
    });
  });

  it('keeps HTTP halves apart from Kafka halves, and counts unanswered ones', () => {
    const runtime = createDecoderRuntime({ pairTimeoutMs: 1_000 });
    const http = createHttpCloudEventIngest(runtime, MAX_BYTES);
    const kafka = createDecoder('prediction', {}, MAX_BYTES, runtime);
    expect(http.submit(httpHeaders('same', 'request'), JSON.stringify(OIP_REQUEST), T0).status).toBe('held');
    // The Kafka response with the same id does not complete the HTTP request: its offset would have no owner.
    expect(
      kafka.decode(record({ value: OIP_RESPONSE, headers: ceHeaders('same', 'response') }), T0).held,
    ).toBe(true);
    const expired = kafka.expire?.(T0 + 1_000) ?? [];
    expect(expired).toHaveLength(1); // only the Kafka record has something to dead-letter
    expect(runtime.unpairedTotal()).toBe(2);
  });

  it('expires HTTP halves by itself and reports each unpaired half to the hook', () => {
    const seen: unknown[] = [];
    const runtime = createDecoderRuntime(
      { pairTimeoutMs: 1_000, maxHeld: 1 },
      { onUnpaired: (info) => seen.push(info) },
    );
    const http = createHttpCloudEventIngest(runtime, MAX_BYTES);
    http.submit(httpHeaders('a', 'request'), JSON.stringify(OIP_REQUEST), T0);
    http.submit(httpHeaders('b', 'response'), JSON.stringify(OIP_RESPONSE), T0 + 1);
    http.expire(T0 + 1_001);
    expect(runtime.heldCount()).toBe(0);
    expect(seen).toEqual([
      { model: 'fraud', side: 'request', cause: 'overflow' },
      { model: 'fraud', side: 'response', cause: 'timeout' },
    ]);
  });
});

describe('decoder options', () => {
  it('has documented defaults', () => {
    const o = compileDecoderOptions({});
    expect(o).toMatchObject({
      inputFormat: 'auto',
      pairTimeoutMs: 60_000,
      maxHeld: 100_000,
      modelNameAttribute: 'inferenceservicename',
      seldonTopicPrefix: 'seldon',
    });
    expect(o.models.size).toBe(0);
    expect(Object.isFrozen(o)).toBe(true);
  });

  it('fails at boot with the field at fault', () => {
    expect(() => compileDecoderOptions({ inputFormat: 'avro' })).toThrow(/inputFormat/);
    expect(() => compileDecoderOptions({ pairTimeoutMs: -1 })).toThrow(/pairTimeoutMs/);
    expect(() => compileDecoderOptions({ bogus: 1 })).toThrow(DriftguardError);
    expect(() => compileDecoderOptions({ models: { m: { inputs: { t: ['a', 'a'] } } } })).toThrow(
      /decoders\.models\.m\.inputs\.t lists "a" twice/,
    );
  });

  it('lets config pick the prediction and scores tensors explicitly', () => {
    const decoder = createDecoder(
      'prediction',
      { models: { fraud: { predictionOutput: 'score', scoresOutput: 'proba' } } },
      MAX_BYTES,
    );
    decoder.decode(record({ value: OIP_REQUEST, headers: ceHeaders('o', 'request') }), T0);
    const response = {
      outputs: [
        { name: 'label', shape: [1, 1], datatype: 'BYTES', data: ['x'] },
        { name: 'score', shape: [1, 1], datatype: 'FP32', data: [0.5] },
        { name: 'proba', shape: [1, 2], datatype: 'FP32', data: [0.5, 0.5] },
      ],
    };
    const out = decoder.decode(record({ value: response, headers: ceHeaders('o', 'response') }), T0);
    expect(out.predictions[0]).toMatchObject({ prediction: 0.5, scores: { '0': 0.5, '1': 0.5 } });

    const missing = createDecoder(
      'prediction',
      { models: { fraud: { predictionOutput: 'nope' } } },
      MAX_BYTES,
    );
    missing.decode(record({ value: OIP_REQUEST, headers: ceHeaders('p', 'request') }), T0);
    const bad = missing.decode(record({ value: OIP_RESPONSE, headers: ceHeaders('p', 'response') }), T0);
    expect(bad.rejection).toMatchObject({ code: 'missing_field', path: '$.outputs' });
  });
});
