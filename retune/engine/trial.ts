/** What the engine records about one trial; the daemon persists exactly this (see study-snapshot.ts). */
import type { ParamValues } from './search-space.js';

export type Direction = 'minimize' | 'maximize';

/**
 * `waiting`: created but not handed out (a re-queued trial after a restart).
 * `running`: handed out by `ask()`, not yet told. The others are final.
 */
export type TrialState = 'waiting' | 'running' | 'complete' | 'pruned' | 'failed';
export type FinalTrialState = 'complete' | 'pruned' | 'failed';

/** Where a trial came from: suggested by this study's sampler, or copied from an earlier study. */
export type TrialOrigin = 'sampler' | 'warm-start';

export interface IntermediateValue {
  readonly step: number;
  /** May be NaN (a diverged training run); such a trial is always pruned. */
  readonly value: number;
}

export interface TrialRecord {
  /** 0-based, unique and dense within a study; also keys the trial's random stream. */
  readonly number: number;
  readonly state: TrialState;
  readonly origin: TrialOrigin;
  readonly params: ParamValues;
  /** Objective value: finite for `complete`; the last intermediate value (if any) for `pruned`. */
  readonly value: number | undefined;
  /** Intermediate reports, sorted by step, one per step. */
  readonly intermediate: readonly IntermediateValue[];
  /** Successive-halving bookkeeping: the value this trial had when it reached rung k. */
  readonly rungValues: readonly number[];
  readonly startedAtMs: number | undefined;
  readonly finishedAtMs: number | undefined;
  /** Why a trial failed, when the engine (not the caller) decided it: e.g. a NaN objective. */
  readonly failReason: string | undefined;
}

/** Whether `a` is a better objective value than `b` in this direction. */
export function isBetter(direction: Direction, a: number, b: number): boolean {
  return direction === 'minimize' ? a < b : a > b;
}

/** The objective value as a loss (lower is better) whatever the direction. */
export function asLoss(direction: Direction, value: number): number {
  return direction === 'minimize' ? value : -value;
}
