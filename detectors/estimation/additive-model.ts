/**
 * Additive models over reference bins, piecewise linear in numeric inputs:
 *
 *   target ≈ β₀ + Σ_inputs [ β[j, bin] + γ[j, bin] · (x_j - c[j, bin]) / s_j ]
 *
 * where the slope term exists for the value bins of numeric inputs only, c[j, b] is the
 * reference mean of x_j in bin b and s_j the reference std of x_j.
 *
 * The point of the form: a window's mean prediction is
 *   β₀ + Σ_j Σ_b ( share_b · β[j, b] + γ[j, b] · (S_b / n - share_b · c[j, b]) / s_j ),
 * with share_b and S_b the window's share of rows and Σ x in bin b — linear in per-bin counts
 * and sums, so it is computed exactly from O(bins) aggregates with no rows, and it splits
 * exactly by input (each input's term, minus its value on the reference, is that input's
 * contribution to a change; on the reference every slope term averages to 0 by the choice of
 * c). The slopes matter when a window moves within an open-ended outer bin: a constant per bin
 * would give the tail's reference average to values far beyond it; the slope extrapolates the
 * trend inside the bin linearly.
 *
 * Bins (fixed by the reference): numeric input, the reference's quantile bins (numpy
 * `quantile` at i/bins, linear; inner edges, de-duplicated; bin b holds (e[b-1], e[b]]) then
 * one bin for missing; categorical input, the `maxCategories` most frequent reference
 * categories (ties by name), then `other`, then missing.
 *
 * Fit: ridge least squares, intercept not penalised: (XᵀX + λ·D) θ = Xᵀt, D = diag(0, 1, …, 1),
 * solved by Cholesky. The penalty λ (default 10, in rows) makes the design identifiable (each
 * input's one-hot columns sum to the intercept's) and pulls the effects of a rare bin toward 0
 * rather than fitting its few rows. Interactions between inputs are not modelled: a loss that
 * depends on x₁ only when x₂ is large is seen through its average effects.
 */
import { binIndex, quantileEdges } from '../binning.js';
import { sortedFinite } from '../numeric-input.js';
import type { BinnedInputAggregates } from './aggregates.js';
import { checkColumns, topCategories, type FeatureColumn } from './feature-columns.js';
import { choleskySolve } from './linear-algebra.js';

export type InputBins =
  | {
      readonly name: string;
      readonly kind: 'numeric';
      readonly edges: readonly number[];
      /** Reference mean of the input in each value bin (edges.length + 1 entries; 0 for an empty bin). */
      readonly centers: readonly number[];
      /** Reference standard deviation (ddof = 0) of the input; 1 when constant or absent. */
      readonly scale: number;
    }
  | { readonly name: string; readonly kind: 'categorical'; readonly categories: readonly string[] };

