/** Training data for retune: labelled events from ClickHouse, split by time, encoded, on disk. */
export {
  prepareDataset,
  DATASET_FORMAT,
  DATASET_VERSION,
  type DatasetMeta,
  type PrepareDatasetOptions,
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
  loadLabelledEvents,
  loadReferenceProfile,
  type LabelledEvent,
  type LoadLabelledOptions,
} from './load.js';
export {
  readSplit,
  splitFile,
  formatRow,
  SPLIT_NAMES,
  type DatasetRow,
  type SplitName,
} from './dataset-files.js';
export {
  createDatasetProvider,
  type DatasetProviderDefaults,
  type DatasetProviderRequest,
} from './provider.js';
