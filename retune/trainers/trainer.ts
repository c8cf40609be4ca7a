/**
 * The port between the retune orchestrator and whatever trains a model for one trial: the
 * built-in TensorFlow.js trainer, or a user's program run by the command trainer. The
 * orchestrator owns the study (retune/engine) and persistence; a trainer only trains.
 */

/**
 * A prepared dataset on local disk, written by retune/data from ClickHouse. For training, the
 * folder holds `train.jsonl`, `validation.jsonl` and `meta.json` (never the holdout); for
 * `predict`, a scoring set: `holdout.jsonl` with encoded features and row ids, no labels.
 */
export interface DatasetRef {
  readonly dir: string;
  readonly task: 'classification' | 'regression';
  /** Class names in encoding order (classification only). */
  readonly classes: readonly string[];
  /** Names of the encoded input columns, in order. */
  readonly inputColumns: readonly string[];
  /** Rows per split in this folder (0 for splits it does not hold). */
  readonly rows: { readonly train: number; readonly validation: number; readonly holdout: number };
}

export interface PruneDecision {
  readonly prune: boolean;
  readonly reason?: string;
}

export interface TrialRequest {
  readonly studyId: string;
  readonly model: string;
  readonly trialNumber: number;
  /** Hyperparameters chosen by the sampler. */
  readonly params: Readonly<Record<string, string | number | boolean>>;
  readonly dataset: DatasetRef;
  /** The objective metric's name, e.g. `val_loss` or `accuracy`, reported by the trainer. */
  readonly objective: string;
  /** A GPU id to pin the trial to (`CUDA_VISIBLE_DEVICES`), or undefined on CPU. */
  readonly device?: string;
  /** Where the trial may write its model artifacts. */
  readonly artifactDir: string;
  /** Aborted when the trial is pruned, cancelled or the daemon stops. */
  readonly signal: AbortSignal;
  /** Intermediate report (e.g. per epoch); the answer says whether to stop early. */
  readonly report: (step: number, value: number) => PruneDecision;
}

export interface TrialResult {
  /** Final value of the objective metric. */
  readonly objective: number;
  /** Every metric the trainer reported last (name → value). */
  readonly metrics: Readonly<Record<string, number>>;
  /** Set when the trainer stopped because `report` said prune. */
  readonly pruned: boolean;
  /** Where the trained model was saved, when it was. */
  readonly artifactPath?: string;
  /** Captured output (command trainer), bounded. */
  readonly logTail?: string;
}

export interface Trainer {
  readonly name: string;
  train(request: TrialRequest): Promise<TrialResult>;
  /**
   * Scores a saved model (a trial's artifact or the champion's) on a dataset split, row by row,
   * so promotion can run paired tests: at promotion, a scoring set whose `holdout.jsonl` was
   * encoded with the model version's own encoding and carries no labels. Classification: the
   * class name, or its index into that version's class list; regression: the value.
   */
  predict(
    artifactPath: string,
    dataset: DatasetRef,
    split: 'holdout' | 'validation',
  ): Promise<Array<string | number>>;
}