export interface AdditiveModel {
  readonly inputs: readonly InputBins[];
  readonly intercept: number;
  /** coefficients[j][b]: the level of input j's bin b. */
  readonly coefficients: readonly (readonly number[])[];
  /** slopes[j][b]: the slope in input j's value bin b (numeric inputs; [] for categorical ones). */
  readonly slopes: readonly (readonly number[])[];
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

/** Number of slope terms of an input: its value bins when numeric, else 0. */
export function slopeCount(input: InputBins): number {
  return input.kind === 'numeric' ? input.edges.length + 1 : 0;
}

export function inputBinsOf(column: FeatureColumn, options: AdditiveOptions = {}): InputBins {
  if (column.kind === 'numeric') {
    const sorted = sortedFinite(column.values);
    const edges = [...quantileEdges(sorted, options.bins ?? 10)];
    const sums = new Array<number>(edges.length + 1).fill(0);
    const counts = new Array<number>(edges.length + 1).fill(0);
    let total = 0;
    for (let i = 0; i < column.values.length; i++) {
      const v = column.values[i] as number;
      if (v !== v) continue;
      const b = binIndex(edges, v);
      sums[b] = (sums[b] as number) + v;
      counts[b] = (counts[b] as number) + 1;
      total += v;
    }
    const mean = sorted.length > 0 ? total / sorted.length : 0;
    let ss = 0;
    for (const v of sorted) ss += (v - mean) ** 2;
    const std = sorted.length > 0 ? Math.sqrt(ss / sorted.length) : 0;
    return {
      name: column.name,
      kind: 'numeric',
      edges,
      centers: sums.map((s, b) => ((counts[b] as number) > 0 ? s / (counts[b] as number) : 0)),
      scale: std > 0 ? std : 1,
    };
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

function checkInputs(inputs: readonly InputBins[], columns: readonly FeatureColumn[]): void {
  if (columns.length !== inputs.length) {
    throw new RangeError(`${columns.length} columns given, the model has ${inputs.length} inputs`);
  }
  inputs.forEach((input, j) => {
    const column = columns[j] as FeatureColumn;
    if (column.name !== input.name || column.kind !== input.kind) {
      throw new RangeError(
        `column ${j} is ${column.kind} ${column.name}, the model expects ${input.kind} ${input.name}`,
      );
    }
  });
}

/** Per-row bin indices of every input. */
export function binRows(inputs: readonly InputBins[], columns: readonly FeatureColumn[]): Int32Array[] {
  checkInputs(inputs, columns);
  return inputs.map((input, j) => {
    const column = columns[j] as FeatureColumn;
    const out = new Int32Array(column.values.length);
    for (let i = 0; i < out.length; i++) out[i] = binOf(input, column.values[i] as number | string | null);
    return out;
  });
}

/** Column layout: intercept, then per input its level columns and then its slope columns. */
function layout(inputs: readonly InputBins[]): { levels: number[]; slopes: number[]; p: number } {
  const levels: number[] = [];
  const slopes: number[] = [];
  let p = 1;
  for (const input of inputs) {
    levels.push(p);
    p += binCount(input);
    slopes.push(p);
    p += slopeCount(input);
  }
  return { levels, slopes, p };
}

/** Fits the model for each target (they share one design). */
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
  const { levels, slopes, p } = layout(inputs);
  const gram: number[][] = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  const rhs = targets.map(() => new Array<number>(p).fill(0));
  const cols: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < rows; i++) {
    cols.length = 0;
    vals.length = 0;
    cols.push(0);
    vals.push(1);
    inputs.forEach((input, j) => {
      const b = (bins[j] as Int32Array)[i] as number;
      cols.push((levels[j] as number) + b);
      vals.push(1);
      if (input.kind === 'numeric' && b <= input.edges.length) {
        const x = (columns[j] as { values: ArrayLike<number> }).values[i] as number;
        cols.push((slopes[j] as number) + b);
        vals.push((x - (input.centers[b] as number)) / input.scale);
      }
    });
    for (let a = 0; a < cols.length; a++) {
      const row = gram[cols[a] as number] as number[];
      const va = vals[a] as number;
      for (let c = 0; c < cols.length; c++)
        row[cols[c] as number] = (row[cols[c] as number] as number) + va * (vals[c] as number);
    }
    targets.forEach((t, k) => {
      const v = t[i] as number;
      if (!Number.isFinite(v)) throw new RangeError(`additive model: target ${k} row ${i} is ${String(v)}`);
      const r = rhs[k] as number[];
      for (let a = 0; a < cols.length; a++)
        r[cols[a] as number] = (r[cols[a] as number] as number) + v * (vals[a] as number);
    });
  }
  for (let a = 1; a < p; a++) (gram[a] as number[])[a] = ((gram[a] as number[])[a] as number) + ridge;
  const referenceShares = inputs.map((input, j) => {
    const counts = new Array<number>(binCount(input)).fill(0);
    for (const b of bins[j] as Int32Array) counts[b] = (counts[b] as number) + 1;
    return counts.map((c) => c / rows);
  });
  return rhs.map((r) => {
    const theta = choleskySolve(gram, r);
    return {
      inputs,
      intercept: theta[0] as number,
      coefficients: inputs.map((input, j) => theta.slice(levels[j], (levels[j] as number) + binCount(input))),
      slopes: inputs.map((input, j) => theta.slice(slopes[j], (slopes[j] as number) + slopeCount(input))),
      referenceShares,
      ridge,
    };
  });
}

/** A window's per-input terms: bin shares and, for numeric inputs, the slope regressors. */
export interface WindowTerms {
  readonly shares: readonly (readonly number[])[];
  /** Per numeric input and value bin: (S_b / n - share_b · c_b) / s ([] for categorical inputs). */
  readonly deviations: readonly (readonly number[])[];
}

/** Validates a window's aggregates against the model's bins and turns them into terms. */
export function windowTerms(model: AdditiveModel, window: BinnedInputAggregates): WindowTerms {
  const { inputs } = model;
  if (window.binCounts.length !== inputs.length || window.binSums.length !== inputs.length) {
    throw new RangeError(
      `window has bin counts for ${window.binCounts.length} and bin sums for ${window.binSums.length} inputs, the model has ${inputs.length} (${inputs.map((i) => i.name).join(', ')})`,
    );
  }
  const n = window.count;
  if (!(n > 0)) throw new RangeError(`window count must be > 0, got ${n}`);
  const shares = inputs.map((input, j) => {
    const counts = window.binCounts[j] as readonly number[];
    if (counts.length !== binCount(input)) {
      throw new RangeError(`input ${input.name}: ${counts.length} bin counts, expected ${binCount(input)}`);
    }
    let total = 0;
    for (const c of counts) {
      if (!(c >= 0)) throw new RangeError(`input ${input.name}: bin count ${String(c)} is not a count`);
      total += c;
    }
    if (total !== n)
      throw new RangeError(`input ${input.name}: bin counts sum to ${total}, the window has ${n} rows`);
    return counts.map((c) => c / n);
  });
  const deviations = inputs.map((input, j) => {
    const sums = window.binSums[j] as readonly number[];
    if (input.kind === 'categorical') {
      if (sums.length !== 0)
        throw new RangeError(`input ${input.name} is categorical: its bin sums must be []`);
      return [];
    }
    if (sums.length !== input.edges.length + 1) {
      throw new RangeError(
        `input ${input.name}: ${sums.length} bin sums, expected ${input.edges.length + 1} (one per value bin)`,
      );
    }
    return sums.map((s, b) => {
      if (!Number.isFinite(s))
        throw new RangeError(`input ${input.name}: bin sum ${String(s)} is not finite`);
      return (s / n - ((shares[j] as number[])[b] as number) * (input.centers[b] as number)) / input.scale;
    });
  });
  return { shares, deviations };
}

function inputTerm(model: AdditiveModel, terms: WindowTerms, j: number, shares: readonly number[]): number {
  const beta = model.coefficients[j] as readonly number[];
  const gamma = model.slopes[j] as readonly number[];
  const dev = terms.deviations[j] as readonly number[];
  let s = 0;
  for (let b = 0; b < beta.length; b++) s += (shares[b] as number) * (beta[b] as number);
  for (let b = 0; b < gamma.length; b++) s += (gamma[b] as number) * (dev[b] as number);
  return s;
}

/** The window's mean prediction. */
export function additiveMean(model: AdditiveModel, terms: WindowTerms): number {
  let s = model.intercept;
  for (let j = 0; j < model.inputs.length; j++)
    s += inputTerm(model, terms, j, terms.shares[j] as readonly number[]);
  return s;
}

/** The reference's mean prediction (slope terms average to 0 there). */
export function additiveReferenceMean(model: AdditiveModel): number {
  let s = model.intercept;
  model.coefficients.forEach((beta, j) => {
    const sh = model.referenceShares[j] as readonly number[];
    for (let b = 0; b < beta.length; b++) s += (sh[b] as number) * (beta[b] as number);
  });
  return s;
}

/** Per input: its term on the window minus its term on the reference; they sum to the change of the mean. */
export function additiveContributions(model: AdditiveModel, terms: WindowTerms): number[] {
  return model.inputs.map((_, j) => {
    const beta = model.coefficients[j] as readonly number[];
    const ref = model.referenceShares[j] as readonly number[];
    let reference = 0;
    for (let b = 0; b < beta.length; b++) reference += (ref[b] as number) * (beta[b] as number);
    return inputTerm(model, terms, j, terms.shares[j] as readonly number[]) - reference;
  });
}

/** Rows to the per-input bin counts and sums ClickHouse computes (the specification). */
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
    binSums: inputs.map((input, j) => {
      if (input.kind === 'categorical') return [];
      const sums = new Array<number>(input.edges.length + 1).fill(0);
      const values = (columns[j] as { values: ArrayLike<number> }).values;
      const b = bins[j] as Int32Array;
      for (let i = 0; i < rows; i++) {
        const k = b[i] as number;
        if (k <= input.edges.length) sums[k] = (sums[k] as number) + (values[i] as number);
      }
      return sums;
    }),
  };
}
