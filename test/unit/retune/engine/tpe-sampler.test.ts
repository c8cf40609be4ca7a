import { describe, expect, it } from 'vitest';
import {
  RECOMMENDED_TPE_OPTIONS,
  Study,
  compileSearchSpace,
  type ParamValues,
  type SamplerOptions,
  type TrialRecord,
} from '../../../../retune/engine/index.js';
import {
  defaultTpeWeights,
  magicClipMinSigma,
  numericSigmas,
  ParzenEstimator,
  type ParzenEstimatorSettings,
} from '../../../../retune/engine/samplers/parzen-estimator.js';
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
    expect(sampler.options).toMatchObject({
      nStartupTrials: 10,
      nEiCandidates: 24,
      multivariate: false,
      constantLiar: false,
    });
    expect(sampler.options.estimator).toEqual({
      priorWeight: 1,
      bandwidth: 'neighbour-gap',
      considerMagicClip: true,
      magicClipExponent: 1,
      minBandwidthFactor: 0.01,
      considerEndpoints: false,
    });
  });

  it('uses the Scott-style bandwidth when multivariate, as Optuna does', () => {
    const sampler = new TpeSampler({ name: 'tpe', multivariate: true });
    expect(sampler.options.multivariate).toBe(true);
    expect(sampler.options.estimator.bandwidth).toBe('scott');
    expect(
      new TpeSampler({ name: 'tpe', multivariate: true, bandwidth: 'neighbour-gap' }).options.estimator,
    ).toMatchObject({ bandwidth: 'neighbour-gap' });
  });

  it('keeps the startup, candidate and gamma defaults in the recommended configuration', () => {
    const sampler = new TpeSampler(RECOMMENDED_TPE_OPTIONS);
    expect(sampler.options).toMatchObject({
      nStartupTrials: 10,
      nEiCandidates: 24,
      multivariate: true,
      constantLiar: true,
    });
    expect(sampler.options.estimator).toEqual({
      priorWeight: 1,
      bandwidth: 'neighbour-gap',
      considerMagicClip: true,
      magicClipExponent: 2,
      minBandwidthFactor: 0.1,
      considerEndpoints: false,
    });
    expect(Object.isFrozen(RECOMMENDED_TPE_OPTIONS)).toBe(true);
  });

  it('rejects bad options with the value and the constraint', () => {
    expect(() => new TpeSampler({ name: 'tpe', nStartupTrials: -1 })).toThrow(
      /nStartupTrials must be an integer >= 0, got -1/,
    );
    expect(() => new TpeSampler({ name: 'tpe', priorWeight: 0 })).toThrow(
      /priorWeight must be a finite number > 0, got 0/,
    );
    expect(() => new TpeSampler({ name: 'tpe', magicClipExponent: 0 })).toThrow(
      /magicClipExponent must be a finite number > 0, got 0; Optuna uses 1/,
    );
    expect(() => new TpeSampler({ name: 'tpe', minBandwidthFactor: 1.5 })).toThrow(
      /minBandwidthFactor must be a number in \(0, 1\], got 1.5; Optuna uses 0.01/,
    );
    expect(() => new TpeSampler({ name: 'tpe', bandwidth: 'silverman' as 'scott' })).toThrow(
      /bandwidth must be one of neighbour-gap, scott, got "silverman"/,
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
  const settings: ParzenEstimatorSettings = {
    priorWeight: 1,
    bandwidth: 'neighbour-gap',
    considerMagicClip: true,
    magicClipExponent: 1,
    minBandwidthFactor: 0.01,
    considerEndpoints: false,
  };

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

  it('draws every dimension of a multivariate sample from the same kernel', () => {
    const unit = compileSearchSpace({
      params: [
        { name: 'a', type: 'float', low: 0, high: 1 },
        { name: 'b', type: 'float', low: 0, high: 1 },
      ],
    });
    // Two tight clusters on the diagonal: a kernel picked per dimension would put about half of
    // the draws in the off-diagonal quadrants; one kernel per draw leaves only the prior's share.
    const xs = [...new Array<number>(10).fill(0.1), ...new Array<number>(10).fill(0.9)];
    const pe = new ParzenEstimator(unit.params, [xs, xs], new Array<number>(20).fill(1), {
      ...settings,
      bandwidth: 'scott',
    });
    const draws = pe.sample(Rng.derive(2), 4000);
    const offDiagonal = draws.filter((d) => (d[0] ?? 0) < 0.5 !== (d[1] ?? 0) < 0.5).length / draws.length;
    expect(offDiagonal).toBeLessThan(0.05);

    // And the draws follow the joint density: compare the mass of one off-diagonal quadrant.
    const cells = 200;
    const grid: Float64Array[] = [];
    for (let i = 0; i < cells; i++) {
      for (let j = 0; j < cells; j++) grid.push(Float64Array.of((i + 0.5) / cells, (j + 0.5) / cells));
    }
    const density = pe.logPdf(grid);
    let total = 0;
    let quadrant = 0;
    grid.forEach((point, k) => {
      const mass = Math.exp(density[k] ?? -Infinity) / cells ** 2;
      total += mass;
      if ((point[0] ?? 0) < 0.5 && (point[1] ?? 0) >= 0.5) quadrant += mass;
    });
    expect(total).toBeCloseTo(1, 4);
    const sampled = draws.filter((d) => (d[0] ?? 0) < 0.5 && (d[1] ?? 0) >= 0.5).length / draws.length;
    expect(Math.abs(sampled - quadrant)).toBeLessThan(0.01);
  });
});

describe('bandwidths', () => {
  const base: ParzenEstimatorSettings = {
    priorWeight: 1,
    bandwidth: 'neighbour-gap',
    considerMagicClip: false,
    magicClipExponent: 1,
    minBandwidthFactor: 0.01,
    considerEndpoints: false,
  };

  it('neighbour-gap: the larger gap to the neighbours, the prior mean (0.5) counted', () => {
    // sorted with the prior: 0 | 0.1, 0.2, 0.5(prior), 0.9 | 1
    const sigmas = numericSigmas([0.9, 0.1, 0.2], 0, 1, 1, base);
    expect(sigmas[0]).toBeCloseTo(0.4, 12); // outermost: its inner gap, not the gap to 1
    expect(sigmas[1]).toBeCloseTo(0.1, 12); // outermost: its inner gap, not the gap to 0
    expect(sigmas[2]).toBeCloseTo(0.3, 12); // max(0.2 - 0.1, 0.5 - 0.2)
    const withEndpoints = numericSigmas([0.9, 0.1, 0.2], 0, 1, 1, { ...base, considerEndpoints: true });
    expect(withEndpoints[1]).toBeCloseTo(0.1, 12); // max(0.1 - 0, 0.2 - 0.1)
    expect(withEndpoints[0]).toBeCloseTo(0.4, 12); // max(0.9 - 0.5, 1 - 0.9)
  });

  it("scott: Optuna's 0.2 n^(-1/(d+4)) of the range for every kernel", () => {
    const sigmas = numericSigmas([1, 2, 3, 4, 5, 6, 7, 8], -5, 10, 2, { ...base, bandwidth: 'scott' });
    const expected = 0.2 * 8 ** (-1 / 6) * 15;
    expect(Array.from(sigmas)).toEqual(new Array<number>(8).fill(expected));
  });

  it("the magic clip defaults to Optuna's range / min(100, n + 2), exactly", () => {
    for (let n = 0; n <= 150; n++) {
      expect(magicClipMinSigma(15, n, base)).toBe(15 / Math.min(100, n + 2));
    }
  });

  it('a larger exponent narrows the clip as (n + 2)^-alpha, down to the floor factor', () => {
    const tight = { magicClipExponent: 2, minBandwidthFactor: 0.03 };
    expect(magicClipMinSigma(1, 1, tight)).toBeCloseTo(1 / 9, 12);
    expect(magicClipMinSigma(1, 3, tight)).toBeCloseTo(1 / 25, 12);
    expect(magicClipMinSigma(1, 4, tight)).toBeCloseTo(0.03, 12); // 1/36 < 0.03
    expect(magicClipMinSigma(2, 100, tight)).toBeCloseTo(0.06, 12);
    // Coinciding observations (gap 0) get the clip, 1/(3 + 2)^2; the last one's gap to the
    // prior's mean (0.2) is wider than the clip and stays.
    const clipped = numericSigmas([0.3, 0.3, 0.3], 0, 1, 1, { ...base, considerMagicClip: true, ...tight });
    expect(clipped[0]).toBeCloseTo(0.04, 12);
    expect(clipped[1]).toBeCloseTo(0.04, 12);
    expect(clipped[2]).toBeCloseTo(0.2, 12);
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

  it('gets closer to Branin with the recommended configuration than with Optuna multivariate defaults', () => {
    const best = (sampler: SamplerOptions): number =>
      median(seeds.map((s) => optimise(braninSpace, branin, sampler, s, 40).at(-1) ?? NaN));
    const recommended = best(RECOMMENDED_TPE_OPTIONS);
    expect(recommended).toBeLessThan(best({ name: 'tpe', multivariate: true }));
    expect(recommended).toBeLessThan(0.55); // optimum 0.398; random search's median after 40: 0.85
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
