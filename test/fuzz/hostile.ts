import fc from 'fast-check';
import { MAX_TIMESTAMP_MS } from '../../src/events/limits.js';
import type { InputRecord } from '../../src/ingest/record.js';

/**
 * Generators of hostile input for every decoder: strings with lone surrogates, NUL, control
 * characters, BOMs, right-to-left marks and 100k-character names; bytes that are not UTF-8; JSON
 * nested deep or spread wide; extreme numbers and timestamps; CloudEvents headers and Seldon
 * topics. Shared by the fuzz tests (modest runs) and scripts/fuzz-decoders.ts (10^5 runs).
 */

export const MAX_EVENT_BYTES = 1_048_576;
export const RECORD_MS = 1_795_399_200_000;

/** Strings a producer should not send, and some it may. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  {
    weight: 3,
    arbitrary: fc
      .array(
        fc.oneof(
          fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), // lone surrogates
          fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), // C0 controls, NUL
          fc.constantFrom(
            '\u007f',
            '\ufeff', // BOM
            '\u202e', // RIGHT-TO-LEFT OVERRIDE
            '\u200f', // RIGHT-TO-LEFT MARK
            '\u0627\u0644\u0639\u0631\u0628\u064a\u0629', // Arabic
            '\ud83d\ude00', // a valid pair
            'e\u0301', // combining accent
            '"',
            '\\',
            '/',
            '\u2028',
            '\uffff',
          ),
          fc.string({ maxLength: 3 }),
        ),
        { maxLength: 6 },
      )
      .map((parts) => parts.join('')),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'x'.repeat(100_000),
      'é'.repeat(100_000),
      '\ud800'.repeat(1_000),
      '..',
      '.',
      '-rf',
      '',
      ' ',
      '__proto__',
      'constructor',
      'toJSON',
    ),
  },
);

/** Numbers at and beyond the edges of what JSON and the store hold. */
export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(
    0,
    -0,
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    Number.MIN_VALUE,
    Number.MAX_SAFE_INTEGER + 2,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    1e21,
    2 ** 64,
  ),
);

/** Event times: valid, at the store's edges, beyond them, and not times at all. */
export const hostileTimestamp: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: 0, max: MAX_TIMESTAMP_MS }),
  fc.constantFrom(
    -1,
    0,
    MAX_TIMESTAMP_MS,
    MAX_TIMESTAMP_MS + 1,
    253_402_300_799_999,
    8.64e15,
    1e20,
    1.5,
    Number.NaN,
    '2106-02-06T23:59:59.999Z',
    '2106-02-07T00:00:00Z',
    '2106-02-07T06:28:15.999Z',
    '2500-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '0000-01-01T00:00:00Z',
    '1969-12-31T23:59:59Z',
    '+275760-09-13T00:00:00Z',
    '2026-02-30T00:00:00Z',
    '2026-11-23T02:00:00+99:99',
    'yesterday',
    null,
  ),
  fc.date({ min: new Date(-1e14), max: new Date(8.64e15), noInvalidDate: true }).map((d) => d.toISOString()),
);

/** `depth` nested arrays (or objects) around a leaf, built without recursion. */
export function nested(depth: number, objects = false, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = objects ? { a: value } : [value];
  return value;
}

/** Values of unknown fields: anything JSON holds, deep and wide included. */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 30, arbitrary: fc.constant(undefined) },
  { weight: 8, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(60, 63, 64, 65, 100, 1_000, 50_000)
      .chain((d) => fc.boolean().map((o) => nested(d, o))),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 1, max: 5_000 })
      .map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))),
  },
  { weight: 1, arbitrary: fc.dictionary(hostileString, hostileString, { maxKeys: 4 }) },
);

const featureValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileNumber },
  { weight: 3, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [1], { a: 1 }) },
);

/** Mostly valid, sometimes hostile: `weight` parts of `good` to one of `bad`. */
function mostly<T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>, weight = 4): fc.Arbitrary<T> {
  return fc.oneof({ weight, arbitrary: good }, { weight: 1, arbitrary: bad });
}

const plainName = fc.stringMatching(/^[a-z][a-z0-9_]{0,7}$/);
const plainTimestamp: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }),
  fc.constant(undefined),
);

