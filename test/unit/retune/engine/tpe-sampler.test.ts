import { describe, expect, it } from 'vitest';
import {
  Study,
  compileSearchSpace,
  type ParamValues,
  type TrialRecord,
} from '../../../../retune/engine/index.js';
import { defaultTpeWeights, ParzenEstimator } from '../../../../retune/engine/samplers/parzen-estimator.js';
import { defaultTpeGamma, splitTrials, TpeSampler } from '../../../../retune/engine/samplers/tpe-sampler.js';
import { Rng } from '../../../../retune/engine/prng.js';
import { branin, braninSpace, median, optimise } from './fixtures.js';

function trial(number: number, partial: Partial<TrialRecord>): TrialRecord {
  return {
    number,
    state: 'complete',
    origin: 'sampler',
    params: {},
    value: undefined,
    intermediate: [],
    rungValues: [],
    startedAtMs: undefined,
    finishedAtMs: undefined,
    failReason: undefined,
    ...partial,
  };
}

describe('Optuna defaults', () => {
  it('gamma(n) = min(ceil(0.1 n), 25)', () => {
    expect([0, 1, 10, 11, 100, 249, 250, 1000].map(defaultTpeGamma)).toEqual([0, 1, 1, 2, 10, 25, 25, 25]);
  });

  it('weights are flat for the last 25 trials and ramp from 1/n before that', () => {
    expect(Array.from(defaultTpeWeights(3))).toEqual([1, 1, 1]);
    const w = defaultTpeWeights(30);
    expect(w[0]).toBeCloseTo(1 / 30, 12);
    expect(w[4]).toBeCloseTo(1, 12);
    expect(Array.from(w.subarray(5))).toEqual(new Array(25).fill(1));
  });

  it('uses univariate TPE with 10 startup and 24 candidates unless told otherwise', () => {
    const sampler = new TpeSampler({ name: 'tpe' });
    expect(sampler.options).toMatchObject({ nStartupTrials: 10, nEiCandidates: 24, constantLiar: false });
    expect(sampler.options.estimator).toEqual({
      priorWeight: 1,
      considerMagicClip: true,
      considerEndpoints: false,
      multivariate: false,
    });
  });

  it('rejects bad options with the value and the constraint', () => {
    expect(() => new TpeSampler({ name: 'tpe', nStartupTrials: -1 })).toThrow(
      /nStartupTrials must be an integer >= 0, got -1/,
    );
    expect(() => new TpeSampler({ name: 'tpe', priorWeight: 0 })).toThrow(
      /priorWeight must be a finite number > 0, got 0/,
    );
  });
});

describe('Parzen estimator', () => {
  const space = compileSearchSpace({
    params: [
      { name: 'x', type: 'float', low: -5, high: 10 },
      { name: 'n', type: 'int', low: 1, high: 20 },
      { name: 'c', type: 'categorical', choices: ['a', 'b', 'c'] },
    ],
  });
  const settings = { priorWeight: 1, considerMagicClip: true, considerEndpoints: false, multivariate: false };

  it('is a normalised density for floats and a normalised mass for ints and categoricals', () => {
    const [x, n, c] = space.params;
    if (x === undefined || n === undefined || c === undefined) throw new Error('space');
    const floatPe = new ParzenEstimator([x], [[1, 2, -4, 9.5]], [1, 1, 1, 1], settings);
    const grid = Array.from({ length: 3000 }, (_, i) => Float64Array.of(-5 + (15 * (i + 0.5)) / 3000));
    const integral = Array.from(floatPe.logPdf(grid)).reduce(
      (sum, lp) => sum + Math.exp(lp) * (15 / 3000),
      0,
    );
    expect(integral).toBeCloseTo(1, 4);

    const intPe = new ParzenEstimator([n], [[3, 3, 18]], [1, 1, 1], settings);
    const ints = Array.from({ length: 20 }, (_, i) => Float64Array.of(i + 1));
    expect(Array.from(intPe.logPdf(ints)).reduce((sum, lp) => sum + Math.exp(lp), 0)).toBeCloseTo(1, 6);

    const catPe = new ParzenEstimator([c], [[0, 0, 2]], [1, 1, 1], settings);
    const cats = [0, 1, 2].map((i) => Float64Array.of(i));
    const probs = Array.from(catPe.logPdf(cats), Math.exp);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(probs[0]).toBeGreaterThan(probs[2] ?? 1);
    expect(probs[2]).toBeGreaterThan(probs[1] ?? 1);
  });

  it('samples values inside the bounds that its density describes', () => {
    const [x] = space.params;
    if (x === undefined) throw new Error('space');
    const pe = new ParzenEstimator([x], [[1, 2, -4, 9.5]], [1, 1, 1, 1], settings);
    const samples = pe.sample(Rng.derive(1), 20_000).map((c) => c[0] ?? NaN);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(-5);
    expect(Math.max(...samples)).toBeLessThanOrEqual(10);
    const sampleMean = samples.reduce((a, b) => a + b, 0) / samples.length;
    const grid = Array.from({ length: 3000 }, (_, i) => -5 + (15 * (i + 0.5)) / 3000);
    const densities = pe.logPdf(grid.map((g) => Float64Array.of(g)));
    const densityMean = grid.reduce(
      (sum, g, i) => sum + g * Math.exp(densities[i] ?? -Infinity) * (15 / 3000),
      0,
    );
    expect(Math.abs(sampleMean - densityMean)).toBeLessThan(0.06);
  });
});

