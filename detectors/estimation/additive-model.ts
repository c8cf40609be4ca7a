/**
 * Additive models over reference bins: target ≈ β₀ + Σ_inputs β[input, bin of the row].
 *
 * The point of the form: a window's mean prediction is β₀ + Σ_inputs Σ_b share_b · β[input, b],
 * linear in the window's bin shares, so it is computed exactly from per-input bin counts —
 * the O(bins) aggregates ClickHouse already produces — with no rows. The same form gives an
 * exact per-input decomposition of a change: input j contributes Σ_b Δshare_b · β[j, b].
 *
 * Bins (fixed by the reference): numeric input, the reference's quantile bins (numpy
 * `quantile` at i/bins, linear; inner edges, de-duplicated; bin b holds (e[b-1], e[b]]) then
 * one bin for missing; categorical input, the `maxCategories` most frequent reference
 * categories (ties by name), then `other`, then missing.
 *
 * Fit: ridge least squares on the one-hot design, intercept not penalised:
 * (XᵀX + λ·D) β = Xᵀt, D = diag(0, 1, …, 1), solved by Cholesky. The penalty λ (default 10,
 * in rows) makes the design identifiable (each input's one-hot columns sum to the intercept's)
 * and pulls the coefficient of a rare bin toward 0 rather than fitting its few rows.
 * Interactions between inputs are not modelled: a loss that depends on x₁ only when x₂ is
 * large is seen through its average effects.
 */
import { binIndex, quantileEdges } from '../binning.js';
import { sortedFinite } from '../numeric-input.js';
import type { BinnedInputAggregates } from './aggregates.js';
import { checkColumns, topCategories, type FeatureColumn } from './feature-columns.js';
import { choleskySolve } from './linear-algebra.js';

export type InputBins =
  | { readonly name: string; readonly kind: 'numeric'; readonly edges: readonly number[] }
  | { readonly name: string; readonly kind: 'categorical'; readonly categories: readonly string[] };

export interface AdditiveModel {
  readonly inputs: readonly InputBins[];
  readonly intercept: number;
  /** coefficients[j][b]: the effect of input j's bin b. */
  readonly coefficients: readonly (readonly number[])[];
  /** The reference's share of rows per input and bin (for decompositions). */
  readonly referenceShares: readonly (readonly number[])[];
  readonly ridge: number;
}

export interface AdditiveOptions {
  /** Quantile bins per numeric input. @default 10 */
  readonly bins?: number;
  /** Categories kept per categorical input. @default 20 */
  readonly maxCategories?: number;
  /** Ridge penalty λ, in rows. @default 10 */
  readonly ridge?: number;
}

/** Number of bins of an input: value bins (+ other for categories) + missing. */
export function binCount(input: InputBins): number {
  return input.kind === 'numeric' ? input.edges.length + 2 : input.categories.length + 2;
}

export function inputBinsOf(column: FeatureColumn, options: AdditiveOptions = {}): InputBins {
  if (column.kind === 'numeric') {
    const edges = quantileEdges(sortedFinite(column.values), options.bins ?? 10);
    return { name: column.name, kind: 'numeric', edges: [...edges] };
  }
  const categories = topCategories(column.values, options.maxCategories ?? 20).map((c) => c.name);
  return { name: column.name, kind: 'categorical', categories };
}

/** Bin of one value: NaN / null is the last (missing) bin. */
export function binOf(input: InputBins, value: number | string | null): number {
  if (input.kind === 'numeric') {
    if (typeof value !== 'number')
      throw new TypeError(`input ${input.name} is numeric, got ${String(value)}`);
    return value !== value ? input.edges.length + 1 : binIndex(input.edges, value);
  }
  if (value === null) return input.categories.length + 1;
  if (typeof value !== 'string')
    throw new TypeError(`input ${input.name} is categorical, got ${String(value)}`);
  const k = input.categories.indexOf(value);
  return k >= 0 ? k : input.categories.length;
}

/** Per-row bin indices of every input. */
export function binRows(inputs: readonly InputBins[], columns: readonly FeatureColumn[]): Int32Array[] {
  return inputs.map((input, j) => {
    const column = columns[j] as FeatureColumn;
    if (column.name !== input.name || column.kind !== input.kind) {
      throw new RangeError(
        `column ${j} is ${column.kind} ${column.name}, the model expects ${input.kind} ${input.name}`,
      );
    }
    const out = new Int32Array(column.values.length);
    for (let i = 0; i < out.length; i++) out[i] = binOf(input, column.values[i] as number | string | null);
    return out;
  });
}

