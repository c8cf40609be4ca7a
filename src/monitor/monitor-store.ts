import { sqlIdentifier, sqlNumber, sqlString } from '../../kernel/sql.js';
import { insertObjects, type Store } from '../../kernel/store.js';
import type { ModelEvaluation, SegmentEvaluation } from './evaluate.js';
import {
  firstEventsQuery,
  lastEventsStartQuery,
  modelsFilter,
  seenModelsQuery,
  storedCountsQuery,
  tagCountsQuery,
  type WindowBounds,
} from './queries.js';
import type { ReferenceProfile, SampleRow } from './reference.js';
import { attributionRows, estimationResultRows } from './estimation/result-rows.js';

/**
 * The monitor's adapter over the storage port for everything but window aggregates (those are
 * read by window-reader.ts from the rollups and by row-window-reader.ts from the rows): models
 * seen, references, samples, tasks, and the results written back.
 */
export class MonitorStore {
  private readonly db: string;
  constructor(private readonly store: Store) {
    this.db = sqlIdentifier(store.database);
  }

  private rows<T>(operation: string, query: string): Promise<T[]> {
    return this.store.select<T>(operation, query);
  }

  async seenModels(sinceMs: number): Promise<Array<{ model: string; events: number; lastMs: number }>> {
    const rows = await this.rows<{ model: string; events: string; last_ms: string }>(
      'list models',
      seenModelsQuery(this.db, sinceMs),
    );
    return rows.map((r) => ({ model: r.model, events: Number(r.events), lastMs: Number(r.last_ms) }));
  }

  /**
   * Predictions and outcomes stored per model, in all and since each model's window start
   * (`since`; models not in it: `defaultSinceMs`).
   */
  async storedCounts(
    since: ReadonlyMap<string, number>,
    defaultSinceMs: number,
  ): Promise<Map<string, StoredCounts>> {
    const tables = ['predictions', 'outcomes'] as const;
    const [predictions, outcomes] = await Promise.all(
      tables.map(async (table) => {
        const rows = await this.rows<{ model: string; total: string; recent: string }>(
          `stored ${table}`,
          storedCountsQuery(this.db, table, since, defaultSinceMs),
        );
        return new Map(rows.map((r) => [r.model, { total: Number(r.total), window: Number(r.recent) }]));
      }),
    );
    const none = { total: 0, window: 0 };
    const counts = new Map<string, StoredCounts>();
    for (const model of new Set([...(predictions?.keys() ?? []), ...(outcomes?.keys() ?? [])])) {
      counts.set(model, {
        predictions: predictions?.get(model) ?? none,
        outcomes: outcomes?.get(model) ?? none,
      });
    }
    return counts;
  }

  async lastEventsWindow(model: string, count: number, endMs: number): Promise<WindowBounds | undefined> {
    const [row] = await this.rows<{ start_ms: string; events: string }>(
      'event window',
      lastEventsStartQuery(this.db, model, count, endMs),
    );
    if (row === undefined || Number(row.events) === 0) return undefined;
    return { startMs: Number(row.start_ms), endMs };
  }

  async sample(model: string, count: number, range?: WindowBounds): Promise<SampleRow[]> {
    const rows = await this.rows<SampleRowJson>(
      'reference sample',
      firstEventsQuery(this.db, model, count, range),
    );
    return rows.map(sampleRow);
  }

  /** Each model's first `count` events (first-N references of many models in one query). */
  async firstEvents(models: readonly string[], count: number): Promise<Map<string, SampleRow[]>> {
    const samples = new Map<string, SampleRow[]>(models.map((m) => [m, []]));
    if (models.length === 0) return samples;
    const rows = await this.rows<SampleRowJson & { model: string }>(
      'reference samples',
      firstEventsQuery(this.db, models, count),
    );
    for (const row of rows) samples.get(row.model)?.push(sampleRow(row));
    return samples;
  }

  /** Window events per value of a tag column (segments by tag), most frequent first. */
  async tagCounts(model: string, window: WindowBounds, column: string): Promise<Map<string, number>> {
    const rows = await this.rows<{ v: string; c: string }>(
      'segment values',
      tagCountsQuery(this.db, model, window, column),
    );
    return new Map(rows.map((r) => [r.v, Number(r.c)]));
  }

  async loadReference(
    model: string,
  ): Promise<{ profile: ReferenceProfile; createdAtMs: number } | undefined> {
    return (await this.loadReferences([model])).get(model);
  }

  /** Each model's newest stored reference (models without one are absent). */
  async loadReferences(
    models: readonly string[],
  ): Promise<Map<string, { profile: ReferenceProfile; createdAtMs: number }>> {
    if (models.length === 0) return new Map();
    const rows = await this.rows<{ model: string; profile: string; created: string }>(
      'load references',
      `SELECT model, argMax(profile, created_at) AS profile, toUInt64(max(created_at)) AS created FROM ${this.db}.reference_profiles WHERE ${modelsFilter(models)} GROUP BY model`,
    );
    return new Map(
      rows.map((row) => [
        row.model,
        { profile: JSON.parse(row.profile) as ReferenceProfile, createdAtMs: Number(row.created) * 1000 },
      ]),
    );
  }

