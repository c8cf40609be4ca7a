import { normal, seededRandom as rng } from '../../../../kernel/seeded-random.js';
import type { EstimationRow } from '../../../../src/monitor/estimation/reference-rows.js';

/** Reference rows for the estimation unit tests, as the store would give them back (seeded). */

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
const noScores: Readonly<Record<string, number>> = {};

export interface RowOptions {
  readonly seed?: number;
  readonly shift?: number;
  /** Spread of the inputs (< 1 crowds them at the decision boundary). @default 1 */
  readonly scale?: number;
  /** Share of rows with an outcome. @default 1 */
  readonly labelled?: number;
  /** 'map' (class → score), 'number' (the positive class's score alone) or 'none'. @default 'map' */
  readonly scores?: 'map' | 'number' | 'none';
}

/** A binary classifier over x1..x3 and a category (test/support/estimation-streams.ts's). */
export function binaryRows(n: number, options: RowOptions = {}): EstimationRow[] {
  const r = rng(options.seed ?? 1);
  const shift = options.shift ?? 0;
  const scale = options.scale ?? 1;
  return Array.from({ length: n }, (_, i) => {
    const x1 = normal(r) * scale + shift;
    const x2 = normal(r) * scale - 0.6 * shift;
    const x3 = normal(r) * scale;
    const y = r() < sigmoid(1.2 * x1 - 0.8 * x2 + 0.5 * x3 - 0.3) ? 'fraud' : 'ok';
    const s = sigmoid(1.6 * (1.1 * x1 - 0.9 * x2 + 0.4 * x3 - 0.2));
    const labelled = r() < (options.labelled ?? 1);
    const mode = options.scores ?? 'map';
    return {
      id: String(i),
      tsMs: i * 1_000,
      features: { x1, x2, x3, channel: r() < 0.6 ? 'web' : 'app' },
      predictionLabel: s >= 0.5 ? 'fraud' : 'ok',
      predictionNumber: null,
      score: mode === 'number' ? s : null,
      scores: mode === 'map' ? { fraud: s, ok: 1 - s } : noScores,
      label: labelled ? y : null,
      labelNumber: null,
    };
  });
}

/** A regression whose noise grows with |x1|. */
export function regressionRows(n: number, options: RowOptions = {}): EstimationRow[] {
  const r = rng(options.seed ?? 2);
  const shift = options.shift ?? 0;
  return Array.from({ length: n }, (_, i) => {
    const x1 = normal(r) + shift;
    const x2 = normal(r);
    const y = 3 + 2 * x1 - x2 + normal(r) * (0.5 + Math.abs(x1));
    return {
      id: String(i),
      tsMs: i * 1_000,
      features: { x1, x2 },
      predictionLabel: '',
      predictionNumber: 3 + 1.9 * x1 - 1.1 * x2,
      score: null,
      scores: {},
      label: null,
      labelNumber: r() < (options.labelled ?? 1) ? y : null,
    };
  });
}

/** Two features with correlation rho (identical marginals whatever rho) and a third one. */
export function correlatedRows(n: number, rho: number, seed = 3): EstimationRow[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const a = normal(r);
    const b = normal(r);
    return {
      id: String(i),
      tsMs: i * 1_000,
      features: { x1: a, x2: rho * a + Math.sqrt(1 - rho * rho) * b, x3: normal(r) },
      predictionLabel: a > 0 ? 'yes' : 'no',
      predictionNumber: null,
      score: null,
      scores: {},
      label: null,
      labelNumber: null,
    };
  });
}
