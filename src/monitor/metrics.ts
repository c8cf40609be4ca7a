import { Counter, Gauge, Histogram, type LabelValues, type Registry } from 'prom-client';

/**
 * The monitor's Prometheus metrics. Gauges carry the latest values of the models this replica
 * evaluates; `ExportedSeries` remembers which series each model has, so that a model's series
 * can be replaced as a whole (a segment or feature that went away disappears) and dropped when
 * another replica takes the model over.
 */
export function createMonitorMetrics(registry: Registry) {
  const registers = [registry];
  // Every model-labelled gauge runs the hook before it is read, so a scrape never shows series
  // of a model this replica stopped owning since its last cycle (the hook is idempotent).
  const hook = { beforeCollect: (): void => undefined };
  const collect = (): void => hook.beforeCollect();
  return {
    health: new Gauge({
      name: 'driftguard_model_health',
      help: 'Latest model health: 0 ok, 1 warning, 2 critical.',
      labelNames: ['model'] as const,
      registers,
      collect,
    }),
    driftStatistic: new Gauge({
      name: 'driftguard_feature_drift_statistic',
      help: 'Latest drift statistic per feature and detector (detector "default" = normalised W1 / TVD of the decision rule).',
      labelNames: ['model', 'feature', 'detector'] as const,
      registers,
      collect,
    }),
    driftPValue: new Gauge({
      name: 'driftguard_feature_drift_p_value',
      help: 'Latest p-value per feature and detector (Bonferroni-adjusted for detector "default").',
      labelNames: ['model', 'feature', 'detector'] as const,
      registers,
      collect,
    }),
    drifted: new Gauge({
      name: 'driftguard_feature_drifted',
      help: '1 when the feature drifted in the latest window by this detector.',
      labelNames: ['model', 'feature', 'detector'] as const,
      registers,
      collect,
    }),
    performance: new Gauge({
      name: 'driftguard_performance_metric',
      help: 'Latest performance metric on the labelled part of the window.',
      labelNames: ['model', 'metric'] as const,
      registers,
      collect,
    }),
    coverage: new Gauge({
      name: 'driftguard_label_coverage_ratio',
      help: "Share of the window's predictions with an outcome within the label horizon.",
      labelNames: ['model'] as const,
      registers,
      collect,
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
      collect,
    }),
    segmentHealth: new Gauge({
      name: 'driftguard_segment_health',
      help: 'Latest health of a model segment (e.g. segment="country=DE"): 0 ok, 1 warning, 2 critical.',
      labelNames: ['model', 'segment'] as const,
      registers,
      collect,
    }),
    segmentWindowEvents: new Gauge({
      name: 'driftguard_segment_window_events',
      help: "Events of the segment in the model's latest evaluated window.",
      labelNames: ['model', 'segment'] as const,
      registers,
      collect,
    }),
    segmentWholeReference: new Gauge({
      name: 'driftguard_segment_whole_reference',
      help: "1 when the segment was compared with the model's whole reference (its own slice had too few events).",
      labelNames: ['model', 'segment'] as const,
      registers,
      collect,
    }),
    segmentDriftStatistic: new Gauge({
      name: 'driftguard_segment_drift_statistic',
      help: "Effect size of the decision rule per segment and feature (normalised W1 / TVD; detector 'default').",
      labelNames: ['model', 'segment', 'feature'] as const,
      registers,
      collect,
    }),
    segmentDrifted: new Gauge({
      name: 'driftguard_segment_feature_drifted',
      help: 'Decision-rule drift per segment and feature: 1 drifted.',
      labelNames: ['model', 'segment', 'feature'] as const,
      registers,
      collect,
    }),
    segmentPerformance: new Gauge({
      name: 'driftguard_segment_performance_metric',
      help: "Latest performance metric on the labelled part of the segment's window.",
      labelNames: ['model', 'segment', 'metric'] as const,
      registers,
      collect,
    }),
    estimated: new Gauge({
      name: 'driftguard_estimated_performance',
      help: 'Latest performance estimated without labels (CBPE for classifiers with scores, DLE for regression).',
      labelNames: ['model', 'metric'] as const,
      registers,
      collect,
    }),
    estimatedLower: new Gauge({
      name: 'driftguard_estimated_performance_lower',
      help: "Lower end of the estimate's band: where the realized value is expected (estimate - 3 sigma).",
      labelNames: ['model', 'metric'] as const,
      registers,
      collect,
    }),
    estimatedUpper: new Gauge({
      name: 'driftguard_estimated_performance_upper',
      help: "Upper end of the estimate's band (estimate + 3 sigma).",
      labelNames: ['model', 'metric'] as const,
      registers,
      collect,
    }),
    estimatedBreaching: new Gauge({
      name: 'driftguard_estimated_performance_breaching',
      help: 'Rule estimated:<metric>: 1 when the estimate left its reference band on the worse side or crossed its threshold.',
      labelNames: ['model', 'metric'] as const,
      registers,
      collect,
    }),
    multivariateError: new Gauge({
      name: 'driftguard_multivariate_drift_error',
      help: 'Mean squared PCA reconstruction error of the latest window (multivariate drift).',
      labelNames: ['model'] as const,
      registers,
      collect,
    }),
    multivariateLower: new Gauge({
      name: 'driftguard_multivariate_drift_band_lower',
      help: "Lower end of the reconstruction error's band from the reference (window-size dependent).",
      labelNames: ['model'] as const,
      registers,
      collect,
    }),
    multivariateUpper: new Gauge({
      name: 'driftguard_multivariate_drift_band_upper',
      help: "Upper end of the reconstruction error's band from the reference.",
      labelNames: ['model'] as const,
      registers,
      collect,
    }),
    attribution: new Gauge({
      name: 'driftguard_feature_attribution_score',
      help: 'Share of blame of the top 5 features explaining a warning or critical model (absent when ok).',
      labelNames: ['model', 'feature'] as const,
      registers,
      collect,
    }),
    estimatorAvailable: new Gauge({
      name: 'driftguard_estimator_available',
      help: "1 when the estimator (cbpe, dle, error_model, reconstruction, outputs) is fitted on the model's reference and used; 0 when not (the performance API says why).",
      labelNames: ['model', 'estimator'] as const,
      registers,
      collect,
    }),
    /** Sets the function every model gauge calls before a scrape reads it. */
    onCollect(fn: () => void): void {
      hook.beforeCollect = fn;
    },
  };
}
export type MonitorMetrics = ReturnType<typeof createMonitorMetrics>;

