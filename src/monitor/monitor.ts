import { Gauge, Counter, Histogram, type Registry } from 'prom-client';
import type { Alerting } from '../alerts/index.js';
import type { Logger } from '../logger.js';
import { evaluateModel, type ModelEvaluation } from './evaluate.js';
import type { MonitorStore } from './monitor-store.js';
import { modelSettings, type CompiledMonitoring } from './options.js';
import { featureGrid, type FeatureGrid, type WindowBounds } from './queries.js';
import { buildReferenceProfile, type ReferenceProfile } from './reference.js';

/** Decides which models this replica evaluates (see src/coordination/ownership.ts). */
export interface OwnershipPort {
  owns(model: string): boolean;
}

export function createMonitorMetrics(registry: Registry) {
  const registers = [registry];
  return {
    health: new Gauge({
      name: 'driftguard_model_health',
      help: 'Latest model health: 0 ok, 1 warning, 2 critical.',
      labelNames: ['model'] as const,
      registers,
    }),
    driftStatistic: new Gauge({
      name: 'driftguard_feature_drift_statistic',
      help: 'Latest drift statistic per feature and detector (detector "default" = normalised W1 / TVD of the decision rule).',
      labelNames: ['model', 'feature', 'detector'] as const,
      registers,
    }),
    driftPValue: new Gauge({
      name: 'driftguard_feature_drift_p_value',
      help: 'Latest p-value per feature and detector (Bonferroni-adjusted for detector "default").',
      labelNames: ['model', 'feature', 'detector'] as const,
      registers,
    }),
    drifted: new Gauge({
      name: 'driftguard_feature_drifted',
      help: '1 when the feature drifted in the latest window by this detector.',
      labelNames: ['model', 'feature', 'detector'] as const,
      registers,
    }),
    performance: new Gauge({
      name: 'driftguard_performance_metric',
      help: 'Latest performance metric on the labelled part of the window.',
      labelNames: ['model', 'metric'] as const,
      registers,
    }),
    coverage: new Gauge({
      name: 'driftguard_label_coverage_ratio',
      help: "Share of the window's predictions with an outcome within the label horizon.",
      labelNames: ['model'] as const,
      registers,
    }),
    evaluations: new Counter({
      name: 'driftguard_monitor_evaluations_total',
      help: 'Model evaluations run by this replica, by result.',
      labelNames: ['model', 'result'] as const,
      registers,
    }),
    evaluationSeconds: new Histogram({
      name: 'driftguard_monitor_evaluation_seconds',
      help: 'Time of one model evaluation (queries, statistics, writes).',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    windowEvents: new Gauge({
      name: 'driftguard_monitor_window_events',
      help: 'Events in the latest evaluated window.',
      labelNames: ['model'] as const,
      registers,
    }),
  };
}
export type MonitorMetrics = ReturnType<typeof createMonitorMetrics>;

export interface MonitorDeps {
  readonly store: MonitorStore;
  readonly config: CompiledMonitoring;
  readonly alerting: Pick<Alerting, 'handle'> | undefined;
  readonly ownership: OwnershipPort;
  readonly metrics: MonitorMetrics;
  readonly logger: Logger;
  readonly replica: string;
  readonly now?: () => number;
  /** Called after each model's evaluation is stored (the retuner's trigger hook). */
  readonly onEvaluated?: (evaluation: ModelEvaluation) => void;
}

interface CachedReference {
  readonly profile: ReferenceProfile;
  readonly grids: Map<string, FeatureGrid>;
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

  constructor(private readonly deps: MonitorDeps) {
    this.now = deps.now ?? Date.now;
  }

  async runCycle(): Promise<ModelEvaluation[]> {
    const { config } = this.deps;
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
      [...reference.grids.values()],
      this.deps.config.gridCells,
      names,
      task,
      this.deps.config.labelHorizonMs,
    );
    const evaluation = evaluateModel({
      model,
      settings,
      reference: reference.profile,
      grids: reference.grids,
      cells: this.deps.config.gridCells,
      window,
      evaluatedAtMs: nowMs,
      aggregates,
    });
    await this.deps.store.writeEvaluation(evaluation, this.deps.replica);
    this.publish(evaluation);
    this.deps.onEvaluated?.(evaluation);
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
    m.health.set({ model: e.model }, STATUS_VALUE[e.status]);
    m.windowEvents.set({ model: e.model }, e.events);
    m.coverage.set({ model: e.model }, e.coverage);
    for (const d of e.drift) {
      const labels = { model: e.model, feature: d.feature, detector: d.detector };
      m.driftStatistic.set(labels, d.statistic);
      if (d.pValue !== null) m.driftPValue.set(labels, d.pValue);
      m.drifted.set(labels, d.drifted ? 1 : 0);
    }
    for (const p of e.performance) m.performance.set({ model: e.model, metric: p.metric }, p.value);
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
    const grids = new Map<string, FeatureGrid>();
    let index = 1;
    for (const [name, feature] of Object.entries(stored.profile.features)) {
      if (feature.kind === 'numeric')
        grids.set(name, featureGrid(name, index++, feature.profile, this.deps.config.gridCells));
    }
    const entry = { profile: stored.profile, grids, createdAtMs: stored.createdAtMs };
    this.references.set(model, entry);
    return entry;
  }
}
