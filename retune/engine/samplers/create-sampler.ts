/** Sampler selection by name, as written in the retune config (`sampler: { name: tpe, ... }`). */
import { invalidOptions } from '../errors.js';
import type { CompiledSearchSpace } from '../search-space.js';
import { GridSampler, type GridSamplerOptions } from './grid-sampler.js';
import { RandomSampler, type RandomSamplerOptions } from './random-sampler.js';
import type { Sampler } from './sampler.js';
import { TpeSampler, type TpeSamplerOptions } from './tpe-sampler.js';

export type SamplerOptions = TpeSamplerOptions | RandomSamplerOptions | GridSamplerOptions;
export type SamplerName = SamplerOptions['name'];

export const SAMPLER_NAMES: readonly SamplerName[] = ['tpe', 'random', 'grid'];

/** Builds the sampler named by `options.name`; defaults to univariate TPE with Optuna's settings. */
export function createSampler(options: SamplerOptions | undefined, space: CompiledSearchSpace): Sampler {
  const resolved: SamplerOptions = options ?? { name: 'tpe' };
  switch (resolved.name) {
    case 'tpe':
      return new TpeSampler(resolved);
    case 'random':
      return new RandomSampler();
    case 'grid':
      return new GridSampler(space, resolved);
    default: {
      const name: unknown = (resolved as { name?: unknown }).name;
      throw invalidOptions(
        `sampler.name ${JSON.stringify(name)} is not a known sampler; use one of ${SAMPLER_NAMES.join(', ')}`,
      );
    }
  }
}
