import type { ModelEvaluation } from '../evaluate.js';

/**
 * An evaluation's estimation results as rows of `estimation_results` and `feature_attribution`
 * (pure; written by monitor-store.ts with the evaluation's other rows, before its health row).
 */
export function estimationResultRows(e: ModelEvaluation): Record<string, unknown>[] {
  const report = e.estimation;
  if (report === undefined) return [];
  const common = windowColumns(e);
  const sampled = report.sampleEvery > 1 ? { sampleEvery: report.sampleEvery } : {};
  return report.metrics.map((m) => ({
    ...common,
    segment: '',
    metric: m.metric,
    method: m.method,
    estimated: m.estimated,
    estimated_lower: m.estimatedLower,
    estimated_upper: m.estimatedUpper,
    reference_value: m.referenceValue,
    reference_lower: m.referenceLower,
    reference_upper: m.referenceUpper,
    realized: m.realized,
    labelled: e.labelled,
    total: e.events,
    coverage: e.coverage,
    threshold: m.threshold,
    breaching: m.breaching ? 1 : 0,
    details: JSON.stringify({ ...m.details, ...sampled }),
  }));
}

export function attributionRows(e: ModelEvaluation): Record<string, unknown>[] {
  const attribution = e.attribution;
  if (attribution === undefined) return [];
  const common = windowColumns(e);
  return attribution.features.map((a) => ({
    ...common,
    status: e.status,
    rank: a.rank,
    feature: a.feature,
    score: a.score,
    effect: a.effect ?? null,
    reconstruction: a.reconstruction ?? null,
    performance: a.performance ?? null,
    basis: attribution.basis.join(','),
  }));
}

function windowColumns(e: ModelEvaluation): Record<string, unknown> {
  return {
    model: e.model,
    evaluated_at: Math.floor(e.evaluatedAtMs / 1000),
    window_start: Math.floor(e.windowStartMs / 1000),
    window_end: Math.floor(e.windowEndMs / 1000),
  };
}
