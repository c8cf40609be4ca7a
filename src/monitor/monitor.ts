import type { Alerting } from '../alerts/index.js';
import type { Logger } from '../../kernel/logger.js';
import { groupByWindow, type ModelPlan, type ReadGroup } from './cycle-plan.js';
import { DriftOnsets } from './drift-onset.js';
import { evaluateModel, type ModelEvaluation, type WindowAggregates } from './evaluate.js';
import { ExportedSeries, type MonitorMetrics } from './metrics.js';
import { MonitorStore } from './monitor-store.js';
import { modelSettings, type CompiledMonitoring, type ResolvedModelSettings } from './options.js';
import type { WindowBounds } from './queries.js';
import { ReferenceBook } from './references.js';
import { RowWindowReader } from './row-window-reader.js';
import { SegmentEvaluator } from './segment-evaluator.js';
import { withSegments } from './segments.js';
import { seriesOf } from './series.js';
import { readGroup, storeRollups, type GroupRead, type RollupPort } from './window-reads.js';
import { estimationStep, type EstimationPort } from './estimation/step.js';
import type { Store } from '../../kernel/store.js';

/** A group's windows as read, or why the whole read failed. */
type GroupOutcome = GroupRead | Error;

export { createMonitorMetrics, type MonitorMetrics } from './metrics.js';

/** Decides which models this replica evaluates (see src/coordination/ownership.ts). */
export interface OwnershipPort {
  owns(model: string): boolean;
}

/** What a cycle asks of the monitor's store adapter (monitor-store.ts). */
export type MonitorStorePort = Pick<
  MonitorStore,
  | 'seenModels'
  | 'referencesCreatedAt'
  | 'loadReferences'
  | 'saveReferences'
  | 'firstEvents'
  | 'sample'
  | 'tagCounts'
  | 'inferTasks'
  | 'lastEventsWindow'
  | 'writeEvaluations'
>;

/** What a cycle reads from the rows (row-window-reader.ts). */
export type RowReadsPort = Pick<RowWindowReader, 'aggregates' | 'labelsOf' | 'forget'>;

/** Where the monitor reads and writes: see monitorSources for the real ones over a store. */
export interface MonitorSources {
  readonly store: MonitorStorePort;
  /** Windows (and segments, and labels) read from the rows. */
  readonly rows: RowReadsPort;
  /** The rollups; without, every window is read from its rows. */
  readonly rollups: RollupPort | undefined;
  /** Estimated performance, multivariate and output drift, attribution; without, none of them. */
  readonly estimation?: EstimationPort;
}

/** The monitor's sources over the storage port, rollups as configured. */
export function monitorSources(
  store: Store,
  config: Pick<CompiledMonitoring, 'rollups'>,
  logger: Logger,
  now?: () => number,
): {
  readonly store: MonitorStore;
  readonly rows: RowWindowReader;
  readonly rollups: ReturnType<typeof storeRollups> | undefined;
  readonly estimation: EstimationPort;
} {
  return {
    store: new MonitorStore(store),
    rows: new RowWindowReader(store),
    rollups: config.rollups.enabled
      ? storeRollups(
          store,
          { syncMinutes: config.rollups.syncMinutes, ...(now === undefined ? {} : { now }) },
          logger,
        )
      : undefined,
    estimation: estimationStep(store, logger),
  };
}

export interface MonitorDeps extends MonitorSources {
  readonly config: CompiledMonitoring;
  readonly alerting: Pick<Alerting, 'handle' | 'release'> | undefined;
  readonly ownership: OwnershipPort;
  readonly metrics: MonitorMetrics;
  readonly logger: Logger;
  readonly replica: string;
  readonly now?: () => number;
  /**
   * Called after each model's evaluation is stored (the retuner's trigger hook), with when the
   * model's current unhealthy streak began (src/monitor/drift-onset.ts).
   */
  readonly onEvaluated?: (evaluation: ModelEvaluation, health: { readonly driftOnsetMs?: number }) => void;
  /** Called when a model this replica evaluated is now owned by another (synchronously). */
  readonly onReleased?: (model: string) => void;
}

/**
 * One cycle, as a few steps over all the models this replica owns: plan (each model's reference,
 * window and task), read (windows grouped by span: rollups where they are ready, else rows; one
 * label join per task), evaluate (pure statistics, evaluate.ts; then segments), record (results
 * to ClickHouse in one insert per table, gauges, the retuner's hook) and alert. A model whose
 * step fails is skipped this cycle and counted; the others go on.
 */
