/** Public surface of the trainers: the port, the command trainer, the TensorFlow.js trainer. */
export type { DatasetRef, PruneDecision, Trainer, TrialRequest, TrialResult } from './trainer.js';
export { TrainerError, type TrainerErrorCode } from './errors.js';
export {
  DEFAULT_STEP_KEYS,
  KATIB_METRIC_PATTERN,
  LineSplitter,
  parseMetricLine,
  type MetricLine,
  type MetricLineOptions,
} from './metric-lines.js';
export { CommandTrainer, predictionsInSplitOrder } from './command/command-trainer.js';
export {
  compileCommandTrainerOptions,
  substituteArgv,
  type CommandTrainerOptions,
  type CompiledCommandTrainerOptions,
} from './command/options.js';
