import { describe, expect, it } from 'vitest';
import { compileRetuneOptions, retuneSchema, splitOptionsOf } from '../../../retune/options.js';
import { configSchema } from '../../../src/config/schema.js';

describe('retune configuration', () => {
  it('keeps every retune.data key docs/trainers.md shows', () => {
    const config = compileRetuneOptions({
      data: {
        task: 'regression',
        lookbackMs: 2_592_000_000,
        maxRows: 200_000,
        split: { validationFraction: 0.15, holdoutFraction: 0.15, minRows: 30, holdoutRows: 500 },
        reference: 'none',
        missingIndicators: false,
        maxCategories: 20,
        encoding: {
          numeric: ['age', { name: 'income', mean: 52000, std: 18000 }],
          categorical: [{ name: 'plan', categories: ['basic', 'pro', 'enterprise'] }],
        },
        afterDrift: { minLabelledRows: 500, maxWaitMs: 3_600_000, pollIntervalMs: 5_000 },
      },
    });
    expect(config.data).toMatchObject({
      task: 'regression',
      reference: 'none',
      missingIndicators: false,
      maxCategories: 20,
      encoding: { numeric: ['age', { name: 'income', mean: 52000, std: 18000 }] },
      afterDrift: { enabled: true, minLabelledRows: 500, maxWaitMs: 3_600_000, pollIntervalMs: 5_000 },
    });
    expect(splitOptionsOf(config.data)).toEqual({
      validationFraction: 0.15,
      holdoutFraction: 0.15,
      holdoutRows: 500,
      minRows: 30,
    });
    expect(
      compileRetuneOptions({ data: { reference: { profile: { features: {} } } } }).data.reference,
    ).toEqual({
      profile: { features: {} },
    });
  });

  it('reads the holdoutFraction / validationFraction shorthands, and refuses both forms at once', () => {
    expect(splitOptionsOf(compileRetuneOptions({ data: { holdoutFraction: 0.3 } }).data)).toMatchObject({
      holdoutFraction: 0.3,
      validationFraction: 0.2,
    });
    expect(() =>
      compileRetuneOptions({ data: { holdoutFraction: 0.3, split: { holdoutFraction: 0.1 } } }),
    ).toThrow(/set holdoutFraction once/);
    expect(() =>
      compileRetuneOptions({ data: { split: { holdoutFraction: 0.6, validationFraction: 0.5 } } }),
    ).toThrow(/must leave rows to train on/);
  });

  it.each([
    ['retune.data', { data: { holdoutFractoin: 0.3 } }, /holdoutFractoin/],
    ['retune.data.split', { data: { split: { minrows: 3 } } }, /minrows/],
    ['retune.data.encoding', { data: { encoding: { numerics: ['a'] } } }, /numerics/],
    ['retune.data.afterDrift', { data: { afterDrift: { minRows: 3 } } }, /minRows/],
    ['retune.promotion', { promotion: { bootstrapResamples: 2000 } }, /bootstrapResamples/],
    ['retune', { retrain: true }, /retrain/],
    ['retune.triggers', { triggers: { cooldown: 5 } }, /cooldown/],
    ['retune.budget', { budget: { trials: 5 } }, /trials/],
  ])('refuses an unknown key under %s at boot', (_where, input, key) => {
    expect(() => retuneSchema.parse(input)).toThrow(key);
  });

  it('refuses unknown retune keys through the daemon config schema too', () => {
    expect(() => configSchema.parse({ retune: { data: { reference: 'none', refrence: 'none' } } })).toThrow(
      /refrence/,
    );
  });

  it('is idempotent: the daemon parses once, the Retuner parses the output again', () => {
    const once = retuneSchema.parse({ data: { holdoutFraction: 0.25, encoding: { numeric: ['a'] } } });
    expect(retuneSchema.parse(structuredClone(once))).toEqual(once);
  });
});
