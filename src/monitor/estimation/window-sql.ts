import {
  PREDICTION_INPUT,
  type EncodedColumn,
  type InputBins,
  type ScoreGrid,
} from '../../../detectors/index.js';
import { sqlNumber, sqlString, sqlStringList } from '../../../kernel/sql.js';
import { windowFilter, type FeatureGrid, type WindowBounds } from '../queries.js';
import { timeSample, timeSampleCondition } from './time-sample.js';
import type { OutputSpec, ScoreSource } from './types.js';

/**
 * The SQL of the estimation step's per-window aggregates: exactly the shapes of
 * detectors/estimation/aggregates.ts (its `*FromRows` helpers are the specification; the
 * integration tests hold the two equal), each summed inside ClickHouse so that O(cells), O(bins)
 * or O(features²) numbers come back, never rows. Every constant a row needs (grid bounds, bin
 * edges, category lists, means and scales) comes from the fitted models and is bound through
 * kernel/sql.ts. A query serves many models: one `UNION ALL` branch per model (each with its own
 * constants, each pruned to its model by the primary key), run on ClickHouse 18.16 and the
 * current engine alike (no parameters; aliases on joined subqueries; the join's right side
 * reduced to one row per key and joined with ALL).
 *
 * These read the window's rows (a deterministic sample of them beyond `estimation.maxWindowRows`;
 * realized ROC AUC reads every labelled row), not the monitor's rollups: every aggregate depends on the
 * reference's fitted models (score grid, bins, PCA encoding), as the rollups' grids do, and is
 * wanted only once a model has estimators. The predicted-label counts and the score histogram do
 * not depend on the reference's fit beyond the grid, so a follow-up can roll them up.
 */

/** Full-precision float literal (an integer gets a trailing dot, so arrays stay Float64). */
export function sqlFloat(value: number): string {
  const text = sqlNumber(value);
  return /[.eE]/.test(text) ? text : `${text}.`;
}

const floats = (values: readonly number[]): string => `[${values.map(sqlFloat).join(', ')}]`;

/** Branches of one query, one per model. */
export function unionAll(branches: readonly string[]): string {
  return branches.map((b) => `SELECT * FROM (${b})`).join('\nUNION ALL\n');
}

/**
 * Where the window's rows are: a model's window, and, when the window holds more rows than the
 * step reads (`estimation.maxWindowRows`), the deterministic sample of one row in `sampleEvery`
 * by time slices (time-sample.ts).
 */
export interface WindowRows {
  readonly model: string;
  readonly window: WindowBounds;
  /** 1: every row. */
  readonly sampleEvery: number;
}

/** Several models' window rows read alike: the same bounds and the same sample. */
export interface SharedWindowRows {
  readonly models: readonly string[];
  readonly window: WindowBounds;
  /** 1: every row. */
  readonly sampleEvery: number;
}

function rowsFilter(w: WindowRows | SharedWindowRows): string {
  const sample = w.sampleEvery > 1 ? ` AND ${timeSampleCondition(timeSample(w.window, w.sampleEvery))}` : '';
  return `${windowFilter('model' in w ? w.model : w.models, w.window)}${sample}`;
}

/**
 * The window's rows (only `columns`) for a query with many expressions per row. ClickHouse 18.16
 * pays every expression's overhead per block however few rows it holds. A sample by time slices
 * fills most of each granule it reads, so its rows are summed as read; a hash sample of one row
 * in 1,000 left 8 rows a block (3.4 s for the 231 sums of 20 features' moments on 10k rows) and
 * was sorted into full blocks first (0.65 s). Sorting the slices' rows costs more than it saves:
 * 200k rows of a 10M window took 0.69 s sorted, 0.53 s as read.
 */
function sampledRows(db: string, w: WindowRows, columns: string): string {
  return `(SELECT ${columns} FROM ${db}.predictions WHERE ${rowsFilter(w)})`;
}

/**
 * Positions of numeric features within the window's layouts (src/monitor/layouts.ts): per
 * feature, the layouts (`num_layout` hashes) that have it and its 1-based position in each. A
 * value is then `num_values[transform(num_layout, hashes, positions, 0)]`: a lookup on the
 * event's layout hash instead of searching its list of names for every feature of every row
 * (which cost more than everything else the queries do).
 */
export type FeaturePositions = ReadonlyMap<
  string,
  { readonly hashes: readonly string[]; readonly positions: readonly number[] }
>;

