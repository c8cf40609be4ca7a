/** Pruner selection by name, as written in the retune config (`pruner: { name: asha, ... }`). */
import { invalidOptions } from '../errors.js';
import { MedianPruner, type MedianPrunerOptions } from './median-pruner.js';
import { KEEP_GOING, type Pruner } from './pruner.js';
import { SuccessiveHalvingPruner, type SuccessiveHalvingPrunerOptions } from './successive-halving-pruner.js';

export interface NoPrunerOptions {
  name: 'none';
}

export type PrunerOptions = MedianPrunerOptions | SuccessiveHalvingPrunerOptions | NoPrunerOptions;
export type PrunerName = PrunerOptions['name'];

export const PRUNER_NAMES: readonly PrunerName[] = ['median', 'asha', 'none'];

class NoPruner implements Pruner {
  readonly name = 'none';
  decide(): typeof KEEP_GOING {
    return KEEP_GOING;
  }
}

/** Builds the pruner named by `options.name`; defaults to the median rule, like Optuna. */
export function createPruner(options: PrunerOptions | undefined): Pruner {
  const resolved: PrunerOptions = options ?? { name: 'median' };
  switch (resolved.name) {
    case 'median':
      return new MedianPruner(resolved);
    case 'asha':
      return new SuccessiveHalvingPruner(resolved);
    case 'none':
      return new NoPruner();
    default: {
      const name: unknown = (resolved as { name?: unknown }).name;
      throw invalidOptions(
        `pruner.name ${JSON.stringify(name)} is not a known pruner; use one of ${PRUNER_NAMES.join(', ')}`,
      );
    }
  }
}
