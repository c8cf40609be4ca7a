import type {
  BinnedInputAggregates,
  CbpeWindowAggregates,
  InputBins,
  LabelledScoreAggregates,
  MomentAggregates,
} from '../../../detectors/index.js';
import { binCount } from '../../../detectors/index.js';
import { sqlIdentifier } from '../../../kernel/sql.js';
import type { Store } from '../../../kernel/store.js';
import { isLayoutHash, LayoutCache } from '../layouts.js';
import { layoutNamesQuery, referenceGrids, type FeatureGrid, type WindowBounds } from '../queries.js';
import type { FeatureReference } from '../reference.js';
import type { EstimationAggregates, FittedEstimators, OutputSpec } from './types.js';
import {
  binnedBranch,
  cbpeHistogramBranch,
  labelledHistogramBranch,
  momentsBranch,
  outputsBranch,
  predictedLabelsBranch,
  rowCountsBranch,
  unionAll,
  windowLayoutsQuery,
  type FeaturePositions,
  type SharedWindowRows,
  type WindowRows,
} from './window-sql.js';

/** A model whose window the estimation step reads: its fitted estimators. */
export interface EstimationReadModel {
  readonly model: string;
  readonly estimators: FittedEstimators;
  /** Read one row in this many (a deterministic sample by time slices) beyond estimation.maxWindowRows. @default 1 */
  readonly sampleEvery?: number;
  /**
   * Whether the window has labelled rows (the monitor's label join says): without, realized ROC
   * AUC has nothing to count and its join is skipped. @default true
   */
  readonly labelled?: boolean;
}

/** The grids the numeric outputs are counted on (the monitor's rule for features: queries.ts). */
export function outputGrids(
  outputs: readonly OutputSpec[],
  gridCells: number,
): { grids: Map<string, FeatureGrid>; cells: number } {
  const features: Record<string, FeatureReference> = {};
  for (const o of outputs) features[o.name] = o.reference;
  return referenceGrids(features, gridCells);
}

/** The inputs whose bins a model's window is counted over: DLE's, else the error model's. */
export function binnedInputs(estimators: FittedEstimators): readonly InputBins[] | undefined {
  return estimators.dle?.inputs ?? estimators.errorModel?.inputs;
}

type Parts = Map<string, { -readonly [K in keyof EstimationAggregates]: EstimationAggregates[K] }>;
type Select = <T>(operation: string, branches: readonly string[]) => Promise<T[]>;

/**
 * Reads the estimation aggregates of many models' windows (the same bounds): one query per kind
 * of aggregate for all the models that need it (a `UNION ALL` branch each), one after another
 * (each is CPU-bound inside ClickHouse). Models without any estimator are not read. Numeric
 * features are read by their position in the window's layouts (`layouts` caches the names).
 */
export async function readEstimationAggregates(
  store: Pick<Store, 'select' | 'database'>,
  window: WindowBounds,
  horizonMs: number,
  gridCells: number,
  models: readonly EstimationReadModel[],
  layouts: LayoutCache = new LayoutCache(),
): Promise<Map<string, EstimationAggregates>> {
  const db = sqlIdentifier(store.database);
  const parts: Parts = new Map(models.map((m) => [m.model, {}]));
  const select: Select = (operation, branches) =>
    branches.length === 0 ? Promise.resolve([]) : store.select(operation, unionAll(branches));
  const reads = models.map((m) => ({
    ...m,
    rows: { model: m.model, window, sampleEvery: Math.max(1, Math.floor(m.sampleEvery ?? 1)) },
  }));
  await readScores(select, db, horizonMs, reads, parts);
  const positions = await featurePositions(
    store,
    db,
    reads.filter(
      (m) => binnedInputs(m.estimators) !== undefined || m.estimators.reconstruction !== undefined,
    ),
    layouts,
  );
  await readFeatures(select, db, reads, positions, parts);
  await readOutputs(select, db, gridCells, reads, parts);
  return parts;
}

