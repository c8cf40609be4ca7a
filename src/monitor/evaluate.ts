import {
  binIndex,
  binaryReportFromCounts,
  categoricalEvidenceFromProfiles,
  categoricalProfileFromCounts,
  classificationReportFromConfusion,
  decideModelDrift,
  gridOf,
  numericEvidenceFromProfiles,
  numericProfileFromAggregates,
  regressionReportFromSums,
  runDetector,
  type CategoricalProfile,
  type NumericProfile,
  type RegressionSums,
} from '../../detectors/index.js';
import type { RuleEvaluation } from '../alerts/index.js';
import type { ResolvedModelSettings } from './options.js';
import type { FeatureGrid } from './queries.js';
import type { ReferenceProfile } from './reference.js';
import type { Attribution, EstimationReport } from './estimation/types.js';

/**
 * The pure half of a monitor cycle: ClickHouse aggregates + the reference → drift, quality and
 * performance verdicts, the model's health and the alert rule evaluations. No I/O here.
 */

/** A numeric feature's window moments, from ClickHouse. */
export interface FeatureMoments {
  readonly count: number;
  readonly sum: number;
  readonly sumSquares: number;
  readonly min: number;
  readonly max: number;
}

export interface WindowAggregates {
  readonly events: number;
  /** Per numeric feature: grid cell → count (cells as in queries.ts numericHistogramQuery). */
  readonly numericCells: ReadonlyMap<string, ReadonlyMap<number, number>>;
  readonly numericMoments: ReadonlyMap<string, FeatureMoments>;
  /** Per categorical feature: value → count. */
  readonly categories: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Per feature: events where it was sent as missing (null). */
  readonly missing: ReadonlyMap<string, number>;
  /** Feature names present in the window but not in the reference. */
  readonly newFeatures: readonly string[];
  readonly labels?: LabelAggregates;
}

export type LabelAggregates =
  | { readonly kind: 'classification'; readonly confusion: ReadonlyMap<string, ReadonlyMap<string, number>> }
  | { readonly kind: 'regression'; readonly sums: RegressionSums };

export type HealthStatus = 'ok' | 'warning' | 'critical';

export interface DriftRow {
  readonly feature: string;
  /** 'multivariate': the joint distribution (estimation step, feature `__multivariate__`). */
  readonly kind: 'numeric' | 'categorical' | 'multivariate';
  readonly detector: string;
  readonly statistic: number;
  readonly pValue: number | null;
  readonly effect: number | null;
  readonly threshold: number;
  readonly drifted: boolean;
  /** ok | drifted | not_computable */
  readonly status: string;
  readonly windowCount: number;
  readonly referenceCount: number;
  readonly details: Record<string, unknown>;
}

export interface QualityRow {
  readonly feature: string;
  readonly rule: string;
  readonly value: number;
  readonly threshold: number;
  readonly breaching: boolean;
  readonly details: Record<string, unknown>;
}

export interface PerformanceRow {
  readonly metric: string;
  readonly value: number;
  readonly threshold: number | null;
  readonly breaching: boolean;
}

export interface ModelEvaluation {
  readonly model: string;
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  readonly evaluatedAtMs: number;
  readonly events: number;
  readonly drift: readonly DriftRow[];
  readonly quality: readonly QualityRow[];
  readonly performance: readonly PerformanceRow[];
  readonly labelled: number;
  readonly coverage: number;
  readonly status: HealthStatus;
  readonly reasons: readonly string[];
  readonly features: number;
  readonly driftedFeatures: number;
  readonly rules: readonly RuleEvaluation[];
  /** '' for the whole model; `<feature or tag>=<value>` for a segment (src/monitor/segments.ts). */
  readonly segment: string;
  /** The segments evaluated beside the whole model; empty for a segment or without `segments`. */
  readonly segments: readonly SegmentEvaluation[];
  /** Estimated performance and multivariate drift (src/monitor/estimation/), when evaluated. */
  readonly estimation?: EstimationReport;
  /** The features that explain a warning or critical model, ranked (at most 5), and the evidence used. */
  readonly attribution?: Attribution;
}

