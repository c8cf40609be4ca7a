/**
 * Time-based split. Rows are ordered oldest first; the oldest go to train, the next to
 * validation (what trials are scored and pruned on), the newest to holdout, which no trial
 * sees: promotion compares champion and challenger on it. Pure.
 */

export interface SplitOptions {
  /** Share of rows for validation. @default 0.15 */
  readonly validationFraction?: number;
  /** Share of rows for the holdout (the newest). @default 0.15 */
  readonly holdoutFraction?: number;
  /** Fixed validation size; overrides the fraction. */
  readonly validationRows?: number;
  /** Fixed holdout size; overrides the fraction. */
  readonly holdoutRows?: number;
  /** Fewer labelled rows than this fails the preparation. @default 30 */
  readonly minRows?: number;
}

export interface SplitSizes {
  readonly train: number;
  readonly validation: number;
  readonly holdout: number;
}

export function splitSizes(total: number, options: SplitOptions = {}): SplitSizes {
  const vf = options.validationFraction ?? 0.15;
  const hf = options.holdoutFraction ?? 0.15;
  const minRows = options.minRows ?? 30;
  for (const [name, f] of [
    ['validationFraction', vf],
    ['holdoutFraction', hf],
  ] as const)
    if (!(f > 0 && f < 1)) throw new RangeError(`split.${name} must be in (0, 1), got ${f}`);
  if (vf + hf >= 1)
    throw new RangeError(`split.validationFraction + split.holdoutFraction must be < 1, got ${vf + hf}`);
  if (total < minRows)
    throw new RangeError(
      `only ${total} labelled rows, fewer than split.minRows (${minRows}): widen the lookback or wait for more outcomes`,
    );
  const holdout = options.holdoutRows ?? Math.max(1, Math.round(total * hf));
  const validation = options.validationRows ?? Math.max(1, Math.round(total * vf));
  const train = total - holdout - validation;
  if (train < 1)
    throw new RangeError(
      `split leaves no train rows: ${total} rows, validation ${validation}, holdout ${holdout}`,
    );
  return { train, validation, holdout };
}

/** Splits rows already sorted oldest first. */
export function timeSplit<T>(
  rows: readonly T[],
  sizes: SplitSizes,
): { train: T[]; validation: T[]; holdout: T[] } {
  return {
    train: rows.slice(0, sizes.train),
    validation: rows.slice(sizes.train, sizes.train + sizes.validation),
    holdout: rows.slice(sizes.train + sizes.validation, sizes.train + sizes.validation + sizes.holdout),
  };
}
