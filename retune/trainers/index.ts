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
export { createTrainer, type TrainerConfig } from './create-trainer.js';
export { shuffledOrder, TfjsTrainer, TFJS_OBJECTIVES, type TfjsTrainerOptions } from './tfjs/tfjs-trainer.js';
export { compileTfjsParams, TFJS_PARAM_DEFAULTS, TFJS_PARAM_NAMES, type TfjsParams } from './tfjs/params.js';
export {
  loadTfBackend,
  retuneBackend,
  selectTfBackend,
  setRetuneBackendGauge,
  RETUNE_BACKEND_METRIC,
  RETUNE_BACKEND_NAMES,
  type RetuneBackend,
  type RetuneBackendName,
  type SelectBackendOptions,
  type Tf,
} from './tfjs/backend.js';
export { loadModel, saveModel, MODEL_META_FILE, type TfjsModelMeta } from './tfjs/model-files.js';
