/**
 * Multivariate drift by PCA data reconstruction, computed from a window's moments.
 *
 * Encoding (fixed by the reference): a numeric feature becomes z = (x - mean) / std (the
 * reference's mean and population std; std 1 when the feature is constant there, so a
 * feature that starts to vary is seen), and 0 when missing — the reference mean imputed.
 * A categorical feature is frequency-encoded, as NannyML does: the category's share of the
 * reference rows (missing counts as the category `__missing__`; a category outside the kept
 * list, which holds the `maxCategories` most frequent, is 0), then standardised like a numeric
 * one. One column per feature, so contributions map back to features one to one.
 *
 * Fit: the covariance C of the encoded reference rows (about their mean m), its symmetric
 * eigendecomposition (Jacobi, linear-algebra.ts), and the first q components W whose
 * cumulative explained variance first exceeds `varianceThreshold` (scikit-learn's rule for a
 * fractional n_components; default 0.65 as NannyML). A row's reconstruction error is
 * ||P (z - m)||² with P = I - W Wᵀ, the projector on the discarded components.
 *
 * Band: the reference error ± 3σ_n sqrt(1 + n/N) (band.ts), σ from the reference chunks but
 * never below the i.i.d. standard error of a mean of row errors, sd(row errors) / sqrt(n).
 *
 * Per window, exactly from moments (MomentAggregates: n, Σz, Σzzᵀ): with the window's second
 * moment about m, M = (Σzzᵀ - Σz mᵀ - m Σzᵀ + n m mᵀ) / n, the mean squared reconstruction
 * error is tr(P M) and feature j's part of it is (P M P)_jj (they sum to it). On the
 * reference it is Σ of the discarded eigenvalues. NannyML reports the mean of ||P(z - m)||
 * (not squared), which is not a function of moments; the squared form is, and moves the
 * same way.
 *
 * What it catches: any change of the joint distribution that moves mass out of the
 * reference's principal subspace — correlations that weaken, strengthen or flip while every
 * marginal stays the same, and shifts or scale changes along discarded directions. What it
 * misses: changes inside the kept subspace that leave the discarded variance alone (a shift
 * along the first component, a rescaling of it), changes a frequency encoding hides (two
 * categories of equal reference share swapping rows), dependence that is not linear
 * (second moments are all it sees), and a few features drifting in a model with many — their
 * share of the total error is small. Univariate detectors cover the first and last.
 */
import type { MomentAggregates } from './aggregates.js';
import { packedIndex } from './aggregates.js';
import {
  chunkSpread,
  sampleStd,
  DEFAULT_BAND_CHUNKS,
  DEFAULT_BAND_SIGMAS,
  referenceBand,
  type Band,
  type ChunkSpread,
} from './band.js';
import { checkColumns, topCategories, type FeatureColumn } from './feature-columns.js';
import { symmetricEigen } from './linear-algebra.js';

export const MISSING_CATEGORY = '__missing__';

export type EncodedColumn =
  | { readonly name: string; readonly kind: 'numeric'; readonly mean: number; readonly scale: number }
  | {
      readonly name: string;
      readonly kind: 'categorical';
      /** Reference share of each kept category (`__missing__` included when seen). */
      readonly frequencies: Readonly<Record<string, number>>;
      readonly mean: number;
      readonly scale: number;
    };

export interface ReconstructionOptions {
  /** Cumulative explained variance the kept components must exceed. @default 0.65 */
  readonly varianceThreshold?: number;
  /** Categories kept per categorical feature for the frequency encoding. @default 100 */
  readonly maxCategories?: number;
  /** Contiguous reference chunks for the band. @default 20 */
  readonly bandChunks?: number;
}

