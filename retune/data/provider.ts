import type { Store } from '../../kernel/store.js';
import type { DatasetRef } from '../trainers/trainer.js';
import { prepareDataset, type PrepareDatasetOptions } from './prepare.js';

/** What the orchestrator asks for (shaped like its `DatasetRequest` port). */
export interface DatasetProviderRequest {
  readonly model: string;
  readonly dir: string;
  /** The `retune.data` config section the orchestrator compiled. */
  readonly options: {
    readonly holdoutFraction?: number;
    readonly validationFraction?: number;
    readonly maxRows?: number;
    readonly lookbackMs?: number;
  };
  readonly signal?: AbortSignal;
}

export interface DatasetProviderDefaults extends Omit<Partial<PrepareDatasetOptions>, 'dir'> {
  /** Task per model. @default the `task` option, else 'classification' */
  readonly taskOf?: (model: string) => 'classification' | 'regression' | undefined;
}

/**
 * The production adapter for the orchestrator's dataset port: `prepareDataset` with the
 * request's config merged over `defaults`. The query cannot be cancelled midway; the signal is
 * checked before and after it.
 */
export function createDatasetProvider(
  store: Store,
  defaults: DatasetProviderDefaults = {},
): (request: DatasetProviderRequest) => Promise<DatasetRef> {
  const { taskOf, ...base } = defaults;
  return async (request) => {
    request.signal?.throwIfAborted();
    const o = request.options;
    const ref = await prepareDataset(store, request.model, {
      ...base,
      dir: request.dir,
      task: taskOf?.(request.model) ?? base.task,
      lookbackMs: o.lookbackMs ?? base.lookbackMs,
      maxRows: o.maxRows ?? base.maxRows,
      split: {
        ...base.split,
        ...(o.holdoutFraction !== undefined ? { holdoutFraction: o.holdoutFraction } : {}),
        ...(o.validationFraction !== undefined ? { validationFraction: o.validationFraction } : {}),
      },
    });
    request.signal?.throwIfAborted();
    return ref;
  };
}
