import {
  additiveContributions,
  attributeFeatures,
  evaluateReconstruction,
  PREDICTION_INPUT,
  windowTerms,
  type AttributionEvidence,
} from '../../../detectors/index.js';
import type { RuleEvaluation, Severity } from '../../alerts/index.js';
import {
  formatNumber as fmt,
  performanceRule,
  type DriftRow,
  type HealthStatus,
  type LabelAggregates,
  type ModelEvaluation,
  type PerformanceRow,
} from '../evaluate.js';
import type { ResolvedModelSettings } from '../options.js';
import { cbpeRows, dleRows } from './estimated-metrics.js';
import { outputDrift } from './output-drift.js';
import type {
  EstimatedMetricRow,
  EstimationAggregates,
  EstimationReport,
  EstimatorName,
  FittedEstimators,
  MultivariateResult,
} from './types.js';

/**
 * The estimation step's verdicts folded into a model's evaluation (pure; no I/O): estimated
 * performance with its bands beside the realized values, realized ROC AUC, multivariate drift
 * (a drift row like any other), output drift, their alert rules, the health they raise, and — when
 * the model ends warning or critical — the features that explain it, ranked.
 */

export const MULTIVARIATE_FEATURE = '__multivariate__';
export const MULTIVARIATE_DETECTOR = 'pca_reconstruction';

export interface ApplyInput {
  readonly evaluation: ModelEvaluation;
  readonly settings: ResolvedModelSettings;
  /** Undefined: nothing fitted (disabled, no reference rows, a failed fit: `unavailable` says why). */
  readonly estimators: FittedEstimators | undefined;
  readonly unavailable?: Partial<Record<EstimatorName, string>>;
  /** Undefined when the window's aggregates could not be read (the estimates are skipped). */
  readonly aggregates: EstimationAggregates | undefined;
  readonly labels: LabelAggregates | undefined;
  readonly gridCells: number;
  /** The window was read on one row in this many (estimation.maxWindowRows). @default 1 */
  readonly sampleEvery?: number;
}

