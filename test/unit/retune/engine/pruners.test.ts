import { describe, expect, it } from 'vitest';
import { Study, type StudyOptions } from '../../../../retune/engine/index.js';
import { MedianPruner, percentileOf } from '../../../../retune/engine/pruners/median-pruner.js';
import {
  isPromotable,
  SuccessiveHalvingPruner,
} from '../../../../retune/engine/pruners/successive-halving-pruner.js';

/** A synthetic learning curve: loss decays from 1 towards `floor` over steps. */
function curve(floor: number, step: number): number {
  return floor + (1 - floor) * Math.exp(-step / 4);
}

function studyWith(pruner: StudyOptions['pruner'], maxConcurrent = 1): Study {
  return Study.create({
    space: { params: [{ name: 'x', type: 'float', low: 0, high: 1 }] },
    sampler: { name: 'random' },
    pruner,
    seed: 1,
    budget: { maxConcurrent },
  });
}

/** Runs one trial through `steps` reports; returns the step it was pruned at, or undefined. */
function runTrial(study: Study, floor: number, steps: number): number | undefined {
  const next = study.ask();
  if (next.kind !== 'trial') throw new Error(`ask gave ${next.kind}`);
  for (let step = 1; step <= steps; step++) {
    if (study.report(next.trial.number, step, curve(floor, step)).prune) {
      study.tell(next.trial.number, 'pruned');
      return step;
    }
  }
  study.tell(next.trial.number, 'complete', curve(floor, steps));
  return undefined;
}