type Read = EstimationReadModel & { readonly rows: WindowRows };

/** CBPE's score histogram and the labelled scores of realized ROC AUC. */
async function readScores(
  select: Select,
  db: string,
  horizonMs: number,
  reads: readonly Read[],
  parts: Parts,
) {
  const scored = reads.flatMap((m) =>
    m.estimators.cbpe === undefined ? [] : [{ ...m, cbpe: m.estimators.cbpe }],
  );
  const histogram = await select<{
    model: string;
    t: number;
    predicted: number;
    cell: number;
    n: string;
    s: number;
  }>(
    'estimation score histogram',
    scored.map((m) => cbpeHistogramBranch(db, m.rows, m.cbpe.scores, m.cbpe.model.grid)),
  );
  const labelled = await select<{
    model: string;
    t: number;
    cell: number;
    positives: string;
    negatives: string;
  }>(
    'estimation labelled scores',
    scored
      .filter((m) => m.labelled !== false)
      .map((m) => labelledHistogramBranch(db, m.rows, horizonMs, m.cbpe.scores, m.cbpe.model.grid)),
  );
  for (const m of scored) {
    const { grid, trackedClasses } = m.cbpe.model;
    const entry = parts.get(m.model);
    if (entry === undefined) continue;
    entry.cbpe = cbpeAggregates(
      histogram.filter((r) => r.model === m.model),
      trackedClasses.length,
      grid.cells,
    );
    entry.labelled = labelledAggregates(
      labelled.filter((r) => r.model === m.model),
      trackedClasses.length,
      grid.cells,
    );
  }
}

/** The loss models' bins and the PCA moments, numeric features by layout position. */
async function readFeatures(
  select: Select,
  db: string,
  reads: readonly Read[],
  positions: ReadonlyMap<string, FeaturePositions>,
  parts: Parts,
) {
  const positionsOf = (model: string): FeaturePositions => positions.get(model) ?? new Map();
  const binned = reads.flatMap((m) => {
    const inputs = binnedInputs(m.estimators);
    return inputs === undefined ? [] : [{ ...m, inputs }];
  });
  const bins = await select<{ model: string; j: number; b: number; n: string; s: number }>(
    'estimation bins',
    binned.map((m) => binnedBranch(db, m.rows, m.inputs, positionsOf(m.model))),
  );
  for (const m of binned) {
    const entry = parts.get(m.model);
    if (entry !== undefined)
      entry.binned = binnedAggregates(
        bins.filter((r) => r.model === m.model),
        m.inputs,
      );
  }
  const pca = reads.flatMap((m) =>
    m.estimators.reconstruction === undefined ? [] : [{ ...m, pca: m.estimators.reconstruction }],
  );
  const moments = await select<{ model: string; n: string; s: number[]; p: number[] }>(
    'estimation moments',
    pca.map((m) => momentsBranch(db, m.rows, m.pca.columns, positionsOf(m.model))),
  );
  for (const m of pca) {
    const entry = parts.get(m.model);
    if (entry !== undefined)
      entry.moments = momentAggregates(
        moments.find((r) => r.model === m.model),
        m.pca.columns.length,
      );
  }
}

/**
 * Where each numeric feature is in each layout of the rows read (the window's, or its sample's):
 * the layout hashes (one scan per sample rate for every model, reading only `num_layout`), their
 * names looked up once per new layout and cached.
 */
