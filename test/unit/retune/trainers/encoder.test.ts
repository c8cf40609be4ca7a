import { describe, expect, it } from 'vitest';
import {
  encodeFeatures,
  fitEncoding,
  inputColumns,
  referenceFeaturesFromProfile,
  splitSizes,
  timeSplit,
  type RawFeatures,
} from '../../../../retune/data/index.js';

const row = (
  numeric: Record<string, number>,
  categorical: Record<string, string> = {},
  missing: string[] = [],
): RawFeatures => ({
  numeric,
  categorical,
  missing,
});

describe('encoder', () => {
  it('standardises numeric features with train statistics (population std) and one-hots categories', () => {
    const train = [row({ a: 1 }, { c: 'x' }), row({ a: 3 }, { c: 'y' }), row({ a: 5 }, { c: 'x' })];
    const enc = fitEncoding(train);
    expect(enc.numeric[0]).toMatchObject({ name: 'a', mean: 3, source: 'train' });
    expect(enc.numeric[0]?.std).toBeCloseTo(Math.sqrt(8 / 3), 12);
    expect(enc.categorical[0]).toMatchObject({ name: 'c', categories: ['x', 'y'] });
    expect(inputColumns(enc)).toEqual(['a', 'a:missing', 'c=x', 'c=y', 'c=__other__']);
    expect(encodeFeatures(enc, row({ a: 3 }, { c: 'y' }))).toEqual([0, 0, 0, 1, 0]);
    expect(encodeFeatures(enc, row({ a: 5 }, { c: 'new' }))[0]).toBeCloseTo(2 / Math.sqrt(8 / 3), 12);
    expect(encodeFeatures(enc, row({ a: 5 }, { c: 'new' })).slice(1)).toEqual([0, 0, 0, 1]);
  });

  it('encodes missing numbers as 0 with an indicator, and missing categories as all zeros', () => {
    const enc = fitEncoding([row({ a: 1 }, { c: 'x' }), row({ a: 2 }, { c: 'x' })]);
    expect(encodeFeatures(enc, row({}, {}))).toEqual([0, 1, 0, 0]);
    expect(encodeFeatures(enc, row({ a: Number.NaN }, { c: 'x' }, ['c']))).toEqual([0, 1, 0, 0]);
    expect(encodeFeatures(enc, row({ a: 1.5 }, { c: 'x' }, ['a']))).toEqual([0, 1, 1, 0]);
    const noIndicators = fitEncoding([row({ a: 1 })], { missingIndicators: false });
    expect(inputColumns(noIndicators)).toEqual(['a']);
  });

  it('a constant feature gets std 1 instead of dividing by zero; an empty train split gives mean 0', () => {
    const enc = fitEncoding([row({ a: 4 }), row({ a: 4 })]);
    expect(enc.numeric[0]).toMatchObject({ mean: 4, std: 1 });
    expect(encodeFeatures(enc, row({ a: 6 }))).toEqual([2, 0]);
    expect(fitEncoding([], { spec: { numeric: ['a'] } }).numeric[0]).toMatchObject({ mean: 0, std: 1 });
  });

  it('keeps the most frequent categories, ties by name', () => {
    const train = ['b', 'a', 'c', 'c', 'a', 'd'].map((c) => row({}, { k: c }));
    expect(fitEncoding(train, { maxCategories: 2 }).categorical[0]?.categories).toEqual(['a', 'c']);
  });

  it('takes statistics and vocabularies from the reference profile, falling back to train per feature', () => {
    const profile = {
      model: 'm',
      features: {
        a: { kind: 'numeric', count: 4, missing: 0, mean: 10, m2: 16, binEdges: [], sketchEdges: [] },
        c: { kind: 'categorical', count: 3, missing: 0, categories: ['u', 'v'], counts: [2, 1], other: 0 },
      },
    };
    const reference = referenceFeaturesFromProfile(profile);
    expect(reference.numeric['a']).toEqual({ mean: 10, std: 2 });
    const enc = fitEncoding([row({ a: 0, b: 1 }, { c: 'x' }), row({ a: 2, b: 3 }, { c: 'x' })], {
      reference,
      spec: { numeric: ['a', 'b'], categorical: ['c'] },
    });
    expect(enc.numeric.map((f) => [f.name, f.mean, f.std, f.source])).toEqual([
      ['a', 10, 2, 'reference'],
      ['b', 2, 1, 'train'],
    ]);
    expect(enc.categorical[0]).toMatchObject({ categories: ['u', 'v'], source: 'reference' });
    expect(encodeFeatures(enc, row({ a: 14, b: 2 }, { c: 'x' }))).toEqual([2, 0, 0, 0, 0, 0, 1]);
  });

  it("reads the monitor's layout: features.<name> = {kind, profile}", () => {
    const reference = referenceFeaturesFromProfile({
      version: 1,
      source: 'upload',
      rows: 500,
      features: {
        age: { kind: 'numeric', profile: { kind: 'numeric', count: 4, missing: 1, mean: 30, m2: 36 } },
        plan: {
          kind: 'categorical',
          profile: {
            kind: 'categorical',
            count: 4,
            missing: 0,
            categories: ['a', 'b'],
            counts: [3, 1],
            other: 0,
          },
        },
      },
    });
    expect(reference).toEqual({ numeric: { age: { mean: 30, std: 3 } }, categorical: { plan: ['a', 'b'] } });
  });

  it('finds profiles in arrays of named entries too', () => {
    const reference = referenceFeaturesFromProfile({
      numeric: [{ name: 'age', profile: { kind: 'numeric', count: 1, mean: 30, m2: 0 } }],
      categorical: [{ feature: 'plan', kind: 'categorical', categories: ['a', '__other__'] }],
    });
    expect(reference.numeric['age']).toEqual({ mean: 30, std: 0 });
    expect(reference.categorical['plan']).toEqual(['a', '__other__']);
    const enc = fitEncoding([], { reference });
    expect(inputColumns(enc)).toEqual(['age', 'age:missing', 'plan=a', 'plan=__other__']);
  });

  it('explicit statistics win', () => {
    const enc = fitEncoding([row({ a: 100 })], { spec: { numeric: [{ name: 'a', mean: 1, std: 0.5 }] } });
    expect(encodeFeatures(enc, row({ a: 2 }))).toEqual([2, 0]);
  });
});