  /** When each model's newest stored reference was made (models without one are absent). */
  async referencesCreatedAt(models: readonly string[]): Promise<Map<string, number>> {
    if (models.length === 0) return new Map();
    const rows = await this.rows<{ model: string; created: string }>(
      'reference times',
      `SELECT model, toUInt64(max(created_at)) AS created FROM ${this.db}.reference_profiles WHERE ${modelsFilter(models)} GROUP BY model`,
    );
    return new Map(rows.map((r) => [r.model, Number(r.created) * 1000]));
  }

  async saveReference(model: string, profile: ReferenceProfile, nowMs: number): Promise<void> {
    await this.saveReferences([{ model, profile }], nowMs);
  }

  async saveReferences(
    references: ReadonlyArray<{ model: string; profile: ReferenceProfile }>,
    nowMs: number,
  ): Promise<void> {
    await this.insert(
      'reference_profiles',
      references.map(({ model, profile }) => ({
        model,
        created_at: Math.floor(nowMs / 1000),
        source: profile.source,
        rows: profile.rows,
        profile: JSON.stringify(profile),
      })),
    );
  }

  /**
   * Which kind of prediction each model's recent events carry (for models without a configured
   * task): classification when the predictions are labels, regression when they are numbers (a
   * numeric prediction is also stored as its text in prediction_label, so labels are those without
   * a number). Models with no events since `sinceMs` are absent.
   */
  async inferTasks(
    models: readonly string[],
    sinceMs: number,
  ): Promise<Map<string, 'classification' | 'regression'>> {
    if (models.length === 0) return new Map();
    const rows = await this.rows<{ model: string; labels: string; numbers: string }>(
      'infer task',
      `SELECT model, countIf(prediction_label != '' AND isNull(prediction_number)) AS labels, countIf(isNotNull(prediction_number)) AS numbers
 FROM ${this.db}.predictions WHERE ${modelsFilter(models)} AND ts >= toDateTime(${sqlNumber(Math.floor(sinceMs / 1000))}) GROUP BY model`,
    );
    const tasks = new Map<string, 'classification' | 'regression'>();
    for (const row of rows) {
      if (Number(row.labels) > 0) tasks.set(row.model, 'classification');
      else if (Number(row.numbers) > 0) tasks.set(row.model, 'regression');
    }
    return tasks;
  }

  /**
   * Writes evaluations: the whole models' rows (segment '') and each segment's rows (segment
   * `country=DE`; quality rows of segments go to `segment_quality_results`), one insert per table
   * for all of them, then the health rows: a model_health row means its evaluation is stored.
   */
  async writeEvaluations(evaluations: readonly ModelEvaluation[], replica: string): Promise<void> {
    if (evaluations.length === 0) return;
    const rows = evaluations.map((e) => evaluationRows(e, replica));
    const all = (table: keyof EvaluationRows): Record<string, unknown>[] => rows.flatMap((r) => r[table]);
    await Promise.all([
      this.insert('drift_results', all('drift')),
      this.insert('performance_results', all('performance')),
      this.insert('quality_results', all('quality')),
      this.insert('segment_quality_results', all('segmentQuality')),
      this.insert('estimation_results', evaluations.flatMap(estimationResultRows)),
      this.insert('feature_attribution', evaluations.flatMap(attributionRows)),
    ]);
    await this.insert('model_health', all('health'));
  }

  async latestHealth(model?: string): Promise<HealthRow[]> {
    const where = model === undefined ? '' : `WHERE model = ${sqlString(model)}`;
    return this.rows<HealthRow>(
      'latest health',
      `SELECT model, toUInt64(max(evaluated_at)) * 1000 AS evaluated_at_ms, argMax(status, evaluated_at) AS status, argMax(reasons, evaluated_at) AS reasons,
 argMax(window_count, evaluated_at) AS window_count, argMax(drifted_features, evaluated_at) AS drifted_features, argMax(replica, evaluated_at) AS replica
 FROM ${this.db}.model_health ${where} GROUP BY model ORDER BY model`,
    );
  }

