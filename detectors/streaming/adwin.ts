/**
 * ADWIN (Bifet & Gavaldà 2007) for a stream of numbers (error indicator, loss), with
 * River's defaults and semantics: an exponential histogram with at most `maxBuckets`
 * buckets per row (row r holds buckets of 2^r items), a cut test every `clock` updates once
 * the window is longer than `gracePeriod`, and each detected cut drops the oldest bucket
 * until no cut remains. Like River, cut points are only tried between buckets that are not
 * the newest of their row, and the whole detector resets on the update after a drift.
 * Checked against the detection index in River's documented example (fixtures).
 *
 * State is plain numbers and arrays, so `toJSON` / `AdwinDetector.fromJSON` resume a
 * detector after a restart exactly where it was.
 */

export interface AdwinOptions {
  /** Confidence of the cut test. @default 0.002 */
  readonly delta?: number;
  /** Check for a cut every `clock` updates. @default 32 */
  readonly clock?: number;
  /** Buckets per row before two merge. @default 5 */
  readonly maxBuckets?: number;
  /** Minimum length of each sub-window in a cut. @default 5 */
  readonly minWindowLength?: number;
  /** No cut test until the window holds more than this many items. @default 10 */
  readonly gracePeriod?: number;
}

interface Row {
  /** Oldest first. */
  totals: number[];
  variances: number[];
}

export interface AdwinState {
  readonly type: 'adwin';
  readonly version: 1;
  readonly options: Required<AdwinOptions>;
  /** rows[0] holds single items (newest); the last row the oldest, largest buckets. */
  readonly rows: { totals: number[]; variances: number[] }[];
  readonly total: number;
  readonly variance: number;
  readonly width: number;
  readonly tick: number;
  readonly nDetections: number;
  readonly driftDetected: boolean;
}

export class AdwinDetector {
  readonly options: Required<AdwinOptions>;
  private rows: Row[] = [{ totals: [], variances: [] }];
  private total = 0;
  private variance = 0;
  private widthCount = 0;
  private tick = 0;
  private detections = 0;
  private drift = false;

  constructor(options: AdwinOptions = {}) {
    this.options = {
      delta: options.delta ?? 0.002,
      clock: options.clock ?? 32,
      maxBuckets: options.maxBuckets ?? 5,
      minWindowLength: options.minWindowLength ?? 5,
      gracePeriod: options.gracePeriod ?? 10,
    };
    if (!(this.options.delta > 0 && this.options.delta < 1)) {
      throw new RangeError(`ADWIN delta must be in (0, 1), got ${this.options.delta}`);
    }
  }

  get driftDetected(): boolean {
    return this.drift;
  }
  get width(): number {
    return this.widthCount;
  }
  get estimation(): number {
    return this.widthCount > 0 ? this.total / this.widthCount : 0;
  }
  get nDetections(): number {
    return this.detections;
  }

  private reset(): void {
    this.rows = [{ totals: [], variances: [] }];
    this.total = 0;
    this.variance = 0;
    this.widthCount = 0;
    this.tick = 0;
    this.detections = 0;
    this.drift = false;
  }

  /** Adds one value; returns true when a change was detected at this update. */
  update(value: number): boolean {
    if (this.drift) this.reset();
    this.insert(value);
    this.drift = this.detectChange();
    return this.drift;
  }

  private insert(value: number): void {
    this.widthCount += 1;
    const row0 = this.rows[0] as Row;
    row0.totals.push(value);
    row0.variances.push(0);
    if (this.widthCount > 1) {
      const d = value - this.total / (this.widthCount - 1);
      this.variance += ((this.widthCount - 1) * d * d) / this.widthCount;
    }
    this.total += value;
    this.compress();
  }

