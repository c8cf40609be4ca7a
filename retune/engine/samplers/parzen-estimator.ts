/**
 * Optuna's Parzen estimator: a weighted mixture of product kernels, one kernel per observed
 * trial plus one wide "prior" kernel. Numeric dimensions use truncated Gaussians in internal
 * coordinates (log space for log params, integer grids widened by half a step); integer
 * dimensions put each grid value's interval mass on that value; categorical dimensions use
 * smoothed counts. Every dimension of one draw comes from the same kernel, so a multivariate
 * estimator keeps the correlations between parameters that its observations show.
 *
 * Bandwidths: the neighbour-gap rule (Optuna's univariate rule, hyperopt's adaptive Parzen
 * estimator) or Optuna's multivariate Scott-style rule, then clipped from below by the "magic
 * clip" `range * max(minBandwidthFactor, (n + 2)^-magicClipExponent)` and from above by the range.
 * With exponent 1 and factor 0.01 the clip is exactly Optuna's `range / min(100, n + 2)`; the two
 * knobs are the "b_magic exponent" and "minimum bandwidth factor" of Watanabe (2023),
 * "Tree-Structured Parzen Estimator: Understanding Its Algorithm Components" (arXiv:2304.11127).
 */
import { logNormalMass, logNormalPdf, logSumExp, normalCdf, normalQuantile } from '../normal-math.js';
import type { Rng } from '../prng.js';
import { internalBounds, type CompiledNumericParam, type CompiledParam } from '../search-space.js';

/**
 * How wide each observation's kernel is in a numeric dimension.
 * - `neighbour-gap`: the larger of the gaps to the neighbouring observations, the prior's mean
 *   (the middle of the range) counted as one; Optuna's univariate rule.
 * - `scott`: one width for every kernel, `0.2 n^(-1/(d+4)) (high - low)` for n observations in
 *   d dimensions; Optuna's multivariate rule (Scott's rate, scaled to the range).
 */
export type TpeBandwidthRule = 'neighbour-gap' | 'scott';

export interface ParzenEstimatorSettings {
  readonly priorWeight: number;
  readonly bandwidth: TpeBandwidthRule;
  readonly considerMagicClip: boolean;
  /** alpha in the magic clip's `(n + 2)^-alpha`; Optuna: 1. */
  readonly magicClipExponent: number;
  /** The magic clip never goes below this fraction of the range; Optuna: 0.01. */
  readonly minBandwidthFactor: number;
  readonly considerEndpoints: boolean;
}

/**
 * A point in "candidate coordinates", one number per dimension: the internal coordinate for a
 * float, the integer value itself for an int, the choice index for a categorical.
 */
export type Candidate = Float64Array;

interface NumericDimension {
  readonly kind: 'numeric';
  readonly param: CompiledNumericParam;
  readonly low: number;
  readonly high: number;
  readonly mus: Float64Array;
  readonly sigmas: Float64Array;
  /** log of each kernel's mass inside [low, high], the truncation normaliser. */
  readonly logMass: Float64Array;
}

interface CategoricalDimension {
  readonly kind: 'categorical';
  /** Per kernel, log probability of each choice. */
  readonly logProbs: readonly Float64Array[];
  readonly probs: readonly Float64Array[];
}

type Dimension = NumericDimension | CategoricalDimension;

/** Optuna's SIGMA0_MAGNITUDE for the multivariate (Scott-style) bandwidth. */
const SCOTT_SIGMA0 = 0.2;
const EPS = 1e-12;

/** Optuna's `default_weights`: flat for recent history, a linear ramp down for trials older than the last 25. */
export function defaultTpeWeights(n: number): Float64Array {
  const weights = new Float64Array(n).fill(1);
  if (n < 25) return weights;
  const rampLength = n - 25;
  for (let i = 0; i < rampLength; i++) {
    // numpy.linspace(1 / n, 1, num=rampLength)
    weights[i] = rampLength === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (rampLength - 1);
  }
  return weights;
}

/** The larger gap to the neighbouring observations, the prior's mean counted as one (Optuna). */
function neighbourGapSigmas(
  mus: ArrayLike<number>,
  low: number,
  high: number,
  considerEndpoints: boolean,
): Float64Array {
  const n = mus.length;
  const sigmas = new Float64Array(n);
  const withPrior = [...Array.from(mus), 0.5 * (low + high)];
  const order = withPrior.map((_, i) => i).sort((a, b) => (withPrior[a] ?? 0) - (withPrior[b] ?? 0));
  const sorted = [low, ...order.map((i) => withPrior[i] ?? 0), high];
  const sortedSigmas = new Float64Array(order.length);
  for (let i = 0; i < order.length; i++) {
    const here = sorted[i + 1] ?? 0;
    sortedSigmas[i] = Math.max(here - (sorted[i] ?? 0), (sorted[i + 2] ?? 0) - here);
  }
  if (!considerEndpoints && sorted.length >= 4) {
    sortedSigmas[0] = (sorted[2] ?? 0) - (sorted[1] ?? 0);
    sortedSigmas[order.length - 1] = (sorted[sorted.length - 2] ?? 0) - (sorted[sorted.length - 3] ?? 0);
  }
  order.forEach((original, rank) => {
    if (original < n) sigmas[original] = sortedSigmas[rank] ?? 0;
  });
  return sigmas;
}

