/**
 * Direct loss estimation (DLE) for regression: the window's MAE and RMSE without labels.
 *
 * NannyML's DLE trains a second model on the reference to predict each row's loss from its
 * features and the prediction, and averages its predictions over the window. Ours is the
 * additive model of additive-model.ts (a level and a slope per reference bin of every numeric
 * feature and of the prediction, a level per category), fitted twice: to |y - ŷ| (→ MAE) and
 * to (y - ŷ)² (→ RMSE = sqrt of the window's mean predicted squared error). Because the model
 * is additive and piecewise linear, the window's mean predicted loss is a linear function of
 * the window's per-bin counts and sums: exact from those aggregates, no rows. Negative means (possible with an additive model, never seen in practice)
 * are clipped to 0.
 *
 * Assumptions: no concept drift (the loss given the features and the prediction is the
 * reference's); the loss is roughly additive over features (interactions are averaged). Its
 * band: σ of the realized MAE / RMSE over reference chunks (band.ts) and, in quadrature, the
 * jackknife standard error of the estimate over the loss models refitted with each reference
 * chunk left out.
 */
import type { BinnedInputAggregates } from './aggregates.js';
import {
  chunkBounds,
  chunkSpread,
  jackknifeStd,
  DEFAULT_BAND_CHUNKS,
  DEFAULT_BAND_SIGMAS,
  estimateBand,
  referenceBand,
  type ChunkSpread,
} from './band.js';
import {
  additiveContributions,
  additiveMean,
  binnedAggregatesFromRows,
  fitAdditive,
  inputBinsOf,
  windowTerms,
  type AdditiveModel,
  type AdditiveOptions,
  type InputBins,
} from './additive-model.js';
import { checkColumns, type FeatureColumn } from './feature-columns.js';

export const PREDICTION_INPUT = '__prediction__';

export interface RegressionReference {
  readonly features: readonly FeatureColumn[];
  readonly predictions: ArrayLike<number>;
  readonly actual: ArrayLike<number>;
}

export interface DleOptions extends AdditiveOptions {
  /** Contiguous reference chunks for the band. @default 20 */
  readonly bandChunks?: number;
}

export type DleMetric = 'mae' | 'rmse';

export interface DleModel {
  readonly kind: 'dle';
  /** The features, then the prediction (named `__prediction__`): the window's bin counts follow this order. */
  readonly inputs: readonly InputBins[];
  readonly absoluteError: AdditiveModel;
  readonly squaredError: AdditiveModel;
  readonly spreads: Record<DleMetric, ChunkSpread | undefined>;
  /** Both models refitted with reference chunk j left out, j = 0 … K-1 (the jackknife). */
  readonly jackknife: readonly {
    readonly absoluteError: Coefficients;
    readonly squaredError: Coefficients;
  }[];
  readonly referenceRows: number;
}

/** The fitted numbers of an additive model (its bins are the full model's). */
export type Coefficients = Pick<AdditiveModel, 'intercept' | 'coefficients' | 'slopes'>;

const coefficientsOf = (m: AdditiveModel): Coefficients => ({
  intercept: m.intercept,
  coefficients: m.coefficients,
  slopes: m.slopes,
});

/** The columns without rows [start, end). */
function leaveOut(columns: readonly FeatureColumn[], start: number, end: number): FeatureColumn[] {
  return columns.map((c) =>
    c.kind === 'numeric'
      ? { ...c, values: Float64Array.from(c.values).filter((_, i) => i < start || i >= end) }
      : { ...c, values: c.values.filter((_, i) => i < start || i >= end) },
  );
}

function inputColumns(reference: {
  features: readonly FeatureColumn[];
  predictions: ArrayLike<number>;
}): FeatureColumn[] {
  return [...reference.features, { name: PREDICTION_INPUT, kind: 'numeric', values: reference.predictions }];
}

