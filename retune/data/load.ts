import type { Store } from '../../kernel/store.js';
import { sqlDateTime, sqlIdentifier, sqlNumber, sqlString } from '../../kernel/sql.js';

/** One prediction joined to its outcome, as read from ClickHouse. */
export interface LabelledEvent {
  readonly id: string;
  readonly tsMs: number;
  readonly numNames: readonly string[];
  readonly numValues: readonly number[];
  readonly catNames: readonly string[];
  readonly catValues: readonly string[];
  readonly missingNames: readonly string[];
  readonly label: string;
  readonly labelNumber: number | null;
}

export interface LoadLabelledOptions {
  /** Predictions with `ts` in [sinceMs, untilMs). */
  readonly sinceMs: number;
  readonly untilMs: number;
  /** The newest rows kept when there are more. */
  readonly maxRows: number;
}

interface Row {
  id: string;
  ts_ms: string | number;
  num_names: string[];
  num_values: number[];
  cat_names: string[];
  cat_values: string[];
  missing_names: string[];
  o_label: string;
  o_label_number: number | null;
}

/**
 * The SQL (ClickHouse 18.16 subset: no query parameters, explicit join strictness, no CTEs).
 * Predictions are read FINAL so replayed copies collapse. An outcome can be corrected by a later
 * one for the same id, and FINAL collapses only within a partition (day), so outcomes are reduced
 * to the latest received per id before the INNER join (an inner join: a left one would fill
 * unlabelled rows with '' and 0).
 */
export function labelledEventsSql(database: string, model: string, options: LoadLabelledOptions): string {
  const db = sqlIdentifier(database);
  const since = sqlDateTime(options.sinceMs);
  const until = sqlDateTime(options.untilMs);
  return `SELECT id, ts_ms, num_names, num_values, cat_names, cat_values, missing_names, o_label, o_label_number
FROM (
  SELECT id, ts_ms, num_names, num_values, cat_names, cat_values, missing_names
  FROM ${db}.predictions FINAL
  WHERE model = ${sqlString(model)} AND ts >= ${since} AND ts < ${until}
) AS p ALL INNER JOIN (
  SELECT id, argMax(label, ingested_at) AS o_label, argMax(label_number, ingested_at) AS o_label_number
  FROM ${db}.outcomes
  WHERE model = ${sqlString(model)} AND ts >= ${since}
  GROUP BY id
) AS o USING id
ORDER BY ts_ms DESC, id DESC
LIMIT ${sqlNumber(options.maxRows)}`;
}

/** Labelled events, oldest first. */
export async function loadLabelledEvents(
  store: Store,
  model: string,
  options: LoadLabelledOptions,
): Promise<LabelledEvent[]> {
  const rows = await store.select<Row>(
    'loading labelled events for retune',
    labelledEventsSql(store.database, model, options),
  );
  return rows.reverse().map((r) => ({
    id: r.id,
    tsMs: Number(r.ts_ms),
    numNames: r.num_names,
    numValues: r.num_values.map(Number),
    catNames: r.cat_names,
    catValues: r.cat_values,
    missingNames: r.missing_names,
    label: r.o_label,
    labelNumber: r.o_label_number === null ? null : Number(r.o_label_number),
  }));
}

/** The newest stored reference profile JSON of a model, or undefined when none is stored. */
export async function loadReferenceProfile(store: Store, model: string): Promise<unknown> {
  const rows = await store.select<{ profile: string }>(
    'loading the reference profile for retune',
    `SELECT profile FROM ${sqlIdentifier(store.database)}.reference_profiles FINAL WHERE model = ${sqlString(model)} ORDER BY created_at DESC LIMIT 1`,
  );
  const first = rows[0];
  return first === undefined ? undefined : (JSON.parse(first.profile) as unknown);
}

/**
 * How many predictions of `model` in [sinceMs, untilMs) have an outcome: what a study waiting for
 * post-drift labels counts. The same join as `labelledEventsSql`, so the count is what the
 * preparation will read (before rows whose label does not fit the task are dropped).
 */
export function labelledCountSql(
  database: string,
  model: string,
  window: { sinceMs: number; untilMs: number },
): string {
  const db = sqlIdentifier(database);
  const since = sqlDateTime(window.sinceMs);
  const until = sqlDateTime(window.untilMs);
  return `SELECT count() AS n
FROM (
  SELECT id FROM ${db}.predictions FINAL
  WHERE model = ${sqlString(model)} AND ts >= ${since} AND ts < ${until}
) AS p ALL INNER JOIN (
  SELECT id FROM ${db}.outcomes
  WHERE model = ${sqlString(model)} AND ts >= ${since}
  GROUP BY id
) AS o USING id`;
}

export async function countLabelledEvents(
  store: Store,
  model: string,
  window: { sinceMs: number; untilMs: number },
): Promise<number> {
  const rows = await store.select<{ n: string | number }>(
    'counting labelled events for retune',
    labelledCountSql(store.database, model, window),
  );
  return Number(rows[0]?.n ?? 0);
}
