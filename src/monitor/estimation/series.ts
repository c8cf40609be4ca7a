import type { ModelEvaluation } from '../evaluate.js';
import type { MonitorMetrics, SeriesValue } from '../metrics.js';

/**
 * The estimation step's gauge series of one evaluation (pure). Bounded per model: one series per
 * estimated metric (at most seven) and bound, three for the reconstruction error, one per
 * estimator, and at most five attributed features, only while the model is warning or critical.
 */
export function estimationSeries(e: ModelEvaluation, m: MonitorMetrics): SeriesValue[] {
  const model = e.model;
  const values: SeriesValue[] = [];
  const report = e.estimation;
  if (report !== undefined) {
    for (const r of report.metrics) {
      if (r.estimated === null) continue;
      const labels = { model, metric: r.metric };
      values.push([m.estimated, labels, r.estimated]);
      if (r.estimatedLower !== null) values.push([m.estimatedLower, labels, r.estimatedLower]);
      if (r.estimatedUpper !== null) values.push([m.estimatedUpper, labels, r.estimatedUpper]);
      values.push([m.estimatedBreaching, labels, r.breaching ? 1 : 0]);
    }
    const mv = report.multivariate;
    if (mv !== undefined) {
      values.push([m.multivariateError, { model }, mv.error]);
      values.push([m.multivariateLower, { model }, mv.lower]);
      values.push([m.multivariateUpper, { model }, mv.upper]);
    }
    for (const estimator of report.available) values.push([m.estimatorAvailable, { model, estimator }, 1]);
    for (const estimator of Object.keys(report.unavailable))
      if (!report.available.includes(estimator as never))
        values.push([m.estimatorAvailable, { model, estimator }, 0]);
  }
  for (const a of e.attribution?.features ?? [])
    values.push([m.attribution, { model, feature: a.feature }, a.score]);
  return values;
}
