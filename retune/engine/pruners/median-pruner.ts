/**
 * Optuna's MedianPruner (a PercentilePruner at 50): after `nStartupTrials` completed trials and
 * `nWarmupSteps`, prune a trial whose value is worse than the median of completed trials'
 * values at the same step.
 */
import { invalidOptions } from '../errors.js';
import { isBetter, type TrialRecord } from '../trial.js';
import { KEEP_GOING, type PruneContext, type PruneDecision, type Pruner } from './pruner.js';

export interface MedianPrunerOptions {
  name: 'median';
  /** Completed trials needed before anything is pruned. @default 5 */
  nStartupTrials?: number;
  /** Steps of each trial that are never pruned. @default 0 */
  nWarmupSteps?: number;
  /** Only check every k-th step after the warm-up. @default 1 */
  intervalSteps?: number;
  /** Completed trials that must have reported the step for a comparison. @default 1 */
  nMinTrials?: number;
  /** Compare against this percentile instead of the median (25 prunes harder). @default 50 */
  percentile?: number;
  /**
   * Which value of the trial is compared: `best` (its best value so far, Optuna's rule) or
   * `last` (the value just reported at this step). @default 'best'
   */
  compare?: 'best' | 'last';
}

export interface CompiledMedianPrunerOptions {
  readonly nStartupTrials: number;
  readonly nWarmupSteps: number;
  readonly intervalSteps: number;
  readonly nMinTrials: number;
  readonly percentile: number;
  readonly compare: 'best' | 'last';
}

function requireInteger(field: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw invalidOptions(`pruner.${field} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function compileMedianPrunerOptions(options: MedianPrunerOptions): CompiledMedianPrunerOptions {
  const percentile = options.percentile ?? 50;
  if (typeof percentile !== 'number' || !(percentile >= 0 && percentile <= 100)) {
    throw invalidOptions(`pruner.percentile must be in [0, 100], got ${JSON.stringify(options.percentile)}`);
  }
  const compare = options.compare ?? 'best';
  if (compare !== 'best' && compare !== 'last') {
    throw invalidOptions(`pruner.compare must be "best" or "last", got ${JSON.stringify(compare)}`);
  }
  return Object.freeze({
    nStartupTrials: requireInteger('nStartupTrials', options.nStartupTrials ?? 5, 0),
    nWarmupSteps: requireInteger('nWarmupSteps', options.nWarmupSteps ?? 0, 0),
    intervalSteps: requireInteger('intervalSteps', options.intervalSteps ?? 1, 1),
    nMinTrials: requireInteger('nMinTrials', options.nMinTrials ?? 1, 1),
    percentile,
    compare,
  });
}

/** numpy.percentile with linear interpolation, on a sorted copy. */
export function percentileOf(values: readonly number[], percentile: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = (percentile / 100) * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  const lo = sorted[lower] ?? NaN;
  const hi = sorted[upper] ?? NaN;
  return lo + (hi - lo) * (rank - lower);
}

function valueAt(trial: TrialRecord, step: number): number | undefined {
  return trial.intermediate.find((report) => report.step === step)?.value;
}

export class MedianPruner implements Pruner {
  readonly name = 'median';
  readonly options: CompiledMedianPrunerOptions;

  constructor(options: MedianPrunerOptions) {
    this.options = compileMedianPrunerOptions(options);
  }

  decide({ direction, trial, trials }: PruneContext): PruneDecision {
    const { nStartupTrials, nWarmupSteps, intervalSteps, nMinTrials, compare } = this.options;
    const completed = trials.filter((t) => t.state === 'complete' && t.number !== trial.number);
    if (completed.length === 0 || completed.length < nStartupTrials) return KEEP_GOING;
    const steps = trial.intermediate.map((report) => report.step);
    if (steps.length === 0) return KEEP_GOING;
    const step = Math.max(...steps);
    if (step < nWarmupSteps) return KEEP_GOING;
    // Check only the first report at or after each interval boundary (Optuna's rule).
    const boundary = Math.floor((step - nWarmupSteps) / intervalSteps) * intervalSteps + nWarmupSteps;
    const previousStep = Math.max(-1, ...steps.filter((s) => s !== step));
    if (previousStep >= boundary) return KEEP_GOING;

    const finite = trial.intermediate.map((r) => r.value).filter((v) => !Number.isNaN(v));
    const own =
      compare === 'last'
        ? (valueAt(trial, step) ?? NaN)
        : finite.length === 0
          ? NaN
          : direction === 'minimize'
            ? Math.min(...finite)
            : Math.max(...finite);
    if (Number.isNaN(own)) return { prune: true, reason: `value is NaN at step ${step}` };

    const others = completed
      .map((t) => valueAt(t, step))
      .filter((v): v is number => v !== undefined && !Number.isNaN(v));
    if (others.length < nMinTrials) return KEEP_GOING;
    const percentile = direction === 'maximize' ? 100 - this.options.percentile : this.options.percentile;
    const threshold = percentileOf(others, percentile);
    if (isBetter(direction, threshold, own)) {
      return {
        prune: true,
        reason: `${own} is worse than the p${this.options.percentile} ${threshold} at step ${step}`,
      };
    }
    return KEEP_GOING;
  }
}