/** One segment's evaluation, with the reference it was compared with. */
export interface SegmentEvaluation extends ModelEvaluation {
  /** 'segment': its own slice of the reference; 'whole': the whole reference (see referenceNote). */
  readonly reference: 'segment' | 'whole';
  readonly referenceNote?: string;
}

/** Maps grid cells onto the reference's bins and sketch cells; moments come separately. */
export function numericAggregatesFromCells(
  reference: NumericProfile,
  grid: FeatureGrid,
  cells: number,
  counts: ReadonlyMap<number, number>,
  moments: FeatureMoments | undefined,
  missing: number,
): NumericProfile {
  const g = gridOf(reference);
  const binCounts = new Array<number>(g.binEdges.length + 1).fill(0);
  const sketchCounts = new Array<number>(g.sketchEdges.length + 1).fill(0);
  // (A function outside the loop: a closure made per cell cost a fleet's cycle a second.)
  const bin = (edges: readonly number[], cell: number): number => {
    if (cell === 0) return 0;
    if (cell >= cells + 1) return binIndex(edges, grid.hi);
    // A value in cell j is in [lo + j w, lo + (j + 1) w): its bin is the number of edges below the
    // cell's start (exact unless an edge falls inside the cell; see docs/monitoring.md).
    return binIndex(edges, grid.lo + (cell - 1) / grid.inverseWidth);
  };
  for (const [cell, n] of counts) {
    if (n <= 0) continue;
    const b = bin(g.binEdges, cell);
    const k = bin(g.sketchEdges, cell);
    binCounts[b] = (binCounts[b] ?? 0) + n;
    sketchCounts[k] = (sketchCounts[k] ?? 0) + n;
  }
  const count = moments?.count ?? 0;
  const mean = count > 0 ? (moments?.sum ?? 0) / count : 0;
  const variance = count > 0 ? Math.max(0, (moments?.sumSquares ?? 0) / count - mean * mean) : 0;
  return numericProfileFromAggregates(g, {
    binCounts,
    sketchCounts,
    min: count > 0 ? (moments?.min ?? null) : null,
    max: count > 0 ? (moments?.max ?? null) : null,
    mean,
    stdDdof0: Math.sqrt(variance),
    missing,
  });
}

export interface EvaluateInput {
  readonly model: string;
  readonly settings: ResolvedModelSettings;
  readonly reference: ReferenceProfile;
  readonly grids: ReadonlyMap<string, FeatureGrid>;
  readonly cells: number;
  readonly window: { readonly startMs: number; readonly endMs: number };
  readonly evaluatedAtMs: number;
  readonly aggregates: WindowAggregates;
  /** Evaluates this segment's slice (the rules carry it); absent for the whole model. */
  readonly segment?: string;
}

