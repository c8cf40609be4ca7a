import { describe, expect, it } from 'vitest';
import {
  checkTimestamp,
  parseJson,
  validateOutcome,
  validatePrediction,
  validatePredictionFully,
} from '../../../src/events/validate.js';

const NOW = 1_795_399_200_000;

/** `depth` nested arrays around 1, built without recursion. */
function deep(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('validatePrediction', () => {
  it('accepts the documented example and keeps unknown fields verbatim', () => {
    const result = validatePrediction(
      {
        model: 'fraud',
        version: '7',
        id: 'req-81f3',
        timestamp: '2026-11-23T02:00:00.123Z',
        features: { amount: 12.5, country: 'DE', age: null },
        prediction: 'fraud',
        scores: { fraud: 0.83, ok: 0.17 },
        tenant: 'acme',
      },
      NOW,
    );
    expect(result).toEqual({
      ok: true,
      value: {
        model: 'fraud',
        version: '7',
        id: 'req-81f3',
        timestampMs: Date.parse('2026-11-23T02:00:00.123Z'),
        features: { amount: 12.5, country: 'DE', age: null },
        prediction: 'fraud',
        scores: { fraud: 0.83, ok: 0.17 },
        extra: '{"tenant":"acme"}',
      },
    });
  });

  it('defaults the timestamp to the record time and accepts epoch milliseconds', () => {
    const defaulted = validatePrediction({ model: 'm', id: 'a' }, NOW);
    expect(defaulted.ok && defaulted.value.timestampMs).toBe(NOW);
    const epoch = validatePrediction({ model: 'm', id: 'a', timestamp: 1_700_000_000_123 }, NOW);
    expect(epoch.ok && epoch.value.timestampMs).toBe(1_700_000_000_123);
  });

  it('turns numeric ids and versions into text and booleans into categories', () => {
    const result = validatePrediction({ model: 'm', id: 42, version: 3, features: { vip: true } }, NOW);
    expect(result.ok && [result.value.id, result.value.version, result.value.features['vip']]).toEqual([
      '42',
      '3',
      'true',
    ]);
  });

  it.each([
    [[1, 2], 'not_object', '$'],
    [{ id: 'a' }, 'missing_field', '$.model'],
    [{ model: 'm' }, 'missing_field', '$.id'],
    [{ model: 'has space', id: 'a' }, 'bad_model_name', '$.model'],
    [{ model: 'x'.repeat(129), id: 'a' }, 'bad_model_name', '$.model'],
    [{ model: 'm', id: '' }, 'bad_id', '$.id'],
    [{ model: 'm', id: { a: 1 } }, 'wrong_type', '$.id'],
    [{ model: 'm', id: 'a', timestamp: '2026-11-23 02:00' }, 'bad_timestamp', '$.timestamp'],
    [{ model: 'm', id: 'a', timestamp: '2026-11-23T02:00:00' }, 'bad_timestamp', '$.timestamp'],
    [{ model: 'm', id: 'a', timestamp: -5 }, 'bad_timestamp', '$.timestamp'],
    [{ model: 'm', id: 'a', features: [1] }, 'wrong_type', '$.features'],
    [{ model: 'm', id: 'a', features: { f: Infinity } }, 'non_finite_number', '$.features["f"]'],
    [{ model: 'm', id: 'a', features: { f: { nested: 1 } } }, 'wrong_type', '$.features["f"]'],
    [{ model: 'm', id: 'a', prediction: [1] }, 'wrong_type', '$.prediction'],
    [{ model: 'm', id: 'a', scores: { a: 'high' } }, 'wrong_type', '$.scores["a"]'],
    [{ model: 'm', id: 'a', scores: NaN }, 'non_finite_number', '$.scores'],
    // Names that are path specials or would read as options (issue 16, item 7).
    [{ model: '..', id: 'a' }, 'bad_model_name', '$.model'],
    [{ model: '.', id: 'a' }, 'bad_model_name', '$.model'],
    [{ model: '.hidden', id: 'a' }, 'bad_model_name', '$.model'],
    [{ model: '-rf', id: 'a' }, 'bad_model_name', '$.model'],
    // What the store cannot hold (issue 16, items 1 and 4).
    [{ model: 'm', id: 'a', timestamp: 4_294_944_000_000 }, 'bad_timestamp', '$.timestamp'],
    [{ model: 'm', id: 'a', timestamp: '2500-01-01T00:00:00Z' }, 'bad_timestamp', '$.timestamp'],
    [{ model: 'm', id: 'a', timestamp: '2106-02-07T00:00:00Z' }, 'bad_timestamp', '$.timestamp'],
    [{ model: 'm', id: 'a', timestamp: 253_402_300_799_999 }, 'bad_timestamp', '$.timestamp'],
    [{ model: 'm', id: 'a', features: { s: '\ud800x' } }, 'bad_text', '$.features["s"]'],
    [{ model: 'm', id: 'a', features: { s: 'x\udc00' } }, 'bad_text', '$.features["s"]'],
    [{ model: 'm', id: 'a', features: { '\ud800': 1 } }, 'bad_text', '$.features["\\ud800"]'],
    [{ model: 'm', id: 'a', features: { 'a\u0000b': 1 } }, 'bad_text', '$.features["a\\u0000b"]'],
    [{ model: 'm', id: 'a\nb' }, 'bad_text', '$.id'],
    [{ model: 'm', id: '\udfff' }, 'bad_text', '$.id'],
    [{ model: 'm', id: 'a', version: 'v\u0007' }, 'bad_text', '$.version'],
    [{ model: 'm', id: 'a', prediction: '\ud83d' }, 'bad_text', '$.prediction'],
    [{ model: 'm', id: 'a', scores: { 'c\u0001': 0.5 } }, 'bad_text', '$.scores["c\\u0001"]'],
    [{ model: 'm', id: 'a', extra: deep(64) }, 'too_deep', '$["extra"]'],
  ])('rejects %j with %s at %s', (input, code, path) => {
    const result = validatePrediction(input, NOW);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.rejection.code).toBe(code);
      expect(result.rejection.path).toBe(path);
      expect(result.rejection.message.length).toBeGreaterThan(10);
    }
  });
});