/** The position expression of a numeric feature ('0' when no layout of the window has it). */
function position(name: string, positions: FeaturePositions): string {
  const at = positions.get(name);
  if (at === undefined || at.hashes.length === 0) return '0';
  for (const h of at.hashes)
    if (!/^[0-9]{1,20}$/.test(h)) throw new TypeError(`not a layout hash: ${JSON.stringify(h)}`);
  return `transform(num_layout, [${at.hashes.map((h) => `toUInt64(${h})`).join(', ')}], [${at.positions.map(sqlNumber).join(', ')}], 0)`;
}

/** The columns a feature expression reads. */
const FEATURE_COLUMNS = 'num_layout, num_values, cat_names, cat_values, prediction_number';

const numericPresent = (name: string, positions: FeaturePositions): string =>
  `(${position(name, positions)} > 0)`;
const numericValue = (name: string, positions: FeaturePositions): string =>
  `num_values[${position(name, positions)}]`;
const categoryPresent = (name: string): string => `has(cat_names, ${sqlString(name)})`;
const categoryValue = (name: string): string => `cat_values[indexOf(cat_names, ${sqlString(name)})]`;

/** A class's score of a row (see ScoreSource); `cls` is SQL (a literal or a column). */
function classScore(cls: string, source: ScoreSource): string {
  const fromMap = `score_values[indexOf(score_classes, ${cls})]`;
  return source.singleScore ? `if(has(score_classes, ${cls}), ${fromMap}, ifNull(score, 0.))` : fromMap;
}

/** Rows that have every tracked class's score. */
function scoredRows(source: ScoreSource): string {
  if (!source.singleScore) return `hasAll(score_classes, ${sqlStringList(source.classes)})`;
  return source.classes.map((c) => `(has(score_classes, ${sqlString(c)}) OR isNotNull(score))`).join(' AND ');
}

/** The cell of a clamped score `sc` on a score grid (score-grid.ts scoreCell). */
function scoreCell(grid: ScoreGrid): string {
  return `toInt32(least(floor((sc - ${sqlFloat(grid.lo)}) / (${sqlFloat(grid.hi)} - ${sqlFloat(grid.lo)}) * ${sqlFloat(grid.cells)}), ${sqlFloat(grid.cells - 1)}))`;
}

/** Per tracked class: the class index `k` (0-based), its name `cls` and the clamped score `sc`. */
function perClass(source: ScoreSource, grid: ScoreGrid, columns: string): string {
  const classes = sqlStringList(source.classes);
  const score = classScore(`${classes}[t]`, source);
  return `SELECT ${columns}, t - 1 AS k, ${classes}[t] AS cls, least(greatest(${score}, ${sqlFloat(grid.lo)}), ${sqlFloat(grid.hi)}) AS sc`;
}

/**
 * CBPE (CbpeWindowAggregates): per tracked class k, predicted-k or not, and score cell — the
 * count and Σ clamped score of the window's rows that have every tracked class's score.
 */
export function cbpeHistogramBranch(
  db: string,
  rows: WindowRows,
  source: ScoreSource,
  grid: ScoreGrid,
): string {
  return `SELECT ${sqlString(rows.model)} AS model, toUInt32(k) AS t, toUInt8(prediction_label = cls) AS predicted, ${scoreCell(grid)} AS cell, toUInt64(count()) AS n, toFloat64(sum(sc)) AS s
FROM (${perClass(source, grid, 'prediction_label')}
 FROM (SELECT prediction_label, score, score_classes, score_values FROM ${db}.predictions WHERE ${rowsFilter(rows)} AND ${scoredRows(source)})
 ARRAY JOIN arrayEnumerate(${sqlStringList(source.classes)}) AS t)
GROUP BY t, predicted, cell`;
}

/**
 * Realized ROC AUC (LabelledScoreAggregates): the window's predictions labelled within the
 * horizon (the latest outcome per id, as the monitor's label join), per tracked class and score
 * cell, counted as true class k or not. Both sides hold one model, so they join on `id` alone:
 * half the time of a (model, id) key on 18.16 (2.0 s against 3.8 s for 1M outcomes in 10M rows).
 */
export function labelledHistogramBranch(
  db: string,
  { model, window }: Pick<WindowRows, 'model' | 'window'>,
  horizonMs: number,
  source: ScoreSource,
  grid: ScoreGrid,
): string {
  return `SELECT ${sqlString(model)} AS model, toUInt32(k) AS t, ${scoreCell(grid)} AS cell, toUInt64(countIf(label = cls)) AS positives, toUInt64(countIf(label != cls)) AS negatives
FROM (${perClass(source, grid, 'label')}
 FROM (SELECT label, score, score_classes, score_values FROM
  (SELECT id, ts_ms, score, score_classes, score_values FROM ${db}.predictions WHERE ${windowFilter(model, window)} AND ${scoredRows(source)}) AS p
  ALL INNER JOIN
  (SELECT id, argMax(ts_ms, ingested_at) AS label_ms, argMax(label, ingested_at) AS label FROM ${db}.outcomes
   WHERE model = ${sqlString(model)} AND ts >= toDateTime(${sqlNumber(Math.floor((window.startMs - 1000) / 1000))}) GROUP BY id) AS o USING (id)
  WHERE label_ms <= ts_ms + ${sqlNumber(horizonMs)} AND label != '')
 ARRAY JOIN arrayEnumerate(${sqlStringList(source.classes)}) AS t)
GROUP BY t, cell`;
}