export interface ReconstructionModel {
  readonly kind: 'pca_reconstruction';
  readonly columns: readonly EncodedColumn[];
  /** Mean of the encoded reference rows (0 up to rounding for numeric columns). */
  readonly center: readonly number[];
  /** All eigenvalues of the encoded reference covariance, descending. */
  readonly eigenvalues: readonly number[];
  /** Kept components (q × d), unit vectors. */
  readonly components: readonly (readonly number[])[];
  /** P = I - Σ_k w_k w_kᵀ (d × d rows): the projector on the discarded components. */
  readonly projector: readonly (readonly number[])[];
  /** Per feature, (P C P)_jj on the reference. */
  readonly referenceContributions: readonly number[];
  /**
   * The band's spread: chunkStd = max(σ over reference chunks, rowStd / sqrt(chunkRows)), so the
   * band is never narrower than the i.i.d. standard error of the window's mean error.
   */
  readonly spread: ChunkSpread;
  /** σ of the error over the reference chunks, as observed. */
  readonly observedChunkStd: number;
  /** Standard deviation (ddof = 1) of the reference rows' squared reconstruction errors. */
  readonly rowStd: number;
  readonly referenceRows: number;
}

export function fitReconstruction(
  columns: readonly FeatureColumn[],
  options: ReconstructionOptions = {},
): ReconstructionModel {
  const n = columns[0]?.values.length ?? 0;
  const d = columns.length;
  if (d < 2) throw new RangeError(`PCA reconstruction needs at least 2 features, got ${d}`);
  checkColumns(columns, n, 'reconstruction reference');
  const threshold = options.varianceThreshold ?? 0.65;
  if (!(threshold > 0 && threshold < 1))
    throw new RangeError(`varianceThreshold must be in (0, 1), got ${threshold}`);
  const encoded = columns.map((c) => encodeColumn(c, options.maxCategories ?? 100));
  const z = encodeRows(encoded, columns);
  const moments = momentsOf(z, 0, n);
  const center = moments.sum.map((s) => s / n);
  const cov = secondMomentAbout(moments, center);
  const eig = symmetricEigen(cov);
  const total = eig.values.reduce((s, v) => s + v, 0);
  if (!(total > 0)) throw new RangeError('PCA reconstruction: the encoded reference has no variance');
  let q = 0;
  for (let acc = 0; q < d;) {
    acc += (eig.values[q] as number) / total;
    q++;
    if (acc > threshold) break;
  }
  const components = eig.vectors.slice(0, q);
  const projector = Array.from({ length: d }, (_, i) =>
    Array.from(
      { length: d },
      (_, j) => (i === j ? 1 : 0) - components.reduce((s, w) => s + (w[i] as number) * (w[j] as number), 0),
    ),
  );
  const partial = { columns: encoded, center, projector };
  const chunkStats = chunkSpread(
    errorOf(partial, moments),
    n,
    options.bandChunks ?? DEFAULT_BAND_CHUNKS,
    (s, e) => errorOf(partial, momentsOf(z, s, e)),
  );
  if (chunkStats === undefined)
    throw new RangeError('PCA reconstruction: the reference chunks give no spread');
  const rowStd = rowErrorStd(z, center, projector);
  // σ is never below the i.i.d. standard error of a mean of row errors: 20 chunks estimate σ
  // to about ±16 %, and an underestimate alone would raise false alarms.
  const spread = {
    ...chunkStats,
    chunkStd: Math.max(chunkStats.chunkStd, rowStd / Math.sqrt(chunkStats.chunkRows)),
  };
  return {
    kind: 'pca_reconstruction',
    columns: encoded,
    center,
    eigenvalues: eig.values,
    components,
    projector,
    referenceContributions: contributionsOf(projector, cov),
    spread,
    observedChunkStd: chunkStats.chunkStd,
    rowStd,
    referenceRows: n,
  };
}

