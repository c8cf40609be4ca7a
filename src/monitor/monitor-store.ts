import { sqlIdentifier, sqlNumber, sqlString } from '../../kernel/sql.js';
import { insertObjects, type Store } from '../../kernel/store.js';
import type {
  FeatureMoments,
  LabelAggregates,
  ModelEvaluation,
  SegmentEvaluation,
  WindowAggregates,
} from './evaluate.js';
import {
  categoricalCountsQuery,
  confusionQuery,
  chunkCountsQuery,
  firstEventsQuery,
  lastEventsStartQuery,
  MISSING_MARKER,
  layoutNamesQuery,
  numericHistogramQuery,
  numericMomentsQuery,
  outcomeCountQuery,
  regressionSumsQuery,
  seenModelsQuery,
  storedCountsQuery,
  tagCountsQuery,
  type FeatureGrid,
  type WindowBounds,
} from './queries.js';
import type { ReferenceProfile, SampleRow } from './reference.js';
import { chunkRange, CleanChunks } from './duplicates.js';
import { chunkLayouts, decodeKey, isLayoutHash, LayoutCache, type Layout } from './layouts.js';

/** The monitor's adapter over the storage port: aggregates in, results out. */
export class MonitorStore {
  private readonly db: string;
  /** Names of the numeric layouts seen per model (see layouts.ts). */
  private readonly layouts = new LayoutCache();
  /** Time chunks proved free of unmerged duplicates (see duplicates.ts). */
  private readonly cleanChunks = new CleanChunks();
  private readonly tasks = new Map<string, 'classification' | 'regression'>();
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
    const rows = await this.rows<{
      num_names: string[];
      num_values: number[];
      cat_names: string[];
      cat_values: string[];
      missing_names: string[];
      version: string;
      ts_ms: string;
    }>('reference sample', firstEventsQuery(this.db, model, count, range));
    return rows.map((r) => {
      const features: Record<string, number | string | null> = {};
      r.num_names.forEach((n, i) => (features[n] = r.num_values[i] ?? null));
      r.cat_names.forEach((n, i) => (features[n] = r.cat_values[i] ?? null));
      for (const n of r.missing_names) features[n] = null;
      return { features, tags: { version: r.version }, tsMs: Number(r.ts_ms) };
    });
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
    const [row] = await this.rows<{ profile: string; created: string }>(
      'load reference',
      `SELECT argMax(profile, created_at) AS profile, toUInt64(max(created_at)) AS created FROM ${this.db}.reference_profiles WHERE model = ${sqlString(model)} GROUP BY model`,
    );
    if (row === undefined) return undefined;
    return { profile: JSON.parse(row.profile) as ReferenceProfile, createdAtMs: Number(row.created) * 1000 };
  }

  async referenceCreatedAt(model: string): Promise<number | undefined> {
    const [row] = await this.rows<{ created: string }>(
      'reference time',
      `SELECT toUInt64(max(created_at)) AS created FROM ${this.db}.reference_profiles WHERE model = ${sqlString(model)} GROUP BY model`,
    );
    return row === undefined ? undefined : Number(row.created) * 1000;
  }

  async saveReference(model: string, profile: ReferenceProfile, nowMs: number): Promise<void> {
    await this.insert('reference_profiles', [
      {
        model,
        created_at: Math.floor(nowMs / 1000),
        source: profile.source,
        rows: profile.rows,
        profile: JSON.stringify(profile),
      },
    ]);
  }

  /**
   * Runs the window's aggregations one after another (they are CPU-bound inside ClickHouse, which
   * already uses every core per query; run together they only contend): first the proof that the
   * window holds no unmerged duplicates (duplicates.ts; FINAL is used only when it does, rarely: a
   * replay not merged yet), then moments per layout, which name the layouts, then the grid
   * histogram by layout, category counts when the reference or the window has categorical or
   * missing values, and the label join when outcomes exist.
   */
  async aggregates(
    model: string,
    window: WindowBounds,
    grids: ReadonlyMap<string, FeatureGrid>,
    cells: number,
    known: readonly string[],
    task: 'classification' | 'regression' | undefined,
    horizonMs: number,
    options: { readonly final?: boolean } = {},
  ): Promise<WindowAggregates> {
    // A small slice (a window's fragment beside its rollups) is read FINAL rather than proved.
    const final = options.final ?? !(await this.duplicateFree(model, window));
    const momentRows = await this.rows<MomentRow>(
      'window moments',
      numericMomentsQuery(this.db, model, window, final),
    );
    await this.learnLayouts(
      model,
      momentRows.map((r) => r.layout).filter((hash) => this.layouts.get(model, hash) === undefined),
    );
    const layouts = momentRows.map((r) => ({
      hash: r.layout,
      names: this.layouts.get(model, r.layout) ?? [],
    }));
    const numericCells = await this.histogram(model, window, layouts, grids, cells, final);
    const referenceHasCategories = known.some((name) => !grids.has(name));
    const categoricalRows =
      referenceHasCategories || momentRows.some((r) => Number(r.others) > 0)
        ? await this.rows<{ n: string; v: string; c: string }>(
            'window categories',
            categoricalCountsQuery(this.db, model, window, 1000, final),
          )
        : [];
    const labelAggregates =
      task === undefined ? undefined : await this.labelAggregates(model, window, task, horizonMs, final);
    const numericMoments = new Map<string, FeatureMoments>();
    const numericNames = new Set<string>();
    for (const group of momentRows) {
      const names = this.layouts.get(model, group.layout) ?? [];
      names.forEach((name, i) => {
        numericNames.add(name);
        const before = numericMoments.get(name);
        const count = Number(group.rows);
        const sum = Number(group.s[i] ?? 0);
        const sumSquares = Number(group.sq[i] ?? 0);
        const min = Number(group.mn[i] ?? Number.NaN);
        const max = Number(group.mx[i] ?? Number.NaN);
        numericMoments.set(
          name,
          before === undefined
            ? { count, sum, sumSquares, min, max }
            : {
                count: before.count + count,
                sum: before.sum + sum,
                sumSquares: before.sumSquares + sumSquares,
                min: Math.min(before.min, min),
                max: Math.max(before.max, max),
              },
        );
      });
    }
    const categories = new Map<string, Map<string, number>>();
    const missing = new Map<string, number>();
    for (const row of categoricalRows) {
      if (row.v === MISSING_MARKER) {
        missing.set(row.n, Number(row.c));
        continue;
      }
      let counts = categories.get(row.n);
      if (counts === undefined) categories.set(row.n, (counts = new Map<string, number>()));
      counts.set(row.v, Number(row.c));
    }
    const knownSet = new Set(known);
    const newFeatures = [...new Set([...categories.keys(), ...numericNames])].filter((n) => !knownSet.has(n));
    return {
      events: momentRows.reduce((sum, r) => sum + Number(r.rows), 0),
      numericCells,
      numericMoments,
      categories,
      missing,
      newFeatures: newFeatures.sort(),
      ...(labelAggregates === undefined ? {} : { labels: labelAggregates }),
    };
  }

  /**
   * Proves the window's time chunks free of unmerged duplicates: a plain count per chunk, then a
   * FINAL and a plain count of the chunks not proved clean before with the same count.
   */
  private async duplicateFree(model: string, window: WindowBounds): Promise<boolean> {
    const range = chunkRange(window);
    const counts = (rows: Array<{ chunk: string; n: string }>) =>
      new Map(rows.map((r) => [Number(r.chunk), Number(r.n)]));
    const plain = counts(await this.rows('window chunks', chunkCountsQuery(this.db, model, range, false)));
    const unproved = this.cleanChunks.unproved(model, range, plain);
    if (unproved.length === 0) return true;
    const [deduplicated, stored] = await Promise.all([
      this.rows<{ chunk: string; n: string }>(
        'window duplicates',
        chunkCountsQuery(this.db, model, range, true, unproved),
      ),
      this.rows<{ chunk: string; n: string }>(
        'window chunks',
        chunkCountsQuery(this.db, model, range, false, unproved),
      ),
    ]).then(([d, p]) => [counts(d), counts(p)] as const);
    const clean = new Map<number, number>();
    for (const [chunk, n] of stored) if (deduplicated.get(chunk) === n) clean.set(chunk, n);
    this.cleanChunks.prove(model, range, clean);
    return clean.size === stored.size;
  }

  /**
   * Grid counts per numeric feature of the window's events with the given layouts (one query per
   * chunk of layouts; usually one). Counts of a feature spread over several layouts are summed.
   */
  private async histogram(
    model: string,
    window: WindowBounds,
    layouts: readonly Layout[],
    grids: ReadonlyMap<string, FeatureGrid>,
    cells: number,
    final: boolean,
  ): Promise<Map<string, Map<number, number>>> {
    const counted = new Map<string, Map<number, number>>();
    if (grids.size === 0) return counted;
    const withGrids = layouts.filter((l) => l.names.some((name) => grids.has(name)));
    const texts = await Promise.all(
      chunkLayouts(withGrids, cells + 2).map(async (chunk) => ({
        chunk,
        text: await this.text(
          'window histogram',
          numericHistogramQuery(this.db, model, window, chunk, grids, final),
        ),
      })),
    );
    for (const { chunk, text } of texts) {
      for (const line of text.split('\n')) {
        if (line.length === 0) continue;
        const [k, n] = line.split('\t').map(Number) as [number, number];
        const decoded = decodeKey(chunk, k);
        if (decoded === undefined || !grids.has(decoded.feature)) continue;
        let cellsOf = counted.get(decoded.feature);
        if (cellsOf === undefined) counted.set(decoded.feature, (cellsOf = new Map<number, number>()));
        cellsOf.set(decoded.cell, (cellsOf.get(decoded.cell) ?? 0) + n);
      }
    }
    return counted;
  }

  /** Looks up and caches the names of layouts not seen before. */
  private async learnLayouts(model: string, hashes: readonly string[]): Promise<void> {
    await Promise.all(
      hashes.filter(isLayoutHash).map(async (hash) => {
        const [row] = await this.rows<{ names: string[] }>(
          'layout names',
          layoutNamesQuery(this.db, model, hash),
        );
        this.layouts.add(model, { hash, names: row?.names ?? [] });
      }),
    );
  }

  /** Confusion counts or regression sums of the window's predictions labelled within the horizon. */
  async labelAggregates(
    model: string,
    window: WindowBounds,
    task: 'classification' | 'regression',
    horizonMs: number,
    final: boolean,
  ): Promise<LabelAggregates> {
    const [outcomes] = await this.rows<{ n: string }>(
      'outcome count',
      outcomeCountQuery(this.db, model, window),
    );
    if (Number(outcomes?.n ?? 0) === 0) {
      // Nothing to join (a model without outcomes yet): the join would scan the window for nothing.
      return task === 'classification'
        ? { kind: 'classification', confusion: new Map() }
        : { kind: 'regression', sums: EMPTY_REGRESSION_SUMS };
    }
    if (task === 'classification') {
      const rows = await this.rows<{ predicted: string; actual: string; c: string }>(
        'label join',
        confusionQuery(this.db, model, window, horizonMs, final),
      );
      const confusion = new Map<string, Map<string, number>>();
      for (const r of rows) {
        let row = confusion.get(r.actual);
        if (row === undefined) confusion.set(r.actual, (row = new Map<string, number>()));
        row.set(r.predicted, Number(r.c));
      }
      return { kind: 'classification', confusion };
    }
    const [s] = await this.rows<Record<'n' | 'sae' | 'sse' | 'sape' | 'sy' | 'syy', string>>(
      'label join',
      regressionSumsQuery(this.db, model, window, horizonMs, final),
    );
    return {
      kind: 'regression',
      sums: {
        count: Number(s?.n ?? 0),
        sumAbsError: Number(s?.sae ?? 0),
        sumSquaredError: Number(s?.sse ?? 0),
        sumAbsPercentageError: Number(s?.sape ?? 0),
        sumY: Number(s?.sy ?? 0),
        sumYSquared: Number(s?.syy ?? 0),
      },
    };
  }

  /**
   * Which kind of prediction the model's recent events carry (for models without a configured
   * task): classification when the model's predictions are labels, regression when they are numbers
   * (a numeric prediction is also stored as its text in prediction_label, so labels are those
   * without a number); remembered once known (a model does not change kind), asked again while it
   * has no events.
   */
  async inferTask(model: string, window: WindowBounds): Promise<'classification' | 'regression' | undefined> {
    const known = this.tasks.get(model);
    if (known !== undefined) return known;
    const task = await this.queryTask(model, window);
    if (task !== undefined) this.tasks.set(model, task);
    return task;
  }

  private async queryTask(
    model: string,
    window: WindowBounds,
  ): Promise<'classification' | 'regression' | undefined> {
    const [row] = await this.rows<{ labels: string; numbers: string }>(
      'infer task',
      `SELECT countIf(prediction_label != '' AND isNull(prediction_number)) AS labels, countIf(isNotNull(prediction_number)) AS numbers FROM ${this.db}.predictions WHERE model = ${sqlString(model)} AND ts >= toDateTime(${sqlNumber(Math.floor(window.startMs / 1000))})`,
    );
    if (row === undefined) return undefined;
    if (Number(row.labels) > 0) return 'classification';
    if (Number(row.numbers) > 0) return 'regression';
    return undefined;
  }

  /**
   * Writes the whole model's rows (segment '') and each segment's rows (segment `country=DE`;
   * quality rows of segments go to `segment_quality_results`), then the health row.
   */
  async writeEvaluation(e: ModelEvaluation, replica: string): Promise<void> {
    const at = Math.floor(e.evaluatedAtMs / 1000);
    const ws = Math.floor(e.windowStartMs / 1000);
    const we = Math.floor(e.windowEndMs / 1000);
    const common = { model: e.model, evaluated_at: at, window_start: ws, window_end: we };
    const slices: ReadonlyArray<ModelEvaluation | SegmentEvaluation> = [e, ...e.segments];
    await Promise.all([
      this.insert(
        'drift_results',
        slices.flatMap((s) => {
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
      ),
      this.insert(
        'performance_results',
        slices.flatMap((s) =>
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
      ),
      this.insert('quality_results', qualityRows(e, common)),
      this.insert(
        'segment_quality_results',
        e.segments.flatMap((s) => qualityRows(s, { ...common, segment: s.segment })),
      ),
    ]);
    // Health last: a model_health row means the whole evaluation is stored.
    await this.insert('model_health', [
      {
        ...common,
        status: e.status,
        reasons: JSON.stringify(e.reasons),
        window_count: e.events,
        features: e.features,
        drifted_features: e.driftedFeatures,
        replica,
      },
    ]);
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

  private text(operation: string, query: string): Promise<string> {
    // The histogram query carries the grid as constants; both adapters allow 16 MB of SQL.
    return this.store.selectText(operation, query);
  }

  private insert(table: string, values: readonly Record<string, unknown>[]): Promise<void> {
    return insertObjects(this.store, table, values);
  }
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

interface MomentRow {
  readonly layout: string;
  readonly rows: string;
  /** Categorical and missing values in the layout's events. */
  readonly others: string;
  readonly s: number[];
  readonly sq: number[];
  readonly mn: number[];
  readonly mx: number[];
}

const EMPTY_REGRESSION_SUMS = {
  count: 0,
  sumAbsError: 0,
  sumSquaredError: 0,
  sumAbsPercentageError: 0,
  sumY: 0,
  sumYSquared: 0,
} as const;