/** One series to export: a gauge, its labels (model included) and the value. */
export type SeriesValue = readonly [gauge: Gauge<string>, labels: LabelValues<string>, value: number];

/** The gauge series each model exports, so they can be replaced and removed per model. */
export class ExportedSeries {
  private readonly byModel = new Map<string, Map<Gauge<string>, Map<string, LabelValues<string>>>>();

  /** Sets `model`'s series to exactly `values`: series it exported before and not now are removed. */
  replace(model: string, values: readonly SeriesValue[]): void {
    const now = new Map<Gauge<string>, Map<string, LabelValues<string>>>();
    for (const [gauge, labels, value] of values) {
      gauge.set(labels, value);
      let ofGauge = now.get(gauge);
      if (ofGauge === undefined) now.set(gauge, (ofGauge = new Map<string, LabelValues<string>>()));
      ofGauge.set(labelKey(labels), labels);
    }
    for (const [gauge, series] of this.byModel.get(model) ?? []) {
      for (const [key, labels] of series) if (now.get(gauge)?.has(key) !== true) gauge.remove(labels);
    }
    this.byModel.set(model, now);
  }

  /** Removes every series of `model`; true when it had some. */
  release(model: string): boolean {
    const exported = this.byModel.get(model);
    if (exported === undefined) return false;
    for (const [gauge, series] of exported) for (const labels of series.values()) gauge.remove(labels);
    this.byModel.delete(model);
    return true;
  }

  models(): string[] {
    return [...this.byModel.keys()];
  }
}

function labelKey(labels: LabelValues<string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
