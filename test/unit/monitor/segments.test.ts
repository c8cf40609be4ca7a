import { describe, expect, it } from 'vitest';
import { alertFingerprint } from '../../../src/alerts/fingerprint.js';
import { applyEvaluations, emptyPolicyState } from '../../../src/alerts/policy.js';
import type { ModelEvaluation, SegmentEvaluation } from '../../../src/monitor/evaluate.js';
import { modelSettings, monitoringSchema, segmentSchema } from '../../../src/monitor/options.js';
import { sliceCondition, windowFilter } from '../../../src/monitor/queries.js';
import { buildReferenceProfile, type SampleRow } from '../../../src/monitor/reference.js';
import {
  OTHER_SEGMENT_VALUE,
  planSegments,
  segmentName,
  segmentReference,
  sliceSample,
  withSegments,
} from '../../../src/monitor/segments.js';
import { evaluation as ruleEvaluation, policyOptions } from '../alerts/fixtures.js';

const spec = (input: Record<string, unknown>) => segmentSchema.parse(input);
const counts = (entries: Record<string, number>) => new Map(Object.entries(entries));

describe('segment config', () => {
  it('takes a feature or a tag, with bounded defaults', () => {
    expect(spec({ feature: 'country' })).toEqual({ feature: 'country', maxValues: 10, minEvents: 100 });
    expect(spec({ tag: 'version', maxValues: 3 })).toMatchObject({ tag: 'version', maxValues: 3 });
  });

  it('refuses neither or both, an unknown tag, unbounded cardinality and repeated dimensions', () => {
    expect(() => spec({})).toThrow(/exactly one of/);
    expect(() => spec({ feature: 'country', tag: 'version' })).toThrow(/exactly one of/);
    expect(() => spec({ tag: 'region' })).toThrow();
    expect(() => spec({ feature: 'country', maxValues: 51 })).toThrow();
    expect(() => spec({ feature: 'country', values: ['DE', 'DE'] })).toThrow(/distinct/);
    expect(() =>
      monitoringSchema.parse({
        models: { m: { segments: [{ feature: 'c' }, { feature: 'c', maxValues: 2 }] } },
      }),
    ).toThrow(/two segments slice by .*c.*must be unique/);
    expect(() =>
      monitoringSchema.parse({
        models: { m: { features: { amount: 'numeric' }, segments: [{ feature: 'amount' }] } },
      }),
    ).toThrow(/configured numeric/);
  });

  it('leaves models without segments with none', () => {
    expect(modelSettings(monitoringSchema.parse({}), 'anything').segments).toEqual([]);
  });
});

describe('planSegments', () => {
  it('names the most frequent values with minEvents, at most maxValues, and puts the rest in __other__', () => {
    const plan = planSegments(
      spec({ feature: 'country', maxValues: 2, minEvents: 50 }),
      counts({ FR: 300, DE: 500, IT: 300, ES: 40 }),
      1_200, // 60 events without the feature
    );
    // Ties are broken by value, so the choice is stable between cycles.
    expect(plan.slices.map((s) => [s.name, s.windowEvents])).toEqual([
      ['country=DE', 500],
      ['country=FR', 300],
      [`country=${OTHER_SEGMENT_VALUE}`, 400],
    ]);
    expect(plan.slices[2]?.excluded).toEqual(['DE', 'FR']);
  });

  it('never names a value below minEvents and skips a small __other__', () => {
    const plan = planSegments(spec({ feature: 'c', minEvents: 100 }), counts({ a: 1_000, b: 99 }), 1_099);
    expect(plan.slices.map((s) => s.name)).toEqual(['c=a']);
  });

  it('evaluates no __other__ when nothing is named (it would be the whole model)', () => {
    expect(
      planSegments(spec({ feature: 'c', minEvents: 100 }), counts({ a: 50, b: 60 }), 110).slices,
    ).toEqual([]);
    expect(planSegments(spec({ feature: 'c' }), new Map(), 0).slices).toEqual([]);
  });

  it('uses configured values in their order and reports those too small', () => {
    const plan = planSegments(
      spec({ tag: 'version', values: ['v2', 'v1', 'v3'], minEvents: 10 }),
      counts({ v1: 500, v2: 20, v3: 5, v4: 400 }),
      925,
    );
    expect(plan.slices.map((s) => s.name)).toEqual(['version=v2', 'version=v1', 'version=__other__']);
    expect(plan.slices[2]?.windowEvents).toBe(405);
    expect(plan.tooSmall).toEqual(['v3']);
  });

  it('bounds the number of segments whatever the cardinality', () => {
    const many = counts(Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`v${i}`, 100 + i])));
    const plan = planSegments(spec({ feature: 'c', maxValues: 10 }), many, 10_000_000);
    expect(plan.slices).toHaveLength(11);
    expect(plan.slices[0]?.name).toBe('c=v4999');
  });

  it('names segments <by>=<value>', () => {
    expect(segmentName({ kind: 'tag', name: 'version' }, 'v2')).toBe('version=v2');
  });
});