export class Monitor {
  private readonly now: () => number;
  private readonly series = new ExportedSeries();
  private readonly references: ReferenceBook;
  private readonly rows: RowReadsPort;
  private readonly segments: SegmentEvaluator;
  private readonly onsets = new DriftOnsets();
  /** Tasks inferred for models without a configured one (a model does not change kind). */
  private readonly tasks = new Map<string, 'classification' | 'regression'>();

  constructor(private readonly deps: MonitorDeps) {
    this.now = deps.now ?? Date.now;
    this.references = new ReferenceBook(deps.store, deps.config.gridCells, deps.logger);
    this.rows = deps.rows;
    this.segments = new SegmentEvaluator({
      store: {
        tagCounts: (...a) => deps.store.tagCounts(...a),
        sample: (...a) => deps.store.sample(...a),
        aggregates: (...a) => this.rows.aggregates(...a),
      },
      cells: deps.config.gridCells,
      labelHorizonMs: deps.config.labelHorizonMs,
      logger: deps.logger,
    });
    deps.metrics.onCollect(() => this.releaseUnowned());
  }

  /**
   * Removes the gauges of models this replica no longer owns (ownership moved in a rebalance), so
   * that only the owner exports a model's values. Runs each cycle and before every scrape.
   */
  releaseUnowned(): void {
    for (const model of this.series.models()) {
      if (this.deps.ownership.owns(model)) continue;
      this.series.release(model);
      this.rows.forget(model);
      this.deps.rollups?.forget(model);
      this.deps.estimation?.forget(model);
      this.onsets.forget(model);
      this.deps.alerting?.release(model);
      this.deps.onReleased?.(model);
      this.deps.logger.info({ model }, 'model no longer owned here; its gauges are removed');
    }
  }

  async runCycle(): Promise<ModelEvaluation[]> {
    this.releaseUnowned();
    const nowMs = this.now();
    const models = await this.ownedModels(nowMs);
    const evaluations = [...(await this.evaluateAll(models, nowMs))];
    if (evaluations.length > 0 && this.deps.alerting !== undefined) {
      await this.deps.alerting.handle(evaluations.flatMap((e) => e.rules));
    }
    return evaluations;
  }

  /** Evaluates one model's current window (owned or not); undefined while it has no reference. */
  async evaluate(model: string, nowMs: number): Promise<ModelEvaluation | undefined> {
    const [evaluation] = await this.evaluateAll([model], nowMs);
    return evaluation;
  }

  /** Drops the cached reference (after an upload) so the next cycle reloads it. */
  invalidate(model: string): void {
    this.references.invalidate(model);
  }

  private async evaluateAll(models: readonly string[], nowMs: number): Promise<readonly ModelEvaluation[]> {
    const started = process.hrtime.bigint();
    const plans = await this.plan(models, nowMs);
    const evaluations: ModelEvaluation[] = [];
    const rollups = this.deps.config.rollups.enabled
      ? { sealedBeforeMs: nowMs - this.deps.config.rollups.openMs }
      : undefined;
    // Each group's read is started before the previous group is evaluated: ClickHouse reads one
    // while the daemon evaluates the other (a fleet's cycle spends about as long in each).
    const groups = groupByWindow(plans, rollups);
    let next: Promise<GroupOutcome> | undefined;
    for (const [i, group] of groups.entries()) {
      const reads = await (next ?? this.read(group));
      const following = groups[i + 1];
      next = following === undefined ? undefined : this.read(following);
      evaluations.push(...(await this.evaluateGroup(group, reads, nowMs)));
    }
    const stored = await this.record(evaluations);
    this.deps.metrics.evaluationSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return stored;
  }

  /** The models seen in the stream or configured, that this replica owns. */
  private async ownedModels(nowMs: number): Promise<string[]> {
    const { config } = this.deps;
    const seen = await this.deps.store.seenModels(nowMs - config.discoverLookbackMs);
    return [...new Set([...Object.keys(config.models), ...seen.map((s) => s.model)])]
      .sort()
      .filter((model) => this.deps.ownership.owns(model));
  }

  /** Step 1: each model's settings, reference, window and task (models without a reference yet are left out). */
  private async plan(models: readonly string[], nowMs: number): Promise<ModelPlan[]> {
    const requests = models.map((model) => ({ model, settings: modelSettings(this.deps.config, model) }));
    const references = await this.references.references(requests, nowMs);
    const plans: Array<Omit<ModelPlan, 'task'>> = [];
    for (const { model, settings } of requests) {
      const reference = references.get(model);
      if (reference === undefined) continue;
      try {
        plans.push({ model, settings, reference, window: await this.window(model, settings, nowMs) });
      } catch (error) {
        this.failed(model, error);
      }
    }
    await this.inferTasks(plans);
    return plans.map((p) => ({ ...p, task: p.settings.task?.type ?? this.tasks.get(p.model) }));
  }

