/**
 * Paired bootstrap confidence interval for the improvement of a challenger over a champion on
 * the same rows: each resample draws n row indices with replacement (seeded PRNG, so the same
 * inputs and seed give the same interval) and recomputes both metrics on those rows; the
 * interval is the alpha/2 and 1 - alpha/2 percentiles (linear interpolation between order
 * statistics, numpy's default) of the resampled improvements.
 */
import { Rng } from '../engine/index.js';

export interface PairedBootstrapOptions {
  /** Per-row values of the champion and challenger (same rows, same order). */
  readonly champion: ArrayLike<number>;
  readonly challenger: ArrayLike<number>;
  /** From the mean of row values to the metric. @default identity */
  readonly finish?: (meanRowValue: number) => number;
  /** Whether a higher metric is better; the improvement is signed so positive = challenger better. */
  readonly higherIsBetter: boolean;
  /** @default 2000 */
  readonly resamples?: number;
  /** Two-sided level: the CI covers 1 - alpha. @default 0.05 */
  readonly alpha?: number;
  /** @default 0 */
  readonly seed?: number;
}

export interface PairedBootstrapResult {
  /** Improvement on the full sample (positive = challenger better). */
  readonly estimate: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  readonly resamples: number;
  readonly alpha: number;
}

/** Linear-interpolation quantile of sorted values (numpy's default "linear" method). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const position = q * (n - 1);
  const lower = Math.floor(position);
  const upper = Math.min(n - 1, lower + 1);
  const weight = position - lower;
  return (sorted[lower] as number) * (1 - weight) + (sorted[upper] as number) * weight;
}

export function pairedBootstrap(options: PairedBootstrapOptions): PairedBootstrapResult {
  const { champion, challenger } = options;
  const n = champion.length;
  if (n === 0 || challenger.length !== n) {
    throw new RangeError(
      `paired bootstrap needs the same, non-zero number of rows for both models, got ${n} and ${challenger.length}`,
    );
  }
  const resamples = options.resamples ?? 2000;
  const alpha = options.alpha ?? 0.05;
  if (!Number.isSafeInteger(resamples) || resamples < 10) {
    throw new RangeError(`bootstrap resamples must be an integer >= 10, got ${resamples}`);
  }
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  const finish = options.finish ?? ((v: number) => v);
  const sign = options.higherIsBetter ? 1 : -1;
  const improvement = (sumA: number, sumB: number): number => sign * (finish(sumB / n) - finish(sumA / n));

  let totalA = 0;
  let totalB = 0;
  for (let i = 0; i < n; i++) {
    totalA += champion[i] as number;
    totalB += challenger[i] as number;
  }
  const rng = Rng.derive(options.seed ?? 0, 'paired-bootstrap');
  const diffs = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sumA = 0;
    let sumB = 0;
    for (let i = 0; i < n; i++) {
      const j = rng.nextInt(n);
      sumA += champion[j] as number;
      sumB += challenger[j] as number;
    }
    diffs[r] = improvement(sumA, sumB);
  }
  diffs.sort();
  return {
    estimate: improvement(totalA, totalB),
    ciLow: quantileSorted(diffs, alpha / 2),
    ciHigh: quantileSorted(diffs, 1 - alpha / 2),
    resamples,
    alpha,
  };
}