async function featurePositions(
  store: Pick<Store, 'select'>,
  db: string,
  reads: readonly Read[],
  layouts: LayoutCache,
): Promise<Map<string, FeaturePositions>> {
  const out = new Map<string, FeaturePositions>();
  if (reads.length === 0) return out;
  const rows = await store.select<{ model: string; layout: string }>(
    'estimation layouts',
    unionAll(sharedRows(reads).map((shared) => windowLayoutsQuery(db, shared))),
  );
  for (const { model, layout } of rows) {
    if (!isLayoutHash(layout) || layouts.get(model, layout) !== undefined) continue;
    const [named] = await store.select<{ names: string[] }>(
      'layout names',
      layoutNamesQuery(db, model, layout),
    );
    layouts.add(model, { hash: layout, names: named?.names ?? [] });
  }
  for (const { model } of reads) {
    const positions = new Map<string, { hashes: string[]; positions: number[] }>();
    for (const { layout } of rows.filter((r) => r.model === model && isLayoutHash(r.layout))) {
      (layouts.get(model, layout) ?? []).forEach((name, i) => {
        let at = positions.get(name);
        if (at === undefined) positions.set(name, (at = { hashes: [], positions: [] }));
        at.hashes.push(layout);
        at.positions.push(i + 1);
      });
    }
    out.set(model, positions);
  }
  return out;
}

/** The outputs' grid counts and moments (and the rows read), and the predicted labels. */
async function readOutputs(
  select: Select,
  db: string,
  gridCells: number,
  reads: readonly Read[],
  parts: Parts,
) {
  const watched = reads.filter((m) => m.estimators.outputs.length > 0);
  if (watched.length === 0) return;
  const numeric = watched.map((m) => {
    const { grids, cells } = outputGrids(m.estimators.outputs, gridCells);
    const outputs = m.estimators.outputs.flatMap((spec) => {
      const grid = grids.get(spec.name);
      return spec.source === 'label' || grid === undefined ? [] : [{ spec, grid }];
    });
    return { model: m.model, rows: m.rows, outputs, cells };
  });
  const cellRows = await select<{
    model: string;
    o: number;
    cell: number;
    n: string;
    s: number;
    sq: number;
    mn: number;
    mx: number;
  }>('estimation outputs', [
    ...numeric.filter((m) => m.outputs.length > 0).map((m) => outputsBranch(db, m.rows, m.outputs, m.cells)),
    ...sharedRows(numeric.filter((m) => m.outputs.length === 0)).map((rows) => rowCountsBranch(db, rows)),
  ]);
  const labelRows = await select<{ model: string; v: string; c: string }>(
    'estimation predicted labels',
    sharedRows(watched.filter((m) => m.estimators.outputs.some((o) => o.source === 'label'))).map((rows) =>
      predictedLabelsBranch(db, rows),
    ),
  );
  for (const m of watched) {
    const entry = parts.get(m.model);
    if (entry === undefined) continue;
    const slots = numeric.find((n) => n.model === m.model)?.outputs ?? [];
    const cells = new Map<string, Map<number, number>>();
    const moments = new Map<
      string,
      { count: number; sum: number; sumSquares: number; min: number; max: number }
    >();
    let rows = 0;
    for (const r of cellRows) {
      if (r.model !== m.model) continue;
      const n = Number(r.n);
      if (Number(r.o) === 0) {
        rows += n;
        continue;
      }
      const name = slots[Number(r.o) - 1]?.spec.name;
      if (name === undefined) continue;
      let counts = cells.get(name);
      if (counts === undefined) cells.set(name, (counts = new Map<number, number>()));
      counts.set(Number(r.cell), (counts.get(Number(r.cell)) ?? 0) + n);
      const before = moments.get(name);
      moments.set(name, {
        count: (before?.count ?? 0) + n,
        sum: (before?.sum ?? 0) + r.s,
        sumSquares: (before?.sumSquares ?? 0) + r.sq,
        min: Math.min(before?.min ?? Infinity, r.mn),
        max: Math.max(before?.max ?? -Infinity, r.mx),
      });
    }
    const labels = new Map(labelRows.filter((r) => r.model === m.model).map((r) => [r.v, Number(r.c)]));
    entry.outputs = { rows, cells, moments, labels };
  }
}

