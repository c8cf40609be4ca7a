/**
 * Tree-structured Parzen Estimator, following Optuna's TPESampler (v3/v4) for one objective.
 * With no options it is Optuna's default sampler; `RECOMMENDED_TPE_OPTIONS` is driftguard's
 * recommended configuration (multivariate, neighbour-gap bandwidths, a flatter magic clip).
 *
 * Finished trials are split into a "below" (good) group of size gamma(n) = min(ceil(0.1 n), 25)
 * and an "above" group; each group gets a Parzen estimator; 24 candidates drawn from the good
 * estimator are scored by log l(x) - log g(x) and the best one wins. Pruned trials join the split
 * after completed ones, ranked by how far they got and their last value. With the constant liar,
 * running trials join the "above" group so parallel workers do not all chase the same region.
 */
import { invalidOptions } from '../errors.js';
import { Rng } from '../prng.js';
import {
  fromInternal,
  isParamActive,
  toInternal,
  type CompiledParam,
  type ParamValue,
  type ParamValues,
} from '../search-space.js';
import { asLoss, type Direction, type TrialRecord } from '../trial.js';
import {
  ParzenEstimator,
  defaultTpeWeights,
  type Candidate,
  type ParzenEstimatorSettings,
  type TpeBandwidthRule,
} from './parzen-estimator.js';
import { sampleSpaceUniformly } from './random-sampler.js';
import type { Sampler, SuggestContext, Suggestion } from './sampler.js';

export interface TpeSamplerOptions {
  name: 'tpe';
  /** Trials sampled at random before TPE takes over (completed and pruned ones count). @default 10 */
  nStartupTrials?: number;
  /** Candidates drawn from the good-trials estimator per suggestion. @default 24 */
  nEiCandidates?: number;
  /** Weight of the prior kernel relative to one observation. @default 1.0 */
  priorWeight?: number;
  /**
   * Kernel widths: `neighbour-gap` (the larger gap to the neighbouring observations; Optuna's
   * univariate rule) or `scott` (`0.2 n^(-1/(d+4))` of the range for every kernel; Optuna's
   * multivariate rule). @default 'scott' when `multivariate`, else 'neighbour-gap' (as Optuna)
   */
  bandwidth?: TpeBandwidthRule;
  /**
   * Lower-bound bandwidths by the magic clip, `range * max(minBandwidthFactor, (n + 2)^-magicClipExponent)`
   * for n observations (Optuna: `range / min(100, n + 2)`). @default true
   */
  considerMagicClip?: boolean;
  /**
   * The magic clip's exponent; larger lets kernels narrow faster as observations accumulate
   * (Watanabe 2023's "b_magic exponent"). @default 1 (Optuna)
   */
  magicClipExponent?: number;
  /** The magic clip's floor, as a fraction of the range. @default 0.01 (Optuna's 1/100) */
  minBandwidthFactor?: number;
  /** Let the outermost kernels be as wide as their gap to the range ends. @default false */
  considerEndpoints?: boolean;
  /** Model unconditional parameters jointly (Optuna `multivariate=True`). @default false */
  multivariate?: boolean;
  /** Count running trials as bad results so parallel trials spread out. @default false */
  constantLiar?: boolean;
}

export interface CompiledTpeSamplerOptions {
  readonly nStartupTrials: number;
  readonly nEiCandidates: number;
  readonly multivariate: boolean;
  readonly estimator: ParzenEstimatorSettings;
  readonly constantLiar: boolean;
}

/**
 * driftguard's recommended TPE: Optuna's defaults for startup trials, candidates, gamma, weights
 * and prior, plus multivariate TPE with neighbour-gap bandwidths, a magic clip of
 * `range * max(0.1, (n + 2)^-2)` (10% of the range once a group has two observations, where
 * Optuna's `range / (n + 2)` starts at 25%), and the constant liar for parallel trials. Chosen
 * by measurements on Branin, Hartmann-6 and seven other functions (docs/hpo.md);
 * `bench/hpo.ts` reports it.
 */
export const RECOMMENDED_TPE_OPTIONS: Readonly<TpeSamplerOptions> = Object.freeze({
  name: 'tpe',
  multivariate: true,
  bandwidth: 'neighbour-gap',
  magicClipExponent: 2,
  minBandwidthFactor: 0.1,
  constantLiar: true,
});

