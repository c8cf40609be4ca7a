import { sqlNumber, sqlString } from '../../../kernel/sql.js';
import { windowFilter, type WindowBounds } from '../queries.js';

/**
 * The reference's rows as the estimators are fitted on them: features, the model's outputs
 * (predicted label or number, scores) and, where an outcome arrived, the label. Pulled once per
 * reference (again while labels are awaited), never per window.
 */
export interface EstimationRow {
  readonly id: string;
  readonly tsMs: number;
  readonly features: Readonly<Record<string, number | string | null>>;
  /** '' when the event carried no label prediction. */
  readonly predictionLabel: string;
  readonly predictionNumber: number | null;
  /** The single number score, when the event's `scores` was a number. */
  readonly score: number | null;
  /** Class → score, when the event's `scores` was a map. */
  readonly scores: Readonly<Record<string, number>>;
  /** The latest outcome's label (null: no outcome yet). */
  readonly label: string | null;
  readonly labelNumber: number | null;
}

/**
 * The first `limit` rows of a model in `range` (all of its events when absent), oldest first,
 * with the latest outcome per prediction id (LEFT join: the right side reduced to one row per key
 * and joined with ALL, which means the same on 18.16 and current ClickHouse). Predictions are read
 * with FINAL, as every reference sample is.
 */
export function referenceRowsQuery(
  db: string,
  model: string,
  limit: number,
  range: WindowBounds | undefined,
): string {
  const where = range === undefined ? `model = ${sqlString(model)}` : windowFilter(model, range);
  return `SELECT id, ts_ms, num_names, num_values, cat_names, cat_values, missing_names, prediction_label, prediction_number, score, score_classes, score_values, label, label_number, labelled FROM
(SELECT model, id, ts_ms, num_names, num_values, cat_names, cat_values, missing_names, prediction_label, prediction_number, score, score_classes, score_values
 FROM ${db}.predictions FINAL WHERE ${where} ORDER BY ts_ms, id LIMIT ${sqlNumber(limit)}) AS p
ALL LEFT JOIN
(SELECT model, id, argMax(label, ingested_at) AS label, argMax(label_number, ingested_at) AS label_number, toUInt8(1) AS labelled
 FROM ${db}.outcomes WHERE model = ${sqlString(model)} GROUP BY model, id) AS o USING (model, id)
ORDER BY ts_ms, id`;
}

export interface ReferenceRowJson {
  id: string;
  ts_ms: string;
  num_names: string[];
  num_values: number[];
  cat_names: string[];
  cat_values: string[];
  missing_names: string[];
  prediction_label: string;
  prediction_number: number | null;
  score: number | null;
  score_classes: string[];
  score_values: number[];
  label: string;
  label_number: number | null;
  labelled: number | string;
}

export function estimationRow(r: ReferenceRowJson): EstimationRow {
  const features: Record<string, number | string | null> = {};
  r.num_names.forEach((n, i) => (features[n] = r.num_values[i] ?? null));
  r.cat_names.forEach((n, i) => (features[n] = r.cat_values[i] ?? null));
  for (const n of r.missing_names) features[n] = null;
  const scores: Record<string, number> = {};
  r.score_classes.forEach((c, i) => {
    const v = r.score_values[i];
    if (v !== undefined) scores[c] = v;
  });
  const labelled = Number(r.labelled) === 1;
  return {
    id: r.id,
    tsMs: Number(r.ts_ms),
    features,
    predictionLabel: r.prediction_label,
    predictionNumber: r.prediction_number,
    score: r.score,
    scores,
    label: labelled && r.label !== '' ? r.label : null,
    labelNumber: labelled ? r.label_number : null,
  };
}
