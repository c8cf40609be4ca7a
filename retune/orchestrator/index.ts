export {
  Retuner,
  type RetunerDeps,
  type StudyView,
  type TriggerOptions,
  type TriggerResult,
} from './retuner.js';
export { StudyRun, type StudyOutcome } from './study-run.js';
export type { EventPublisher, RetuneEvent } from './events.js';
export { createRetuneMetrics, type RetuneMetrics } from './metrics.js';
export { readHoldoutLabels, normalizeOutcome } from './holdout.js';
export {
  CpuSlots,
  type DatasetProvider,
  type DatasetRequest,
  type DeviceLeaseLike,
  type DeviceSlots,
  type EventNotifier,
  type TrainerProvider,
} from './ports.js';
export type { RetuneProgressEvent, RetuneProgressListener } from './progress.js';
