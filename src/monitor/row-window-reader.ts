import { sqlIdentifier } from '../../kernel/sql.js';
import type { Store } from '../../kernel/store.js';
import type { FeatureMoments, LabelAggregates, WindowAggregates } from './evaluate.js';
import {
  categoricalCountsQuery,
  chunkCountsQuery,
  confusionQuery,
  layoutNamesQuery,
  MISSING_MARKER,
  numericHistogramQuery,
  numericMomentsQuery,
  outcomeCountsQuery,
  regressionSumsQuery,
  type FeatureGrid,
  type WindowBounds,
} from './queries.js';
import { chunkRange, CleanChunks } from './duplicates.js';
import { chunkLayouts, decodeKey, isLayoutHash, LayoutCache, type Layout } from './layouts.js';

/**
 * A window's aggregates read from the rows themselves — the path for windows (or parts of them)
 * the rollups cannot serve: a model whose rollups are still being proved, a segment's slice, a
 * label join. It keeps what it learns between cycles: the names of each model's numeric layouts
 * (layouts.ts) and the time chunks proved free of unmerged duplicates (duplicates.ts), so that a
 * steady window is not re-proved every interval. All aggregation runs in ClickHouse: O(features
 * × cells) rows come back, never O(events).
 */
export class RowWindowReader {
  private readonly db: string;
  /** Names of the numeric layouts seen per model (see layouts.ts). */
  private readonly layouts = new LayoutCache();
  /** Time chunks proved free of unmerged duplicates (see duplicates.ts). */
  private readonly cleanChunks = new CleanChunks();

  constructor(private readonly store: Store) {
    this.db = sqlIdentifier(store.database);
  }

  private rows<T>(operation: string, query: string): Promise<T[]> {
    return this.store.select<T>(operation, query);
  }

  /** Forgets what was learnt of a model (it moved to another replica). */
  forget(model: string): void {
    this.cleanChunks.forget(model);
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
    const labels = await this.labelsOf(new Map([[model, task]]), window, horizonMs, final);
    return labels.get(model) ?? emptyLabels(task);
  }

  /**
   * Label aggregates of many models' windows (the same bounds), with a join per task for all the
   * models that have outcomes at all (a model without outcomes yet is not joined: the join would
   * scan its window for nothing).
   */
  async labelsOf(
    tasks: ReadonlyMap<string, 'classification' | 'regression'>,
    window: WindowBounds,
    horizonMs: number,
    final: boolean,
  ): Promise<Map<string, LabelAggregates>> {
    const labels = new Map<string, LabelAggregates>([...tasks].map(([m, task]) => [m, emptyLabels(task)]));
    if (tasks.size === 0) return labels;
    const counts = await this.rows<{ model: string; n: string }>(
      'outcome counts',
      outcomeCountsQuery(this.db, [...tasks.keys()], window),
    );
    const labelled = new Set(counts.filter((r) => Number(r.n) > 0).map((r) => r.model));
    const of = (task: string): string[] =>
      [...tasks].filter(([m, t]) => t === task && labelled.has(m)).map(([m]) => m);
    const [classifiers, regressors] = [of('classification'), of('regression')];
    if (classifiers.length > 0) {
      const rows = await this.rows<{ model: string; predicted: string; actual: string; c: string }>(
        'label join',
        confusionQuery(this.db, classifiers, window, horizonMs, final),
      );
      const confusions = new Map<string, Map<string, Map<string, number>>>();
      for (const r of rows) {
        let confusion = confusions.get(r.model);
        if (confusion === undefined)
          confusions.set(r.model, (confusion = new Map<string, Map<string, number>>()));
        let row = confusion.get(r.actual);
        if (row === undefined) confusion.set(r.actual, (row = new Map<string, number>()));
        row.set(r.predicted, Number(r.c));
      }
      for (const [m, confusion] of confusions) labels.set(m, { kind: 'classification', confusion });
    }
    if (regressors.length > 0) {
      const rows = await this.rows<Record<'model' | 'n' | 'sae' | 'sse' | 'sape' | 'sy' | 'syy', string>>(
        'label join',
        regressionSumsQuery(this.db, regressors, window, horizonMs, final),
      );
      for (const s of rows) {
        labels.set(s.model, {
          kind: 'regression',
          sums: {
            count: Number(s.n),
            sumAbsError: Number(s.sae),
            sumSquaredError: Number(s.sse),
            sumAbsPercentageError: Number(s.sape),
            sumY: Number(s.sy),
            sumYSquared: Number(s.syy),
          },
        });
      }
    }
    return labels;
  }

  private text(operation: string, query: string): Promise<string> {
    // The histogram query carries the grid as constants; both adapters allow 16 MB of SQL.
    return this.store.selectText(operation, query);
  }
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

function emptyLabels(task: 'classification' | 'regression'): LabelAggregates {
  return task === 'classification'
    ? { kind: 'classification', confusion: new Map() }
    : { kind: 'regression', sums: EMPTY_REGRESSION_SUMS };
}

const EMPTY_REGRESSION_SUMS = {
  count: 0,
  sumAbsError: 0,
  sumSquaredError: 0,
  sumAbsPercentageError: 0,
  sumY: 0,
  sumYSquared: 0,
} as const;
