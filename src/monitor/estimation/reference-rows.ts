import { sqlDateTime, sqlNumber, sqlString } from '../../../kernel/sql.js';
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
 * The `ts` (Unix seconds) of the model's `limit`-th row in `range` (all of its events when absent),
 * counting stored copies as rows; none when there are fewer. Only `ts` is read: no FINAL, no other
 * column.
 */
export function referenceBoundQuery(
  db: string,
  model: string,
  limit: number,
  range: WindowBounds | undefined,
): string {
  return `SELECT toUnixTimestamp(ts) AS bound FROM ${db}.predictions WHERE ${rowsWhere(model, range)} ORDER BY ts LIMIT 1 OFFSET ${sqlNumber(limit - 1)}`;
}

/**
 * The first `limit` rows of a model in `range` (all of its events when absent), oldest first,
 * with the latest outcome per prediction id (LEFT join on `id`, both sides being one model's: the
 * right side reduced to one row per key and joined with ALL, which means the same on 18.16 and
 * current ClickHouse). Predictions are read with FINAL, as every reference sample is.
 *
 * `boundS` (referenceBoundQuery) keeps both sides to the rows up to that second. Without it,
 * ClickHouse 18.16 (no reading in key order) reads every column of every row the model ever had
 * with FINAL to keep the first `limit`: 15 s at 10M rows, against 1 s bounded. The bound is exact
 * when the bounded read returns `limit` rows: `ts` is `ts_ms` in whole seconds, so no row after it
 * sorts before one within it. Fewer rows mean stored copies (replays not merged yet) filled the
 * count; the caller then reads again without a bound. Outcomes are read for the ids up to the
 * bound only, whatever the length of the model's label history.
 */
export function referenceRowsQuery(
  db: string,
  model: string,
  limit: number,
  range: WindowBounds | undefined,
  boundS?: number,
): string {
  const where = `${rowsWhere(model, range)}${boundS === undefined ? '' : ` AND ts <= ${sqlDateTime(boundS * 1000)}`}`;
  return `SELECT id, ts_ms, num_names, num_values, cat_names, cat_values, missing_names, prediction_label, prediction_number, score, score_classes, score_values, label, label_number, labelled FROM
(SELECT id, ts_ms, num_names, num_values, cat_names, cat_values, missing_names, prediction_label, prediction_number, score, score_classes, score_values
 FROM ${db}.predictions FINAL WHERE ${where} ORDER BY ts_ms, id LIMIT ${sqlNumber(limit)}) AS p
ALL LEFT JOIN
(SELECT id, argMax(label, ingested_at) AS label, argMax(label_number, ingested_at) AS label_number, toUInt8(1) AS labelled
 FROM ${db}.outcomes WHERE model = ${sqlString(model)} AND id IN (SELECT id FROM ${db}.predictions WHERE ${where}) GROUP BY id) AS o USING (id)
ORDER BY ts_ms, id`;
}

function rowsWhere(model: string, range: WindowBounds | undefined): string {
  return range === undefined ? `model = ${sqlString(model)}` : windowFilter(model, range);
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