export function applyEstimation(input: ApplyInput): ModelEvaluation {
  const { evaluation: e, settings, estimators, aggregates } = input;
  const rules: RuleEvaluation[] = [];
  const reasons: string[] = [];
  let status: HealthStatus = e.status;
  const raise = (severity: Severity, reason: string): void => {
    reasons.push(reason);
    if (severity === 'critical') status = 'critical';
    else if (status === 'ok') status = 'warning';
  };
  const rule = (
    r: Omit<RuleEvaluation, 'model' | 'windowStartMs' | 'windowEndMs' | 'evaluatedAtMs'>,
  ): void => {
    rules.push({
      model: e.model,
      windowStartMs: e.windowStartMs,
      windowEndMs: e.windowEndMs,
      evaluatedAtMs: e.evaluatedAtMs,
      ...r,
    });
  };
  const available: EstimatorName[] = [];
  const unavailable = { ...(input.unavailable ?? {}), ...(estimators?.unavailable ?? {}) };
  const drift: DriftRow[] = [];
  const performance: PerformanceRow[] = [];
  const metrics: EstimatedMetricRow[] = [];
  let multivariate: MultivariateResult | undefined;
  let estimatedRows = 0;
  let performanceEvidence: AttributionEvidence | undefined;

  if (estimators !== undefined && aggregates !== undefined) {
    // Estimated performance: CBPE (classifiers with scores) or DLE (regression).
    if (estimators.cbpe !== undefined && aggregates.cbpe !== undefined) {
      available.push('cbpe');
      const result = cbpeRows(
        estimators.cbpe.model,
        aggregates.cbpe,
        aggregates.labelled,
        input.labels,
        settings,
      );
      metrics.push(...result.rows);
      estimatedRows = result.scoredRows;
      if (result.realizedRocAuc !== undefined) performance.push(realizedRow(settings, result.realizedRocAuc));
    }
    if (estimators.dle !== undefined && aggregates.binned !== undefined) {
      available.push('dle');
      const result = dleRows(estimators.dle, aggregates.binned, input.labels, settings);
      metrics.push(...result.rows);
      estimatedRows = aggregates.binned.count;
      if (result.estimate !== undefined) {
        performanceEvidence = {
          kind: 'performance',
          alert: result.rows.some((r) => r.breaching),
          values: result.estimate.maeContributions
            .filter((c) => c.input !== PREDICTION_INPUT)
            .map((c) => ({ feature: c.input, value: c.value })),
        };
      }
    }
    if (
      estimators.errorModel !== undefined &&
      aggregates.binned !== undefined &&
      aggregates.binned.count > 0
    ) {
      available.push('error_model');
      const values = additiveContributions(
        estimators.errorModel,
        windowTerms(estimators.errorModel, aggregates.binned),
      );
      performanceEvidence = {
        kind: 'performance',
        alert: metrics.some((r) => r.method === 'cbpe' && r.breaching),
        values: estimators.errorModel.inputs.map((input, j) => ({
          feature: input.name,
          value: values[j] as number,
        })),
      };
    }
    for (const m of metrics) metricRules(m, settings, rule, raise, e.coverage);

    // Multivariate drift: the reconstruction error against its band, a drift result like any other.
    if (
      estimators.reconstruction !== undefined &&
      aggregates.moments !== undefined &&
      aggregates.moments.count > 0
    ) {
      available.push('reconstruction');
      const r = evaluateReconstruction(estimators.reconstruction, aggregates.moments);
      multivariate = {
        error: r.error,
        referenceValue: r.referenceValue,
        lower: r.band.lower,
        upper: r.band.upper,
        alert: r.alert,
        count: r.count,
        contributions: r.contributions,
      };
      drift.push(multivariateRow(multivariate, estimators, input.sampleEvery ?? 1));
      const severity = settings.estimation.multivariate.severity;
      const summary = r.alert
        ? `the joint distribution of the features changed: reconstruction error ${fmt(r.error)} outside its band [${fmt(r.band.lower)}, ${fmt(r.band.upper)}] (reference ${fmt(r.referenceValue)})`
        : `reconstruction error ${fmt(r.error)} within its band [${fmt(r.band.lower)}, ${fmt(r.band.upper)}]`;
      rule({
        rule: 'model:multivariate_drift',
        severity,
        breaching: r.alert,
        value: r.error,
        threshold: r.error >= r.referenceValue ? r.band.upper : r.band.lower,
        summary,
        details: { lower: r.band.lower, upper: r.band.upper, referenceValue: r.referenceValue },
      });
      if (r.alert) raise(severity, `multivariate drift: ${summary}`);
    }

    // The model's outputs (predicted label or number, scores) drift like features.
    if (estimators.outputs.length > 0 && aggregates.outputs !== undefined && aggregates.outputs.rows > 0) {
      available.push('outputs');
      const out = outputDrift(estimators.outputs, aggregates.outputs, settings, input.gridCells);
      drift.push(...out.rows);
      for (const v of out.verdicts) {
        rule({
          rule: `drift:${v.output}:default`,
          severity: 'warning',
          breaching: v.drifted,
          value: v.effect,
          threshold: v.threshold,
          summary: `${v.output}: ${v.reason}`,
        });
        if (v.drifted) raise('warning', `output drift: ${v.output}: ${v.reason}`);
      }
    }
  }
  for (const p of performance) {
    const r = performanceRule(p, e.labelled);
    if (r === undefined || p.threshold === null) continue;
    rule(r);
    if (p.breaching) raise('critical', `${p.metric} ${fmt(p.value)} breaches ${fmt(p.threshold)}`);
  }

  const report: EstimationReport = {
    available,
    unavailable,
    metrics,
    ...(multivariate === undefined ? {} : { multivariate }),
    estimatedRows,
    sampleEvery: input.sampleEvery ?? 1,
  };
  const merged: ModelEvaluation = {
    ...e,
    drift: [...e.drift, ...drift],
    performance: [...e.performance, ...performance],
    status,
    reasons: [...e.reasons, ...reasons],
    rules: [...e.rules, ...rules],
    estimation: report,
  };
  return status === 'ok' ? merged : withAttribution(merged, multivariate, performanceEvidence);
}

/** The band rule of an estimated metric, and its threshold rule when one is configured. */
function metricRules(
  m: EstimatedMetricRow,
  settings: ResolvedModelSettings,
  rule: (r: Omit<RuleEvaluation, 'model' | 'windowStartMs' | 'windowEndMs' | 'evaluatedAtMs'>) => void,
  raise: (severity: Severity, reason: string) => void,
  coverage: number,
): void {
  if (m.estimated === null) return;
  const loss = m.method === 'dle';
  const limit = loss ? m.referenceUpper : m.referenceLower;
  const labelsNote = `labels for ${fmt(Math.round(coverage * 1000) / 10)} % of the window`;
  const outside = m.details['outsideBand'] === true;
  if (limit !== null) {
    const summary = outside
      ? `estimated ${m.metric} ${fmt(m.estimated)} (${m.method.toUpperCase()}) is ${loss ? 'above' : 'below'} its reference band [${fmt(m.referenceLower ?? 0)}, ${fmt(m.referenceUpper ?? 0)}]; ${labelsNote}`
      : `estimated ${m.metric} ${fmt(m.estimated)} (${m.method.toUpperCase()}) within its reference band`;
    rule({
      rule: `estimated:${m.metric}`,
      severity: settings.estimation.bandSeverity,
      breaching: outside,
      value: m.estimated,
      threshold: limit,
      summary,
      details: { estimatedLower: m.estimatedLower, estimatedUpper: m.estimatedUpper, realized: m.realized },
    });
    if (outside) raise(settings.estimation.bandSeverity, summary);
  }
  if (m.threshold !== null) {
    const crossed = m.details['crossedThreshold'] === true;
    const summary = `estimated ${m.metric} ${fmt(m.estimated)} (${m.method.toUpperCase()}) ${crossed ? 'crosses' : 'within'} its threshold ${fmt(m.threshold)}; ${labelsNote}`;
    rule({
      rule: `estimated:${m.metric}:threshold`,
      severity: 'critical',
      breaching: crossed,
      value: m.estimated,
      threshold: m.threshold,
      summary,
    });
    if (crossed) raise('critical', summary);
  }
}