/** Fits β for each target (several targets share one design and one factorisation's inputs). */
export function fitAdditive(
  inputs: readonly InputBins[],
  columns: readonly FeatureColumn[],
  targets: readonly ArrayLike<number>[],
  ridge = 10,
): AdditiveModel[] {
  const rows = columns[0]?.values.length ?? 0;
  checkColumns(columns, rows, 'additive model');
  if (rows === 0) throw new RangeError('additive model: no reference rows');
  if (!(ridge > 0)) throw new RangeError(`ridge penalty must be > 0, got ${ridge}`);
  const bins = binRows(inputs, columns);
  const offsets: number[] = [];
  let p = 1;
  for (const input of inputs) {
    offsets.push(p);
    p += binCount(input);
  }
  const gram: number[][] = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  const rhs = targets.map(() => new Array<number>(p).fill(0));
  const active = new Int32Array(inputs.length + 1);
  for (let i = 0; i < rows; i++) {
    active[0] = 0;
    for (let j = 0; j < inputs.length; j++)
      active[j + 1] = (offsets[j] as number) + ((bins[j] as Int32Array)[i] as number);
    for (const a of active) {
      const row = gram[a] as number[];
      for (const b of active) row[b] = (row[b] as number) + 1;
    }
    targets.forEach((t, k) => {
      const v = t[i] as number;
      if (!Number.isFinite(v)) throw new RangeError(`additive model: target ${k} row ${i} is ${String(v)}`);
      const r = rhs[k] as number[];
      for (const a of active) r[a] = (r[a] as number) + v;
    });
  }
  for (let a = 1; a < p; a++) (gram[a] as number[])[a] = ((gram[a] as number[])[a] as number) + ridge;
  const referenceShares = inputs.map((input, j) => {
    const shares = new Array<number>(binCount(input)).fill(0);
    for (const b of bins[j] as Int32Array) shares[b] = (shares[b] as number) + 1;
    return shares.map((c) => c / rows);
  });
  return rhs.map((r) => {
    const beta = choleskySolve(gram, r);
    return {
      inputs,
      intercept: beta[0] as number,
      coefficients: inputs.map((input, j) =>
        beta.slice(offsets[j], (offsets[j] as number) + binCount(input)),
      ),
      referenceShares,
      ridge,
    };
  });
}

/** Shares per input and bin of a window's bin counts (validated against the model's bins). */
export function windowShares(model: AdditiveModel, window: BinnedInputAggregates): number[][] {
  if (window.binCounts.length !== model.inputs.length) {
    throw new RangeError(
      `window has bin counts for ${window.binCounts.length} inputs, the model has ${model.inputs.length} (${model.inputs.map((i) => i.name).join(', ')})`,
    );
  }
  if (!(window.count > 0)) throw new RangeError(`window count must be > 0, got ${window.count}`);
  return model.inputs.map((input, j) => {
    const counts = window.binCounts[j] as readonly number[];
    if (counts.length !== binCount(input)) {
      throw new RangeError(`input ${input.name}: ${counts.length} bin counts, expected ${binCount(input)}`);
    }
    let total = 0;
    for (const c of counts) {
      if (!(c >= 0)) throw new RangeError(`input ${input.name}: bin count ${String(c)} is not a count`);
      total += c;
    }
    if (total !== window.count) {
      throw new RangeError(
        `input ${input.name}: bin counts sum to ${total}, the window has ${window.count} rows`,
      );
    }
    return counts.map((c) => c / window.count);
  });
}

/** The window's mean prediction β₀ + Σ_j Σ_b share_jb β_jb. */
export function additiveMean(model: AdditiveModel, shares: readonly (readonly number[])[]): number {
  let s = model.intercept;
  model.coefficients.forEach((beta, j) => {
    const sh = shares[j] as readonly number[];
    for (let b = 0; b < beta.length; b++) s += (sh[b] as number) * (beta[b] as number);
  });
  return s;
}

/** Per input: Σ_b (window share - reference share) · β_jb; they sum to the change of the mean. */
export function additiveContributions(
  model: AdditiveModel,
  shares: readonly (readonly number[])[],
): number[] {
  return model.coefficients.map((beta, j) => {
    const sh = shares[j] as readonly number[];
    const ref = model.referenceShares[j] as readonly number[];
    let s = 0;
    for (let b = 0; b < beta.length; b++) s += ((sh[b] as number) - (ref[b] as number)) * (beta[b] as number);
    return s;
  });
}

/** Rows to the per-input bin counts ClickHouse computes (the specification). */
export function binnedAggregatesFromRows(
  inputs: readonly InputBins[],
  columns: readonly FeatureColumn[],
): BinnedInputAggregates {
  const rows = columns[0]?.values.length ?? 0;
  checkColumns(columns, rows, 'window');
  const bins = binRows(inputs, columns);
  return {
    count: rows,
    binCounts: inputs.map((input, j) => {
      const counts = new Array<number>(binCount(input)).fill(0);
      for (const b of bins[j] as Int32Array) counts[b] = (counts[b] as number) + 1;
      return counts;
    }),
  };
}
