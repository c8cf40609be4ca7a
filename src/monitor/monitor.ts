import type { Alerting } from '../alerts/index.js';
import type { Logger } from '../../kernel/logger.js';
import { DriftOnsets } from './drift-onset.js';
import { evaluateModel, type ModelEvaluation } from './evaluate.js';
import { ExportedSeries, type MonitorMetrics, type SeriesValue } from './metrics.js';
import type { MonitorStore } from './monitor-store.js';
import { modelSettings, type CompiledMonitoring } from './options.js';
import { referenceGrids, type FeatureGrid, type WindowBounds } from './queries.js';
import { buildReferenceProfile, type ReferenceProfile } from './reference.js';
import { SegmentEvaluator } from './segment-evaluator.js';
import { withSegments } from './segments.js';

export { createMonitorMetrics, type MonitorMetrics } from './metrics.js';

/** Decides which models this replica evaluates (see src/coordination/ownership.ts). */
export interface OwnershipPort {
  owns(model: string): boolean;
}

export interface MonitorDeps {
  readonly store: MonitorStore;
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

interface CachedReference {
  readonly profile: ReferenceProfile;
  readonly grids: Map<string, FeatureGrid>;
  /** The grid resolution (queries.ts gridCellsFor). */
  readonly cells: number;
  readonly createdAtMs: number;
}

const STATUS_VALUE = { ok: 0, warning: 1, critical: 2 } as const;

/**
 * One cycle: list the models (configured + seen), keep those this replica owns, and evaluate
 * each — reference (built once), window aggregates in ClickHouse, statistics here, results to
 * ClickHouse, gauges, then the rule evaluations to alerting.
 */
export class Monitor {
  private readonly references = new Map<string, CachedReference>();
  private readonly now: () => number;
  private readonly series = new ExportedSeries();
  private readonly segments: SegmentEvaluator;
  private readonly onsets = new DriftOnsets();