function realizedRow(settings: ResolvedModelSettings, value: number): PerformanceRow {
  const spec = settings.performance.find((p) => p.metric === 'roc_auc');
  const threshold = spec?.min ?? spec?.max ?? null;
  const breaching =
    (spec?.min !== undefined && value < spec.min) || (spec?.max !== undefined && value > spec.max);
  return { metric: 'roc_auc', value, threshold, breaching };
}

function multivariateRow(m: MultivariateResult, estimators: FittedEstimators, sampleEvery: number): DriftRow {
  const top = [...m.contributions].sort((a, b) => Math.abs(b.value) - Math.abs(a.value)).slice(0, 5);
  return {
    feature: MULTIVARIATE_FEATURE,
    kind: 'multivariate',
    detector: MULTIVARIATE_DETECTOR,
    statistic: m.error,
    pValue: null,
    effect: m.error - m.referenceValue,
    threshold: m.upper,
    drifted: m.alert,
    status: m.alert ? 'drifted' : 'ok',
    windowCount: m.count,
    referenceCount: estimators.reconstruction?.referenceRows ?? 0,
    details: {
      referenceValue: m.referenceValue,
      lower: m.lower,
      upper: m.upper,
      components: estimators.reconstruction?.components.length ?? 0,
      features: estimators.reconstruction?.columns.length ?? 0,
      contributions: top,
      ...(sampleEvery > 1 ? { sampleEvery } : {}),
    },
  };
}

/**
 * Ranks the features that explain a warning or critical model (detectors/estimation/attribution.ts):
 * the decision rule's effect sizes, each feature's part of the change of the reconstruction error,
 * and its part of the change of the expected loss (DLE, or the classifier's error model), averaged
 * over the kinds that alerted. The top 5 go on the evaluation, in a reason, and in the details of
 * every breaching rule (alert receivers that take JSON get them).
 */
function withAttribution(
  e: ModelEvaluation,
  multivariate: MultivariateResult | undefined,
  performance: AttributionEvidence | undefined,
): ModelEvaluation {
  // A model critical because one of its segments drifted: that segment's effects explain it.
  const drifted = (segment: string): boolean =>
    e.rules.some((r) => r.rule === 'model:drift' && r.breaching && (r.segment ?? '') === segment);
  const segment = drifted('') ? undefined : e.segments.find((s) => drifted(s.segment));
  const effects = (segment ?? e).drift.filter(
    (d) => d.detector === 'default' && d.details['output'] !== true && d.kind !== 'multivariate',
  );
  const evidence: AttributionEvidence[] = [];
  if (effects.length > 0) {
    evidence.push({
      kind: 'effect',
      alert: segment !== undefined || drifted(''),
      values: effects.map((d) => ({ feature: d.feature, value: d.effect ?? 0 })),
    });
  }
  if (multivariate !== undefined)
    evidence.push({ kind: 'reconstruction', alert: multivariate.alert, values: multivariate.contributions });
  if (performance !== undefined && performance.values.length > 0) evidence.push(performance);
  if (evidence.length === 0) return e;
  const attribution = attributeFeatures(evidence);
  if (attribution.features.length === 0) return e;
  const named = attribution.features.map((a) => `${a.feature} ${fmt(a.score)}`).join(', ');
  const details = attribution.features.map((a) => ({ ...a }));
  return {
    ...e,
    attribution,
    reasons: [
      ...e.reasons,
      `explained by: ${named}${segment === undefined ? '' : ` (drift of segment ${segment.segment})`}`,
    ],
    rules: e.rules.map((r) =>
      r.breaching && (r.segment ?? '') === ''
        ? { ...r, details: { ...(r.details ?? {}), attribution: details } }
        : r,
    ),
  };
}
