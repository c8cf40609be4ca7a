export {
  Retuner,
  type HealthContext,
  type RetunerDeps,
  type StudyView,
  type TriggerOptions,
  type TriggerResult,
} from './retuner.js';
export { StudyRun, type StudyOutcome, type RestoredStudy } from './study-run.js';
export type { EventPublisher, RetuneEvent } from './events.js';
export { createRetuneMetrics, type RetuneMetrics } from './metrics.js';
export { readHoldoutTruth, scoreVersion, championTestIndex, type HoldoutTruth } from './holdout.js';
export {
  initialWindow,
  dataWindowAt,
  describeWindow,
  parseStudyWindow,
  type StudyWindow,
  type WindowTrigger,
} from './window.js';
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
