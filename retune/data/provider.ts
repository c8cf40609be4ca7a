import type { Store } from '../../kernel/store.js';
import type { Logger } from '../../kernel/logger.js';
import { splitOptionsOf, type RetuneDataConfig } from '../options.js';
import { countLabelledEvents } from './load.js';
import { prepareDataset, type PrepareDatasetOptions } from './prepare.js';
import type { DataWindow, PreparedDataset } from './scoring.js';

/** What the orchestrator asks for (shaped like its `DatasetRequest` port). */
export interface DatasetProviderRequest {
  readonly model: string;
  /** Train and validation go here (the folder trainers are given). */
  readonly dir: string;
  /** The private holdout goes here. */
  readonly holdoutDir: string;
  /** The window the orchestrator chose (after a drift onset, or the lookback). */
  readonly window: DataWindow;
  /** The compiled `retune.data` config section. */
  readonly options: RetuneDataConfig;
  readonly signal?: AbortSignal;
}

export interface DatasetProviderDefaults {
  /** The monitor's task per model; `retune.data.task` wins when set. @default classification */
  readonly taskOf?: (model: string) => 'classification' | 'regression' | undefined;
  readonly logger?: Logger;
  /** @default Date.now */
  readonly clock?: () => number;
}

/** The production adapter for the orchestrator's dataset port (checked by the compiler there). */
export interface StoreDatasetProvider {
  prepare(request: DatasetProviderRequest): Promise<PreparedDataset>;
  countLabelled(model: string, window: { sinceMs: number; untilMs: number }): Promise<number>;
}

/** Every `retune.data` key, mapped onto `prepareDataset`'s options. */
export function prepareOptionsOf(
  request: DatasetProviderRequest,
  defaults: DatasetProviderDefaults = {},
): PrepareDatasetOptions {
  const o = request.options;
  return {
    dir: request.dir,
    holdoutDir: request.holdoutDir,
    task: o.task ?? defaults.taskOf?.(request.model) ?? 'classification',
    sinceMs: request.window.sinceMs,
    untilMs: request.window.untilMs,
    windowPolicy: {
      policy: request.window.policy,
      ...(request.window.onsetMs === undefined ? {} : { onsetMs: request.window.onsetMs }),
    },
    maxRows: o.maxRows,
    split: splitOptionsOf(o),
    reference: o.reference,
    ...(o.encoding === undefined ? {} : { encoding: o.encoding }),
    missingIndicators: o.missingIndicators,
    maxCategories: o.maxCategories,
    ...(defaults.logger === undefined ? {} : { logger: defaults.logger }),
    ...(defaults.clock === undefined ? {} : { clock: defaults.clock }),
  };
}

/**
 * `prepareDataset` and the labelled-row count over the store. The query cannot be cancelled
 * midway; the signal is checked before and after it.
 */
export function createDatasetProvider(
  store: Store,
  defaults: DatasetProviderDefaults = {},
): StoreDatasetProvider {
  return {
    async prepare(request) {
      request.signal?.throwIfAborted();
      const prepared = await prepareDataset(store, request.model, prepareOptionsOf(request, defaults));
      request.signal?.throwIfAborted();
      return prepared;
    },
    countLabelled: (model, window) => countLabelledEvents(store, model, window),
  };
}