describe('time split', () => {
  it('sizes: rounded fractions, at least one row each, the rest to train', () => {
    expect(splitSizes(100)).toEqual({ train: 70, validation: 15, holdout: 15 });
    expect(splitSizes(30, { validationFraction: 0.01, holdoutFraction: 0.01 })).toEqual({
      train: 28,
      validation: 1,
      holdout: 1,
    });
    expect(splitSizes(100, { holdoutRows: 10, validationRows: 20 })).toEqual({
      train: 70,
      validation: 20,
      holdout: 10,
    });
  });

  it('refuses too few rows and bad fractions with the value', () => {
    expect(() => splitSizes(10)).toThrow(/only 10 labelled rows/);
    expect(() => splitSizes(100, { validationFraction: 0.6, holdoutFraction: 0.5 })).toThrow(/< 1/);
    expect(() => splitSizes(100, { holdoutFraction: 0 })).toThrow(/holdoutFraction/);
    expect(() => splitSizes(40, { holdoutRows: 20, validationRows: 20 })).toThrow(/no train rows/);
  });

  it('oldest rows train, newest are the holdout', () => {
    const rows = Array.from({ length: 10 }, (_, i) => i);
    expect(timeSplit(rows, { train: 6, validation: 2, holdout: 2 })).toEqual({
      train: [0, 1, 2, 3, 4, 5],
      validation: [6, 7],
      holdout: [8, 9],
    });
  });
});
