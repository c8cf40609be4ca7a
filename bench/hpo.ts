/**
 * HPO engine benchmark: does TPE find what random search finds, sooner?
 *
 * For Branin (2-D) and Hartmann-6, over 20 seeds:
 *   target = median over seeds of the best value random search reaches in 100 trials;
 *   per seed, the first trial at which TPE's best-so-far <= target (capped at 200);
 *   reported: the median of those counts (goal: <= 35). Seeds are 1..20, fixed before the first
 *   run: picking seeds after seeing results would make the figure a lie.
 * The headline (`tpe_trials_to_random100`) is the engine's recommended configuration,
 * `RECOMMENDED_TPE_OPTIONS` (multivariate TPE, neighbour-gap bandwidths, magic clip floor at 10%
 * of the range; Optuna's startup trials, candidates and gamma). Beside it, for comparison, Optuna's
 * multivariate defaults (`multivariate=True`), and on the line before the last the univariate
 * figures: the recommended options without `multivariate`, and Optuna's v4 default sampler.
 * Then the time of one `ask()` on Hartmann-6 once 500 trials are complete, averaged over 20 asks
 * (goal: <= 10 ms), for the recommended configuration (headline) and the others.
 *
 * Run: node --import tsx bench/hpo.ts. The last line is one JSON object for CI.
 */
import { performance } from 'node:perf_hooks';
import {
  RECOMMENDED_TPE_OPTIONS,
  Study,
  type ParamValues,
  type SamplerOptions,
  type SearchSpaceOptions,
} from '../retune/engine/index.js';

interface TestFunction {
  readonly name: string;
  readonly space: SearchSpaceOptions;
  readonly optimum: number;
  evaluate(params: ParamValues): number;
}

const branin: TestFunction = {
  name: 'branin',
  space: {
    params: [
      { name: 'x1', type: 'float', low: -5, high: 10 },
      { name: 'x2', type: 'float', low: 0, high: 15 },
    ],
  },
  optimum: 0.397887,
  evaluate(params) {
    const x1 = params.x1 as number;
    const x2 = params.x2 as number;
    const b = 5.1 / (4 * Math.PI ** 2);
    const c = 5 / Math.PI;
    const t = 1 / (8 * Math.PI);
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
  },
};

const HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2];
const HARTMANN_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const HARTMANN_P = [
  [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
  [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
  [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.665],
  [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
];

const hartmann6: TestFunction = {
  name: 'hartmann6',
  space: {
    params: [0, 1, 2, 3, 4, 5].map((i) => ({ name: `x${i}`, type: 'float' as const, low: 0, high: 1 })),
  },
  optimum: -3.32237,
  evaluate(params) {
    let total = 0;
    for (let i = 0; i < 4; i++) {
      let inner = 0;
      for (let j = 0; j < 6; j++) {
        const x = params[`x${j}`] as number;
        inner += (HARTMANN_A[i]?.[j] ?? 0) * (x - (HARTMANN_P[i]?.[j] ?? 0)) ** 2;
      }
      total -= (HARTMANN_ALPHA[i] ?? 0) * Math.exp(-inner);
    }
    return total;
  },
};

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);
const RANDOM_TRIALS = 100;
const TPE_CAP = 200;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** Runs a sequential study and returns best-so-far after each trial. */
function bestSoFar(fn: TestFunction, sampler: SamplerOptions, seed: number, trials: number): number[] {
  const study = Study.create({
    space: fn.space,
    sampler,
    pruner: { name: 'none' },
    seed,
    budget: { maxTrials: trials },
  });
  const curve: number[] = [];
  let best = Infinity;
  for (;;) {
    const next = study.ask();
    if (next.kind !== 'trial') break;
    const value = fn.evaluate(next.trial.params);
    study.tell(next.trial.number, 'complete', value);
    best = Math.min(best, value);
    curve.push(best);
  }
  return curve;
}

function trialsToReach(curve: readonly number[], target: number): number {
  const index = curve.findIndex((best) => best <= target);
  return index === -1 ? TPE_CAP : index + 1;
}

function suggestMsAt(fn: TestFunction, sampler: SamplerOptions, completed: number, samples: number): number {
  const study = Study.create({ space: fn.space, sampler, pruner: { name: 'none' }, seed: 7 });
  let elapsed = 0;
  for (let i = 0; i < completed + samples; i++) {
    const start = performance.now();
    const next = study.ask();
    if (i >= completed) elapsed += performance.now() - start;
    if (next.kind !== 'trial') throw new Error(`unexpected ${next.kind}`);
    study.tell(next.trial.number, 'complete', fn.evaluate(next.trial.params));
  }
  return elapsed / samples;
}

function tpeTrialsToTarget(fn: TestFunction, sampler: SamplerOptions, target: number, label: string): number {
  const counts = SEEDS.map((seed) => trialsToReach(bestSoFar(fn, sampler, seed, TPE_CAP), target));
  const k = median(counts);
  console.log(`  ${label}: median ${k} trials to reach it; per seed [${counts.join(', ')}]`);
  return k;
}

const CONFIGS = {
  recommended: RECOMMENDED_TPE_OPTIONS,
  optuna_multivariate: { name: 'tpe', multivariate: true },
  recommended_univariate: { ...RECOMMENDED_TPE_OPTIONS, multivariate: false },
  optuna_univariate: { name: 'tpe' },
} satisfies Record<string, SamplerOptions>;
type ConfigName = keyof typeof CONFIGS;
const CONFIG_NAMES = Object.keys(CONFIGS) as ConfigName[];

const results = [];
const univariateResults = [];
for (const fn of [branin, hartmann6]) {
  const randomBests = SEEDS.map(
    (seed) => bestSoFar(fn, { name: 'random' }, seed, RANDOM_TRIALS).at(-1) ?? NaN,
  );
  const target = median(randomBests);
  console.log(
    `${fn.name}: random search median best after ${RANDOM_TRIALS} trials ${target.toFixed(4)} (optimum ${fn.optimum})`,
  );
  const k = {} as Record<ConfigName, number>;
  for (const name of CONFIG_NAMES) k[name] = tpeTrialsToTarget(fn, CONFIGS[name], target, name);
  results.push({
    function: fn.name,
    tpe_trials_to_random100: k.recommended,
    optuna_multivariate_trials_to_random100: k.optuna_multivariate,
    random100_median_best: Number(target.toFixed(6)),
  });
  univariateResults.push({
    function: fn.name,
    recommended_univariate_trials_to_random100: k.recommended_univariate,
    optuna_univariate_trials_to_random100: k.optuna_univariate,
  });
}

const suggestMs = {} as Record<ConfigName, number>;
for (const name of CONFIG_NAMES) {
  suggestMs[name] = Number(suggestMsAt(hartmann6, CONFIGS[name], 500, 20).toFixed(3));
}
console.log(
  `ask() on hartmann6 after 500 complete trials (mean of 20): ` +
    CONFIG_NAMES.map((name) => `${name} ${suggestMs[name].toFixed(2)} ms`).join(', '),
);
console.log(
  JSON.stringify({
    bench: 'hpo-univariate',
    samplers: {
      recommended_univariate: CONFIGS.recommended_univariate,
      optuna_univariate: CONFIGS.optuna_univariate,
    },
    results: univariateResults,
    suggest_ms_at_500: {
      recommended_univariate: suggestMs.recommended_univariate,
      optuna_univariate: suggestMs.optuna_univariate,
    },
  }),
);
console.log(
  JSON.stringify({
    bench: 'hpo',
    sampler: 'recommended',
    sampler_options: CONFIGS.recommended,
    results,
    suggest_ms_at_500: suggestMs.recommended,
    suggest_ms_at_500_optuna_multivariate: suggestMs.optuna_multivariate,
    seeds: SEEDS.length,
  }),
);
