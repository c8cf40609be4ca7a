import {
  confusionMetrics,
  estimateCbpe,
  estimateDle,
  realizedRocAucFromAggregates,
  type BinnedInputAggregates,
  type CbpeModel,
  type CbpeWindowAggregates,
  type DleEstimate,
  type DleModel,
  type LabelledScoreAggregates,
  type OneVsRestCounts,
} from '../../../detectors/index.js';
import type { LabelAggregates } from '../evaluate.js';
import type { ResolvedModelSettings } from '../options.js';
import type { EstimatedMetricRow } from './types.js';

/**
 * Estimated metrics of one window beside their realized values (pure): CBPE for classifiers
 * with scores, DLE for regression, each with its band (detectors/estimation/band.ts) and the
 * realized metric on the window's labelled rows once outcomes arrived (null before). Realized
 * values use the estimators' own definitions, so the two columns are comparable: binary
 * precision, recall and F1 are those of the positive class (the first configured class), not the
 * macro means of `performance_results`.
 */

/** Higher is better for the CBPE metrics; lower for DLE's losses. */
const LOSSES = new Set(['mae', 'rmse']);

type Threshold = ResolvedModelSettings['estimation']['performance'][number];

/** Whether an estimate breaches: below its reference band (losses: above), or across its threshold. */
function breaching(
  metric: string,
  estimated: number | undefined,
  referenceLower: number | undefined,
  referenceUpper: number | undefined,
  threshold: Threshold | undefined,
): { band: boolean; threshold: boolean } {
  if (estimated === undefined) return { band: false, threshold: false };
  const band = LOSSES.has(metric)
    ? referenceUpper !== undefined && estimated > referenceUpper
    : referenceLower !== undefined && estimated < referenceLower;
  const crossed =
    (threshold?.min !== undefined && estimated < threshold.min) ||
    (threshold?.max !== undefined && estimated > threshold.max);
  return { band, threshold: crossed };
}

const orNull = (v: number | undefined): number | null => (v === undefined || !Number.isFinite(v) ? null : v);

/** An estimated metric with its band and its reference's, as CBPE and DLE both report one. */
interface Estimated {
  readonly metric: string;
  readonly estimated?: number;
  readonly estimatedLower?: number;
  readonly estimatedUpper?: number;
  readonly referenceValue?: number;
  readonly referenceLower?: number;
  readonly referenceUpper?: number;
}

/** One stored row: the estimate beside its realized value, judged against band and threshold. */
function metricRow(
  method: EstimatedMetricRow['method'],
  m: Estimated,
  realized: number | undefined,
  settings: ResolvedModelSettings,
  details: Record<string, unknown>,
): EstimatedMetricRow {
  const threshold = settings.estimation.performance.find((t) => t.metric === m.metric);
  const breach = breaching(m.metric, m.estimated, m.referenceLower, m.referenceUpper, threshold);
  return {
    metric: m.metric,
    method,
    estimated: orNull(m.estimated),
    estimatedLower: orNull(m.estimatedLower),
    estimatedUpper: orNull(m.estimatedUpper),
    referenceValue: orNull(m.referenceValue),
    referenceLower: orNull(m.referenceLower),
    referenceUpper: orNull(m.referenceUpper),
    realized: orNull(realized),
    threshold: threshold === undefined ? null : (threshold.min ?? threshold.max ?? null),
    breaching: breach.band || breach.threshold,
    details: { outsideBand: breach.band, crossedThreshold: breach.threshold, ...details },
  };
}

/** Realized one-vs-rest counts of the tracked classes from the window's confusion (actual → predicted → n). */
function realizedCounts(
  model: CbpeModel,
  confusion: ReadonlyMap<string, ReadonlyMap<string, number>>,
): { counts: OneVsRestCounts[]; n: number } {
  let n = 0;
  for (const row of confusion.values()) for (const c of row.values()) n += c;
  const counts = model.trackedClasses.map((k) => {
    const cls = model.classes[k] as string;
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const [actual, row] of confusion) {
      for (const [predicted, c] of row) {
        if (actual === cls && predicted === cls) tp += c;
        else if (predicted === cls) fp += c;
        else if (actual === cls) fn += c;
      }
    }
    return { tp, fp, fn, tn: n - tp - fp - fn };
  });
  return { counts, n };
}

export interface CbpeRowsResult {
  readonly rows: EstimatedMetricRow[];
  /** Realized ROC AUC of the labelled window rows (undefined: no labels, or one class only). */
  readonly realizedRocAuc: number | undefined;
  readonly scoredRows: number;
}

export function cbpeRows(
  model: CbpeModel,
  window: CbpeWindowAggregates,
  labelled: LabelledScoreAggregates | undefined,
  labels: LabelAggregates | undefined,
  settings: ResolvedModelSettings,
): CbpeRowsResult {
  const auc = labelled === undefined ? undefined : realizedRocAucFromAggregates(model, labelled);
  if (window.count === 0) return { rows: [], realizedRocAuc: auc?.auc, scoredRows: 0 };
  const estimate = estimateCbpe(model, window);
  const realized =
    labels?.kind === 'classification'
      ? (() => {
          const { counts, n } = realizedCounts(model, labels.confusion);
          return n > 0 ? confusionMetrics(counts, n, model.binary) : undefined;
        })()
      : undefined;
  const rows = estimate.metrics.map((m) =>
    metricRow('cbpe', m, m.metric === 'roc_auc' ? auc?.auc : realized?.[m.metric], settings, {
      calibrationStd: m.calibrationStd,
      gridErrorShare: estimate.gridErrorShare,
      ...(m.metric === 'roc_auc' ? { aucTieBound: estimate.aucTieBound } : {}),
      scoredRows: window.count,
    }),
  );
  return { rows, realizedRocAuc: auc?.auc, scoredRows: window.count };
}

export function dleRows(
  model: DleModel,
  window: BinnedInputAggregates,
  labels: LabelAggregates | undefined,
  settings: ResolvedModelSettings,
): { rows: EstimatedMetricRow[]; estimate: DleEstimate | undefined } {
  if (window.count === 0) return { rows: [], estimate: undefined };
  const estimate = estimateDle(model, window);
  const sums = labels?.kind === 'regression' && labels.sums.count > 0 ? labels.sums : undefined;
  const realized = {
    mae: sums === undefined ? undefined : sums.sumAbsError / sums.count,
    rmse: sums === undefined ? undefined : Math.sqrt(sums.sumSquaredError / sums.count),
  };
  const rows = estimate.metrics.map((m) =>
    metricRow('dle', m, realized[m.metric], settings, { modelStd: m.modelStd }),
  );
  return { rows, estimate };
}
