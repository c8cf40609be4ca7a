import { describe, expect, it } from 'vitest';
import {
  HpoError,
  Study,
  type SearchSpaceOptions,
  type StudyOptions,
  type StudySnapshot,
} from '../../../../retune/engine/index.js';
import { branin, braninSpace, fakeClock } from './fixtures.js';

const mixedSpace: SearchSpaceOptions = {
  params: [
    { name: 'lr', type: 'float', low: 1e-4, high: 1, log: true },
    { name: 'depth', type: 'int', low: 2, high: 12, step: 2 },
    { name: 'booster', type: 'categorical', choices: ['gbtree', 'dart'] },
    { name: 'rate_drop', type: 'float', low: 0, high: 0.5, condition: { param: 'booster', in: ['dart'] } },
  ],
};

function objective(params: Record<string, unknown>): number {
  return (
    (Math.log10(params.lr as number) + 2) ** 2 +
    ((params.depth as number) - 6) ** 2 / 10 +
    (params.booster === 'dart' ? (params.rate_drop as number) : 0.3)
  );
}

function baseOptions(overrides: Partial<StudyOptions> = {}): StudyOptions {
  return { space: mixedSpace, sampler: { name: 'tpe' }, pruner: { name: 'none' }, seed: 12, ...overrides };
}

/** Asks and tells `count` trials sequentially; returns the params handed out. */
function drive(study: Study, count: number): Record<string, unknown>[] {
  const handed: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const next = study.ask();
    if (next.kind !== 'trial') throw new Error(`ask gave ${next.kind}`);
    handed.push({ ...next.trial.params });
    study.tell(next.trial.number, 'complete', objective(next.trial.params));
  }
  return handed;
}

function errorOf(action: () => unknown): HpoError {
  try {
    action();
  } catch (error) {
    if (error instanceof HpoError) return error;
    throw error;
  }
  throw new Error('expected an HpoError');
}

