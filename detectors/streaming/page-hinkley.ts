/**
 * Page–Hinkley test for a change in the mean of a stream, with River's defaults and
 * semantics: cumulative deviations from the running mean (minus/plus `delta`), faded by
 * `alpha`, alarm when the cumulative sum moves more than `threshold` (λ) from its extreme,
 * only after `minInstances` values; the detector resets on the update after a drift.
 * River starts the running maximum of the decrease sum at -1 (not -Infinity); so do we, so
 * detections land on the same index as River's (checked against its documented example).
 */

export type PageHinkleyMode = 'up' | 'down' | 'both';

export interface PageHinkleyOptions {
  /** @default 30 */
  readonly minInstances?: number;
  /** Magnitude of changes tolerated. @default 0.005 */
  readonly delta?: number;
  /** λ, the alarm threshold. @default 50 */
  readonly threshold?: number;
  /** Fading factor of the cumulative sums. @default 0.9999 */
  readonly alpha?: number;
  /** Detect increases, decreases or both. @default 'both' */
  readonly mode?: PageHinkleyMode;
}

export interface PageHinkleyState {
  readonly type: 'page_hinkley';
  readonly version: 1;
  readonly options: Required<PageHinkleyOptions>;
  readonly n: number;
  readonly mean: number;
  readonly sumIncrease: number;
  readonly sumDecrease: number;
  /** null stands for +Infinity before the first update (JSON has no Infinity). */
  readonly minIncrease: number | null;
  readonly maxDecrease: number;
  readonly driftDetected: boolean;
}

export class PageHinkleyDetector {
  readonly options: Required<PageHinkleyOptions>;
  private n = 0;
  private mean = 0;
  private sumIncrease = 0;
  private sumDecrease = 0;
  private minIncrease = Infinity;
  private maxDecrease = -1;
  private drift = false;

  constructor(options: PageHinkleyOptions = {}) {
    this.options = {
      minInstances: options.minInstances ?? 30,
      delta: options.delta ?? 0.005,
      threshold: options.threshold ?? 50,
      alpha: options.alpha ?? 1 - 0.0001,
      mode: options.mode ?? 'both',
    };
  }

  get driftDetected(): boolean {
    return this.drift;
  }

  private reset(): void {
    this.n = 0;
    this.mean = 0;
    this.sumIncrease = 0;
    this.sumDecrease = 0;
    this.minIncrease = Infinity;
    this.maxDecrease = -1;
    this.drift = false;
  }

  update(x: number): boolean {
    if (this.drift) this.reset();
    this.n += 1;
    this.mean += (x - this.mean) / this.n;
    const dev = x - this.mean;
    const { alpha, delta, threshold, mode } = this.options;
    this.sumIncrease = alpha * this.sumIncrease + dev - delta;
    this.sumDecrease = alpha * this.sumDecrease + dev + delta;
    this.minIncrease = Math.min(this.minIncrease, this.sumIncrease);
    this.maxDecrease = Math.max(this.maxDecrease, this.sumDecrease);
    if (this.n >= this.options.minInstances) {
      const up = (mode === 'up' || mode === 'both') && this.sumIncrease - this.minIncrease > threshold;
      const down = (mode === 'down' || mode === 'both') && this.maxDecrease - this.sumDecrease > threshold;
      this.drift = up || down;
    }
    return this.drift;
  }

  toJSON(): PageHinkleyState {
    return {
      type: 'page_hinkley',
      version: 1,
      options: { ...this.options },
      n: this.n,
      mean: this.mean,
      sumIncrease: this.sumIncrease,
      sumDecrease: this.sumDecrease,
      minIncrease: Number.isFinite(this.minIncrease) ? this.minIncrease : null,
      maxDecrease: this.maxDecrease,
      driftDetected: this.drift,
    };
  }

  static fromJSON(state: PageHinkleyState): PageHinkleyDetector {
    if (state.type !== 'page_hinkley' || state.version !== 1) {
      throw new RangeError(`not a Page-Hinkley v1 state (type ${String(state.type)})`);
    }
    const d = new PageHinkleyDetector(state.options);
    d.n = state.n;
    d.mean = state.mean;
    d.sumIncrease = state.sumIncrease;
    d.sumDecrease = state.sumDecrease;
    d.minIncrease = state.minIncrease ?? Infinity;
    d.maxDecrease = state.maxDecrease;
    d.drift = state.driftDetected;
    return d;
  }
}
