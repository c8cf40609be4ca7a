/**
 * Holdout metrics the promotion gate compares. Each is a mean of per-row values (optionally
 * transformed, for RMSE), so the paired bootstrap can resample rows cheaply and McNemar can see
 * the per-row outcomes.
 */

export const PROMOTION_METRICS = ['accuracy', 'error_rate', 'mse', 'rmse', 'mae'] as const;
export type PromotionMetricName = (typeof PROMOTION_METRICS)[number];

export interface PromotionMetric {
  readonly name: PromotionMetricName;
  readonly higherIsBetter: boolean;
  /** Whether per-row values are right/wrong outcomes (McNemar applies). */
  readonly classification: boolean;
  readonly rowValue: (label: string | number, prediction: string | number) => number;
  /** From the mean of row values to the metric (identity except RMSE). */
  readonly finish: (meanRowValue: number) => number;
}

const identity = (v: number): number => v;

function numeric(value: string | number, what: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) throw new RangeError(`${what} ${JSON.stringify(value)} is not a finite number`);
  return n;
}

const METRICS: Readonly<Record<PromotionMetricName, PromotionMetric>> = {
  accuracy: {
    name: 'accuracy',
    higherIsBetter: true,
    classification: true,
    rowValue: (label, prediction) => (String(label) === String(prediction) ? 1 : 0),
    finish: identity,
  },
  error_rate: {
    name: 'error_rate',
    higherIsBetter: false,
    classification: true,
    rowValue: (label, prediction) => (String(label) === String(prediction) ? 0 : 1),
    finish: identity,
  },
  mse: {
    name: 'mse',
    higherIsBetter: false,
    classification: false,
    rowValue: (label, prediction) => (numeric(prediction, 'prediction') - numeric(label, 'label')) ** 2,
    finish: identity,
  },
  rmse: {
    name: 'rmse',
    higherIsBetter: false,
    classification: false,
    rowValue: (label, prediction) => (numeric(prediction, 'prediction') - numeric(label, 'label')) ** 2,
    finish: Math.sqrt,
  },
  mae: {
    name: 'mae',
    higherIsBetter: false,
    classification: false,
    rowValue: (label, prediction) => Math.abs(numeric(prediction, 'prediction') - numeric(label, 'label')),
    finish: identity,
  },
};

export function promotionMetric(name: PromotionMetricName): PromotionMetric {
  const metric = METRICS[name];
  if (metric === undefined) {
    throw new RangeError(
      `unknown promotion metric ${JSON.stringify(name)}; use one of ${PROMOTION_METRICS.join(', ')}`,
    );
  }
  return metric;
}

export function rowValues(
  metric: PromotionMetric,
  labels: readonly (string | number)[],
  predictions: readonly (string | number)[],
): Float64Array {
  const out = new Float64Array(labels.length);
  for (let i = 0; i < labels.length; i++)
    out[i] = metric.rowValue(labels[i] as string | number, predictions[i] as string | number);
  return out;
}

export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] as number;
  return sum / values.length;
}
