/** Training data for retune: labelled events from ClickHouse, split by time, encoded, on disk. */
export {
  prepareDataset,
  writePreparedDataset,
  DATASET_FORMAT,
  DATASET_VERSION,
  type DatasetMeta,
  type LabelledRow,
  type PrepareDatasetOptions,
  type WritePreparedDatasetInput,
} from './prepare.js';
export {
  encodeFeatures,
  fitEncoding,
  inputColumns,
  referenceFeaturesFromProfile,
  emptyReference,
  OTHER_CATEGORY,
  type CategoricalFeatureEncoding,
  type EncodingSpec,
  type FeatureEncoding,
  type FitEncodingOptions,
  type NumericFeatureEncoding,
  type RawFeatures,
  type ReferenceFeatures,
} from './encoder.js';
export { splitSizes, timeSplit, type SplitOptions, type SplitSizes } from './split.js';
export {
  labelledEventsSql,
  labelledCountSql,
  loadLabelledEvents,
  countLabelledEvents,
  loadReferenceProfile,
  type LabelledEvent,
  type LoadLabelledOptions,
} from './load.js';
export {
  readSplit,
  readFeatureRows,
  splitFile,
  formatRow,
  SPLIT_NAMES,
  type DatasetRow,
  type FeatureRow,
  type SplitName,
} from './dataset-files.js';
export {
  createDatasetProvider,
  prepareOptionsOf,
  type DatasetProviderDefaults,
  type DatasetProviderRequest,
  type StoreDatasetProvider,
} from './provider.js';
export {
  SCORING_FORMAT,
  SCORING_VERSION,
  SCORING_FILE,
  scoringSpecOf,
  parseScoringSpec,
  predictionValue,
  readHoldout,
  writeHoldout,
  writeScoringSet,
  holdoutFile,
  type DataWindow,
  type HoldoutRef,
  type HoldoutRow,
  type PreparedDataset,
  type ScoringSpec,
} from './scoring.js';