/** A numeric input's value and presence: a feature, or (DLE) the predicted number. */
function numericInput(name: string, positions: FeaturePositions): { value: string; present: string } {
  return name === PREDICTION_INPUT
    ? { value: 'ifNull(prediction_number, 0.)', present: 'isNotNull(prediction_number)' }
    : { value: numericValue(name, positions), present: numericPresent(name, positions) };
}

/** Bin of an input (additive-model.ts binOf): value bins, then `other` (categories), then missing. */
function binExpression(input: InputBins, positions: FeaturePositions): string {
  if (input.kind === 'numeric') {
    const { value, present } = numericInput(input.name, positions);
    // binIndex: the number of edges strictly below the value.
    const bin =
      input.edges.length === 0 ? '0' : input.edges.map((e) => `(${value} > ${sqlFloat(e)})`).join(' + ');
    return `toUInt32(if(${present}, ${bin}, ${sqlNumber(input.edges.length + 1)}))`;
  }
  const k = input.categories.length;
  const bin =
    k === 0
      ? '0'
      : `transform(${categoryValue(input.name)}, ${sqlStringList(input.categories)}, [${input.categories.map((_, i) => sqlNumber(i)).join(', ')}], ${sqlNumber(k)})`;
  return `toUInt32(if(${categoryPresent(input.name)}, ${bin}, ${sqlNumber(k + 1)}))`;
}

function binValue(input: InputBins, positions: FeaturePositions): string {
  if (input.kind === 'categorical') return '0.';
  const { value, present } = numericInput(input.name, positions);
  return `if(${present}, toFloat64(${value}), 0.)`;
}

/**
 * DLE / error model (BinnedInputAggregates): per input j (1-based) and bin b, the count and Σ
 * value (numeric inputs; 0 for categories and missing) of the window's rows.
 */
export function binnedBranch(
  db: string,
  rows: WindowRows,
  inputs: readonly InputBins[],
  positions: FeaturePositions,
): string {
  // ARRAY JOIN aliases differ from the selected ones: 18.16 refuses a duplicate alias.
  return `SELECT ${sqlString(rows.model)} AS model, toUInt32(input) AS j, toUInt32(bin) AS b, toUInt64(count()) AS n, toFloat64(sum(x)) AS s
FROM (SELECT [${inputs.map((i) => binExpression(i, positions)).join(', ')}] AS bs, [${inputs.map((i) => binValue(i, positions)).join(', ')}] AS xs
 FROM ${sampledRows(db, rows, FEATURE_COLUMNS)})
ARRAY JOIN bs AS bin, xs AS x, arrayEnumerate(bs) AS input
GROUP BY input, bin`;
}

/** A row's encoded value of one PCA column (reconstruction.ts encodeValue). */
function encoded(column: EncodedColumn, positions: FeaturePositions): string {
  if (column.kind === 'numeric') {
    return `if(${numericPresent(column.name, positions)}, (${numericValue(column.name, positions)} - ${sqlFloat(column.mean)}) / ${sqlFloat(column.scale)}, 0.)`;
  }
  const entries = Object.entries(column.frequencies);
  const value = `if(${categoryPresent(column.name)}, ${categoryValue(column.name)}, ${sqlString('__missing__')})`;
  const frequency =
    entries.length === 0
      ? '0.'
      : `transform(${value}, ${sqlStringList(entries.map(([c]) => c))}, ${floats(entries.map(([, f]) => f))}, 0.)`;
  return `(${frequency} - ${sqlFloat(column.mean)}) / ${sqlFloat(column.scale)}`;
}

/**
 * PCA reconstruction (MomentAggregates): n, Σ z and Σ z_i z_j (i <= j, packed row by row) of the
 * window's encoded rows. One aggregate per sum, gathered into arrays after aggregation: a third
 * faster than summing per-row arrays of products (sumForEach), which allocates one per row.
 */