/** Sample standard deviation (ddof = 1) of the reference rows' squared reconstruction errors. */
function rowErrorStd(
  z: readonly Float64Array[],
  center: readonly number[],
  projector: readonly (readonly number[])[],
): number {
  const d = z.length;
  const n = (z[0] as Float64Array).length;
  const errors = new Float64Array(n);
  const centred = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    for (let a = 0; a < d; a++) centred[a] = ((z[a] as Float64Array)[r] as number) - (center[a] as number);
    let e = 0;
    for (let a = 0; a < d; a++) {
      const row = projector[a] as readonly number[];
      let inner = 0;
      for (let b = 0; b < d; b++) inner += (row[b] as number) * (centred[b] as number);
      e += (centred[a] as number) * inner;
    }
    errors[r] = e;
  }
  return sampleStd(Array.from(errors)) ?? 0;
}

function encodeColumn(c: FeatureColumn, maxCategories: number): EncodedColumn {
  if (c.kind === 'numeric') {
    let count = 0;
    let sum = 0;
    for (let i = 0; i < c.values.length; i++) {
      const v = c.values[i] as number;
      if (v === v) {
        count++;
        sum += v;
      }
    }
    const mean = count > 0 ? sum / count : 0;
    let ss = 0;
    for (let i = 0; i < c.values.length; i++) {
      const v = c.values[i] as number;
      if (v === v) ss += (v - mean) ** 2;
    }
    const std = count > 0 ? Math.sqrt(ss / count) : 0;
    return { name: c.name, kind: 'numeric', mean, scale: std > 0 ? std : 1 };
  }
  const labels = c.values.map((v) => v ?? MISSING_CATEGORY);
  const frequencies: Record<string, number> = {};
  for (const { name, count } of topCategories(labels, maxCategories))
    frequencies[name] = count / labels.length;
  const f = labels.map((v) => frequencies[v] ?? 0);
  const mean = f.reduce((s, v) => s + v, 0) / f.length;
  const std = Math.sqrt(f.reduce((s, v) => s + (v - mean) ** 2, 0) / f.length);
  return { name: c.name, kind: 'categorical', frequencies, mean, scale: std > 0 ? std : 1 };
}

/** Encodes one value of a column (the expression the SQL computes per row). */
export function encodeValue(column: EncodedColumn, value: number | string | null): number {
  if (column.kind === 'numeric') {
    if (typeof value !== 'number')
      throw new TypeError(`feature ${column.name} is numeric, got ${String(value)}`);
    return value !== value ? 0 : (value - column.mean) / column.scale;
  }
  if (typeof value === 'number') throw new TypeError(`feature ${column.name} is categorical, got ${value}`);
  const f = column.frequencies[value ?? MISSING_CATEGORY] ?? 0;
  return (f - column.mean) / column.scale;
}

function encodeRows(encoded: readonly EncodedColumn[], columns: readonly FeatureColumn[]): Float64Array[] {
  return encoded.map((e, j) => {
    const c = columns[j] as FeatureColumn;
    if (c.name !== e.name || c.kind !== e.kind) {
      throw new RangeError(`column ${j} is ${c.kind} ${c.name}, the model expects ${e.kind} ${e.name}`);
    }
    const out = new Float64Array(c.values.length);
    for (let i = 0; i < out.length; i++) out[i] = encodeValue(e, c.values[i] as number | string | null);
    return out;
  });
}

function momentsOf(z: readonly Float64Array[], start: number, end: number): MomentAggregates {
  const d = z.length;
  const sum = new Array<number>(d).fill(0);
  const products = new Array<number>((d * (d + 1)) / 2).fill(0);
  for (let i = 0; i < d; i++) {
    const zi = z[i] as Float64Array;
    let s = 0;
    for (let r = start; r < end; r++) s += zi[r] as number;
    sum[i] = s;
    for (let j = i; j < d; j++) {
      const zj = z[j] as Float64Array;
      let p = 0;
      for (let r = start; r < end; r++) p += (zi[r] as number) * (zj[r] as number);
      products[packedIndex(d, i, j)] = p;
    }
  }
  return { count: end - start, sum, sumOfProducts: products };
}