export function evaluateModel(input: EvaluateInput): ModelEvaluation {
  const { model, settings, reference, aggregates, window, evaluatedAtMs } = input;
  const drift: DriftRow[] = [];
  const quality: QualityRow[] = [];
  const rules: RuleEvaluation[] = [];
  const rule = (
    r: Omit<RuleEvaluation, 'model' | 'windowStartMs' | 'windowEndMs' | 'evaluatedAtMs'>,
  ): void => {
    rules.push({
      model,
      windowStartMs: window.startMs,
      windowEndMs: window.endMs,
      evaluatedAtMs,
      ...(input.segment === undefined ? {} : { segment: input.segment }),
      ...r,
    });
  };
  const evidence = [];
  const windowProfiles = new Map<string, NumericProfile | CategoricalProfile>();
  for (const [feature, ref] of Object.entries(reference.features)) {
    const missing = aggregates.missing.get(feature) ?? 0;
    if (ref.kind === 'numeric') {
      const grid = input.grids.get(feature);
      const counts = aggregates.numericCells.get(feature) ?? new Map<number, number>();
      if (grid === undefined) continue;
      const moments = aggregates.numericMoments.get(feature);
      const current = numericAggregatesFromCells(ref.profile, grid, input.cells, counts, moments, missing);
      windowProfiles.set(feature, current);
      evidence.push(
        numericEvidenceFromProfiles(feature, ref.profile, current, settings.numericEffectThreshold),
      );
      for (const spec of settings.detectors.numeric) {
        drift.push(detectorRow(feature, 'numeric', spec.name, spec.threshold, ref.profile, current));
      }
      if (current.count > 0 && ref.profile.min !== null && ref.profile.max !== null) {
        const out = outOfRange(ref.profile, current);
        quality.push({
          feature,
          rule: 'out_of_range',
          value: out / current.count,
          threshold: settings.quality.maxOutOfRangeShare,
          breaching: out / current.count > settings.quality.maxOutOfRangeShare,
          details: { outside: out, referenceMin: ref.profile.min, referenceMax: ref.profile.max },
        });
      }
    } else {
      const counts = new Map<string, number>();
      for (const [value, c] of aggregates.categories.get(feature) ?? []) counts.set(value, c);
      const current = categoricalProfileFromCounts(ref.profile.categories, counts, missing);
      windowProfiles.set(feature, current);
      evidence.push(
        categoricalEvidenceFromProfiles(feature, ref.profile, current, settings.categoricalEffectThreshold),
      );
      for (const spec of settings.detectors.categorical) {
        drift.push(detectorRow(feature, 'categorical', spec.name, spec.threshold, ref.profile, current));
      }
      if (current.count > 0) {
        quality.push({
          feature,
          rule: 'unseen_category',
          value: current.other / current.count,
          threshold: settings.quality.maxUnseenCategoryShare,
          breaching: current.other / current.count > settings.quality.maxUnseenCategoryShare,
          details: { unseen: current.other },
        });
      }
    }
    if (aggregates.events > 0) {
      const rate = missing / aggregates.events;
      quality.push({
        feature,
        rule: 'missing_rate',
        value: rate,
        threshold: settings.quality.maxMissingRate,
        breaching: rate > settings.quality.maxMissingRate,
        details: { missing },
      });
    }
  }
  if (settings.quality.schemaChanges && aggregates.events > 0) {
    for (const feature of aggregates.newFeatures) {
      quality.push({ feature, rule: 'new_feature', value: 1, threshold: 0, breaching: true, details: {} });
    }
    for (const [feature, profile] of windowProfiles) {
      const vanished = profile.count === 0 && profile.missing === 0;
      quality.push({
        feature,
        rule: 'vanished_feature',
        value: vanished ? 1 : 0,
        threshold: 0,
        breaching: vanished,
        details: {},
      });
    }
  }

  const decision = decideModelDrift(evidence, { alpha: settings.alpha });
  for (const verdict of decision.features) {
    const kind = reference.features[verdict.feature]?.kind ?? 'numeric';
    const row = verdictRow(verdict, kind, settings, decision, {
      window: windowProfiles.get(verdict.feature)?.count ?? 0,
      reference: reference.features[verdict.feature]?.profile.count ?? 0,
    });
    drift.push(row);
    rule({
      rule: `drift:${verdict.feature}:default`,
      severity: 'warning',
      breaching: verdict.drifted,
      value: verdict.effectSize ?? null,
      threshold: row.threshold,
      summary: `${verdict.feature}: ${verdict.reason}`,
    });
  }
  for (const row of drift) {
    if (row.detector === 'default') continue;
    const specs = row.kind === 'numeric' ? settings.detectors.numeric : settings.detectors.categorical;
    if (specs.find((s) => s.name === row.detector)?.alert !== true) continue;
    rule({
      rule: `drift:${row.feature}:${row.detector}`,
      severity: 'warning',
      breaching: row.drifted,
      value: row.pValue ?? row.statistic,
      threshold: row.threshold,
      summary: `${row.feature}: ${row.detector} ${row.status}`,
    });
  }
  rule({
    rule: 'model:drift',
    severity: 'critical',
    breaching: decision.drifted,
    value: decision.driftedFeatures,
    threshold: decision.rule.minDriftedFeatures,
    summary: decision.drifted
      ? `${decision.driftedFeatures} of ${decision.evaluatedFeatures} features drifted: ${decision.features
          .filter((f) => f.drifted)
          .map((f) => f.feature)
          .join(', ')}`
      : `no feature drifted (${decision.evaluatedFeatures} evaluated)`,
    details: { driftedShare: decision.driftedShare },
  });
  for (const q of quality) {
    rule({
      rule: `quality:${q.rule}:${q.feature}`,
      severity: 'warning',
      breaching: q.breaching,
      value: q.value,
      threshold: q.threshold,
      summary: `${q.feature}: ${q.rule} ${formatNumber(q.value)} (threshold ${formatNumber(q.threshold)})`,
    });
  }

  const { performance, labelled } = performanceRows(settings, aggregates.labels);
  for (const p of performance) {
    const r = performanceRule(p, labelled);
    if (r !== undefined) rule(r);
  }

  const reasons: string[] = [];
  let status: HealthStatus = 'ok';
  const raise = (to: HealthStatus, reason: string): void => {
    reasons.push(reason);
    if (to === 'critical' || status === 'ok') status = to;
  };
  if (aggregates.events === 0) raise('warning', 'no events in the window');
  if (decision.drifted) raise('critical', rules.find((r) => r.rule === 'model:drift')?.summary ?? 'drift');
  for (const p of performance)
    if (p.breaching)
      raise('critical', `${p.metric} ${formatNumber(p.value)} breaches ${formatNumber(p.threshold ?? 0)}`);
  for (const q of quality)
    if (q.breaching) raise('warning', `quality ${q.rule} on ${q.feature}: ${formatNumber(q.value)}`);
  for (const r of drift) {
    if (r.detector !== 'default' && r.drifted) {
      const spec = (r.kind === 'numeric' ? settings.detectors.numeric : settings.detectors.categorical).find(
        (s) => s.name === r.detector,
      );
      if (spec?.alert === true) raise('warning', `${r.feature}: ${r.detector} drifted`);
    }
  }
  return {
    model,
    windowStartMs: window.startMs,
    windowEndMs: window.endMs,
    evaluatedAtMs,
    events: aggregates.events,
    drift,
    quality,
    performance,
    labelled,
    coverage: aggregates.events > 0 ? labelled / aggregates.events : 0,
    status,
    reasons,
    features: decision.evaluatedFeatures,
    driftedFeatures: decision.driftedFeatures,
    rules,
    segment: input.segment ?? '',
    segments: [],
  };
}