  constructor(private readonly deps: MonitorDeps) {
    this.now = deps.now ?? Date.now;
    this.segments = new SegmentEvaluator({
      store: deps.store,
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
      this.deps.alerting?.release(model);
      this.onsets.forget(model);
      this.deps.onReleased?.(model);
      this.deps.logger.info({ model }, 'model no longer owned here; its gauges are removed');
    }
  }

  async runCycle(): Promise<ModelEvaluation[]> {
    const { config } = this.deps;
    this.releaseUnowned();
    const nowMs = this.now();
    const seen = await this.deps.store.seenModels(nowMs - config.discoverLookbackMs);
    const models = [...new Set([...Object.keys(config.models), ...seen.map((s) => s.model)])].sort();
    const evaluations: ModelEvaluation[] = [];
    for (const model of models) {
      if (!this.deps.ownership.owns(model)) continue;
      const started = process.hrtime.bigint();
      try {
        const evaluation = await this.evaluate(model, nowMs);
        if (evaluation === undefined) continue;
        evaluations.push(evaluation);
        this.deps.metrics.evaluations.inc({ model, result: 'ok' });
      } catch (error) {
        this.deps.metrics.evaluations.inc({ model, result: 'failed' });
        this.deps.logger.warn({ err: error, model }, 'model evaluation failed; next interval retries');
      } finally {
        this.deps.metrics.evaluationSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
      }
    }
    if (evaluations.length > 0 && this.deps.alerting !== undefined) {
      await this.deps.alerting.handle(evaluations.flatMap((e) => e.rules));
    }
    return evaluations;
  }

  /** Evaluates one model's current window; undefined while it has no reference yet. */
  async evaluate(model: string, nowMs: number): Promise<ModelEvaluation | undefined> {
    const settings = modelSettings(this.deps.config, model);
    const reference = await this.reference(model, settings.reference, settings.features, nowMs);
    if (reference === undefined) return undefined;
    const window = await this.window(model, settings.window, nowMs);
    const names = Object.keys(reference.profile.features);
    const task = settings.task?.type ?? (await this.deps.store.inferTask(model, window));
    const aggregates = await this.deps.store.aggregates(
      model,
      window,
      reference.grids,
      reference.cells,
      names,
      task,
      this.deps.config.labelHorizonMs,
    );
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
    const evaluation = withSegments(whole, segments);
    await this.deps.store.writeEvaluation(evaluation, this.deps.replica);
    this.publish(evaluation);
    const driftOnsetMs = this.onsets.observe(model, evaluation.status, evaluation.windowStartMs);
    this.deps.onEvaluated?.(evaluation, driftOnsetMs === undefined ? {} : { driftOnsetMs });
    this.deps.logger.info(
      {
        model,
        status: evaluation.status,
        events: evaluation.events,
        drifted: evaluation.driftedFeatures,
        reasons: evaluation.reasons,
      },
      'model evaluated',
    );
    return evaluation;
  }

  /** Drops the cached reference (after an upload) so the next cycle reloads it. */
  invalidate(model: string): void {
    this.references.delete(model);
  }

  private publish(e: ModelEvaluation): void {
    const m = this.deps.metrics;
    const model = e.model;
    const values: SeriesValue[] = [
      [m.health, { model }, STATUS_VALUE[e.status]],
      [m.windowEvents, { model }, e.events],
      [m.coverage, { model }, e.coverage],
    ];
    for (const d of e.drift) {
      const labels = { model, feature: d.feature, detector: d.detector };
      values.push([m.driftStatistic, labels, d.statistic]);
      if (d.pValue !== null) values.push([m.driftPValue, labels, d.pValue]);
      values.push([m.drifted, labels, d.drifted ? 1 : 0]);
    }
    for (const p of e.performance) values.push([m.performance, { model, metric: p.metric }, p.value]);
    // Segment labels are bounded: at most maxValues + 1 segments per configured spec.
    for (const s of e.segments) {
      const segment = s.segment;
      values.push([m.segmentHealth, { model, segment }, STATUS_VALUE[s.status]]);
      values.push([m.segmentWindowEvents, { model, segment }, s.events]);
      values.push([m.segmentWholeReference, { model, segment }, s.reference === 'whole' ? 1 : 0]);
      for (const d of s.drift) {
        if (d.detector !== 'default') continue;
        values.push([m.segmentDriftStatistic, { model, segment, feature: d.feature }, d.statistic]);
        values.push([m.segmentDrifted, { model, segment, feature: d.feature }, d.drifted ? 1 : 0]);
      }
      for (const p of s.performance)
        values.push([m.segmentPerformance, { model, segment, metric: p.metric }, p.value]);
    }
    this.series.replace(model, values);
  }

  private async window(
    model: string,
    window: ReturnType<typeof modelSettings>['window'],
    nowMs: number,
  ): Promise<WindowBounds> {
    if (window.type === 'time') return { startMs: nowMs - window.durationMs, endMs: nowMs };
    return (
      (await this.deps.store.lastEventsWindow(model, window.count, nowMs)) ?? { startMs: nowMs, endMs: nowMs }
    );
  }

  private async reference(
    model: string,
    spec: ReturnType<typeof modelSettings>['reference'],
    kinds: Readonly<Record<string, 'numeric' | 'categorical'>>,
    nowMs: number,
  ): Promise<CachedReference | undefined> {
    const cached = this.references.get(model);
    if (cached !== undefined) {
      // Another replica (or the CLI) may have stored a newer reference: a cheap check each cycle.
      const latest = await this.deps.store.referenceCreatedAt(model);
      if (latest === undefined || latest <= cached.createdAtMs) return cached;
      this.references.delete(model);
    }
    let stored = await this.deps.store.loadReference(model);
    if (stored === undefined && spec.type !== 'upload') {
      // Computed rarely: the sample is pulled once and profiled with the detectors' builders.
      const sample =
        spec.type === 'first_events'
          ? await this.deps.store.sample(model, spec.count)
          : await this.deps.store.sample(model, spec.maxRows, { startMs: spec.fromMs, endMs: spec.toMs });
      if (spec.type === 'first_events' && sample.length < spec.count) {
        this.deps.logger.debug(
          { model, have: sample.length, need: spec.count },
          'collecting reference events',
        );
        return undefined;
      }
      if (sample.length === 0) return undefined;
      const profile = buildReferenceProfile(sample, kinds, spec.type);
      await this.deps.store.saveReference(model, profile, nowMs);
      this.deps.logger.info({ model, rows: sample.length, source: spec.type }, 'reference built');
      stored = { profile, createdAtMs: nowMs };
    }
    if (stored === undefined) return undefined;
    const { grids, cells } = referenceGrids(stored.profile.features, this.deps.config.gridCells);
    const entry = { profile: stored.profile, grids, cells, createdAtMs: stored.createdAtMs };
    this.references.set(model, entry);
    return entry;
  }
}