  async driftHistory(q: {
    model: string;
    fromMs: number;
    toMs: number;
    feature?: string;
    detector?: string;
    /** '' or absent: the whole model's rows; else one segment's (`country=DE`). */
    segment?: string;
    limit: number;
    offset: number;
  }): Promise<Array<Record<string, unknown>>> {
    const feature =
      (q.feature === undefined ? '' : ` AND feature = ${sqlString(q.feature)}`) +
      (q.detector === undefined ? '' : ` AND detector = ${sqlString(q.detector)}`);
    const segment = ` AND segment = ${sqlString(q.segment ?? '')}`;
    return this.rows(
      'drift history',
      `SELECT toUInt64(evaluated_at) * 1000 AS evaluated_at_ms, toUInt64(window_start) * 1000 AS window_start_ms, toUInt64(window_end) * 1000 AS window_end_ms,
 segment, feature, kind, detector, statistic, p_value, effect, threshold, drifted, status, window_count, reference_count
 FROM ${this.db}.drift_results WHERE model = ${sqlString(q.model)} AND evaluated_at >= toDateTime(${sqlNumber(Math.floor(q.fromMs / 1000))}) AND evaluated_at <= toDateTime(${sqlNumber(Math.floor(q.toMs / 1000))})${segment}${feature}
 ORDER BY evaluated_at DESC, feature, detector LIMIT ${sqlNumber(q.offset)}, ${sqlNumber(q.limit)}`,
    );
  }

  private insert(table: string, values: readonly Record<string, unknown>[]): Promise<void> {
    return insertObjects(this.store, table, values);
  }
}

interface SampleRowJson {
  num_names: string[];
  num_values: number[];
  cat_names: string[];
  cat_values: string[];
  missing_names: string[];
  version: string;
  ts_ms: string;
}

function sampleRow(r: SampleRowJson): SampleRow {
  const features: Record<string, number | string | null> = {};
  r.num_names.forEach((n, i) => (features[n] = r.num_values[i] ?? null));
  r.cat_names.forEach((n, i) => (features[n] = r.cat_values[i] ?? null));
  for (const n of r.missing_names) features[n] = null;
  return { features, tags: { version: r.version }, tsMs: Number(r.ts_ms) };
}

export interface StoredCounts {
  readonly predictions: { readonly total: number; readonly window: number };
  readonly outcomes: { readonly total: number; readonly window: number };
}

export interface HealthRow {
  model: string;
  evaluated_at_ms: string;
  status: string;
  reasons: string;
  window_count: string;
  drifted_features: string;
  replica: string;
}

interface EvaluationRows {
  readonly drift: Record<string, unknown>[];
  readonly performance: Record<string, unknown>[];
  readonly quality: Record<string, unknown>[];
  readonly segmentQuality: Record<string, unknown>[];
  readonly health: Record<string, unknown>[];
}

/** One evaluation as the rows of each result table. */
function evaluationRows(e: ModelEvaluation, replica: string): EvaluationRows {
  const at = Math.floor(e.evaluatedAtMs / 1000);
  const ws = Math.floor(e.windowStartMs / 1000);
  const we = Math.floor(e.windowEndMs / 1000);
  const common = { model: e.model, evaluated_at: at, window_start: ws, window_end: we };
  const slices: ReadonlyArray<ModelEvaluation | SegmentEvaluation> = [e, ...e.segments];
  return {
    drift: slices.flatMap((s) => {
      const fallback =
        'reference' in s && s.reference === 'whole'
          ? { reference: 'whole', referenceNote: s.referenceNote }
          : undefined;
      return s.drift.map((d) => ({
        ...common,
        segment: s.segment,
        feature: d.feature,
        kind: d.kind,
        detector: d.detector,
        statistic: finite(d.statistic),
        p_value: d.pValue === null ? null : finite(d.pValue),
        effect: d.effect === null ? null : finite(d.effect),
        threshold: d.threshold,
        drifted: d.drifted ? 1 : 0,
        status: d.status,
        window_count: d.windowCount,
        reference_count: d.referenceCount,
        details: JSON.stringify(fallback === undefined ? d.details : { ...d.details, ...fallback }),
      }));
    }),
    performance: slices.flatMap((s) =>
      s.performance.map((p) => ({
        ...common,
        segment: s.segment,
        metric: p.metric,
        value: finite(p.value),
        threshold: p.threshold,
        breaching: p.breaching ? 1 : 0,
        labelled: s.labelled,
        total: s.events,
        coverage: s.coverage,
      })),
    ),
    quality: qualityRows(e, common),
    segmentQuality: e.segments.flatMap((s) => qualityRows(s, { ...common, segment: s.segment })),
    health: [
      {
        ...common,
        status: e.status,
        reasons: JSON.stringify(e.reasons),
        window_count: e.events,
        features: e.features,
        drifted_features: e.driftedFeatures,
        replica,
      },
    ],
  };
}

function qualityRows(e: ModelEvaluation, common: Record<string, unknown>): Array<Record<string, unknown>> {
  return e.quality.map((q) => ({
    ...common,
    feature: q.feature,
    rule: q.rule,
    value: finite(q.value),
    threshold: q.threshold,
    breaching: q.breaching ? 1 : 0,
    details: JSON.stringify(q.details),
  }));
}

function finite(value: number): number {
  return Number.isFinite(value) ? value : 0;
}
