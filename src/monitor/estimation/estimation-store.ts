import { sqlIdentifier, sqlNumber, sqlString } from '../../../kernel/sql.js';
import { insertObjects, type Store } from '../../../kernel/store.js';
import { modelsFilter, type WindowBounds } from '../queries.js';
import {
  estimationRow,
  referenceBoundQuery,
  referenceRowsQuery,
  type EstimationRow,
  type ReferenceRowJson,
} from './reference-rows.js';
import type { EstimatorName, FittedEstimators } from './types.js';

/**
 * The estimation step's adapter over the storage port: the reference's rows for a fit, the
 * fitted estimators (`reference_estimators`), and the history the API serves. The per-window
 * results are written with the rest of an evaluation (monitor-store.ts, result-rows.ts).
 */
export class EstimationStore {
  private readonly db: string;

  constructor(private readonly store: Store) {
    this.db = sqlIdentifier(store.database);
  }

  /**
   * The first `limit` rows of a model in `range`, with their labels (referenceRowsQuery).
   * `rowsInRange`: about how many rows the range holds, when the caller knows (a reference's
   * sample span). At most `limit` of them, the bound would not save its own query, one per model
   * and fit: a fleet of small models fits them all in one cycle.
   */
  async referenceRows(
    model: string,
    limit: number,
    range: WindowBounds | undefined,
    rowsInRange?: number,
  ): Promise<EstimationRow[]> {
    if (limit < 1) return [];
    const boundS =
      rowsInRange !== undefined && rowsInRange <= limit
        ? undefined
        : await this.referenceBound(model, limit, range);
    const read = (bound: number | undefined): Promise<ReferenceRowJson[]> =>
      this.store.select<ReferenceRowJson>(
        'estimation reference rows',
        referenceRowsQuery(this.db, model, limit, range, bound),
      );
    let rows = await read(boundS);
    // Short of `limit`: stored copies of replayed rows counted towards the bound; read them all.
    if (boundS !== undefined && rows.length < limit) rows = await read(undefined);
    return rows.map(estimationRow);
  }

  /** referenceBoundQuery's second, or none when the model has no more than `limit` rows there. */
  private async referenceBound(
    model: string,
    limit: number,
    range: WindowBounds | undefined,
  ): Promise<number | undefined> {
    const [found] = await this.store.select<{ bound: number | string }>(
      'estimation reference bound',
      referenceBoundQuery(this.db, model, limit, range),
    );
    return found === undefined ? undefined : Number(found.bound);
  }

  /** The newest fit of each (model, reference) asked for. */
  async loadEstimators(
    references: ReadonlyArray<{ readonly model: string; readonly referenceCreatedAtMs: number }>,
  ): Promise<Map<string, FittedEstimators>> {
    if (references.length === 0) return new Map();
    const ids = [...new Set(references.map((r) => r.referenceCreatedAtMs))];
    const rows = await this.store.select<{ model: string; ref: string; estimators: string }>(
      'load estimators',
      `SELECT model, toString(reference_created_at_ms) AS ref, argMax(estimators, fitted_at_ms) AS estimators FROM ${this.db}.reference_estimators
 WHERE ${modelsFilter(references.map((r) => r.model))} AND reference_created_at_ms IN (${ids.map(sqlNumber).join(', ')})
 GROUP BY model, reference_created_at_ms`,
    );
    const wanted = new Map(references.map((r) => [r.model, r.referenceCreatedAtMs]));
    const out = new Map<string, FittedEstimators>();
    for (const row of rows) {
      if (wanted.get(row.model) !== Number(row.ref)) continue;
      out.set(row.model, JSON.parse(row.estimators) as FittedEstimators);
    }
    return out;
  }

  async saveEstimators(model: string, estimators: FittedEstimators): Promise<void> {
    await insertObjects(this.store, 'reference_estimators', [
      {
        model,
        reference_created_at_ms: estimators.referenceCreatedAtMs,
        fitted_at_ms: estimators.fittedAtMs,
        status: JSON.stringify(estimatorStatus(estimators)),
        estimators: JSON.stringify(estimators),
      },
    ]);
  }