describe('splitTrials', () => {
  it('puts the best completed trials below, then pruned ones by furthest step, running ones above', () => {
    const trials = [
      trial(0, { value: 5 }),
      trial(1, { value: 1 }),
      trial(2, { state: 'pruned', intermediate: [{ step: 3, value: 9 }] }),
      trial(3, { state: 'pruned', intermediate: [{ step: 1, value: 0 }] }),
      trial(4, { state: 'running' }),
      trial(5, { value: 3 }),
    ];
    const numbers = (list: TrialRecord[]): number[] => list.map((t) => t.number);
    expect(numbers(splitTrials(trials, 2, 'minimize').below)).toEqual([1, 5]);
    const wide = splitTrials(trials, 4, 'minimize');
    expect(numbers(wide.below)).toEqual([0, 1, 2, 5]);
    expect(numbers(wide.above)).toEqual([3, 4]);
    expect(numbers(splitTrials(trials, 1, 'maximize').below)).toEqual([0]);
  });
});

describe('TPE search quality', () => {
  const seeds = [1, 2, 3, 4, 5, 6, 7, 8];

  it('beats random search on Branin at 60 trials (median over 8 seeds)', () => {
    const tpe = median(seeds.map((s) => optimise(braninSpace, branin, { name: 'tpe' }, s, 60).at(-1) ?? NaN));
    const random = median(
      seeds.map((s) => optimise(braninSpace, branin, { name: 'random' }, s + 100, 60).at(-1) ?? NaN),
    );
    expect(tpe).toBeLessThan(random);
    expect(tpe).toBeLessThan(0.8); // optimum 0.398
  });

  it('closes in on the minimum of a 3-D quadratic with log and int parameters', () => {
    const space = {
      params: [
        { name: 'x', type: 'float' as const, low: -10, high: 10 },
        { name: 'lr', type: 'float' as const, low: 1e-5, high: 1, log: true },
        { name: 'n', type: 'int' as const, low: 1, high: 100 },
      ],
    };
    const objective = (p: ParamValues): number =>
      ((p.x as number) - 3) ** 2 + (Math.log10(p.lr as number) + 3) ** 2 + (((p.n as number) - 42) / 10) ** 2;
    const tpe = median(seeds.map((s) => optimise(space, objective, { name: 'tpe' }, s, 80).at(-1) ?? NaN));
    const random = median(
      seeds.map((s) => optimise(space, objective, { name: 'random' }, s + 100, 80).at(-1) ?? NaN),
    );
    expect(tpe).toBeLessThan(random / 2);
    const multivariate = median(
      seeds.map((s) => optimise(space, objective, { name: 'tpe', multivariate: true }, s, 80).at(-1) ?? NaN),
    );
    expect(multivariate).toBeLessThan(random / 2);
  });

  it('learns which categorical choice is best and tunes its conditional child', () => {
    const space = {
      params: [
        { name: 'kind', type: 'categorical' as const, choices: ['a', 'b', 'c', 'd'] },
        { name: 'x', type: 'float' as const, low: 0, high: 1, condition: { param: 'kind', in: ['c'] } },
      ],
    };
    const objective = (p: ParamValues): number =>
      p.kind === 'c' ? ((p.x as number) - 0.7) ** 2 : 1 + (p.kind === 'a' ? 0 : 1);
    const study = Study.create({
      space,
      sampler: { name: 'tpe' },
      pruner: { name: 'none' },
      seed: 4,
      budget: { maxTrials: 50 },
    });
    for (let next = study.ask(); next.kind === 'trial'; next = study.ask()) {
      study.tell(next.trial.number, 'complete', objective(next.trial.params));
    }
    const lastTwenty = study.trials().slice(-20);
    expect(lastTwenty.filter((t) => t.params.kind === 'c').length).toBeGreaterThanOrEqual(14);
    expect(study.bestTrial()?.value).toBeLessThan(0.005);
  });
});

describe('constant liar', () => {
  it('spreads suggestions made while other trials are still running', () => {
    const space = { params: [{ name: 'x', type: 'float' as const, low: 0, high: 1 }] };
    const run = (constantLiar: boolean): number => {
      const study = Study.create({
        space,
        sampler: { name: 'tpe', constantLiar },
        pruner: { name: 'none' },
        seed: 3,
        budget: { maxConcurrent: 8 },
      });
      for (let i = 0; i < 20; i++) {
        const next = study.ask();
        if (next.kind !== 'trial') throw new Error(next.kind);
        study.tell(next.trial.number, 'complete', ((next.trial.params.x as number) - 0.3) ** 2);
      }
      const batch: number[] = [];
      for (let i = 0; i < 8; i++) {
        const next = study.ask();
        if (next.kind !== 'trial') throw new Error(next.kind);
        batch.push(next.trial.params.x as number);
      }
      const mean = batch.reduce((a, b) => a + b, 0) / batch.length;
      return Math.sqrt(batch.reduce((s, x) => s + (x - mean) ** 2, 0) / batch.length);
    };
    expect(run(true)).toBeGreaterThan(run(false));
  });
});
