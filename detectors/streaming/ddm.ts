/**
 * DDM, the Drift Detection Method (Gama et al. 2004), for a stream of 0/1 errors, with
 * River's defaults and semantics: track the running error rate p and s = sqrt(p(1-p)/n);
 * remember the minimum of p + s once more than `warmStart` values are in; warn when
 * p + s > p_min + 2 s_min, drift when p + s > p_min + 3 s_min; reset on the update after
 * a drift.
 */

export interface DdmOptions {
  /** Values needed before a warning or drift can be raised. @default 30 */
  readonly warmStart?: number;
  /** @default 2.0 */
  readonly warningThreshold?: number;
  /** @default 3.0 */
  readonly driftThreshold?: number;
}

export interface DdmState {
  readonly type: 'ddm';
  readonly version: 1;
  readonly options: Required<DdmOptions>;
  readonly n: number;
  readonly errorRate: number;
  /** null stands for +Infinity before the minimum is first set. */
  readonly psMin: number | null;
  readonly pMin: number | null;
  readonly sMin: number | null;
  readonly warningDetected: boolean;
  readonly driftDetected: boolean;
}

export class DdmDetector {
  readonly options: Required<DdmOptions>;
  private n = 0;
  private p = 0;
  private psMin = Infinity;
  private pMin: number | null = null;
  private sMin: number | null = null;
  private warning = false;
  private drift = false;

  constructor(options: DdmOptions = {}) {
    this.options = {
      warmStart: options.warmStart ?? 30,
      warningThreshold: options.warningThreshold ?? 2.0,
      driftThreshold: options.driftThreshold ?? 3.0,
    };
  }

  get driftDetected(): boolean {
    return this.drift;
  }
  get warningDetected(): boolean {
    return this.warning;
  }
  get errorRate(): number {
    return this.p;
  }

  private reset(): void {
    this.n = 0;
    this.p = 0;
    this.psMin = Infinity;
    this.pMin = null;
    this.sMin = null;
    this.warning = false;
    this.drift = false;
  }

  /** `error` is 1 (or true) for a wrong prediction, 0 otherwise. */
  update(error: number | boolean): boolean {
    if (this.drift) this.reset();
    const x = typeof error === 'boolean' ? (error ? 1 : 0) : error;
    this.n += 1;
    this.p += (x - this.p) / this.n;
    const s = Math.sqrt((this.p * (1 - this.p)) / this.n);
    // River: nothing is tested until n > warmStart (strictly).
    if (this.n <= this.options.warmStart) return false;
    if (this.p + s <= this.psMin) {
      this.pMin = this.p;
      this.sMin = s;
      this.psMin = this.p + s;
    }
    const pMin = this.pMin as number;
    const sMin = this.sMin as number;
    this.warning = this.p + s > pMin + this.options.warningThreshold * sMin;
    if (this.p + s > pMin + this.options.driftThreshold * sMin) {
      this.drift = true;
      this.warning = false;
    }
    return this.drift;
  }

  toJSON(): DdmState {
    return {
      type: 'ddm',
      version: 1,
      options: { ...this.options },
      n: this.n,
      errorRate: this.p,
      psMin: Number.isFinite(this.psMin) ? this.psMin : null,
      pMin: this.pMin,
      sMin: this.sMin,
      warningDetected: this.warning,
      driftDetected: this.drift,
    };
  }

  static fromJSON(state: DdmState): DdmDetector {
    if (state.type !== 'ddm' || state.version !== 1)
      throw new RangeError(`not a DDM v1 state (type ${String(state.type)})`);
    const d = new DdmDetector(state.options);
    d.n = state.n;
    d.p = state.errorRate;
    d.psMin = state.psMin ?? Infinity;
    d.pMin = state.pMin;
    d.sMin = state.sMin;
    d.warning = state.warningDetected;
    d.drift = state.driftDetected;
    return d;
  }
}