describe('text and times the store holds', () => {
  it('stores valid surrogate pairs, NUL and newlines in values, and times up to 2106', () => {
    const event = validatePrediction(
      {
        model: 'm',
        id: 'a',
        timestamp: '2106-02-06T23:59:59.999Z',
        features: { emoji: '\ud83d\ude00', nul: 'a\u0000b', lines: 'a\nb', '\ud83d\ude00': 1 },
        prediction: 'é\u0000',
      },
      NOW,
    );
    expect(event).toMatchObject({ ok: true, value: { timestampMs: 4_294_943_999_999 } });
  });

  it('rejects a record time the store cannot hold when the event has none, and names the fix', () => {
    const result = validatePrediction({ model: 'm', id: 'a' }, 4_294_944_000_000);
    expect(result).toMatchObject({ ok: false, rejection: { code: 'bad_timestamp', path: '$.timestamp' } });
    expect(!result.ok && result.rejection.message).toMatch(/send a timestamp/);
    expect(validateOutcome({ model: 'm', id: 'a', label: 1 }, -1)).toMatchObject({
      ok: false,
      rejection: { code: 'bad_timestamp' },
    });
  });

  it('keeps unknown fields nested up to the limit and refuses deeper ones without a stack overflow', () => {
    expect(validatePrediction({ model: 'm', id: 'a', extra: deep(62) }, NOW).ok).toBe(true);
    const result = validatePrediction({ model: 'm', id: 'a', extra: deep(50_000) }, NOW);
    expect(result).toMatchObject({ ok: false, rejection: { code: 'too_deep' } });
  });
});

describe('validateOutcome', () => {
  it('requires a label and accepts numbers or strings', () => {
    expect(validateOutcome({ model: 'm', id: 'a', label: 1.5 }, NOW)).toMatchObject({
      ok: true,
      value: { label: 1.5, timestampMs: NOW },
    });
    expect(validateOutcome({ model: 'm', id: 'a', label: 'fraud' }, NOW)).toMatchObject({
      ok: true,
      value: { label: 'fraud' },
    });
    expect(validateOutcome({ model: 'm', id: 'a' }, NOW)).toMatchObject({
      ok: false,
      rejection: { code: 'missing_field', path: '$.label' },
    });
  });
});