type ModelDecision = ReturnType<typeof decideModelDrift>;

/** The default decision rule's verdict on a feature (or an output) as a drift row. */
export function verdictRow(
  verdict: ModelDecision['features'][number],
  kind: DriftRow['kind'],
  settings: ResolvedModelSettings,
  decision: ModelDecision,
  counts: { readonly window: number; readonly reference: number },
  details: Record<string, unknown> = {},
): DriftRow {
  return {
    feature: verdict.feature,
    kind,
    detector: 'default',
    statistic: verdict.effectSize ?? 0,
    pValue: verdict.adjustedPValue ?? null,
    effect: verdict.effectSize ?? null,
    threshold: kind === 'numeric' ? settings.numericEffectThreshold : settings.categoricalEffectThreshold,
    drifted: verdict.drifted,
    status: verdict.adjustedPValue === undefined ? 'not_computable' : verdict.drifted ? 'drifted' : 'ok',
    windowCount: counts.window,
    referenceCount: counts.reference,
    details: {
      reason: verdict.reason,
      alpha: settings.alpha,
      correction: decision.rule.correction,
      ...details,
    },
  };
}

/** One per-feature detector's result as a drift row (also used for the model's outputs). */
export function detectorRow(
  feature: string,
  kind: 'numeric' | 'categorical',
  name: string,
  threshold: number | undefined,
  reference: NumericProfile | CategoricalProfile,
  current: NumericProfile | CategoricalProfile,
): DriftRow {
  const input =
    reference.kind === 'numeric' && current.kind === 'numeric'
      ? ({ kind: 'numeric_profile', reference, current } as const)
      : reference.kind === 'categorical' && current.kind === 'categorical'
        ? ({ kind: 'categorical_profile', reference, current } as const)
        : undefined;
  if (input === undefined) throw new RangeError(`profiles of ${feature} differ in kind`);
  const outcome = runDetector(name, input, threshold);
  const ok = outcome.result.status === 'ok';
  return {
    feature,
    kind,
    detector: outcome.detector,
    statistic: ok && outcome.result.status === 'ok' ? outcome.result.statistic : 0,
    pValue: outcome.result.status === 'ok' ? (outcome.result.pValue ?? null) : null,
    effect: outcome.thresholdOn === 'p_value' ? null : (outcome.value ?? null),
    threshold: outcome.threshold,
    drifted: outcome.drifted === true,
    status: outcome.drifted === undefined ? 'not_computable' : outcome.drifted ? 'drifted' : 'ok',
    windowCount: current.count,
    referenceCount: reference.count,
    details:
      outcome.result.status === 'ok'
        ? { method: outcome.result.method, ...(outcome.result.details ?? {}) }
        : { reason: outcome.result.reason },
  };
}

