import type { Logger } from '../../../kernel/logger.js';
import type { ModelPlan } from '../cycle-plan.js';
import type { WindowBounds } from '../queries.js';
import type { EstimationStore } from './estimation-store.js';
import { fitEstimators } from './fit.js';
import type { EstimationRow } from './reference-rows.js';
import type { EstimatorName, FittedEstimators } from './types.js';

/** What the book gives a model this cycle: its estimators, or why it has none. */
export interface BookEntry {
  readonly estimators?: FittedEstimators;
  readonly unavailable?: Partial<Record<EstimatorName, string>>;
}

interface Cached extends BookEntry {
  readonly referenceCreatedAtMs: number;
  readonly task: string | undefined;
  /** When the entry was fitted or found unavailable: it is tried again after refitIntervalMs. */
  readonly atMs: number;
  /** Whether a later attempt may do better (labels awaited, rows not found, a fit that failed). */
  readonly retry: boolean;
}

export type EstimatorStorePort = Pick<EstimationStore, 'referenceRows' | 'loadEstimators' | 'saveEstimators'>;

/**
 * The estimators of the models this replica evaluates, one set per reference: loaded from
 * `reference_estimators` (one query for every model not cached), else fitted from the reference's
 * rows pulled again from the event store (the rows the profile was built from, checked against
 * its row count and time span) and stored. A reference whose CBPE / DLE still wait for labelled
 * rows, whose rows could not be had, or whose model's task was not known yet is fitted again
 * every `estimation.refitIntervalMs`; a new reference is fitted at once.
 */
export class EstimatorBook {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly store: EstimatorStorePort,
    private readonly logger: Logger,
  ) {}

  forget(model: string): void {
    this.cache.delete(model);
  }

  async entries(plans: readonly ModelPlan[], nowMs: number): Promise<Map<string, BookEntry>> {
    const due = plans.filter((p) => this.due(p, nowMs));
    const fresh = due.filter(
      (p) => this.cache.get(p.model)?.referenceCreatedAtMs !== p.reference.createdAtMs,
    );
    const stored =
      fresh.length === 0
        ? new Map<string, FittedEstimators>()
        : await this.store.loadEstimators(
            fresh.map((p) => ({ model: p.model, referenceCreatedAtMs: p.reference.createdAtMs })),
          );
    for (const plan of due) {
      const loaded = stored.get(plan.model);
      if (loaded !== undefined && loaded.task === plan.task) {
        this.remember(plan, { estimators: loaded }, loaded.fittedAtMs, loaded.waitingForLabels);
        if (!this.due(plan, nowMs)) continue;
      }
      await this.fit(plan, nowMs);
    }
    return new Map(
      plans.flatMap((p) => {
        const c = this.cache.get(p.model);
        return c === undefined ? [] : [[p.model, { ...c }] as const];
      }),
    );
  }

  private due(plan: ModelPlan, nowMs: number): boolean {
    const c = this.cache.get(plan.model);
    if (c === undefined || c.referenceCreatedAtMs !== plan.reference.createdAtMs || c.task !== plan.task)
      return true;
    return c.retry && nowMs - c.atMs >= plan.settings.estimation.refitIntervalMs;
  }

  private remember(plan: ModelPlan, entry: BookEntry, atMs: number, retry: boolean): void {
    this.cache.set(plan.model, {
      ...entry,
      referenceCreatedAtMs: plan.reference.createdAtMs,
      task: plan.task,
      atMs,
      retry,
    });
  }

  /** Fits (and stores) the model's estimators now; never throws: a failure is its reason. */
  private async fit(plan: ModelPlan, nowMs: number): Promise<void> {
    const { model, reference, settings } = plan;
    try {
      const pulled = await this.referenceRows(plan);
      if ('unavailable' in pulled) {
        this.remember(
          plan,
          { unavailable: allUnavailable(plan.task, pulled.unavailable) },
          nowMs,
          pulled.retry,
        );
        this.logger.info({ model, reason: pulled.unavailable }, 'estimators not fitted');
        return;
      }
      const started = performance.now();
      const estimators = fitEstimators({
        rows: pulled.rows,
        profile: reference.profile,
        settings,
        task: plan.task,
        referenceCreatedAtMs: reference.createdAtMs,
        nowMs,
      });
      const fitMs = Math.round(performance.now() - started);
      await this.store.saveEstimators(model, estimators);
      this.remember(plan, { estimators }, nowMs, estimators.waitingForLabels || plan.task === undefined);
      this.logger.info(
        {
          model,
          rows: estimators.rows,
          labelledRows: estimators.labelledRows,
          fitted: [
            estimators.cbpe && 'cbpe',
            estimators.dle && 'dle',
            estimators.errorModel && 'error_model',
            estimators.reconstruction && 'reconstruction',
            estimators.outputs.length > 0 && 'outputs',
          ].filter(Boolean),
          unavailable: estimators.unavailable,
          fitMs,
        },
        'estimators fitted',
      );
    } catch (error) {
      this.remember(
        plan,
        { unavailable: allUnavailable(plan.task, `fitting failed: ${String(error)}`) },
        nowMs,
        true,
      );
      this.logger.warn({ err: error, model }, 'fitting the estimators failed; tried again later');
    }
  }

  /**
   * The reference's rows again (at most maxFitRows), by the sample's recorded time span (or, for
   * an older profile, the reference settings), checked against the profile so that rows deleted by
   * retention or a changed reference setting are reported rather than fitted on.
   */
  private async referenceRows(
    plan: ModelPlan,
  ): Promise<{ rows: EstimationRow[] } | { unavailable: string; retry: boolean }> {
    const { profile } = plan.reference;
    const spec = plan.settings.reference;
    if (spec.type === 'upload' || profile.source === 'upload') {
      return {
        unavailable:
          'the reference was uploaded: its rows (with their scores and outcomes) are not in the event store; use a first_events or time_range reference',
        retry: false,
      };
    }
    const limit = Math.min(profile.rows, plan.settings.estimation.maxFitRows);
    const span = profile.sampleRangeMs;
    const range: WindowBounds | undefined =
      span !== undefined
        ? // windowFilter compares whole seconds on `ts`: end on the next second boundary.
          { startMs: span.firstMs, endMs: (Math.floor(span.lastMs / 1000) + 1) * 1000 }
        : spec.type === 'time_range'
          ? { startMs: spec.fromMs, endMs: spec.toMs }
          : undefined;
    // A recorded span holds the profile's rows (and the rest of its last second).
    const rows = await this.store.referenceRows(
      plan.model,
      limit,
      range,
      span !== undefined ? profile.rows : undefined,
    );
    const first = rows[0]?.tsMs;
    const last = rows[rows.length - 1]?.tsMs;
    const same =
      rows.length === limit &&
      (span === undefined || (first === span.firstMs && (limit < profile.rows || last === span.lastMs)));
    if (!same) {
      return {
        unavailable: `the reference's ${profile.rows} events are no longer all in the event store (found ${rows.length} of the first ${limit}; retention or a changed reference setting)`,
        retry: true,
      };
    }
    return { rows };
  }
}

/** Every estimator that applies to the model's task, with one reason. */
function allUnavailable(task: ModelPlan['task'], reason: string): Partial<Record<EstimatorName, string>> {
  const byTask: EstimatorName[] =
    task === 'classification' ? ['cbpe', 'error_model'] : task === 'regression' ? ['dle'] : [];
  return Object.fromEntries([...byTask, 'reconstruction', 'outputs'].map((name) => [name, reason]));
}