describe('parseJson and checkTimestamp', () => {
  it('rejects oversized input before parsing it', () => {
    expect(parseJson('{"a":1}', 3)).toMatchObject({ ok: false, rejection: { code: 'oversized' } });
    expect(parseJson('{', 100)).toMatchObject({ ok: false, rejection: { code: 'not_json' } });
    expect(parseJson('{"a":1}', 100)).toEqual({ ok: true, value: { a: 1 } });
  });

  it('refuses bytes that are not UTF-8 and nesting beyond the limit before parsing, and skips a BOM', () => {
    const invalid = parseJson(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), 100);
    expect(invalid).toMatchObject({ ok: false, rejection: { code: 'bad_text', path: '$' } });
    expect(!invalid.ok && invalid.rejection.message).toMatch(/byte 2 \(0xff\)/);
    // A 16 MB run of "[" is refused at its 65th byte, long before JSON.parse would see it.
    const brackets = Buffer.alloc(16 * 1024 * 1024, '[');
    expect(parseJson(brackets, 32 * 1024 * 1024)).toMatchObject({
      ok: false,
      rejection: { code: 'too_deep' },
    });
    expect(parseJson(`${'['.repeat(64)}${']'.repeat(64)}`, 1000).ok).toBe(true);
    expect(parseJson(`${'['.repeat(65)}${']'.repeat(65)}`, 1000).ok).toBe(false);
    // Brackets inside strings do not count.
    expect(parseJson(`{"a":"${'['.repeat(100)}"}`, 1000)).toEqual({
      ok: true,
      value: { a: '['.repeat(100) },
    });
    expect(parseJson(Buffer.from('\ufeff{"a":1}'), 100)).toEqual({ ok: true, value: { a: 1 } });
  });

  it('reads zone offsets', () => {
    expect(checkTimestamp('2026-11-23T03:00:00+01:00', 0)).toEqual({
      ok: true,
      value: Date.parse('2026-11-23T02:00:00Z'),
    });
  });
});

describe('validatePrediction fast path', () => {
  const base = { model: 'm', id: 'a', features: { x: 1, c: 'DE', n: null }, scores: { a: 0.4, b: 0.6 } };
  const cases: Array<[string, unknown]> = [
    ['the common event', base],
    ['the bare minimum', { model: 'm', id: 'a' }],
    [
      'nulls everywhere',
      { model: 'm', id: 'a', version: null, timestamp: null, features: null, prediction: null, scores: null },
    ],
    ['a numeric id and version', { ...base, id: 42, version: 3 }],
    ['a fractional timestamp', { ...base, timestamp: 1_795_399_200_000.7 }],
    ['an ISO timestamp', { ...base, timestamp: '2026-11-23T02:00:00.123Z' }],
    ['a boolean feature', { ...base, features: { flag: true, x: 2 } }],
    ['a boolean prediction', { ...base, prediction: false }],
    ['a numeric prediction and score', { ...base, prediction: 0.3, scores: 0.3 }],
    ['unknown fields', { ...base, tenant: 'acme', nested: { a: [1] } }],
    ['an unsafe numeric id', { ...base, id: 2 ** 60 }],
    ['an empty id', { ...base, id: '' }],
    ['a bad model name', { ...base, model: 'a b' }],
    ['a negative timestamp', { ...base, timestamp: -1 }],
    ['a non-finite feature', { ...base, features: { x: Infinity } }],
    ['an empty feature name', { ...base, features: { '': 1 } }],
    ['an object feature', { ...base, features: { x: {} } }],
    ['an array of features', { ...base, features: [1] }],
    ['a long category', { ...base, features: { c: 'x'.repeat(2_000) } }],
    ['a string score', { ...base, scores: { a: '0.4' } }],
    ['an array of scores', { ...base, scores: [0.4] }],
    ['an object prediction', { ...base, prediction: {} }],
    ['an object version', { ...base, version: {} }],
    ['a lone surrogate in a category', { ...base, features: { c: '\ud800' } }],
    ['a control character in a feature name', { ...base, features: { 'a\tb': 1 } }],
    ['a control character in an id', { ...base, id: 'a\u0000' }],
    ['a lone surrogate in a version', { ...base, version: '\udc00' }],
    ['a lone surrogate in a prediction', { ...base, prediction: '\udc00' }],
    ['a control character in a class name', { ...base, scores: { '\u007f': 1 } }],
    ['a timestamp after 2106', { ...base, timestamp: 4_294_944_000_000 }],
    ['deep unknown fields', { ...base, nested: deep(70) }],
    ['not an object', [base]],
  ];
  it.each(cases)('agrees with the full checks on %s', (_, input) => {
    expect(validatePrediction(input, NOW)).toEqual(validatePredictionFully(input, NOW));
  });
});
