import { describe, expect, it } from 'vitest';
import { fitEstimators, MIN_FIT_ROWS } from '../../../../src/monitor/estimation/fit.js';
import type { EstimationRow } from '../../../../src/monitor/estimation/reference-rows.js';
import { modelSettings, monitoringSchema, type MonitoringInput } from '../../../../src/monitor/options.js';
import { buildReferenceProfile } from '../../../../src/monitor/reference.js';
import { binaryRows, correlatedRows, regressionRows } from './rows.js';

function fit(
  rows: readonly EstimationRow[],
  task: 'classification' | 'regression' | undefined,
  model: NonNullable<MonitoringInput['models']>[string] = {},
) {
  const settings = modelSettings(monitoringSchema.parse({ models: { m: model } }), 'm');
  return fitEstimators({
    rows,
    profile: buildReferenceProfile(
      rows.map((r) => ({ features: r.features })),
      {},
      'first_events',
    ),
    settings,
    task,
    referenceCreatedAtMs: 1_000,
    nowMs: 2_000,
  });
}

const binary: NonNullable<MonitoringInput['models']>[string] = {
  task: { type: 'classification', classes: ['fraud', 'ok'] },
};

describe('fitting the estimators on a reference', () => {
  it('fits CBPE, the error model, PCA and the outputs of a labelled binary classifier with scores', () => {
    const fitted = fit(binaryRows(2_000), 'classification', binary);
    expect(fitted.unavailable).toEqual({});
    expect(fitted.waitingForLabels).toBe(false);
    expect(fitted.cbpe?.scores).toEqual({ classes: ['fraud'], singleScore: true });
    expect(fitted.cbpe?.model.classes).toEqual(['fraud', 'ok']);
    expect(fitted.errorModel?.inputs.map((i) => i.name)).toEqual(['channel', 'x1', 'x2', 'x3']);
    expect(fitted.reconstruction?.columns.map((c) => c.name)).toEqual(['channel', 'x1', 'x2', 'x3']);
    expect(fitted.outputs.map((o) => [o.name, o.source, o.reference.kind])).toEqual([
      ['__prediction__', 'label', 'categorical'],
      ['__score__:fraud', 'class_score', 'numeric'],
      ['__score__:ok', 'class_score', 'numeric'],
    ]);
    expect(fitted).toMatchObject({
      rows: 2_000,
      labelledRows: 2_000,
      referenceCreatedAtMs: 1_000,
      fittedAtMs: 2_000,
    });
  });

  it('reads a binary model’s positive class from the score maps when no classes are configured', () => {
    const rows = binaryRows(1_500).map((r) => ({ ...r, scores: { ok: r.scores['ok'] as number } }));
    const fitted = fit(rows, 'classification');
    // The only class with scores is "ok": CBPE tracks it, first.
    expect(fitted.cbpe?.model.classes).toEqual(['ok', 'fraud']);
    expect(fitted.cbpe?.scores).toEqual({ classes: ['ok'], singleScore: false });
  });

  it('says what is missing instead of failing: no scores, a single score without its class', () => {
    const none = fit(binaryRows(1_500, { scores: 'none' }), 'classification', binary);
    expect(none.cbpe).toBeUndefined();
    expect(none.unavailable.cbpe).toBe("the reference's events carry no scores");
    expect(none.errorModel).toBeDefined();
    expect(none.waitingForLabels).toBe(false);
    const single = fit(binaryRows(1_500, { scores: 'number' }), 'classification');
    expect(single.unavailable.cbpe).toMatch(
      /set monitoring\.models\.<model>\.task\.classes \(the first class is the one the score is for\)/,
    );
    // With the classes configured, the single number is the positive class's score.
    expect(fit(binaryRows(1_500, { scores: 'number' }), 'classification', binary).cbpe?.scores).toEqual({
      classes: ['fraud'],
      singleScore: true,
    });
  });

  it(`waits for labels while fewer than ${MIN_FIT_ROWS} rows are labelled and others may still be`, () => {
    const late = fit(binaryRows(3_000, { labelled: 0.2 }), 'classification', binary);
    expect(late.cbpe).toBeUndefined();
    expect(late.waitingForLabels).toBe(true);
    expect(late.unavailable.cbpe).toMatch(
      /^\d{3} labelled rows with scores of known classes in the reference, 1000 needed \(\d{4} of its 3000 rows have no outcome yet; fitted again when they arrive\)$/,
    );
    // Labels are not needed for PCA or the outputs.
    expect(late.reconstruction).toBeDefined();
    expect(late.outputs.length).toBeGreaterThan(0);
    // A small reference, fully labelled: nothing to wait for, the fix is a bigger reference.
    const small = fit(binaryRows(800), 'classification', binary);
    expect(small.waitingForLabels).toBe(false);
    expect(small.unavailable.cbpe).toBe(
      '800 labelled rows with scores of known classes in the reference, 1000 needed (the reference has 800 rows: raise reference.count)',
    );
    expect(small.unavailable.reconstruction).toBe(
      'the reference has 800 rows, 1000 needed: raise reference.count',
    );
  });

  it('fits DLE for a regression and watches its predicted number', () => {
    const fitted = fit(regressionRows(2_000, { labelled: 0.7 }), 'regression', {
      task: { type: 'regression' },
    });
    expect(fitted.dle?.inputs.map((i) => i.name)).toEqual(['x1', 'x2', '__prediction__']);
    expect(fitted.labelledRows).toBeGreaterThan(1_300);
    expect(fitted.outputs.map((o) => [o.name, o.source])).toEqual([['__prediction__', 'number']]);
    expect(fitted.cbpe).toBeUndefined();
    expect(fitted.unavailable).toEqual({});
  });

  it('without a known task fits only what needs no labels; honours maxFeatures, maxFitRows and the switches', () => {
    const fitted = fit(correlatedRows(1_200, 0.8), undefined);
    expect(fitted.reconstruction).toBeDefined();
    expect(fitted.cbpe).toBeUndefined();
    expect(fitted.dle).toBeUndefined();
    expect(fitted.unavailable).toEqual({});
    const capped = fit(correlatedRows(1_500, 0.8), undefined, {
      estimation: { maxFeatures: 2, maxFitRows: 1_000 },
    });
    expect(capped.reconstruction?.columns.map((c) => c.name)).toEqual(['x1', 'x2']);
    expect(capped.rows).toBe(1_000);
    const off = fit(correlatedRows(1_200, 0.8), undefined, {
      estimation: { multivariate: { enabled: false }, outputDrift: false },
    });
    expect(off.reconstruction).toBeUndefined();
    expect(off.outputs).toEqual([]);
  });

  it('survives a JSON round trip (it is stored as JSON)', () => {
    const fitted = fit(binaryRows(1_200), 'classification', binary);
    expect(JSON.parse(JSON.stringify(fitted))).toEqual(JSON.parse(JSON.stringify(fitted)));
    const copy = JSON.parse(JSON.stringify(fitted)) as typeof fitted;
    expect(copy.cbpe?.model.grid).toEqual(fitted.cbpe?.model.grid);
  });

  it('refuses thresholds that set both or neither of min and max', () => {
    expect(() =>
      monitoringSchema.parse({ models: { m: { estimation: { performance: [{ metric: 'accuracy' }] } } } }),
    ).toThrow(/give exactly one of `min` and `max`/);
    expect(() =>
      monitoringSchema.parse({
        models: { m: { estimation: { performance: [{ metric: 'auc', min: 0.5 }] } } },
      }),
    ).toThrow();
  });
});