export function fitDle(reference: RegressionReference, options: DleOptions = {}): DleModel {
  const n = reference.actual.length;
  const columns = inputColumns(reference);
  checkColumns(columns, n, 'DLE reference');
  const absErr = new Float64Array(n);
  const sqErr = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const y = reference.actual[i] as number;
    const yhat = reference.predictions[i] as number;
    if (!Number.isFinite(y) || !Number.isFinite(yhat)) {
      throw new RangeError(
        `DLE reference row ${i}: actual ${String(y)} and prediction ${String(yhat)} must be finite`,
      );
    }
    absErr[i] = Math.abs(y - yhat);
    sqErr[i] = (y - yhat) ** 2;
  }
  const inputs = columns.map((c) => inputBinsOf(c, options));
  const [absoluteError, squaredError] = fitAdditive(
    inputs,
    columns,
    [absErr, sqErr],
    options.ridge ?? 10,
  ) as [AdditiveModel, AdditiveModel];
  const chunks = options.bandChunks ?? DEFAULT_BAND_CHUNKS;
  const jackknife = chunkBounds(n, chunks).map(([start, end]) => {
    const keep = (_: number, i: number) => i < start || i >= end;
    const [a, q] = fitAdditive(
      inputs,
      leaveOut(columns, start, end),
      [absErr.filter(keep), sqErr.filter(keep)],
      options.ridge ?? 10,
    ) as [AdditiveModel, AdditiveModel];
    return { absoluteError: coefficientsOf(a), squaredError: coefficientsOf(q) };
  });
  const mean = (a: Float64Array, s: number, e: number) => {
    let t = 0;
    for (let i = s; i < e; i++) t += a[i] as number;
    return t / (e - s);
  };
  return {
    kind: 'dle',
    inputs,
    absoluteError,
    squaredError,
    spreads: {
      mae: chunkSpread(mean(absErr, 0, n), n, chunks, (s, e) => mean(absErr, s, e)),
      rmse: chunkSpread(Math.sqrt(mean(sqErr, 0, n)), n, chunks, (s, e) => Math.sqrt(mean(sqErr, s, e))),
    },
    jackknife,
    referenceRows: n,
  };
}

export interface DleMetricEstimate {
  readonly metric: DleMetric;
  readonly estimated: number;
  readonly estimatedLower: number | undefined;
  readonly estimatedUpper: number | undefined;
  readonly referenceValue: number | undefined;
  readonly referenceLower: number | undefined;
  readonly referenceUpper: number | undefined;
  readonly alert: boolean;
  /** The loss models' jackknife standard error of the estimate (in the bands, in quadrature). */
  readonly modelStd: number;
}

export interface DleEstimate {
  readonly count: number;
  readonly metrics: readonly DleMetricEstimate[];
  /** Per input (features, then the prediction): its share of the change of the estimated MAE vs the reference fit. */
  readonly maeContributions: readonly { readonly input: string; readonly value: number }[];
}

export function estimateDle(
  model: DleModel,
  window: BinnedInputAggregates,
  sigmas = DEFAULT_BAND_SIGMAS,
): DleEstimate {
  const shares = windowTerms(model.absoluteError, window);
  const maeOf = (m: Coefficients) => Math.max(0, additiveMean({ ...model.absoluteError, ...m }, shares));
  const rmseOf = (m: Coefficients) =>
    Math.sqrt(Math.max(0, additiveMean({ ...model.squaredError, ...m }, shares)));
  const mae = maeOf(model.absoluteError);
  const rmse = rmseOf(model.squaredError);
  const modelStd = {
    mae: jackknifeStd(model.jackknife.map((j) => maeOf(j.absoluteError))),
    rmse: jackknifeStd(model.jackknife.map((j) => rmseOf(j.squaredError))),
  };
  const n = window.count;
  const metric = (name: DleMetric, estimated: number): DleMetricEstimate => {
    const spread = model.spreads[name];
    if (spread === undefined) {
      return {
        metric: name,
        estimated,
        estimatedLower: undefined,
        estimatedUpper: undefined,
        referenceValue: undefined,
        referenceLower: undefined,
        referenceUpper: undefined,
        alert: false,
        modelStd: modelStd[name],
      };
    }
    const est = estimateBand(spread, estimated, n, sigmas, modelStd[name]);
    const ref = referenceBand(spread, n, sigmas, modelStd[name]);
    return {
      metric: name,
      estimated,
      estimatedLower: est.lower,
      estimatedUpper: est.upper,
      referenceValue: spread.referenceValue,
      referenceLower: ref.lower,
      referenceUpper: ref.upper,
      alert: estimated < ref.lower || estimated > ref.upper,
      modelStd: modelStd[name],
    };
  };
  const contributions = additiveContributions(model.absoluteError, shares);
  return {
    count: n,
    metrics: [metric('mae', mae), metric('rmse', rmse)],
    maeContributions: model.inputs.map((input, j) => ({
      input: input.name,
      value: contributions[j] as number,
    })),
  };
}

/** Rows (features and predictions) to the window's bin counts over the model's inputs. */
export function dleAggregatesFromRows(
  model: DleModel,
  rows: { readonly features: readonly FeatureColumn[]; readonly predictions: ArrayLike<number> },
): BinnedInputAggregates {
  return binnedAggregatesFromRows(model.inputs, inputColumns(rows));
}