describe('percentileOf', () => {
  it('interpolates like numpy.percentile', () => {
    expect(percentileOf([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentileOf([5], 50)).toBe(5);
    expect(percentileOf([1, 2, 3, 4, 5], 25)).toBe(2);
    expect(percentileOf([], 50)).toBeNaN();
  });
});

describe('median pruner', () => {
  it('prunes nothing before nStartupTrials complete, then prunes curves worse than the median', () => {
    const study = studyWith({ name: 'median', nStartupTrials: 3 });
    // Three good completed trials set the bar; none is pruned while they run.
    for (const floor of [0.1, 0.2, 0.3]) expect(runTrial(study, floor, 10)).toBeUndefined();
    // A clearly worse curve is stopped at the first step after start-up.
    expect(runTrial(study, 0.9, 10)).toBe(1);
    // A better one runs to the end.
    expect(runTrial(study, 0.05, 10)).toBeUndefined();
  });

  it('respects warm-up steps and the check interval', () => {
    const study = studyWith({ name: 'median', nStartupTrials: 1, nWarmupSteps: 3, intervalSteps: 2 });
    runTrial(study, 0.1, 10);
    // Steps 1-2 are warm-up; step 3 is the first checked one.
    expect(runTrial(study, 0.9, 10)).toBe(3);
  });

  it('prunes a NaN (diverged) value at once', () => {
    const study = studyWith({ name: 'median', nStartupTrials: 1 });
    runTrial(study, 0.1, 5);
    const next = study.ask();
    if (next.kind !== 'trial') throw new Error(next.kind);
    expect(study.report(next.trial.number, 1, NaN)).toMatchObject({
      prune: true,
      reason: expect.stringMatching(/NaN/) as unknown,
    });
  });

  it('compares the best value so far by default and the last one with compare: last', () => {
    const reports = [0.1, 0.9];
    const prunes = (compare: 'best' | 'last'): boolean => {
      const study = studyWith({ name: 'median', nStartupTrials: 1, compare });
      runTrial(study, 0.5, 2); // completed: step 1 ~0.61, step 2 ~0.65 with floor 0.5
      const next = study.ask();
      if (next.kind !== 'trial') throw new Error(next.kind);
      let pruned = false;
      reports.forEach((value, i) => {
        pruned = study.report(next.trial.number, i + 1, value).prune;
      });
      return pruned;
    };
    expect(prunes('best')).toBe(false);
    expect(prunes('last')).toBe(true);
  });

  it('handles maximisation (higher is better)', () => {
    const pruner = new MedianPruner({ name: 'median', nStartupTrials: 1 });
    const base = {
      origin: 'sampler' as const,
      params: {},
      rungValues: [],
      startedAtMs: 0,
      finishedAtMs: 0,
      failReason: undefined,
    };
    const done = {
      ...base,
      number: 0,
      state: 'complete' as const,
      value: 0.8,
      intermediate: [{ step: 1, value: 0.8 }],
    };
    const worse = {
      ...base,
      number: 1,
      state: 'running' as const,
      value: undefined,
      intermediate: [{ step: 1, value: 0.5 }],
    };
    const better = { ...worse, intermediate: [{ step: 1, value: 0.9 }] };
    expect(pruner.decide({ direction: 'maximize', trial: worse, trials: [done, worse] }).prune).toBe(true);
    expect(pruner.decide({ direction: 'maximize', trial: better, trials: [done, better] }).prune).toBe(false);
  });
});

describe('successive halving (ASHA)', () => {
  it('puts rungs at minResource * eta^k', () => {
    const pruner = new SuccessiveHalvingPruner({ name: 'asha', minResource: 2 });
    expect([0, 1, 2, 3].map((k) => pruner.rungStep(k))).toEqual([2, 6, 18, 54]);
  });

  it('promotes only the top 1/eta of a rung (the best one while the rung has fewer than eta values)', () => {
    expect(isPromotable(1, [1], 3, 'minimize')).toBe(true);
    expect(isPromotable(2, [1, 2], 3, 'minimize')).toBe(false);
    expect(isPromotable(2, [1, 2, 3, 4, 5, 6], 3, 'minimize')).toBe(true); // top 2 of 6
    expect(isPromotable(3, [1, 2, 3, 4, 5, 6], 3, 'minimize')).toBe(false);
    expect(isPromotable(5, [1, 2, 3, 4, 5, 6], 3, 'maximize')).toBe(true);
    expect(isPromotable(4, [1, 2, 3, 4, 5, 6], 3, 'maximize')).toBe(false);
  });

  it('on synthetic curves, stops bad trials at early rungs and lets the best run to the end', () => {
    const study = studyWith({ name: 'asha', minResource: 1, reductionFactor: 3 });
    // Floors in an interleaved order, so each rung sees good and bad curves arrive.
    const floors = [0.5, 0.2, 0.8, 0.1, 0.6, 0.9, 0.3, 0.7, 0.05, 0.4, 0.95, 0.15];
    const prunedAt = floors.map((floor) => runTrial(study, floor, 27));
    expect(prunedAt[0]).toBeUndefined(); // first trial: alone at every rung
    expect(prunedAt[8]).toBeUndefined(); // the best curve (floor 0.05) is never stopped
    // Bad curves are stopped at the first rung (step 1) or the second (step 3).
    for (const i of [2, 5, 10]) expect(prunedAt[i]).toBeLessThanOrEqual(3);
    const ran = prunedAt.filter((s) => s === undefined).length;
    expect(ran).toBeLessThanOrEqual(4);
    // Rung values are recorded on the trial (and so persisted in snapshots).
    expect(study.trial(0)?.rungValues.length).toBe(4); // rungs at steps 1, 3, 9, 27
  });

  it('records a rung value only when a trial first reaches the rung', () => {
    const study = studyWith({ name: 'asha', minResource: 2, reductionFactor: 2 });
    const next = study.ask();
    if (next.kind !== 'trial') throw new Error(next.kind);
    expect(study.report(next.trial.number, 1, 0.5).prune).toBe(false);
    expect(study.trial(next.trial.number)?.rungValues).toEqual([]);
    study.report(next.trial.number, 5, 0.4); // passes rungs 2 and 4 at once, with the value at step 5
    expect(study.trial(next.trial.number)?.rungValues).toEqual([0.4, 0.4]);
  });

  it('validates its options', () => {
    expect(() => new SuccessiveHalvingPruner({ name: 'asha', reductionFactor: 1 })).toThrow(
      /reductionFactor must be an integer >= 2, got 1/,
    );
    expect(() => new SuccessiveHalvingPruner({ name: 'asha', minResource: 0 })).toThrow(
      /minResource must be an integer >= 1/,
    );
  });
});