describe('slice conditions (queries.ts sliceCondition)', () => {
  const window = { startMs: 1_000, endMs: 2_000 };
  const slice = (
    value: string | undefined,
    excluded: string[] = [],
    kind: 'feature' | 'tag' = 'feature',
  ) => ({
    name: 'x',
    dimension: { kind, name: kind === 'feature' ? "coun'try" : 'version' },
    value,
    excluded,
    windowEvents: 0,
  });

  it('appends an escaped condition to the window filter', () => {
    const sql = windowFilter('m', { ...window, segment: slice("D'E") });
    expect(sql).toContain(
      "AND (has(cat_names, 'coun\\'try') AND cat_values[indexOf(cat_names, 'coun\\'try')] = 'D\\'E')",
    );
    expect(windowFilter('m', window)).not.toContain('cat_names');
  });

  it('writes __other__ as "not one of the named values" (events without the feature included)', () => {
    expect(sliceCondition(slice(undefined, ['DE', 'FR']))).toBe(
      "NOT (has(cat_names, 'coun\\'try') AND has(['DE', 'FR'], cat_values[indexOf(cat_names, 'coun\\'try')]))",
    );
    expect(sliceCondition(slice(undefined, ['v1'], 'tag'))).toBe("NOT (1 AND has(['v1'], `version`))");
    expect(sliceCondition(slice('v2', [], 'tag'))).toBe("1 AND `version` = 'v2'");
  });

  it('refuses a tag without a known column', () => {
    expect(() =>
      sliceCondition({ ...slice('a', [], 'tag'), dimension: { kind: 'tag', name: 'version; DROP' } }),
    ).toThrow(/unknown segment tag/);
  });
});

describe('segment references', () => {
  const rows: SampleRow[] = [];
  for (let i = 0; i < 400; i++) {
    const country = i % 4 === 0 ? 'DE' : i % 4 === 1 ? 'FR' : i % 4 === 2 ? 'IT' : null;
    rows.push({
      features: { x: country === 'DE' ? 10 + (i % 7) : i % 7, country },
      tags: { version: i < 390 ? 'v1' : 'v2' },
      tsMs: 1_000 + i,
    });
  }
  const whole = buildReferenceProfile(rows, {}, 'first_events');
  const slice = (value: string | undefined, excluded: string[] = []) => ({
    name: value === undefined ? 'country=__other__' : `country=${value}`,
    dimension: { kind: 'feature' as const, name: 'country' },
    value,
    excluded,
    windowEvents: 0,
  });

  it('records the sample time span on the whole reference', () => {
    expect(whole.sampleRangeMs).toEqual({ firstMs: 1_000, lastMs: 1_399 });
  });

  it('slices rows like the SQL condition: missing values belong to __other__', () => {
    expect(sliceSample(rows, slice('DE'))).toHaveLength(100);
    expect(sliceSample(rows, slice(undefined, ['DE', 'FR']))).toHaveLength(200);
    const v2 = { ...slice('v2'), dimension: { kind: 'tag' as const, name: 'version' } };
    expect(sliceSample(rows, v2)).toHaveLength(10);
  });

  it('compares a segment with its own slice of the reference, without the slicing feature', () => {
    const ref = segmentReference(whole, rows, slice('DE'), 50);
    expect(ref.source).toBe('segment');
    expect(ref.profile.rows).toBe(100);
    expect(Object.keys(ref.profile.features)).toEqual(['x']);
    const x = ref.profile.features['x'];
    expect(x?.kind === 'numeric' ? x.profile.min : undefined).toBe(10);
  });

  it('falls back to the whole reference, saying why, when the slice is too small or unavailable', () => {
    const small = segmentReference(whole, rows, slice('DE'), 101);
    expect(small).toMatchObject({ source: 'whole', profile: { rows: 400 } });
    expect(small.note).toMatch(/100 events of country=DE \(fewer than minEvents 101\)/);
    expect(Object.keys(small.profile.features)).toEqual(['x']);
    const none = segmentReference(whole, undefined, slice('ES'), 10, 'the reference was uploaded');
    expect(none.note).toBe('the reference was uploaded; compared with the whole reference');
  });
});