/** Rows to the window's moments of encoded rows (the specification of the SQL). */
export function momentsFromRows(
  model: ReconstructionModel,
  columns: readonly FeatureColumn[],
): MomentAggregates {
  const n = columns[0]?.values.length ?? 0;
  checkColumns(columns, n, 'window');
  return momentsOf(encodeRows(model.columns, columns), 0, n);
}

function secondMomentAbout(m: MomentAggregates, center: readonly number[]): number[][] {
  const d = center.length;
  const n = m.count;
  return Array.from({ length: d }, (_, i) =>
    Array.from({ length: d }, (_, j) => {
      const ci = center[i] as number;
      const cj = center[j] as number;
      const sij = m.sumOfProducts[packedIndex(d, i, j)] as number;
      return (sij - (m.sum[i] as number) * cj - ci * (m.sum[j] as number) + n * ci * cj) / n;
    }),
  );
}

function errorOf(
  model: Pick<ReconstructionModel, 'center' | 'projector' | 'columns'>,
  m: MomentAggregates,
): number {
  const second = secondMomentAbout(m, model.center);
  let e = 0;
  model.projector.forEach((row, i) =>
    row.forEach((p, j) => (e += p * ((second[i] as number[])[j] as number))),
  );
  return e;
}

function contributionsOf(
  projector: readonly (readonly number[])[],
  second: readonly (readonly number[])[],
): number[] {
  const d = projector.length;
  // (P M P)_jj = Σ_a Σ_b P_ja M_ab P_bj
  return Array.from({ length: d }, (_, j) => {
    let s = 0;
    for (let a = 0; a < d; a++) {
      const pja = (projector[j] as readonly number[])[a] as number;
      if (pja === 0) continue;
      let inner = 0;
      for (let b = 0; b < d; b++)
        inner +=
          ((second[a] as readonly number[])[b] as number) *
          ((projector[b] as readonly number[])[j] as number);
      s += pja * inner;
    }
    return s;
  });
}

export interface ReconstructionResult {
  readonly count: number;
  /** Mean squared reconstruction error of the window's encoded rows. */
  readonly error: number;
  readonly referenceValue: number;
  /** referenceValue ± sigmas · σ_n · sqrt(1 + n/N) (band.ts). */
  readonly band: Band;
  readonly alert: boolean;
  /** Per feature: its part of the window's error minus its part of the reference's. */
  readonly contributions: readonly { readonly feature: string; readonly value: number }[];
}

export function evaluateReconstruction(
  model: ReconstructionModel,
  window: MomentAggregates,
  sigmas = DEFAULT_BAND_SIGMAS,
): ReconstructionResult {
  const d = model.columns.length;
  if (window.sum.length !== d || window.sumOfProducts.length !== (d * (d + 1)) / 2) {
    throw new RangeError(
      `moments have ${window.sum.length} sums and ${window.sumOfProducts.length} products; the model has ${d} columns, so ${d} and ${(d * (d + 1)) / 2} (packed upper triangle)`,
    );
  }
  if (!(window.count > 0)) throw new RangeError(`window count must be > 0, got ${window.count}`);
  for (const v of [...window.sum, ...window.sumOfProducts]) {
    if (!Number.isFinite(v)) throw new RangeError(`moments must be finite, got ${String(v)}`);
  }
  const second = secondMomentAbout(window, model.center);
  const error = errorOf(model, window);
  const band = referenceBand(model.spread, window.count, sigmas);
  const parts = contributionsOf(model.projector, second);
  return {
    count: window.count,
    error,
    referenceValue: model.spread.referenceValue,
    band,
    alert: error < band.lower || error > band.upper,
    contributions: model.columns.map((c, j) => ({
      feature: c.name,
      value: (parts[j] as number) - (model.referenceContributions[j] as number),
    })),
  };
}
