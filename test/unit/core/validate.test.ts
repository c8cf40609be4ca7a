import { describe, expect, it } from 'vitest';
import {
  checkTimestamp,
  parseJson,
  validateOutcome,
  validatePrediction,
  validatePredictionFully,
} from '../../../src/events/validate.js';

const NOW = 1_795_399_200_000;

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
    ['not an object', [base]],
  ];
  it.each(cases)('agrees with the full checks on %s', (_, input) => {
    expect(validatePrediction(input, NOW)).toEqual(validatePredictionFully(input, NOW));
  });
});
