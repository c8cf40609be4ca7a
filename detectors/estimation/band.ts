/**
 * Sampling-error bands from reference chunks (NannyML's approach, with the window's size
 * taken into account).
 *
 * At fit time the reference (labelled, in its stored order) is cut into `chunks` contiguous
 * chunks of m = floor(N / chunks) rows (the last N mod chunks rows are left out) and a
 * statistic (a realized metric, a reconstruction error) is computed on each; σ_m is their
 * standard deviation (ddof = 1). A statistic of a window of n rows then has a standard error of
 * σ_n = σ_m · sqrt(m / n), the 1/sqrt(n) law of a mean, which every statistic here follows
 * asymptotically (accuracy, precision, recall and F1 are ratios of means, ROC AUC is a
 * U-statistic, the reconstruction error a mean). Contiguous chunks keep whatever slow
 * variation the reference has, which makes σ_m honest rather than optimistic.
 *
 * Two bands come out of it (an estimator may add its own standard error in quadrature):
 * - the estimate's band, estimate ± k·σ_n: where the window's realized value is expected to be;
 * - the reference band (alert limits), referenceValue ± k·σ_n·sqrt(1 + n/N): where the
 *   statistic of a window from the reference's distribution falls, counting the reference
 *   value's own sampling error (σ_N² = σ_n² · n / N).
 */

/** How many σ wide a band is on each side. @default 3 */
export const DEFAULT_BAND_SIGMAS = 3;
/** Contiguous reference chunks for σ. @default 20 */
export const DEFAULT_BAND_CHUNKS = 20;
/** Fewest rows per chunk: below it the 1/sqrt(n) scaling is not to be trusted. */
export const MIN_CHUNK_ROWS = 50;

/** What a fitted model keeps about one statistic's sampling error. */
export interface ChunkSpread {
  /** The statistic on the whole reference. */
  readonly referenceValue: number;
  /** Rows per chunk (m). */
  readonly chunkRows: number;
  /** σ_m: standard deviation (ddof = 1) of the statistic over the chunks that had a value. */
  readonly chunkStd: number;
  /** Chunks that had a value (>= 2). */
  readonly chunks: number;
  /** Reference rows N. */
  readonly referenceRows: number;
}

export interface Band {
  readonly lower: number;
  readonly upper: number;
}

/** Chunk bounds [start, end) of `chunks` contiguous chunks of floor(rows / chunks) rows. */
export function chunkBounds(rows: number, chunks: number): [number, number][] {
  if (!Number.isInteger(chunks) || chunks < 2) {
    throw new RangeError(`band chunks must be an integer >= 2, got ${chunks}`);
  }
  const m = Math.floor(rows / chunks);
  if (m < MIN_CHUNK_ROWS) {
    throw new RangeError(
      `reference of ${rows} rows is too small for ${chunks} chunks of at least ${MIN_CHUNK_ROWS} rows; ` +
        `use a reference of at least ${chunks * MIN_CHUNK_ROWS} rows or fewer chunks`,
    );
  }
  return Array.from({ length: chunks }, (_, j) => [j * m, (j + 1) * m]);
}

/** Sample standard deviation (ddof = 1), two-pass; undefined for fewer than 2 values. */
export function sampleStd(values: readonly number[]): number | undefined {
  const n = values.length;
  if (n < 2) return undefined;
  let mean = 0;
  for (const v of values) mean += v;
  mean /= n;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return Math.sqrt(ss / (n - 1));
}

/**
 * The spread of a statistic over the reference chunks. `statistic(start, end)` computes it
 * on rows [start, end) (undefined when it has no value there, e.g. AUC of a one-class chunk).
 */
export function chunkSpread(
  referenceValue: number,
  referenceRows: number,
  chunks: number,
  statistic: (start: number, end: number) => number | undefined,
): ChunkSpread | undefined {
  const bounds = chunkBounds(referenceRows, chunks);
  const values: number[] = [];
  for (const [start, end] of bounds) {
    const v = statistic(start, end);
    if (v !== undefined) values.push(v);
  }
  const std = sampleStd(values);
  if (std === undefined) return undefined;
  return {
    referenceValue,
    chunkRows: (bounds[0] as [number, number])[1],
    chunkStd: std,
    chunks: values.length,
    referenceRows,
  };
}

/** σ_n for a window of n rows. */
export function windowStd(spread: ChunkSpread, n: number): number {
  if (!(n > 0)) throw new RangeError(`window size must be > 0, got ${n}`);
  return spread.chunkStd * Math.sqrt(spread.chunkRows / n);
}

/**
 * estimate ± sigmas · sqrt(σ_n² + extra²): the band of a window's realized value around its
 * estimate. `extraStd` is the estimator's own uncertainty (CBPE: the calibrators' jackknife
 * standard error), 0 when it has none.
 */
export function estimateBand(
  spread: ChunkSpread,
  estimate: number,
  n: number,
  sigmas = DEFAULT_BAND_SIGMAS,
  extraStd = 0,
): Band {
  const half = sigmas * Math.hypot(windowStd(spread, n), extraStd);
  return { lower: estimate - half, upper: estimate + half };
}

/**
 * referenceValue ± sigmas · sqrt(σ_n² (1 + n / N) + extra²): alert limits for a window of n
 * rows (an estimate's own uncertainty widens them too, so it alone does not raise alerts).
 */
export function referenceBand(
  spread: ChunkSpread,
  n: number,
  sigmas = DEFAULT_BAND_SIGMAS,
  extraStd = 0,
): Band {
  const half = sigmas * Math.hypot(windowStd(spread, n) * Math.sqrt(1 + n / spread.referenceRows), extraStd);
  return { lower: spread.referenceValue - half, upper: spread.referenceValue + half };
}

/** Delete-a-group jackknife standard error, sqrt((K-1)/K Σ (θ_j - θ̄)²); 0 without values. */
export function jackknifeStd(values: readonly (number | undefined)[]): number {
  const v = values.filter((x): x is number => x !== undefined);
  const k = v.length;
  if (k < 2) return 0;
  const mean = v.reduce((a, b) => a + b, 0) / k;
  return Math.sqrt(((k - 1) / k) * v.reduce((a, b) => a + (b - mean) ** 2, 0));
}
