import type { OutcomeEvent, PredictionEvent } from '../../src/events/types.js';
import { outcomeRow, predictionRow } from '../../src/store/event-rows.js';
import { normal } from './random.js';

/**
 * Synthetic prediction streams for the estimation tests (issue 15), as rows ready to insert into
 * `predictions` / `outcomes` (JSONEachRow lines). Seeded: the same random source gives the same
 * rows.
 */

export interface StreamRows {
  readonly predictions: string[];
  readonly outcomes: string[];
}

export function emptyRows(): StreamRows {
  return { predictions: [], outcomes: [] };
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

function push(
  rows: StreamRows,
  event: PredictionEvent,
  label: string | number | undefined,
  labelDelayMs: number,
  nowMs: number,
): void {
  rows.predictions.push(`${JSON.stringify(predictionRow(event, 'test', nowMs))}\n`);
  if (label === undefined) return;
  const outcome: OutcomeEvent = {
    model: event.model,
    id: event.id,
    timestampMs: event.timestampMs + labelDelayMs,
    label,
    extra: '',
  };
  rows.outcomes.push(`${JSON.stringify(outcomeRow(outcome, 'test', nowMs))}\n`);
}

export interface BinaryOptions {
  /** Shift of the inputs' means (covariate shift; the concept stays). */
  readonly shift?: number;
  /** Spread of the inputs (covariate shift too: < 1 crowds them near the decision boundary). @default 1 */
  readonly scale?: number;
  /** Share of rows that get an outcome. @default 1 */
  readonly labelled?: number;
  /** Share of rows whose score is sent as a single number rather than a map. @default 0 */
  readonly singleScore?: number;
  readonly labelDelayMs?: number;
}

/**
 * A binary classifier (the simulation study's): x ~ N(shift, 1)^3 and a category, the truth
 * P(fraud | x) = σ(1.2 x1 - 0.8 x2 + 0.5 x3 - 0.3), an imperfect, over-confident model
 * s = σ(1.6 (1.1 x1 - 0.9 x2 + 0.4 x3 - 0.2)), predicting `fraud` when s >= 0.5.
 */
export function binaryEvent(
  rows: StreamRows,
  r: () => number,
  model: string,
  id: string,
  tsMs: number,
  nowMs: number,
  options: BinaryOptions = {},
): void {
  const shift = options.shift ?? 0;
  const scale = options.scale ?? 1;
  const x1 = normal(r) * scale + shift;
  const x2 = normal(r) * scale - 0.6 * shift;
  const x3 = normal(r) * scale + 0.4 * shift;
  const channel = r() < 0.6 ? 'web' : r() < 0.7 ? 'app' : 'shop';
  const y = r() < sigmoid(1.2 * x1 - 0.8 * x2 + 0.5 * x3 - 0.3) ? 'fraud' : 'ok';
  const s = sigmoid(1.6 * (1.1 * x1 - 0.9 * x2 + 0.4 * x3 - 0.2));
  const single = r() < (options.singleScore ?? 0);
  push(
    rows,
    {
      model,
      version: 'v1',
      id,
      timestampMs: tsMs,
      features: { x1, x2: r() < 0.05 ? null : x2, x3, channel },
      prediction: s >= 0.5 ? 'fraud' : 'ok',
      scores: single ? s : { fraud: s, ok: 1 - s },
      extra: '',
    },
    r() < (options.labelled ?? 1) ? y : undefined,
    options.labelDelayMs ?? 1_000,
    nowMs,
  );
}

/** Three classes: softmax of the truth B x and of a sharper, noisier model M x. */
export function multiclassEvent(
  rows: StreamRows,
  r: () => number,
  model: string,
  id: string,
  tsMs: number,
  nowMs: number,
  options: { shift?: number; labelled?: number } = {},
): void {
  const shift = options.shift ?? 0;
  const x = [normal(r) + shift, normal(r) - 0.5 * shift, normal(r) + 0.5 * shift];
  const softmax = (z: number[]): number[] => {
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const t = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / t);
  };
  const dot = (w: number[]): number => w.reduce((s, v, j) => s + v * (x[j] as number), 0);
  const truth = softmax([dot([1.0, -0.5, 0.2]), dot([-0.7, 0.9, 0.1]), dot([0.1, 0.3, -1.1])]);
  const scores = softmax(
    [dot([1.1, -0.4, 0.25]), dot([-0.8, 1.0, 0]), dot([0, 0.35, -1.2])].map((v) => 1.3 * v),
  );
  const classes = ['a', 'b', 'c'];
  let u = r();
  let y = 0;
  while (y < 2 && u > (truth[y] as number)) u -= truth[y++] as number;
  const best = scores.indexOf(Math.max(...scores));
  // One row in twenty lacks class c's score: CBPE counts only rows with every class's score.
  const map: Record<string, number> = { a: scores[0] as number, b: scores[1] as number };
  if (r() >= 0.05) map['c'] = scores[2] as number;
  push(
    rows,
    {
      model,
      version: 'v1',
      id,
      timestampMs: tsMs,
      features: { x1: x[0] as number, x2: x[1] as number, x3: x[2] as number },
      prediction: classes[best] as string,
      scores: map,
      extra: '',
    },
    r() < (options.labelled ?? 1) ? classes[y] : undefined,
    1_000,
    nowMs,
  );
}

/** Regression: the noise grows with |x1|, so the loss depends on where the inputs are. */
export function regressionEvent(
  rows: StreamRows,
  r: () => number,
  model: string,
  id: string,
  tsMs: number,
  nowMs: number,
  options: { shift?: number; labelled?: number } = {},
): void {
  const shift = options.shift ?? 0;
  const x1 = normal(r) + shift;
  const x2 = normal(r);
  const store = r() < 0.5 ? 's1' : r() < 0.5 ? 's2' : 's3';
  const mean = 3 + 2 * x1 - x2 + (store === 's1' ? 0.5 : 0);
  const y = mean + normal(r) * (0.5 + Math.abs(x1));
  const yhat = 3 + 1.9 * x1 - 1.1 * x2 + (store === 's1' ? 0.4 : 0);
  push(
    rows,
    {
      model,
      version: 'v1',
      id,
      timestampMs: tsMs,
      features: { x1, x2: r() < 0.03 ? null : x2, store },
      prediction: yhat,
      scores: null,
      extra: '',
    },
    r() < (options.labelled ?? 1) ? y : undefined,
    1_000,
    nowMs,
  );
}

/**
 * Two features whose correlation is `rho` (marginals N(0, 1) whatever rho), an independent one
 * and a category: the correlation flip keeps every marginal and changes the joint distribution.
 */
export function correlatedEvent(
  rows: StreamRows,
  r: () => number,
  model: string,
  id: string,
  tsMs: number,
  nowMs: number,
  rho: number,
): void {
  const a = normal(r);
  const b = normal(r);
  const x1 = a;
  const x2 = rho * a + Math.sqrt(1 - rho * rho) * b;
  push(
    rows,
    {
      model,
      version: 'v1',
      id,
      timestampMs: tsMs,
      features: { x1, x2, x3: normal(r) * 2 + 1, region: r() < 0.5 ? 'north' : 'south' },
      prediction: x1 + x2 > 0 ? 'yes' : 'no',
      scores: null,
      extra: '',
    },
    undefined,
    0,
    nowMs,
  );
}