/** A native prediction: plausible in the main, with hostile values and fields mixed in. */
export const hostilePrediction: fc.Arbitrary<Record<string, unknown>> = fc
  .record(
    {
      model: mostly(fc.constantFrom('fraud', 'm', 'model_1', 'a.b-c'), hostileString),
      version: mostly(fc.constantFrom('1', 'v2', undefined), fc.oneof(hostileString, hostileNumber), 2),
      id: mostly(fc.string({ minLength: 1, maxLength: 10 }), fc.oneof(hostileString, hostileNumber), 2),
      timestamp: mostly(plainTimestamp, hostileTimestamp, 2),
      features: mostly<unknown>(
        fc.dictionary(
          mostly(plainName, hostileString),
          mostly(
            fc.oneof(
              fc.double({ noNaN: true, noDefaultInfinity: true }),
              fc.string({ maxLength: 6 }),
              fc.constant(null),
            ),
            featureValue,
          ),
          { maxKeys: 8 },
        ),
        fc.constantFrom(null, [], 'x', 7),
        6,
      ),
      prediction: mostly<unknown>(
        fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom('ok', 'fraud')),
        fc.oneof(hostileString, hostileNumber, fc.constantFrom(null, true, {}, [])),
        3,
      ),
      scores: mostly(
        fc.dictionary(plainName, fc.double({ min: 0, max: 1, noNaN: true }), { maxKeys: 3 }),
        fc.oneof(
          hostileNumber,
          fc.dictionary(hostileString, hostileNumber, { maxKeys: 4 }),
          fc.constantFrom(null, 'x', [0.5]),
        ),
        2,
      ),
      tenant: hostileJson,
      extra_e: hostileJson,
    },
    { requiredKeys: ['model', 'id'] },
  )
  .map((event) => Object.fromEntries(Object.entries(event).filter(([, v]) => v !== undefined)));

export const hostileOutcome: fc.Arbitrary<Record<string, unknown>> = fc
  .record(
    {
      model: mostly(fc.constantFrom('fraud', 'm'), hostileString),
      id: mostly(fc.string({ minLength: 1, maxLength: 10 }), fc.oneof(hostileString, hostileNumber), 2),
      timestamp: mostly(plainTimestamp, hostileTimestamp, 2),
      label: mostly(
        fc.oneof(fc.constantFrom('ok', 'fraud', 1, 0)),
        fc.oneof(hostileString, hostileNumber, fc.constantFrom(null, true, {}, [])),
        2,
      ),
      note: hostileJson,
    },
    { requiredKeys: ['model', 'id', 'label'] },
  )
  .map((event) => Object.fromEntries(Object.entries(event).filter(([, v]) => v !== undefined)));

/** Bytes that are not UTF-8, or not quite JSON, spliced into a body. */
const INVALID_BYTES: readonly number[][] = [
  [0xff],
  [0xc0, 0x80], // overlong NUL
  [0xed, 0xa0, 0x80], // an encoded surrogate
  [0xe2, 0x82], // truncated
  [0xf4, 0x90, 0x80, 0x80], // beyond U+10FFFF
  [0x80],
];

/** A JSON text mangled at the byte level: invalid UTF-8, a BOM, truncation, deep brackets. */
export function mangled(text: fc.Arbitrary<string>): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 6, arbitrary: text.map((t) => Buffer.from(t, 'utf8')) },
    {
      weight: 1,
      arbitrary: fc.tuple(text, fc.nat(), fc.constantFrom(...INVALID_BYTES)).map(([t, at, bad]) => {
        const bytes = Buffer.from(t, 'utf8');
        const cut = bytes.length === 0 ? 0 : at % bytes.length;
        return Buffer.concat([bytes.subarray(0, cut), Buffer.from(bad), bytes.subarray(cut)]);
      }),
    },
    {
      weight: 1,
      arbitrary: text.map((t) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(t)])),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(text, fc.nat()).map(([t, at]) => Buffer.from(t).subarray(0, at % (t.length + 1))),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(10, 64, 65, 1_000, 100_000)
        .map((n) => Buffer.from(`${'['.repeat(n)}${']'.repeat(n)}`)),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
  );
}

/** JSON text of a value; values JSON.stringify cannot write (too deep) become deep text instead. */
export function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
  }
}

const CE_TYPES = [
  'org.kubeflow.serving.inference.request',
  'org.kubeflow.serving.inference.response',
  'com.example.other',
];