/**
 * The magic clip's lower bound on a kernel's width for `n` observations: Optuna's
 * `range / min(100, n + 2)` when the exponent is 1 and the factor 0.01.
 */
export function magicClipMinSigma(
  range: number,
  n: number,
  settings: Pick<ParzenEstimatorSettings, 'magicClipExponent' | 'minBandwidthFactor'>,
): number {
  // range * max(factor, (n + 2)^-exponent), written as Optuna's division so the defaults match it
  // to the last bit.
  return range / Math.min(1 / settings.minBandwidthFactor, (n + 2) ** settings.magicClipExponent);
}

/** Kernel widths for the observations of one numeric dimension (the prior's is the range). */
export function numericSigmas(
  mus: ArrayLike<number>,
  low: number,
  high: number,
  dimensions: number,
  settings: ParzenEstimatorSettings,
): Float64Array {
  const n = mus.length;
  const range = high - low;
  const sigmas =
    settings.bandwidth === 'scott'
      ? new Float64Array(n).fill(SCOTT_SIGMA0 * Math.max(n, 1) ** (-1 / (dimensions + 4)) * range)
      : neighbourGapSigmas(mus, low, high, settings.considerEndpoints);
  // The magic clip keeps kernels from collapsing onto single points when observations coincide.
  const minSigma = settings.considerMagicClip ? magicClipMinSigma(range, n, settings) : EPS;
  for (let i = 0; i < n; i++) sigmas[i] = Math.min(range, Math.max(minSigma, sigmas[i] ?? 0));
  return sigmas;
}

function buildNumeric(
  param: CompiledNumericParam,
  observations: ArrayLike<number>,
  dimensions: number,
  settings: ParzenEstimatorSettings,
): NumericDimension {
  const { low, high } = internalBounds(param);
  const n = observations.length;
  const sigmasObserved = numericSigmas(observations, low, high, dimensions, settings);
  const mus = new Float64Array(n + 1);
  const sigmas = new Float64Array(n + 1);
  mus.set(Array.from(observations));
  sigmas.set(sigmasObserved);
  mus[n] = 0.5 * (low + high);
  sigmas[n] = high - low;
  const logMass = new Float64Array(n + 1);
  for (let k = 0; k <= n; k++) {
    const mu = mus[k] ?? 0;
    const sigma = sigmas[k] ?? 1;
    logMass[k] = logNormalMass((low - mu) / sigma, (high - mu) / sigma);
  }
  return { kind: 'numeric', param, low, high, mus, sigmas, logMass };
}

function buildCategorical(
  choiceCount: number,
  observations: ArrayLike<number>,
  priorWeight: number,
): CategoricalDimension {
  const n = observations.length;
  const rows: Float64Array[] = [];
  if (n === 0) {
    rows.push(new Float64Array(choiceCount).fill(1 / choiceCount));
  } else {
    const kernels = n + 1;
    for (let k = 0; k < kernels; k++) {
      const row = new Float64Array(choiceCount).fill(priorWeight / kernels);
      if (k < n) {
        const index = observations[k] ?? 0;
        row[index] = (row[index] ?? 0) + 1;
      }
      let sum = 0;
      for (const p of row) sum += p;
      for (let c = 0; c < choiceCount; c++) row[c] = sum > 0 ? (row[c] ?? 0) / sum : 1 / choiceCount;
      rows.push(row);
    }
  }
  return { kind: 'categorical', probs: rows, logProbs: rows.map((row) => row.map(Math.log)) };
}

/** One draw from a Gaussian truncated to [low, high], by inverting the CDF. */
function sampleTruncatedNormal(rng: Rng, mu: number, sigma: number, low: number, high: number): number {
  let a = (low - mu) / sigma;
  let b = (high - mu) / sigma;
  // Work in the lower tail, where the CDF keeps its precision.
  const flip = a > 0;
  if (flip) [a, b] = [-b, -a];
  const pa = normalCdf(a);
  const pb = normalCdf(b);
  let z = pb > pa ? normalQuantile(pa + rng.nextFloat() * (pb - pa)) : 0.5 * (a + b);
  if (!Number.isFinite(z)) z = 0.5 * (a + b);
  z = Math.min(b, Math.max(a, z));
  return mu + sigma * (flip ? -z : z);
}

