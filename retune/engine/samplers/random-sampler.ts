/**
 * Independent uniform sampling in internal coordinates (log space for log params; integers
 * widened by half a step then rounded), which is what Optuna's RandomSampler does.
 */
import { Rng } from '../prng.js';
import {
  fromInternal,
  internalBounds,
  isParamActive,
  type CompiledParam,
  type CompiledSearchSpace,
  type ParamValue,
  type ParamValues,
} from '../search-space.js';
import type { Sampler, SuggestContext, Suggestion } from './sampler.js';

export interface RandomSamplerOptions {
  name: 'random';
}

export function sampleParamUniformly(param: CompiledParam, rng: Rng): ParamValue {
  if (param.type === 'categorical') return param.choices[rng.nextInt(param.choices.length)] as ParamValue;
  const { low, high } = internalBounds(param);
  return fromInternal(param, rng.uniform(low, high));
}

/** Samples every active parameter not already in `fixed`, walking the space in declaration order. */
export function sampleSpaceUniformly(
  space: CompiledSearchSpace,
  rng: Rng,
  fixed: ParamValues = {},
): ParamValues {
  const params: Record<string, ParamValue> = {};
  for (const param of space.params) {
    if (!isParamActive(param, params)) continue;
    params[param.name] = fixed[param.name] ?? sampleParamUniformly(param, rng);
  }
  return params;
}

export class RandomSampler implements Sampler {
  readonly name = 'random';

  suggest(context: SuggestContext): Suggestion {
    const rng = Rng.derive(context.seed, context.trialNumber);
    return { kind: 'params', params: sampleSpaceUniformly(context.space, rng) };
  }
}