/** Binary-mode CloudEvents headers, with hostile attribute values (some as invalid UTF-8 bytes). */
export const ceHeaders: fc.Arbitrary<Record<string, string | Buffer>> = fc
  .record(
    {
      ce_specversion: fc.oneof(fc.constant('1.0'), hostileString),
      ce_type: fc.oneof(fc.constantFrom(...CE_TYPES), hostileString),
      ce_id: fc.oneof(fc.constantFrom('ev-1', 'ev-2'), hostileString),
      ce_source: hostileString,
      ce_time: hostileTimestamp.map((t) => String(t)),
      ce_inferenceservicename: fc.oneof(fc.constantFrom('fraud', '..'), hostileString),
      ce_namespace: hostileString,
      ce_component: hostileString,
      'content-type': fc.constantFrom(
        'application/json',
        'application/protobuf',
        'text/plain',
        '',
        'application/cloudevents+json',
      ),
    },
    { requiredKeys: ['ce_specversion', 'ce_type'] },
  )
  .chain((headers) =>
    fc.constantFrom(...Object.keys(headers), '').chain((name) =>
      fc.constantFrom(...INVALID_BYTES).map((bad) => {
        // Sometimes one header is bytes that are not UTF-8.
        if (name === '' || name === 'ce_specversion') return headers;
        return { ...headers, [name]: Buffer.from(bad) };
      }),
    ),
  );

const oipBody: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({
    id: hostileString,
    model_name: fc.oneof(fc.constant('fraud'), hostileString),
    inputs: fc.array(
      fc.record({
        name: fc.oneof(fc.constant('input0'), hostileString),
        shape: fc.oneof(fc.constant([1, 2]), fc.array(fc.integer({ min: -1, max: 3 }), { maxLength: 3 })),
        datatype: fc.constantFrom('FP32', 'INT64', 'BYTES', 'BOOL', 'FP16', 'XX'),
        data: fc.oneof(
          fc.array(hostileNumber, { maxLength: 4 }),
          fc.array(hostileString, { maxLength: 2 }),
          fc.constant(nested(70)),
        ),
      }),
      { maxLength: 2 },
    ),
  }),
  fc.record({
    id: hostileString,
    model_name: fc.oneof(fc.constant('fraud'), hostileString),
    outputs: fc.array(
      fc.record({
        name: fc.oneof(fc.constant('output0'), hostileString),
        shape: fc.constant([1, 2]),
        datatype: fc.constantFrom('FP32', 'BYTES'),
        data: fc.array(fc.oneof(hostileNumber, hostileString), { maxLength: 2 }),
      }),
      { maxLength: 2 },
    ),
  }),
  fc.record({ instances: fc.array(fc.array(hostileNumber, { maxLength: 3 }), { maxLength: 2 }) }),
  fc.record({ predictions: fc.array(fc.oneof(hostileNumber, hostileString), { maxLength: 2 }) }),
);

/** A Kafka record for a prediction topic: native, CloudEvents (binary or structured), OIP or junk. */
export const hostilePredictionRecord: fc.Arbitrary<InputRecord> = fc
  .tuple(
    fc.oneof(
      {
        weight: 4,
        arbitrary: mangled(hostilePrediction.map(jsonText)).map((value) => ({ value, headers: {} })),
      },
      {
        weight: 2,
        arbitrary: fc
          .tuple(ceHeaders, mangled(oipBody.map(jsonText)))
          .map(([headers, value]) => ({ value, headers })),
      },
      {
        weight: 1,
        arbitrary: fc
          .record({
            specversion: fc.oneof(fc.constant('1.0'), hostileString),
            type: fc.constantFrom(...CE_TYPES),
            id: hostileString,
            source: hostileString,
            time: hostileTimestamp,
            inferenceservicename: hostileString,
            data: oipBody,
          })
          .map((event) => ({
            value: Buffer.from(jsonText(event)),
            headers: { 'content-type': 'application/cloudevents+json' },
          })),
      },
      { weight: 1, arbitrary: mangled(oipBody.map(jsonText)).map((value) => ({ value, headers: {} })) },
      { weight: 1, arbitrary: fc.constant({ value: null, headers: {} }) },
    ),
    fc.oneof(
      { weight: 6, arbitrary: fc.constant(RECORD_MS) },
      { weight: 1, arbitrary: fc.constantFrom(-1, 0, MAX_TIMESTAMP_MS + 1, Number.NaN) },
    ),
    fc.nat({ max: 1_000_000 }),
  )
  .map(([{ value, headers }, timestampMs, offset]) => ({
    topic: 'predictions',
    partition: 0,
    offset: String(offset),
    key: null,
    value,
    headers,
    timestampMs,
  }));