  private compress(): void {
    for (let r = 0; r < this.rows.length; r++) {
      const row = this.rows[r] as Row;
      if (row.totals.length !== this.options.maxBuckets + 1) break;
      if (r + 1 === this.rows.length) this.rows.push({ totals: [], variances: [] });
      const next = this.rows[r + 1] as Row;
      const size = 2 ** r;
      const t0 = row.totals[0] as number;
      const t1 = row.totals[1] as number;
      const mu1 = t0 / size;
      const mu2 = t1 / size;
      const cross = (size * size * (mu1 - mu2) * (mu1 - mu2)) / (2 * size);
      next.totals.push(t0 + t1);
      next.variances.push((row.variances[0] as number) + (row.variances[1] as number) + cross);
      row.totals.splice(0, 2);
      row.variances.splice(0, 2);
      if (next.totals.length <= this.options.maxBuckets) break;
    }
  }

  /** Drops the oldest bucket; returns its size. */
  private deleteOldest(): number {
    const r = this.rows.length - 1;
    const row = this.rows[r] as Row;
    const n = 2 ** r;
    const u = row.totals[0] as number;
    const v = row.variances[0] as number;
    const mu = u / n;
    this.widthCount -= n;
    this.total -= u;
    const muWindow = this.total / this.widthCount;
    this.variance -= v + (n * this.widthCount * (mu - muWindow) * (mu - muWindow)) / (n + this.widthCount);
    row.totals.shift();
    row.variances.shift();
    if (row.totals.length === 0 && this.rows.length > 1) this.rows.pop();
    return n;
  }

  private cutExceedsBound(n0: number, n1: number, deltaMean: number): boolean {
    const { delta, minWindowLength } = this.options;
    const deltaPrime = Math.log((2 * Math.log(this.widthCount)) / delta);
    const mRecip = 1 / (n0 - minWindowLength + 1) + 1 / (n1 - minWindowLength + 1);
    const varianceInWindow = this.variance / this.widthCount;
    const epsilon = Math.sqrt(2 * mRecip * varianceInWindow * deltaPrime) + (2 / 3) * deltaPrime * mRecip;
    return Math.abs(deltaMean) > epsilon;
  }

  private detectChange(): boolean {
    let changed = false;
    this.tick += 1;
    if (this.tick % this.options.clock !== 0 || this.widthCount <= this.options.gracePeriod) return false;
    let reduce = true;
    while (reduce) {
      reduce = false;
      let exit = false;
      let n0 = 0;
      let n1 = this.widthCount;
      let u0 = 0;
      let u1 = this.total;
      // Oldest row first; within a row, oldest bucket first, never the row's newest (as River).
      for (let r = this.rows.length - 1; r >= 0 && !exit; r--) {
        const row = this.rows[r] as Row;
        for (let k = 0; k < row.totals.length - 1; k++) {
          const n2 = 2 ** r;
          const u2 = row.totals[k] as number;
          n0 += n2;
          n1 -= n2;
          u0 += u2;
          u1 -= u2;
          const { minWindowLength } = this.options;
          if (
            n1 >= minWindowLength &&
            n0 >= minWindowLength &&
            this.cutExceedsBound(n0, n1, u0 / n0 - u1 / n1)
          ) {
            reduce = true;
            changed = true;
            if (this.widthCount > 0) this.deleteOldest();
            exit = true;
            break;
          }
        }
      }
    }
    if (changed) this.detections += 1;
    return changed;
  }

  toJSON(): AdwinState {
    return {
      type: 'adwin',
      version: 1,
      options: { ...this.options },
      rows: this.rows.map((r) => ({ totals: [...r.totals], variances: [...r.variances] })),
      total: this.total,
      variance: this.variance,
      width: this.widthCount,
      tick: this.tick,
      nDetections: this.detections,
      driftDetected: this.drift,
    };
  }

  static fromJSON(state: AdwinState): AdwinDetector {
    if (state.type !== 'adwin' || state.version !== 1) {
      throw new RangeError(
        `not an ADWIN v1 state (type ${String(state.type)}, version ${String(state.version)})`,
      );
    }
    const d = new AdwinDetector(state.options);
    d.rows = state.rows.map((r) => ({ totals: [...r.totals], variances: [...r.variances] }));
    d.total = state.total;
    d.variance = state.variance;
    d.widthCount = state.width;
    d.tick = state.tick;
    d.detections = state.nDetections;
    d.drift = state.driftDetected;
    return d;
  }
}
