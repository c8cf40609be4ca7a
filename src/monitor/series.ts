import type { ModelEvaluation } from './evaluate.js';
import type { MonitorMetrics, SeriesValue } from './metrics.js';
import type { CompiledMonitoring } from './options.js';
import { estimationSeries } from './estimation/series.js';

const STATUS_VALUE = { ok: 0, warning: 1, critical: 2 } as const;

/**
 * The gauge series one evaluation exports (pure). Whole-model and segment gauges always; per
 * feature only as `featureMetrics` allows — a fleet of a thousand models of twenty features would
 * otherwise export hundreds of thousands of series per replica, while every result is in
 * ClickHouse for Grafana anyway. Segment labels are bounded by the segments configured.
 */
export function seriesOf(
  e: ModelEvaluation,
  m: MonitorMetrics,
  featureMetrics: CompiledMonitoring['featureMetrics'],
): SeriesValue[] {
  const model = e.model;
  const values: SeriesValue[] = [
    [m.health, { model }, STATUS_VALUE[e.status]],
    [m.windowEvents, { model }, e.events],
    [m.coverage, { model }, e.coverage],
  ];
  const exported = exportedFeatures(e, featureMetrics);
  for (const d of e.drift) {
    if (!exported.has(d.feature)) continue;
    const labels = { model, feature: d.feature, detector: d.detector };
    values.push([m.driftStatistic, labels, d.statistic]);
    if (d.pValue !== null) values.push([m.driftPValue, labels, d.pValue]);
    values.push([m.drifted, labels, d.drifted ? 1 : 0]);
  }
  for (const p of e.performance) values.push([m.performance, { model, metric: p.metric }, p.value]);
  values.push(...estimationSeries(e, m));
  for (const s of e.segments) {
    const segment = s.segment;
    values.push([m.segmentHealth, { model, segment }, STATUS_VALUE[s.status]]);
    values.push([m.segmentWindowEvents, { model, segment }, s.events]);
    values.push([m.segmentWholeReference, { model, segment }, s.reference === 'whole' ? 1 : 0]);
    for (const d of s.drift) {
      if (d.detector !== 'default' || !exported.has(d.feature)) continue;
      values.push([m.segmentDriftStatistic, { model, segment, feature: d.feature }, d.statistic]);
      values.push([m.segmentDrifted, { model, segment, feature: d.feature }, d.drifted ? 1 : 0]);
    }
    for (const p of s.performance)
      values.push([m.segmentPerformance, { model, segment, metric: p.metric }, p.value]);
  }
  return values;
}

/** The features whose per-feature series are exported. */
export function exportedFeatures(
  e: ModelEvaluation,
  featureMetrics: CompiledMonitoring['featureMetrics'],
): Set<string> {
  const verdicts = e.drift.filter((d) => d.detector === 'default');
  switch (featureMetrics.mode) {
    case 'off':
      return new Set();
    case 'all':
      return new Set(e.drift.map((d) => d.feature));
    case 'drifted':
      return new Set(verdicts.filter((d) => d.drifted).map((d) => d.feature));
    case 'top': {
      const ranked = [...verdicts].sort(
        (a, b) =>
          Number(b.drifted) - Number(a.drifted) ||
          (b.effect ?? -Infinity) - (a.effect ?? -Infinity) ||
          (a.feature < b.feature ? -1 : 1),
      );
      return new Set(ranked.slice(0, featureMetrics.topFeatures).map((d) => d.feature));
    }
  }
}