export const hostileOutcomeRecord: fc.Arbitrary<InputRecord> = fc
  .tuple(mangled(hostileOutcome.map(jsonText)), fc.nat({ max: 1_000_000 }))
  .map(([value, offset]) => ({
    topic: 'outcomes',
    partition: 0,
    offset: String(offset),
    key: null,
    value,
    headers: {},
    timestampMs: RECORD_MS,
  }));

/** Seldon model topics: protobuf bytes (random, so mostly broken) or OIP JSON. */
export const hostileSeldonRecord: fc.Arbitrary<InputRecord> = fc
  .tuple(
    fc.constantFrom(
      'seldon.prod.model.iris.inputs',
      'seldon.prod.model.iris.outputs',
      'seldon.prod.model.....inputs',
    ),
    fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      mangled(oipBody.map(jsonText)),
    ),
    fc.oneof(hostileString, fc.constant('req-1')),
    fc.constantFrom({}, { 'seldon-infer-type': 'json' }, { 'seldon-infer-type': 'proto' }),
  )
  .map(([topic, value, key, headers]) => ({
    topic,
    partition: 0,
    offset: '1',
    key: Buffer.from(key),
    value,
    headers,
    timestampMs: RECORD_MS,
  }));

/** HTTP bodies for /v1/predictions: arrays or NDJSON of hostile events, mangled at the byte level. */
export const hostileHttpBody: fc.Arbitrary<Buffer> = mangled(
  fc.oneof(
    fc.array(hostilePrediction.map(jsonText), { maxLength: 5 }).map((lines) => lines.join('\n')),
    fc.array(hostilePrediction, { maxLength: 5 }).map(jsonText),
    fc.constantFrom('[', '[1,', '[]', '[[[[', '{"a":', '\n\n\n'),
  ),
);

/**
 * A KServe request and its response on Kafka (binary mode, same ce_id), well formed in shape
 * with hostile ids, model names, times, attribute values, feature values and class scores.
 */
export const hostileCloudEventPair: fc.Arbitrary<[InputRecord, InputRecord]> = fc
  .record({
    id: mostly(fc.constantFrom('ev-1', 'req-42'), hostileString, 3),
    model: mostly(fc.constantFrom('fraud', 'iris'), hostileString, 3),
    time: mostly(
      fc.constant(undefined),
      hostileTimestamp.map((t) => String(t)),
      2,
    ),
    namespace: mostly(fc.constant('prod'), hostileString, 3),
    rows: fc.integer({ min: 1, max: 3 }),
    values: fc.array(mostly(fc.double({ noNaN: true, noDefaultInfinity: true }), hostileNumber, 6), {
      minLength: 6,
      maxLength: 6,
    }),
    labels: fc.array(mostly(fc.constantFrom('a', 'b'), hostileString, 3), { minLength: 3, maxLength: 3 }),
  })
  .map(({ id, model, time, namespace, rows, values, labels }) => {
    const headers = (side: string): Record<string, string> => ({
      ce_specversion: '1.0',
      ce_id: id,
      ce_type: `org.kubeflow.serving.inference.${side}`,
      ce_source: 'fuzz',
      ce_inferenceservicename: model,
      ce_namespace: namespace,
      'content-type': 'application/json',
      ...(time === undefined ? {} : { ce_time: time }),
    });
    const request = {
      id,
      inputs: [{ name: 'input0', shape: [rows, 2], datatype: 'FP64', data: values.slice(0, rows * 2) }],
    };
    const response = {
      id,
      model_name: model,
      outputs: [{ name: 'label', shape: [rows, 1], datatype: 'BYTES', data: labels.slice(0, rows) }],
    };
    const record = (side: string, body: unknown, offset: string): InputRecord => ({
      topic: 'inference-logs',
      partition: 0,
      offset,
      key: null,
      value: Buffer.from(jsonText(body)),
      headers: headers(side),
      timestampMs: RECORD_MS,
    });
    return [record('request', request, '1'), record('response', response, '2')];
  });