const BANDWIDTH_RULES: readonly TpeBandwidthRule[] = ['neighbour-gap', 'scott'];

/** Optuna's `default_gamma`: the size of the good group for n finished trials. */
export function defaultTpeGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

export function compileTpeSamplerOptions(options: TpeSamplerOptions): CompiledTpeSamplerOptions {
  const nStartupTrials = options.nStartupTrials ?? 10;
  const nEiCandidates = options.nEiCandidates ?? 24;
  const priorWeight = options.priorWeight ?? 1.0;
  if (!Number.isInteger(nStartupTrials) || nStartupTrials < 0) {
    throw invalidOptions(
      `sampler.nStartupTrials must be an integer >= 0, got ${JSON.stringify(options.nStartupTrials)}`,
    );
  }
  if (!Number.isInteger(nEiCandidates) || nEiCandidates < 1) {
    throw invalidOptions(
      `sampler.nEiCandidates must be an integer >= 1, got ${JSON.stringify(options.nEiCandidates)}`,
    );
  }
  if (typeof priorWeight !== 'number' || !(priorWeight > 0) || !Number.isFinite(priorWeight)) {
    throw invalidOptions(
      `sampler.priorWeight must be a finite number > 0, got ${JSON.stringify(options.priorWeight)}`,
    );
  }
  const multivariate = options.multivariate ?? false;
  const bandwidth = options.bandwidth ?? (multivariate ? 'scott' : 'neighbour-gap');
  if (!BANDWIDTH_RULES.includes(bandwidth)) {
    throw invalidOptions(
      `sampler.bandwidth must be one of ${BANDWIDTH_RULES.join(', ')}, got ${JSON.stringify(options.bandwidth)}`,
    );
  }
  const magicClipExponent = options.magicClipExponent ?? 1;
  if (
    typeof magicClipExponent !== 'number' ||
    !(magicClipExponent > 0) ||
    !Number.isFinite(magicClipExponent)
  ) {
    throw invalidOptions(
      `sampler.magicClipExponent must be a finite number > 0, got ${JSON.stringify(options.magicClipExponent)}; ` +
        'Optuna uses 1',
    );
  }
  const minBandwidthFactor = options.minBandwidthFactor ?? 0.01;
  if (typeof minBandwidthFactor !== 'number' || !(minBandwidthFactor > 0) || !(minBandwidthFactor <= 1)) {
    throw invalidOptions(
      `sampler.minBandwidthFactor must be a number in (0, 1], got ${JSON.stringify(options.minBandwidthFactor)}; ` +
        'Optuna uses 0.01',
    );
  }
  return Object.freeze({
    nStartupTrials,
    nEiCandidates,
    multivariate,
    constantLiar: options.constantLiar ?? false,
    estimator: Object.freeze({
      priorWeight,
      bandwidth,
      considerMagicClip: options.considerMagicClip ?? true,
      magicClipExponent,
      minBandwidthFactor,
      considerEndpoints: options.considerEndpoints ?? false,
    }),
  });
}

function lastReport(trial: TrialRecord): { step: number; value: number } | undefined {
  return trial.intermediate[trial.intermediate.length - 1];
}

/** Optuna's `_split_trials` for one objective, without constraints. */
export function splitTrials(
  trials: readonly TrialRecord[],
  nBelow: number,
  direction: Direction,
): { below: TrialRecord[]; above: TrialRecord[] } {
  const complete = trials.filter((t) => t.state === 'complete');
  const pruned = trials.filter((t) => t.state === 'pruned');
  const running = trials.filter((t) => t.state === 'running' || t.state === 'waiting');
  const byNumber = (a: TrialRecord, b: TrialRecord): number => a.number - b.number;

  complete.sort(
    (a, b) => asLoss(direction, a.value ?? NaN) - asLoss(direction, b.value ?? NaN) || byNumber(a, b),
  );
  const belowComplete = complete.slice(0, nBelow);
  const aboveComplete = complete.slice(nBelow);

  // Pruned trials rank by the furthest step reached, then by the value there (NaN last).
  const prunedKey = (t: TrialRecord): [number, number] => {
    const last = lastReport(t);
    if (last === undefined) return [1, 0];
    return [-last.step, Number.isNaN(last.value) ? Infinity : asLoss(direction, last.value)];
  };
  pruned.sort((a, b) => {
    const [sa, va] = prunedKey(a);
    const [sb, vb] = prunedKey(b);
    return sa - sb || (va === vb ? 0 : va < vb ? -1 : 1) || byNumber(a, b);
  });
  const prunedBelowCount = Math.max(0, nBelow - belowComplete.length);
  const below = [...belowComplete, ...pruned.slice(0, prunedBelowCount)].sort(byNumber);
  const above = [...aboveComplete, ...pruned.slice(prunedBelowCount), ...running].sort(byNumber);
  return { below, above };
}

