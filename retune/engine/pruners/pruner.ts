/** The port every pruner implements. Pruners are pure functions of the study's trials. */
import type { Direction, TrialRecord } from '../trial.js';

export interface PruneContext {
  readonly direction: Direction;
  /** The trial that just reported, its new report included. */
  readonly trial: TrialRecord;
  /** Every trial of the study (the reporting one included), in any state. */
  readonly trials: readonly TrialRecord[];
}

export interface PruneDecision {
  readonly prune: boolean;
  /** Why, for logs and the dashboard: e.g. "worse than median 0.41 at step 3". */
  readonly reason: string;
  /** Successive halving: the trial's rung values after this report (persisted on the trial). */
  readonly rungValues?: readonly number[];
}

export interface Pruner {
  readonly name: string;
  decide(context: PruneContext): PruneDecision;
}

export const KEEP_GOING: PruneDecision = Object.freeze({ prune: false, reason: 'keep going' });
