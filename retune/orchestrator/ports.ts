/** The ports the Retuner is built from; each has a production adapter and a plain-object fake. */
import type { DataWindow, PreparedDataset } from '../data/scoring.js';
import type { Trainer } from '../trainers/trainer.js';
import type { RetuneConfig } from '../options.js';

export interface DatasetRequest {
  readonly model: string;
  readonly studyId: string;
  /** Folder for train and validation (under `workDir`): the folder trainers are given. */
  readonly dir: string;
  /** Folder for the private holdout (under `workDir`), which no program is given. */
  readonly holdoutDir: string;
  /** Which rows: the orchestrator's choice (after the drift onset, or the lookback). */
  readonly window: DataWindow;
  readonly options: RetuneConfig['data'];
  readonly signal: AbortSignal;
}

/**
 * Fresh labelled data for a study (retune/data's `createDatasetProvider` in production):
 * `prepare` writes the dataset, `countLabelled` says how many labelled rows a window has (what a
 * study waiting for post-drift labels polls).
 */
export interface DatasetProvider {
  prepare(request: DatasetRequest): Promise<PreparedDataset>;
  countLabelled(
    model: string,
    window: { readonly sinceMs: number; readonly untilMs: number },
  ): Promise<number>;
}

/** A slot to run one trial on (retune/scheduler's DevicePool fits this). */
export interface DeviceLeaseLike {
  readonly device: string | undefined;
  release(): void;
}
export interface DeviceSlots {
  acquire(signal?: AbortSignal): Promise<DeviceLeaseLike>;
}

/** The trainer for a model; one trainer for all models is the common case. */
export type TrainerProvider = Trainer | ((model: string) => Trainer);

/** The part of `Alerting` the Retuner uses. */
export interface EventNotifier {
  notifyEvent(input: {
    model: string;
    kind: string;
    summary: string;
    details?: Record<string, unknown>;
  }): Promise<unknown>;
}

/** A counting semaphore used when no device pool is injected: `slots` CPU trials at once. */
export class CpuSlots implements DeviceSlots {
  private free: number;
  private readonly waiters: Array<() => void> = [];
  constructor(slots: number) {
    this.free = slots;
  }
  async acquire(signal?: AbortSignal): Promise<DeviceLeaseLike> {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
    if (this.free > 0) this.free--;
    else
      await new Promise<void>((resolve, reject) => {
        const wake = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          const at = this.waiters.indexOf(wake);
          if (at >= 0) this.waiters.splice(at, 1);
          reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(wake);
      });
    let released = false;
    return {
      device: undefined,
      release: () => {
        if (released) return;
        released = true;
        const next = this.waiters.shift();
        if (next !== undefined) next();
        else this.free++;
      },
    };
  }
}
