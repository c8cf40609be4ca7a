/**
 * Public surface of retune for the daemon. What the lead wires:
 *   - config:     `retuneSchema` under `retune:` (see docs/retune.md)
 *   - migrations: `RETUNE_MIGRATIONS` (versions 30-32) into the daemon's list
 *   - subsystem:  `new Retuner({...})`, `start()`, `onHealth(model, status, {driftOnsetMs})` from the monitor, `stop()`
 *   - HTTP:       `retuneRoutes({ retuner })` from src/http/retune-routes.ts → {read, write}
 *   - CLI:        `registerRetuneCommands(program)` from src/cli/retune-commands.ts
 */
export {
  retuneSchema,
  retuneTrainerSchema,
  compileRetuneOptions,
  studyOptionsFrom,
  gateFrom,
  type RetuneConfig,
  type RetuneConfigInput,
} from './options.js';
export {
  Retuner,
  CpuSlots,
  createRetuneMetrics,
  readHoldoutTruth,
  scoreVersion,
  initialWindow,
  type HealthContext,
  type StudyWindow,
  type RetunerDeps,
  type StudyView,
  type StudyOutcome,
  type TriggerOptions,
  type TriggerResult,
  type DatasetProvider,
  type DatasetRequest,
  type DeviceSlots,
  type DeviceLeaseLike,
  type EventNotifier,
  type EventPublisher,
  type RetuneEvent,
  type RetuneMetrics,
  type RetuneProgressEvent,
  type RetuneProgressListener,
  type TrainerProvider,
} from './orchestrator/index.js';
export {
  RETUNE_MIGRATIONS,
  ClickHouseRetuneStore,
  MemoryRetuneStorage,
  type AliasEvent,
  type DecisionRecord,
  type ModelVersion,
  type StudyRecord,
  type TrialRow,
  type StudyState,
  type StudyTrigger,
} from './store/index.js';
export { ModelRegistry, RetuneError, type RetuneErrorCode, type AliasChange } from './registry/index.js';
export {
  decidePromotion,
  mcnemarTest,
  pairedBootstrap,
  spentAlpha,
  type PromotionDecision,
  type PromotionGate,
} from './promotion/index.js';