export function momentsBranch(
  db: string,
  rows: WindowRows,
  columns: readonly EncodedColumn[],
  positions: FeaturePositions,
): string {
  const d = columns.length;
  const products: string[] = [];
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) products.push(`sum(z${i} * z${j})`);
  const sums = columns.map((_, i) => `sum(z${i})`);
  const zs = columns.map((c, i) => `${encoded(c, positions)} AS z${i}`);
  return `SELECT ${sqlString(rows.model)} AS model, toUInt64(count()) AS n, [${sums.join(', ')}] AS s, [${products.join(', ')}] AS p
FROM (SELECT ${zs.join(', ')} FROM ${sampledRows(db, rows, FEATURE_COLUMNS)})`;
}

function outputValue(spec: OutputSpec): { value: string; present: string } {
  switch (spec.source) {
    case 'number':
      return { value: 'ifNull(prediction_number, 0.)', present: 'isNotNull(prediction_number)' };
    case 'score':
      return { value: 'ifNull(score, 0.)', present: 'isNotNull(score)' };
    case 'class_score': {
      const cls = sqlString(spec.cls ?? '');
      return { value: `score_values[indexOf(score_classes, ${cls})]`, present: `has(score_classes, ${cls})` };
    }
    case 'label':
      throw new RangeError(`output ${spec.name} is categorical`);
  }
}

/**
 * The numeric outputs (predicted number, scores): per output o (1-based, in `outputs` order) and
 * cell of its grid (the monitor's numeric histogram cells: 0 below, 1..cells, cells + 1 above),
 * count, Σ, Σ², min and max. Output 0 is every row read (its count: the rows the outputs' missing
 * values are counted against).
 */
export function outputsBranch(
  db: string,
  rows: WindowRows,
  numeric: readonly { readonly spec: OutputSpec; readonly grid: FeatureGrid }[],
  cells: number,
): string {
  // Slot 0 counts the rows. Its "present" reads a column: on an 18.16 Distributed table a
  // subquery of constants only loses its WHERE's model condition ("Not found column
  // equals(model, …) in block"), tested on the cluster.
  const outputs = [{ lo: 0, inverseWidth: 0, value: '0.', present: 'notEmpty(model)' }].concat(
    numeric.map((o) => ({ lo: o.grid.lo, inverseWidth: o.grid.inverseWidth, ...outputValue(o.spec) })),
  );
  const slots = outputs.map((_, i) => sqlNumber(i)).join(', ');
  const lo = `transform(slot, [${slots}], ${floats(outputs.map((o) => o.lo))}, 0.)`;
  const iw = `transform(slot, [${slots}], ${floats(outputs.map((o) => o.inverseWidth))}, 0.)`;
  const values = outputs;
  return `SELECT ${sqlString(rows.model)} AS model, toUInt32(slot) AS o, toInt32(greatest(-1., least(${sqlFloat(cells)}, floor((v - ${lo}) * ${iw}))) + 1.) AS cell,
 toUInt64(count()) AS n, toFloat64(sum(v)) AS s, toFloat64(sum(v * v)) AS sq, toFloat64(min(v)) AS mn, toFloat64(max(v)) AS mx
FROM (SELECT [${slots}] AS os, [${values.map((v) => `toFloat64(${v.value})`).join(', ')}] AS vs, [${values.map((v) => `toUInt8(${v.present})`).join(', ')}] AS ps
 FROM ${db}.predictions WHERE ${rowsFilter(rows)})
ARRAY JOIN os AS slot, vs AS v, ps AS p
WHERE p = 1
GROUP BY slot, cell`;
}

/**
 * Predicted labels counted per model (the most frequent 1000 of each), for every model of `rows`
 * in one scan: one branch per model cost ~2 ms each in ClickHouse however few its rows, seconds
 * for a fleet.
 */
export function predictedLabelsBranch(db: string, rows: SharedWindowRows): string {
  return `SELECT model, prediction_label AS v, toUInt64(count()) AS c
FROM ${db}.predictions WHERE ${rowsFilter(rows)} AND prediction_label != ''
GROUP BY model, v ORDER BY model, c DESC, v LIMIT 1000 BY model`;
}

/**
 * The rows read per model, for models without numeric outputs (the outputs branch's slot 0 alone,
 * in the same columns), every model of `rows` in one scan.
 */
export function rowCountsBranch(db: string, rows: SharedWindowRows): string {
  return `SELECT model, toUInt32(0) AS o, toInt32(1) AS cell, toUInt64(count()) AS n, 0. AS s, 0. AS sq, 0. AS mn, 0. AS mx
FROM ${db}.predictions WHERE ${rowsFilter(rows)} GROUP BY model`;
}

/** The window's numeric layouts per model (reads only the UInt64 `num_layout`). */
export function windowLayoutsQuery(db: string, rows: SharedWindowRows): string {
  return `SELECT model, toString(num_layout) AS layout FROM ${db}.predictions WHERE ${rowsFilter(rows)} GROUP BY model, num_layout`;
}