describe('withSegments', () => {
  const base: ModelEvaluation = {
    model: 'm',
    windowStartMs: 0,
    windowEndMs: 60_000,
    evaluatedAtMs: 61_000,
    events: 1_000,
    drift: [],
    quality: [],
    performance: [],
    labelled: 0,
    coverage: 0,
    status: 'ok',
    reasons: [],
    features: 2,
    driftedFeatures: 0,
    rules: [ruleEvaluation(0, { model: 'm', rule: 'model:drift', breaching: false })],
    segment: '',
    segments: [],
  };
  const segment = (
    name: string,
    status: SegmentEvaluation['status'],
    reasons: string[],
  ): SegmentEvaluation => ({
    ...base,
    segment: name,
    status,
    reasons,
    rules: [
      ruleEvaluation(0, { model: 'm', rule: 'model:drift', segment: name, breaching: status === 'critical' }),
    ],
    reference: 'segment',
  });

  it('is the whole evaluation itself without segments', () => {
    expect(withSegments(base, [])).toBe(base);
  });

  it("takes the worst status, names the segment in the reasons and carries the segments' rules", () => {
    const e = withSegments(base, [
      segment('country=DE', 'critical', ['1 of 2 features drifted: x']),
      segment('country=FR', 'ok', []),
    ]);
    expect(e.status).toBe('critical');
    expect(e.reasons).toEqual(['segment country=DE: 1 of 2 features drifted: x']);
    expect(e.rules.map((r) => r.segment ?? '')).toEqual(['', 'country=DE', 'country=FR']);
    expect(e.segments).toHaveLength(2);
  });
});

describe('segment alerts', () => {
  it('keeps the whole-model fingerprint and gives each segment its own stable one', () => {
    expect(alertFingerprint('m', 'model:drift', '')).toBe(alertFingerprint('m', 'model:drift'));
    expect(alertFingerprint('m', 'model:drift', 'country=DE')).not.toBe(alertFingerprint('m', 'model:drift'));
    expect(alertFingerprint('m', 'model:drift', 'country=DE')).toBe(
      alertFingerprint('m', 'model:drift', 'country=DE'),
    );
    expect(alertFingerprint('m', 'model:drift', 'country=DE')).not.toBe(
      alertFingerprint('m', 'model:drift', 'country=FR'),
    );
  });

  it('groups segment alerts with the model and labels them with the segment', () => {
    const rule = { model: 'credit', rule: 'model:drift', severity: 'critical' as const };
    const result = applyEvaluations(
      emptyPolicyState(),
      [
        ruleEvaluation(0, { ...rule, breaching: false }),
        ruleEvaluation(0, { ...rule, segment: 'country=FR', breaching: true }),
        ruleEvaluation(0, { ...rule, segment: 'country=DE', breaching: true }),
      ],
      0,
      policyOptions,
    );
    expect(result.notifications).toHaveLength(1);
    const [n] = result.notifications;
    expect(n?.groupKey).toBe('{}:{model="credit"}');
    expect(n?.alerts.map((a) => [a.segment, a.labels['segment'], a.fingerprint])).toEqual([
      ['country=DE', 'country=DE', alertFingerprint('credit', 'model:drift', 'country=DE')],
      ['country=FR', 'country=FR', alertFingerprint('credit', 'model:drift', 'country=FR')],
    ]);
    // The whole model's rule state has no segment.
    expect(result.state.rules[alertFingerprint('credit', 'model:drift')]?.segment).toBeUndefined();
  });
});