describe('Study ask/tell', () => {
  it('numbers trials densely and tracks the best one in either direction', () => {
    const study = Study.create(baseOptions({ sampler: { name: 'random' } }));
    drive(study, 15);
    const trials = study.trials();
    expect(trials.map((t) => t.number)).toEqual([...Array(15).keys()]);
    const values = trials.map((t) => t.value ?? NaN);
    expect(study.bestTrial()?.value).toBe(Math.min(...values));

    const max = Study.create(baseOptions({ sampler: { name: 'random' }, direction: 'maximize' }));
    drive(max, 15);
    expect(max.bestTrial()?.value).toBe(Math.max(...max.trials().map((t) => t.value ?? NaN)));
  });

  it('is reproducible by seed: same seed, same sequence; another seed, another sequence', () => {
    const a = drive(Study.create(baseOptions()), 25);
    const b = drive(Study.create(baseOptions()), 25);
    const c = drive(Study.create(baseOptions({ seed: 13 })), 25);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('respects maxConcurrent, then hands out more as trials finish', () => {
    const study = Study.create(baseOptions({ budget: { maxConcurrent: 2 } }));
    const first = study.ask();
    const second = study.ask();
    expect(first.kind).toBe('trial');
    expect(second.kind).toBe('trial');
    expect(study.ask()).toEqual({ kind: 'wait', reason: 'max-concurrent' });
    if (first.kind !== 'trial') throw new Error('unreachable');
    study.tell(first.trial.number, 'failed');
    expect(study.ask().kind).toBe('trial');
  });

  it('stops at maxTrials, counting failed trials but not warm-start ones', () => {
    const study = Study.create(baseOptions({ budget: { maxTrials: 3 } }));
    study.addWarmStartTrials([{ params: { lr: 0.01, depth: 6, booster: 'gbtree' }, value: 0.3 }]);
    const one = study.ask();
    if (one.kind !== 'trial') throw new Error(one.kind);
    study.tell(one.trial.number, 'failed');
    drive(study, 2);
    expect(study.ask()).toEqual({ kind: 'done', reason: 'max-trials' });
    expect(study.stopReason()).toBe('max-trials');
  });

  it('stops at maxWallTimeMs, measured with the injected clock', () => {
    const clock = fakeClock();
    const study = Study.create(baseOptions({ budget: { maxWallTimeMs: 60_000 } }), { clock: clock.now });
    drive(study, 2);
    clock.advance(59_999);
    expect(study.ask().kind).toBe('trial');
    clock.advance(1);
    expect(study.ask()).toEqual({ kind: 'done', reason: 'max-wall-time' });
  });

  it('stamps trials with the clock', () => {
    const clock = fakeClock(1000);
    const study = Study.create(baseOptions(), { clock: clock.now });
    const next = study.ask();
    if (next.kind !== 'trial') throw new Error(next.kind);
    clock.advance(250);
    const told = study.tell(next.trial.number, 'complete', 1);
    expect([told.startedAtMs, told.finishedAtMs]).toEqual([1000, 1250]);
  });

  it('fails a trial told complete with a NaN value, and keeps the last report for a pruned one', () => {
    const study = Study.create(baseOptions());
    const a = study.ask();
    const b = study.ask();
    if (a.kind !== 'trial' || b.kind === 'trial') throw new Error('expected one trial then a wait');
    expect(study.tell(a.trial.number, 'complete', NaN)).toMatchObject({
      state: 'failed',
      failReason: 'objective value is NaN',
    });
    const c = study.ask();
    if (c.kind !== 'trial') throw new Error(c.kind);
    study.report(c.trial.number, 1, 0.7);
    study.report(c.trial.number, 2, 0.6);
    expect(study.tell(c.trial.number, 'pruned')).toMatchObject({ state: 'pruned', value: 0.6 });
  });

  it('refuses calls that do not fit the trial state, and accepts a repeated tell', () => {
    const study = Study.create(baseOptions());
    expect(errorOf(() => study.report(0, 1, 1)).message).toMatch(/no trial 0/);
    const next = study.ask();
    if (next.kind !== 'trial') throw new Error(next.kind);
    expect(errorOf(() => study.report(next.trial.number, -1, 1)).message).toMatch(
      /non-negative integer, got -1/,
    );
    expect(errorOf(() => study.tell(next.trial.number, 'complete')).message).toMatch(
      /needs the objective value/,
    );
    const told = study.tell(next.trial.number, 'complete', 2);
    expect(study.tell(next.trial.number, 'complete', 2)).toBe(told);
    const misuse = errorOf(() => study.tell(next.trial.number, 'pruned'));
    expect(misuse.code).toBe('HPO_STATE_INVALID');
    expect(misuse.message).toMatch(/trial 0 is complete, not running/);
    expect(misuse.retriable).toBe(false);
  });

  it('rejects invalid study options with the value and the fix', () => {
    expect(errorOf(() => Study.create(baseOptions({ seed: -1 }))).message).toMatch(
      /seed must be an integer in \[0, 4294967295\], got -1/,
    );
    expect(errorOf(() => Study.create(baseOptions({ budget: { maxConcurrent: 0 } }))).message).toMatch(
      /budget.maxConcurrent must be a positive integer, got 0/,
    );
    expect(
      errorOf(() =>
        Study.create(baseOptions({ sampler: { name: 'cmaes' } as unknown as StudyOptions['sampler'] })),
      ).message,
    ).toMatch(/sampler.name "cmaes" is not a known sampler; use one of tpe, random, grid/);
    expect(
      errorOf(() =>
        Study.create(baseOptions({ pruner: { name: 'hyperband' } as unknown as StudyOptions['pruner'] })),
      ).message,
    ).toMatch(/pruner.name "hyperband" is not a known pruner/);
    expect(errorOf(() => Study.create(baseOptions({ direction: 'up' as 'minimize' }))).code).toBe(
      'HPO_OPTIONS_INVALID',
    );
  });
});

describe('grid sampler through the study', () => {
  it('visits every point of a conditional grid once, then reports exhaustion', () => {
    const study = Study.create({
      space: {
        params: [
          { name: 'kind', type: 'categorical', choices: ['linear', 'rbf'] },
          {
            name: 'gamma',
            type: 'float',
            low: 0.01,
            high: 1,
            log: true,
            condition: { param: 'kind', in: ['rbf'] },
          },
          { name: 'c', type: 'int', low: 1, high: 3 },
        ],
      },
      sampler: { name: 'grid', floatPoints: 3 },
      seed: 5,
    });
    const seen = new Set<string>();
    for (let next = study.ask(); next.kind === 'trial'; next = study.ask()) {
      seen.add(JSON.stringify(next.trial.params));
      study.tell(next.trial.number, 'complete', 0);
    }
    // linear: 3 values of c; rbf: 3 gammas x 3 values of c.
    expect(seen.size).toBe(12);
    expect(study.trials().length).toBe(12);
    expect(study.ask()).toEqual({ kind: 'done', reason: 'search-space-exhausted' });
    expect(seen.has(JSON.stringify({ kind: 'rbf', gamma: 0.1, c: 2 }))).toBe(true);
  });

  it('waits rather than stops while the last points are still running', () => {
    const study = Study.create({
      space: { params: [{ name: 'c', type: 'categorical', choices: [1, 2] }] },
      sampler: { name: 'grid' },
      budget: { maxConcurrent: 3 },
    });
    study.ask();
    study.ask();
    expect(study.ask()).toEqual({ kind: 'wait', reason: 'search-space-pending' });
  });

  it('refuses a grid larger than maxPoints', () => {
    expect(() =>
      Study.create({
        space: { params: [{ name: 'n', type: 'int', low: 0, high: 1_000_000 }] },
        sampler: { name: 'grid' },
      }),
    ).toThrow(/grid has more than sampler.maxPoints=10000 points/);
  });
});

describe('snapshot and restore', () => {
  function roundTrip(study: Study): unknown {
    return JSON.parse(JSON.stringify(study.snapshot())) as unknown;
  }

  it('round-trips through JSON, NaN reports and rung values included', () => {
    const study = Study.create(baseOptions({ pruner: { name: 'asha' }, budget: { maxConcurrent: 2 } }));
    drive(study, 12);
    const next = study.ask();
    if (next.kind !== 'trial') throw new Error(next.kind);
    study.report(next.trial.number, 1, NaN);
    study.tell(next.trial.number, 'pruned');
    const restored = Study.restore(roundTrip(study));
    expect(restored.snapshot()).toEqual(study.snapshot());
    expect(restored.trial(next.trial.number)?.intermediate[0]?.value).toBeNaN();
  });

  it('continues with exactly the suggestions an uninterrupted study makes', () => {
    const uninterrupted = Study.create(baseOptions());
    const expected = drive(uninterrupted, 30);

    const first = Study.create(baseOptions());
    const before = drive(first, 17);
    const resumed = Study.restore(roundTrip(first));
    const after = drive(resumed, 13);
    expect([...before, ...after]).toEqual(expected);
  });

  it('re-queues trials that were running at the snapshot, with the same params and number', () => {
    const clock = fakeClock();
    const study = Study.create(baseOptions({ budget: { maxConcurrent: 2, maxTrials: 12 } }), {
      clock: clock.now,
    });
    drive(study, 10);
    const running = study.ask();
    if (running.kind !== 'trial') throw new Error(running.kind);
    study.report(running.trial.number, 1, 0.5);

    const restored = Study.restore(roundTrip(study), { clock: clock.now });
    expect(restored.trial(running.trial.number)).toMatchObject({ state: 'waiting', intermediate: [] });
    const again = restored.ask();
    expect(again).toMatchObject({
      kind: 'trial',
      trial: { number: running.trial.number, params: running.trial.params },
    });
    // Completed trials are not repeated, and the requeued trial did not use up budget twice.
    expect(restored.trials().filter((t) => t.state === 'complete').length).toBe(10);
    expect(restored.ask().kind).toBe('trial');
    expect(restored.ask()).toEqual({ kind: 'wait', reason: 'max-concurrent' });
  });

  it('fails running trials instead when asked to', () => {
    const study = Study.create(baseOptions({ onRestoreRunning: 'fail' }));
    drive(study, 3);
    const running = study.ask();
    if (running.kind !== 'trial') throw new Error(running.kind);
    const restored = Study.restore(roundTrip(study));
    expect(restored.trial(running.trial.number)).toMatchObject({
      state: 'failed',
      failReason: 'interrupted by a restart',
    });
    expect(
      Study.restore(roundTrip(study), {}, { onRestoreRunning: 'requeue' }).trial(running.trial.number)?.state,
    ).toBe('waiting');
  });

  it('rejects snapshots it cannot trust, saying what is wrong', () => {
    const good = Study.create(baseOptions());
    drive(good, 2);
    const snapshot = good.snapshot();
    const broken = (mutate: (s: StudySnapshot) => void): HpoError => {
      const copy = JSON.parse(JSON.stringify(snapshot)) as StudySnapshot;
      mutate(copy);
      return errorOf(() => Study.restore(copy));
    };
    expect(errorOf(() => Study.restore({ format: 'other' })).message).toMatch(/snapshot format is "other"/);
    expect(broken((s) => ((s as { version: number }).version = 99)).message).toMatch(
      /version 99 is not supported/,
    );
    expect(broken((s) => (s.trials[1]!.number = 5)).message).toMatch(/trial 1: number is 5/);
    expect(broken((s) => (s.trials[0]!.params = { lr: 5 })).message).toMatch(/trial 0: params do not fit/);
    expect(broken((s) => (s.trials[0]!.value = null)).code).toBe('HPO_SNAPSHOT_INVALID');
  });
});

describe('warm start', () => {
  it("uses a previous study's completed trials as history and skips ones that no longer fit", () => {
    const previous = Study.create({
      space: braninSpace,
      sampler: { name: 'random' },
      pruner: { name: 'none' },
      seed: 2,
    });
    for (let i = 0; i < 30; i++) {
      const next = previous.ask();
      if (next.kind !== 'trial') throw new Error(next.kind);
      previous.tell(next.trial.number, 'complete', branin(next.trial.params));
    }
    const study = Study.create({
      space: braninSpace,
      sampler: { name: 'tpe' },
      pruner: { name: 'none' },
      seed: 2,
    });
    expect(study.warmStartFrom(previous.snapshot())).toEqual({ added: 30, skipped: [] });
    // With 30 finished trials already, the very first suggestion is TPE's, not random.
    const next = study.ask();
    if (next.kind !== 'trial') throw new Error(next.kind);
    expect(next.trial.number).toBe(30);
    expect(study.bestTrial()?.origin).toBe('warm-start');

    const result = study.addWarmStartTrials([
      { params: { x1: 0, x2: 20 }, value: 1 },
      { params: { x1: 0, x2: 1 }, value: NaN },
    ]);
    expect(result.added).toBe(0);
    expect(result.skipped.map((s) => s.reason)).toEqual([
      '"x2" = 20 is outside its domain',
      'value NaN is not a finite number',
    ]);
  });

  it('refuses a previous study optimised in the other direction', () => {
    const previous = Study.create({ space: braninSpace, direction: 'maximize' });
    const study = Study.create({ space: braninSpace });
    expect(errorOf(() => study.warmStartFrom(previous.snapshot())).message).toMatch(
      /cannot warm-start a minimize study/,
    );
  });
});