  /** The newest fit's status per estimator (fitted, or why not), and when it was made. */
  async latestStatus(
    model: string,
  ): Promise<
    { fittedAtMs: number; referenceCreatedAtMs: number; status: Record<string, unknown> } | undefined
  > {
    const [row] = await this.store.select<{ fitted: string; ref: string; status: string }>(
      'estimator status',
      `SELECT toString(max(fitted_at_ms)) AS fitted, toString(argMax(reference_created_at_ms, fitted_at_ms)) AS ref, argMax(status, fitted_at_ms) AS status
 FROM ${this.db}.reference_estimators WHERE model = ${sqlString(model)} GROUP BY model`,
    );
    if (row === undefined) return undefined;
    return {
      fittedAtMs: Number(row.fitted),
      referenceCreatedAtMs: Number(row.ref),
      status: JSON.parse(row.status) as Record<string, unknown>,
    };
  }

  /** Estimated and realized performance per evaluation window, newest first. */
  async performanceHistory(q: {
    model: string;
    fromMs: number;
    toMs: number;
    metric?: string;
    limit: number;
    offset: number;
  }): Promise<PerformanceHistoryRow[]> {
    const metric = q.metric === undefined ? '' : ` AND metric = ${sqlString(q.metric)}`;
    return this.store.select<PerformanceHistoryRow>(
      'performance history',
      `SELECT toUInt64(evaluated_at) * 1000 AS evaluated_at_ms, toUInt64(window_start) * 1000 AS window_start_ms, toUInt64(window_end) * 1000 AS window_end_ms,
 metric, method, estimated, estimated_lower, estimated_upper, reference_value, reference_lower, reference_upper, realized, labelled, total, coverage, threshold, breaching
 FROM ${this.db}.estimation_results WHERE model = ${sqlString(q.model)} AND segment = '' AND evaluated_at >= toDateTime(${sqlNumber(Math.floor(q.fromMs / 1000))}) AND evaluated_at <= toDateTime(${sqlNumber(Math.floor(q.toMs / 1000))})${metric}
 ORDER BY evaluated_at DESC, metric LIMIT ${sqlNumber(q.offset)}, ${sqlNumber(q.limit)}`,
    );
  }

  /** The ranked features of the model's latest evaluation (none when it was ok). */
  async latestAttribution(model: string): Promise<AttributionRow[]> {
    return this.store.select<AttributionRow>(
      'latest attribution',
      `SELECT rank, feature, score, effect, reconstruction, performance, basis FROM ${this.db}.feature_attribution
 WHERE model = ${sqlString(model)} AND evaluated_at = (SELECT max(evaluated_at) FROM ${this.db}.model_health WHERE model = ${sqlString(model)})
 ORDER BY rank`,
    );
  }
}

export interface PerformanceHistoryRow {
  evaluated_at_ms: string;
  window_start_ms: string;
  window_end_ms: string;
  metric: string;
  method: string;
  estimated: number | null;
  estimated_lower: number | null;
  estimated_upper: number | null;
  reference_value: number | null;
  reference_lower: number | null;
  reference_upper: number | null;
  realized: number | null;
  labelled: string;
  total: string;
  coverage: number;
  threshold: number | null;
  breaching: number;
}

export interface AttributionRow {
  rank: number;
  feature: string;
  score: number;
  effect: number | null;
  reconstruction: number | null;
  performance: number | null;
  basis: string;
}

/** Per estimator: "fitted", or the reason it is not. */
export function estimatorStatus(e: FittedEstimators): Record<string, unknown> {
  const fitted: Partial<Record<EstimatorName, boolean>> = {
    cbpe: e.cbpe !== undefined,
    dle: e.dle !== undefined,
    error_model: e.errorModel !== undefined,
    reconstruction: e.reconstruction !== undefined,
    outputs: e.outputs.length > 0,
  };
  const estimators: Record<string, string> = {};
  for (const [name, ok] of Object.entries(fitted)) if (ok) estimators[name] = 'fitted';
  for (const [name, reason] of Object.entries(e.unavailable)) estimators[name] = reason;
  return {
    rows: e.rows,
    labelledRows: e.labelledRows,
    task: e.task ?? null,
    waitingForLabels: e.waitingForLabels,
    estimators,
  };
}
