/** Public surface of the pure HPO engine. The daemon imports from here only. */
export { HpoError, type HpoErrorCode } from './errors.js';
export { Rng, type RngState } from './prng.js';
export {
  compileSearchSpace,
  explainInvalidParams,
  isParamActive,
  type CategoricalChoice,
  type CategoricalParamOptions,
  type CompiledParam,
  type CompiledSearchSpace,
  type FloatParamOptions,
  type IntParamOptions,
  type ParamConditionOptions,
  type ParamOptions,
  type ParamValue,
  type ParamValues,
  type SearchSpaceOptions,
} from './search-space.js';
export type {
  Direction,
  FinalTrialState,
  IntermediateValue,
  TrialOrigin,
  TrialRecord,
  TrialState,
} from './trial.js';
export {
  createSampler,
  SAMPLER_NAMES,
  type SamplerName,
  type SamplerOptions,
} from './samplers/create-sampler.js';
export type { Sampler, SuggestContext, Suggestion } from './samplers/sampler.js';
export { RECOMMENDED_TPE_OPTIONS, type TpeSamplerOptions } from './samplers/tpe-sampler.js';
export type { TpeBandwidthRule } from './samplers/parzen-estimator.js';
export type { RandomSamplerOptions } from './samplers/random-sampler.js';
export type { GridSamplerOptions } from './samplers/grid-sampler.js';
export {
  createPruner,
  PRUNER_NAMES,
  type PrunerName,
  type PrunerOptions,
  type NoPrunerOptions,
} from './pruners/create-pruner.js';
export type { PruneDecision, Pruner, PruneContext } from './pruners/pruner.js';
export type { MedianPrunerOptions } from './pruners/median-pruner.js';
export type { SuccessiveHalvingPrunerOptions } from './pruners/successive-halving-pruner.js';
export {
  compileStudyOptions,
  type CompiledStudyOptions,
  type RestoreRunningPolicy,
  type StudyBudgetOptions,
  type StudyOptions,
} from './study-options.js';
export {
  SNAPSHOT_FORMAT,
  SNAPSHOT_VERSION,
  trialToSnapshot,
  type JsonNumber,
  type StudySnapshot,
  type TrialSnapshot,
} from './study-snapshot.js';
export {
  Study,
  type AskResult,
  type StopReason,
  type StudyDependencies,
  type WaitReason,
  type WarmStartResult,
  type WarmStartTrial,
} from './study.js';