  private async window(model: string, settings: ResolvedModelSettings, nowMs: number): Promise<WindowBounds> {
    const window = settings.window;
    if (window.type === 'time') return { startMs: nowMs - window.durationMs, endMs: nowMs };
    return (
      (await this.deps.store.lastEventsWindow(model, window.count, nowMs)) ?? { startMs: nowMs, endMs: nowMs }
    );
  }

  /** Tasks of the models without a configured one, asked once for all that are not known yet. */
  private async inferTasks(plans: ReadonlyArray<Omit<ModelPlan, 'task'>>): Promise<void> {
    const unknown = plans.filter((p) => p.settings.task === undefined && !this.tasks.has(p.model));
    if (unknown.length === 0) return;
    const since = Math.min(...unknown.map((p) => p.window.startMs));
    for (const [model, task] of await this.deps.store.inferTasks(
      unknown.map((p) => p.model),
      since,
    ))
      this.tasks.set(model, task);
  }

  /** Step 2 for one group: its windows, or why they could not be read (never rejects). */
  private async read(group: ReadGroup): Promise<GroupOutcome> {
    try {
      return await readGroup(group, this.rows, this.deps.rollups, this.deps.config.labelHorizonMs);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  /** Step 3 for one group: evaluate each model (pure) and its segments, then the estimation step. */
  private async evaluateGroup(
    group: ReadGroup,
    reads: GroupOutcome,
    nowMs: number,
  ): Promise<ModelEvaluation[]> {
    if (reads instanceof Error) {
      for (const plan of group.plans) this.failed(plan.model, reads);
      return [];
    }
    const evaluations: ModelEvaluation[] = [];
    for (const plan of group.plans) {
      // Lets the next group's read go on (its queries answer between models, not after them all).
      await new Promise<void>((resolve) => setImmediate(resolve));
      const aggregates = reads.get(plan.model);
      if (aggregates === undefined || aggregates instanceof Error) {
        this.failed(plan.model, aggregates ?? new Error('window not read'));
        continue;
      }
      try {
        evaluations.push(await this.evaluateModel(plan, aggregates, nowMs));
      } catch (error) {
        this.failed(plan.model, error);
      }
    }
    const { estimation, config } = this.deps;
    if (estimation === undefined || evaluations.length === 0) return evaluations;
    return estimation.apply({
      group,
      evaluations,
      reads,
      nowMs,
      gridCells: config.gridCells,
      labelHorizonMs: config.labelHorizonMs,
    });
  }

  private async evaluateModel(
    plan: ModelPlan,
    aggregates: WindowAggregates,
    nowMs: number,
  ): Promise<ModelEvaluation> {
    const { model, settings, reference, window, task } = plan;
    const whole = evaluateModel({
      model,
      settings,
      reference: reference.profile,
      grids: reference.grids,
      cells: reference.cells,
      window,
      evaluatedAtMs: nowMs,
      aggregates,
    });
    const segments =
      settings.segments.length === 0
        ? []
        : await this.segments.evaluate({
            model,
            settings,
            reference,
            window,
            aggregates,
            task,
            evaluatedAtMs: nowMs,
          });
    return withSegments(whole, segments);
  }

  /**
   * Step 4: results to ClickHouse (one insert per table), then gauges, the hook and a log line
   * each. Returns the evaluations stored (none when the write failed: they alert nobody).
   */
  private async record(evaluations: readonly ModelEvaluation[]): Promise<readonly ModelEvaluation[]> {
    if (evaluations.length === 0) return [];
    try {
      await this.deps.store.writeEvaluations(evaluations, this.deps.replica);
    } catch (error) {
      for (const e of evaluations) this.failed(e.model, error);
      return [];
    }
    for (const e of evaluations) {
      this.series.replace(e.model, seriesOf(e, this.deps.metrics, this.deps.config.featureMetrics));
      this.deps.metrics.evaluations.inc({ model: e.model, result: 'ok' });
      const driftOnsetMs = this.onsets.observe(e.model, e.status, e.windowStartMs);
      this.deps.onEvaluated?.(e, driftOnsetMs === undefined ? {} : { driftOnsetMs });
      this.deps.logger.info(
        {
          model: e.model,
          status: e.status,
          events: e.events,
          drifted: e.driftedFeatures,
          reasons: e.reasons,
        },
        'model evaluated',
      );
    }
    return evaluations;
  }

  private failed(model: string, error: unknown): void {
    this.deps.metrics.evaluations.inc({ model, result: 'failed' });
    this.deps.logger.warn({ err: error, model }, 'model evaluation failed; next interval retries');
  }
}