function observationOf(param: CompiledParam, value: ParamValue): number {
  if (param.type === 'categorical') return param.choices.indexOf(value);
  return toInternal(param, value as number);
}

function valueOf(param: CompiledParam, coordinate: number): ParamValue {
  if (param.type === 'categorical') return param.choices[coordinate] as ParamValue;
  // Floats come back as internal coordinates; ints already as grid values.
  return param.type === 'float' ? fromInternal(param, coordinate) : coordinate;
}

function buildEstimator(
  params: readonly CompiledParam[],
  trials: readonly TrialRecord[],
  settings: ParzenEstimatorSettings,
): ParzenEstimator {
  const having = trials.filter((t) => params.every((p) => t.params[p.name] !== undefined));
  const observations = params.map((param) =>
    Float64Array.from(having, (t) => observationOf(param, t.params[param.name] as ParamValue)),
  );
  return new ParzenEstimator(params, observations, defaultTpeWeights(having.length), settings);
}

export class TpeSampler implements Sampler {
  readonly name = 'tpe';
  readonly options: CompiledTpeSamplerOptions;

  constructor(options: TpeSamplerOptions) {
    this.options = compileTpeSamplerOptions(options);
  }

  suggest(context: SuggestContext): Suggestion {
    const { space, direction } = context;
    const rng = Rng.derive(context.seed, context.trialNumber);
    const finished = context.trials.filter((t) => t.state === 'complete' || t.state === 'pruned');
    if (finished.length < this.options.nStartupTrials) {
      return { kind: 'params', params: sampleSpaceUniformly(space, rng) };
    }
    const considered = this.options.constantLiar
      ? context.trials.filter((t) => t.state !== 'failed')
      : finished;
    const { below, above } = splitTrials(considered, defaultTpeGamma(finished.length), direction);

    const params: Record<string, ParamValue> = {};
    if (this.options.multivariate) {
      // Like Optuna, the joint model covers the parameters every trial has; conditional ones
      // are then sampled one at a time.
      const joint = space.params.filter((p) => p.condition === undefined);
      Object.assign(params, this.sampleGroup(joint, below, above, rng));
    }
    for (const param of space.params) {
      if (params[param.name] !== undefined || !isParamActive(param, params)) continue;
      Object.assign(params, this.sampleGroup([param], below, above, rng));
    }
    return { kind: 'params', params };
  }

  private sampleGroup(
    group: readonly CompiledParam[],
    below: readonly TrialRecord[],
    above: readonly TrialRecord[],
    rng: Rng,
  ): ParamValues {
    if (group.length === 0) return {};
    const settings = this.options.estimator;
    const good = buildEstimator(group, below, settings);
    const bad = buildEstimator(group, above, settings);
    const candidates = good.sample(rng, this.options.nEiCandidates);
    const logGood = good.logPdf(candidates);
    const logBad = bad.logPdf(candidates);
    let bestIndex = 0;
    let bestScore = -Infinity;
    for (let i = 0; i < candidates.length; i++) {
      const score = (logGood[i] ?? -Infinity) - (logBad[i] ?? 0);
      if (score > bestScore) {
        bestScore = score;
        bestIndex = i;
      }
    }
    const best: Candidate = candidates[bestIndex] ?? new Float64Array(group.length);
    const chosen: Record<string, ParamValue> = {};
    group.forEach((param, d) => {
      chosen[param.name] = valueOf(param, best[d] ?? 0);
    });
    return chosen;
  }
}
