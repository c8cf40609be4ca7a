/** The port every sampler implements. Samplers are pure: no clock, no stored randomness. */
import type { CompiledSearchSpace, ParamValues } from '../search-space.js';
import type { Direction, TrialRecord } from '../trial.js';

export interface SuggestContext {
  readonly space: CompiledSearchSpace;
  readonly direction: Direction;
  /** The study seed; with `trialNumber` it keys the random stream of this suggestion. */
  readonly seed: number;
  /** Number of the trial being sampled. */
  readonly trialNumber: number;
  /** Every other trial of the study, in any state (running ones matter to the constant liar). */
  readonly trials: readonly TrialRecord[];
}

export type Suggestion =
  | { readonly kind: 'params'; readonly params: ParamValues }
  /** Nothing new to try right now (a grid with every point visited or in flight). */
  | { readonly kind: 'exhausted' };

export interface Sampler {
  readonly name: string;
  /** A deterministic function of the context: same context, same suggestion. */
  suggest(context: SuggestContext): Suggestion;
}