/** Values outside the reference's [min, max]: the outer sketch cells' counts beyond them. */
function outOfRange(reference: NumericProfile, current: NumericProfile): number {
  let out = 0;
  if (current.min !== null && reference.min !== null && current.min < reference.min)
    out += current.sketchCounts[0] ?? 0;
  if (current.max !== null && reference.max !== null && current.max > reference.max) {
    out += current.sketchCounts[current.sketchCounts.length - 1] ?? 0;
  }
  return Math.min(out, current.count);
}

function performanceRows(
  settings: ResolvedModelSettings,
  labels: LabelAggregates | undefined,
): { performance: PerformanceRow[]; labelled: number } {
  if (labels === undefined) return { performance: [], labelled: 0 };
  const values = new Map<string, number | undefined>();
  let labelled = 0;
  if (labels.kind === 'classification') {
    for (const row of labels.confusion.values()) for (const c of row.values()) labelled += c;
    if (labelled === 0) return { performance: [], labelled };
    const classes = settings.task?.type === 'classification' ? settings.task.classes : undefined;
    const report =
      classes?.length === 2 && classes[0] !== undefined && classes[1] !== undefined
        ? binaryReportFromCounts(binaryCounts(labels.confusion, classes[0]))
        : classificationReportFromConfusion(labels.confusion);
    values.set('accuracy', report.accuracy);
    values.set('macro_f1', report.macroF1);
    values.set('macro_precision', report.macroPrecision);
    values.set('macro_recall', report.macroRecall);
  } else {
    labelled = labels.sums.count;
    if (labelled === 0) return { performance: [], labelled };
    const report = regressionReportFromSums(labels.sums);
    values.set('mae', report.mae);
    values.set('rmse', report.rmse);
    values.set('mape', report.mape);
    values.set('r2', report.r2);
  }
  const performance: PerformanceRow[] = [];
  for (const [metric, value] of values) {
    if (value === undefined || !Number.isFinite(value)) continue;
    const spec = settings.performance.find((p) => p.metric === metric);
    const threshold = spec?.min ?? spec?.max ?? null;
    const breaching =
      (spec?.min !== undefined && value < spec.min) || (spec?.max !== undefined && value > spec.max);
    performance.push({ metric, value, threshold, breaching });
  }
  return { performance, labelled };
}

function binaryCounts(
  confusion: ReadonlyMap<string, ReadonlyMap<string, number>>,
  positive: string,
): { tp: number; fp: number; fn: number; tn: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (const [actual, row] of confusion) {
    for (const [predicted, c] of row) {
      if (actual === positive && predicted === positive) tp += c;
      else if (actual !== positive && predicted === positive) fp += c;
      else if (actual === positive) fn += c;
      else tn += c;
    }
  }
  return { tp, fp, fn, tn };
}

/** The rule of a realized metric with a threshold (critical), for the monitor and the estimation step. */
export function performanceRule(
  p: PerformanceRow,
  labelled: number,
): Omit<RuleEvaluation, 'model' | 'windowStartMs' | 'windowEndMs' | 'evaluatedAtMs'> | undefined {
  if (p.threshold === null) return undefined;
  return {
    rule: `performance:${p.metric}`,
    severity: 'critical',
    breaching: p.breaching,
    value: p.value,
    threshold: p.threshold,
    summary: `${p.metric} = ${formatNumber(p.value)} on ${labelled} labelled events (threshold ${formatNumber(p.threshold)})`,
  };
}

export function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(4);
}
