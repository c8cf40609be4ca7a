/**
 * Asynchronous successive halving (ASHA), as in Optuna's SuccessiveHalvingPruner.
 *
 * Rung k sits at step minResource * reductionFactor^(minEarlyStoppingRate + k). When a trial
 * first reports at or past a rung's step, the value it reports is recorded for that rung and the
 * trial continues only if that value is in the top 1/reductionFactor of all values recorded at
 * the rung so far (its own included). Until a rung has reductionFactor values, "top 1/eta" means
 * the best one, because trials cannot be paused and resumed later.
 */
import { invalidOptions } from '../errors.js';
import type { Direction } from '../trial.js';
import { KEEP_GOING, type PruneContext, type PruneDecision, type Pruner } from './pruner.js';

export interface SuccessiveHalvingPrunerOptions {
  name: 'asha';
  /** Step of the first rung (in the trainer's units: epochs, boosting rounds...). @default 1 */
  minResource?: number;
  /** eta: each rung keeps the best 1/eta. @default 3 */
  reductionFactor?: number;
  /** s: shifts every rung up by eta^s (Optuna's min_early_stopping_rate). @default 0 */
  minEarlyStoppingRate?: number;
  /** A trial is pruned while a rung holds no more than this many values. @default 0 */
  bootstrapCount?: number;
}

export interface CompiledSuccessiveHalvingPrunerOptions {
  readonly minResource: number;
  readonly reductionFactor: number;
  readonly minEarlyStoppingRate: number;
  readonly bootstrapCount: number;
}

export function compileSuccessiveHalvingPrunerOptions(
  options: SuccessiveHalvingPrunerOptions,
): CompiledSuccessiveHalvingPrunerOptions {
  const check = (field: string, value: number, min: number): number => {
    if (!Number.isInteger(value) || value < min) {
      throw invalidOptions(`pruner.${field} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  return Object.freeze({
    minResource: check('minResource', options.minResource ?? 1, 1),
    reductionFactor: check('reductionFactor', options.reductionFactor ?? 3, 2),
    minEarlyStoppingRate: check('minEarlyStoppingRate', options.minEarlyStoppingRate ?? 0, 0),
    bootstrapCount: check('bootstrapCount', options.bootstrapCount ?? 0, 0),
  });
}

/** Whether `value` is within the best 1/eta of `competing` (which includes `value`). */
export function isPromotable(
  value: number,
  competing: readonly number[],
  eta: number,
  direction: Direction,
): boolean {
  const sorted = [...competing].sort((a, b) => a - b);
  const promotableIndex = Math.max(0, Math.floor(sorted.length / eta) - 1);
  return direction === 'maximize'
    ? value >= (sorted[sorted.length - 1 - promotableIndex] ?? -Infinity)
    : value <= (sorted[promotableIndex] ?? Infinity);
}

export class SuccessiveHalvingPruner implements Pruner {
  readonly name = 'asha';
  readonly options: CompiledSuccessiveHalvingPrunerOptions;

  constructor(options: SuccessiveHalvingPrunerOptions) {
    this.options = compileSuccessiveHalvingPrunerOptions(options);
  }

  /** The step of rung k. */
  rungStep(rung: number): number {
    const { minResource, reductionFactor, minEarlyStoppingRate } = this.options;
    return minResource * reductionFactor ** (minEarlyStoppingRate + rung);
  }

  decide({ direction, trial, trials }: PruneContext): PruneDecision {
    const last = trial.intermediate[trial.intermediate.length - 1];
    if (last === undefined) return KEEP_GOING;
    const step = Math.max(...trial.intermediate.map((r) => r.step));
    const value = trial.intermediate.find((r) => r.step === step)?.value ?? last.value;
    const rungValues = [...trial.rungValues];
    for (let rung = rungValues.length; ; rung++) {
      const rungStep = this.rungStep(rung);
      if (step < rungStep)
        return { prune: false, reason: `below rung ${rung} (step ${rungStep})`, rungValues };
      if (Number.isNaN(value)) return { prune: true, reason: `value is NaN at step ${step}`, rungValues };
      rungValues.push(value);
      const competing = [value];
      for (const other of trials) {
        const recorded = other.rungValues[rung];
        if (other.number !== trial.number && recorded !== undefined) competing.push(recorded);
      }
      if (competing.length <= this.options.bootstrapCount) {
        return {
          prune: true,
          reason: `rung ${rung} has only ${competing.length} values (bootstrap)`,
          rungValues,
        };
      }
      if (!isPromotable(value, competing, this.options.reductionFactor, direction)) {
        return {
          prune: true,
          reason: `${value} is not in the top 1/${this.options.reductionFactor} of ${competing.length} values at rung ${rung} (step ${rungStep})`,
          rungValues,
        };
      }
    }
  }
}