/** Models' window rows grouped by sample rate (the bounds are the group's): one scan each. */
function sharedRows(reads: ReadonlyArray<{ readonly rows: WindowRows }>): SharedWindowRows[] {
  const bySample = new Map<number, SharedWindowRows & { models: string[] }>();
  for (const { rows } of reads) {
    let shared = bySample.get(rows.sampleEvery);
    if (shared === undefined)
      bySample.set(
        rows.sampleEvery,
        (shared = { models: [], window: rows.window, sampleEvery: rows.sampleEvery }),
      );
    shared.models.push(rows.model);
  }
  return [...bySample.values()];
}

/** Rows (t, predicted, cell, n, s) to CbpeWindowAggregates; count = rows of the first class. */
export function cbpeAggregates(
  rows: ReadonlyArray<{ t: number; predicted: number; cell: number; n: string | number; s: number }>,
  classes: number,
  cells: number,
): CbpeWindowAggregates {
  const histogram = () => ({
    counts: new Array<number>(cells).fill(0),
    sumScores: new Array<number>(cells).fill(0),
  });
  const perClass = Array.from({ length: classes }, () => ({ predicted: histogram(), other: histogram() }));
  for (const r of rows) {
    const h = perClass[Number(r.t)]?.[Number(r.predicted) === 1 ? 'predicted' : 'other'];
    const c = Number(r.cell);
    if (h === undefined || c < 0 || c >= cells) continue;
    h.counts[c] = (h.counts[c] as number) + Number(r.n);
    h.sumScores[c] = (h.sumScores[c] as number) + r.s;
  }
  const first = perClass[0];
  const count =
    first === undefined
      ? 0
      : first.predicted.counts.reduce((a, b) => a + b, 0) + first.other.counts.reduce((a, b) => a + b, 0);
  return { count, classes: perClass };
}

export function labelledAggregates(
  rows: ReadonlyArray<{ t: number; cell: number; positives: string | number; negatives: string | number }>,
  classes: number,
  cells: number,
): LabelledScoreAggregates {
  const perClass = Array.from({ length: classes }, () => ({
    positives: new Array<number>(cells).fill(0),
    negatives: new Array<number>(cells).fill(0),
  }));
  for (const r of rows) {
    const h = perClass[Number(r.t)];
    const c = Number(r.cell);
    if (h === undefined || c < 0 || c >= cells) continue;
    h.positives[c] = (h.positives[c] as number) + Number(r.positives);
    h.negatives[c] = (h.negatives[c] as number) + Number(r.negatives);
  }
  return { classes: perClass };
}

export function binnedAggregates(
  rows: ReadonlyArray<{ j: number; b: number; n: string | number; s: number }>,
  inputs: readonly InputBins[],
): BinnedInputAggregates {
  const binCounts = inputs.map((input) => new Array<number>(binCount(input)).fill(0));
  const binSums = inputs.map((input) =>
    input.kind === 'numeric' ? new Array<number>(input.edges.length + 1).fill(0) : [],
  );
  for (const r of rows) {
    const j = Number(r.j) - 1;
    const b = Number(r.b);
    const counts = binCounts[j];
    if (counts === undefined || b < 0 || b >= counts.length) continue;
    counts[b] = (counts[b] as number) + Number(r.n);
    const sums = binSums[j] as number[];
    if (b < sums.length) sums[b] = (sums[b] as number) + r.s;
  }
  const count = (binCounts[0] ?? []).reduce((a, b) => a + b, 0);
  return { count, binCounts, binSums };
}

export function momentAggregates(
  row: { n: string | number; s: readonly number[]; p: readonly number[] } | undefined,
  d: number,
): MomentAggregates {
  const count = Number(row?.n ?? 0);
  if (row === undefined || count === 0) {
    return {
      count: 0,
      sum: new Array<number>(d).fill(0),
      sumOfProducts: new Array<number>((d * (d + 1)) / 2).fill(0),
    };
  }
  return { count, sum: [...row.s], sumOfProducts: [...row.p] };
}