export class ParzenEstimator {
  private readonly dimensions: readonly Dimension[];
  private readonly logWeights: Float64Array;
  private readonly weights: Float64Array;

  /**
   * @param params the dimensions, in order
   * @param observations per dimension, the observed internal coordinates (numeric) or choice indexes
   * @param observationWeights one weight per observation (Optuna's `weights(n)`)
   */
  constructor(
    params: readonly CompiledParam[],
    observations: readonly ArrayLike<number>[],
    observationWeights: ArrayLike<number>,
    settings: ParzenEstimatorSettings,
  ) {
    const n = observationWeights.length;
    const weights = new Float64Array(n + 1);
    if (n === 0) {
      weights[0] = 1;
    } else {
      weights.set(Array.from(observationWeights));
      weights[n] = settings.priorWeight;
    }
    let total = 0;
    for (const w of weights) total += w;
    for (let k = 0; k < weights.length; k++) weights[k] = (weights[k] ?? 0) / total;
    this.weights = n === 0 ? weights.subarray(0, 1) : weights;
    this.logWeights = this.weights.map(Math.log);
    this.dimensions = params.map((param, d) => {
      const observed = observations[d] ?? [];
      return param.type === 'categorical'
        ? buildCategorical(param.choices.length, observed, settings.priorWeight)
        : buildNumeric(param, observed, params.length, settings);
    });
  }

  sample(rng: Rng, count: number): Candidate[] {
    const candidates: Candidate[] = [];
    for (let i = 0; i < count; i++) {
      const kernel = rng.pickWeighted(this.weights);
      const candidate = new Float64Array(this.dimensions.length);
      this.dimensions.forEach((dimension, d) => {
        candidate[d] = this.sampleDimension(dimension, kernel, rng);
      });
      candidates.push(candidate);
    }
    return candidates;
  }

  private sampleDimension(dimension: Dimension, kernel: number, rng: Rng): number {
    if (dimension.kind === 'categorical') {
      return rng.pickWeighted(dimension.probs[Math.min(kernel, dimension.probs.length - 1)] ?? []);
    }
    const { param, low, high } = dimension;
    const x = sampleTruncatedNormal(
      rng,
      dimension.mus[kernel] ?? 0,
      dimension.sigmas[kernel] ?? 1,
      low,
      high,
    );
    if (param.type === 'float') return Math.min(high, Math.max(low, x));
    // Integers: the value whose widened interval contains x.
    const value = param.log ? Math.exp(x) : x;
    const index = Math.round((value - param.low) / param.step);
    return param.low + Math.min((param.high - param.low) / param.step, Math.max(0, index)) * param.step;
  }

  /** Log density (log probability mass for ints and categoricals) of each candidate. */
  logPdf(candidates: readonly Candidate[]): Float64Array {
    const kernels = this.weights.length;
    const out = new Float64Array(candidates.length);
    const perKernel = new Float64Array(kernels);
    candidates.forEach((candidate, i) => {
      perKernel.set(this.logWeights);
      this.dimensions.forEach((dimension, d) => {
        const x = candidate[d] ?? 0;
        if (dimension.kind === 'categorical') {
          for (let k = 0; k < kernels; k++) {
            const row = dimension.logProbs[Math.min(k, dimension.logProbs.length - 1)];
            perKernel[k] = (perKernel[k] ?? 0) + (row?.[x] ?? -Infinity);
          }
          return;
        }
        const { param, mus, sigmas, logMass } = dimension;
        if (param.type === 'float') {
          for (let k = 0; k < kernels; k++) {
            const sigma = sigmas[k] ?? 1;
            perKernel[k] =
              (perKernel[k] ?? 0) +
              logNormalPdf((x - (mus[k] ?? 0)) / sigma) -
              Math.log(sigma) -
              (logMass[k] ?? 0);
          }
          return;
        }
        const half = param.step / 2;
        const lower = param.log ? Math.log(x - half) : x - half;
        const upper = param.log ? Math.log(x + half) : x + half;
        for (let k = 0; k < kernels; k++) {
          const mu = mus[k] ?? 0;
          const sigma = sigmas[k] ?? 1;
          perKernel[k] =
            (perKernel[k] ?? 0) +
            logNormalMass((lower - mu) / sigma, (upper - mu) / sigma) -
            (logMass[k] ?? 0);
        }
      });
      out[i] = logSumExp(perKernel);
    });
    return out;
  }
}
