import type { Logger } from '../../../kernel/logger.js';
import type { Store } from '../../../kernel/store.js';
import type { ReadGroup } from '../cycle-plan.js';
import type { ModelEvaluation, WindowAggregates } from '../evaluate.js';
import { applyEstimation } from './apply.js';
import { EstimationStore } from './estimation-store.js';
import { EstimatorBook, type BookEntry } from './estimator-book.js';
import { LayoutCache } from '../layouts.js';
import type { EstimationAggregates } from './types.js';
import { readEstimationAggregates, type EstimationReadModel } from './window-reads.js';

/** What a cycle gives the step for one group of models read together. */
export interface EstimationInput {
  readonly group: ReadGroup;
  readonly evaluations: readonly ModelEvaluation[];
  /** The group's window reads (labels included), by model. */
  readonly reads: ReadonlyMap<string, WindowAggregates | Error>;
  readonly nowMs: number;
  readonly gridCells: number;
  readonly labelHorizonMs: number;
}

/** The monitor's port to the estimation step (the real one over a store: estimationStep). */
export interface EstimationPort {
  apply(input: EstimationInput): Promise<ModelEvaluation[]>;
  forget(model: string): void;
}

/**
 * The estimation step of a monitor cycle (issue 15), after the models of a group are evaluated:
 * the estimators of their references (fitted once, see estimator-book.ts), the window aggregates
 * they need for all of the group's models at once (window-reads.ts: O(bins) rows per model), and
 * the pure verdicts folded into each evaluation (apply.ts). A failure never fails the model: the
 * estimates are skipped this cycle (logged) and the evaluation goes on as it was, with its
 * attribution from the drift verdicts alone.
 */
export function estimationStep(store: Store, logger: Logger): EstimationPort {
  const book = new EstimatorBook(new EstimationStore(store), logger);
  const layouts = new LayoutCache();
  return {
    forget: (model) => {
      book.forget(model);
      layouts.forget(model);
    },
    async apply(input) {
      const plans = input.group.plans.filter(
        (p) => p.settings.estimation.enabled && input.evaluations.some((e) => e.model === p.model),
      );
      let entries = new Map<string, BookEntry>();
      let aggregates = new Map<string, EstimationAggregates>();
      try {
        entries = await book.entries(plans, input.nowMs);
        const models: EstimationReadModel[] = plans.flatMap((p) => {
          const estimators = entries.get(p.model)?.estimators;
          const evaluation = input.evaluations.find((e) => e.model === p.model);
          const sampleEvery = Math.max(
            1,
            Math.ceil((evaluation?.events ?? 0) / p.settings.estimation.maxWindowRows),
          );
          const labelled = (evaluation?.labelled ?? 0) > 0;
          return estimators === undefined ? [] : [{ model: p.model, estimators, sampleEvery, labelled }];
        });
        if (models.length > 0)
          aggregates = await readEstimationAggregates(
            store,
            input.group.window,
            input.labelHorizonMs,
            input.gridCells,
            models,
            layouts,
          );
      } catch (error) {
        logger.warn(
          { err: error, models: plans.map((p) => p.model) },
          'estimation skipped this cycle; the next interval retries',
        );
      }
      return input.evaluations.map((evaluation) => {
        const plan = input.group.plans.find((p) => p.model === evaluation.model);
        if (plan === undefined) return evaluation;
        const entry = entries.get(evaluation.model);
        const read = input.reads.get(evaluation.model);
        return applyEstimation({
          evaluation,
          settings: plan.settings,
          sampleEvery: Math.max(1, Math.ceil(evaluation.events / plan.settings.estimation.maxWindowRows)),
          estimators: entry?.estimators,
          ...(entry?.unavailable === undefined ? {} : { unavailable: entry.unavailable }),
          aggregates: aggregates.get(evaluation.model),
          labels: read instanceof Error ? undefined : read?.labels,
          gridCells: input.gridCells,
        });
      });
    },
  };
}
