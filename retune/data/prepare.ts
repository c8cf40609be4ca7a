import type { Store } from '../../kernel/store.js';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DriftguardError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/logger.js';
import type { DatasetRef } from '../trainers/trainer.js';
import { formatRow, splitFile, type DatasetRow } from './dataset-files.js';
import {
  encodeFeatures,
  fitEncoding,
  inputColumns,
  referenceFeaturesFromProfile,
  type EncodingSpec,
  type FeatureEncoding,
  type RawFeatures,
  type ReferenceFeatures,
} from './encoder.js';
import { loadLabelledEvents, loadReferenceProfile, type LabelledEvent } from './load.js';
import { splitSizes, timeSplit, type SplitOptions } from './split.js';

export const DATASET_FORMAT = 'driftguard.retune.dataset';
export const DATASET_VERSION = 1;

/** The `retune.data` config section (per model). */
export interface PrepareDatasetOptions {
  /** Folder the files are written to (created). */
  readonly dir: string;
  /** @default 'classification' */
  readonly task?: 'classification' | 'regression';
  /** Predictions from this far back are used. @default 2_592_000_000 (30 days) */
  readonly lookbackMs?: number;
  /** End of the window (exclusive). @default now */
  readonly untilMs?: number;
  /** The newest labelled rows kept. @default 200_000 */
  readonly maxRows?: number;
  readonly split?: SplitOptions;
  /**
   * Where numeric means/stds and category lists come from: `'clickhouse'` reads the model's
   * newest row of `reference_profiles`; an object is a profile JSON given directly; `'none'` fits
   * everything on the train split. Features the reference lacks are fitted on train. @default 'clickhouse'
   */
  readonly reference?: 'clickhouse' | 'none' | { readonly profile: unknown };
  /** Fixed features (and optionally statistics); otherwise the reference's, else train's. */
  readonly encoding?: EncodingSpec;
  /** @default true */
  readonly missingIndicators?: boolean;
  /** @default 50 */
  readonly maxCategories?: number;
  readonly logger?: Logger;
  /** @default Date.now */
  readonly clock?: () => number;
}

export interface DatasetMeta extends DatasetRef {
  readonly format: typeof DATASET_FORMAT;
  readonly version: typeof DATASET_VERSION;
  readonly model: string;
  readonly createdAtMs: number;
  readonly window: { readonly sinceMs: number; readonly untilMs: number };
  /** First and last event time of each split. */
  readonly ranges: Readonly<
    Record<'train' | 'validation' | 'holdout', { firstTsMs: number; lastTsMs: number }>
  >;
  readonly encoding: FeatureEncoding;
  /** Labelled rows dropped because their label did not fit the task. */
  readonly droppedRows: number;
}

function rawFeatures(event: LabelledEvent): RawFeatures {
  const numeric: Record<string, number> = {};
  event.numNames.forEach((name, i) => {
    numeric[name] = event.numValues[i] ?? Number.NaN;
  });
  const categorical: Record<string, string> = {};
  event.catNames.forEach((name, i) => {
    categorical[name] = event.catValues[i] ?? '';
  });
  return { numeric, categorical, missing: event.missingNames };
}

function classificationLabel(event: LabelledEvent): string | undefined {
  if (event.label !== '') return event.label;
  return event.labelNumber === null ? undefined : String(event.labelNumber);
}

function regressionTarget(event: LabelledEvent): number | undefined {
  if (event.labelNumber !== null && Number.isFinite(event.labelNumber)) return event.labelNumber;
  const parsed = event.label.trim() === '' ? Number.NaN : Number(event.label);
  return Number.isFinite(parsed) ? parsed : undefined;
}

function invalid(message: string, cause?: unknown): DriftguardError {
  return new DriftguardError('CONFIG_INVALID', message, { retriable: false, cause });
}

/**
 * Builds a model's training data: labelled events from ClickHouse, split by time (train <
 * validation < holdout), encoded, written as JSONL + meta.json under `options.dir`.
 */
export async function prepareDataset(
  store: Store,
  model: string,
  options: PrepareDatasetOptions,
): Promise<DatasetRef> {
  const clock = options.clock ?? Date.now;
  const task = options.task ?? 'classification';
  const untilMs = options.untilMs ?? clock();
  const sinceMs = untilMs - (options.lookbackMs ?? 30 * 86_400_000);
  const maxRows = options.maxRows ?? 200_000;
  const log = options.logger?.child({ component: 'retune-data', model });

  const events = await loadLabelledEvents(store, model, { sinceMs, untilMs, maxRows });
  const labelled: Array<{ event: LabelledEvent; label: string | number }> = [];
  for (const event of events) {
    const label = task === 'classification' ? classificationLabel(event) : regressionTarget(event);
    if (label !== undefined) labelled.push({ event, label });
  }
  const droppedRows = events.length - labelled.length;

  let sizes;
  try {
    sizes = splitSizes(labelled.length, options.split);
  } catch (error) {
    throw invalid(
      `cannot split the data of model ${JSON.stringify(model)}: ${(error as Error).message}`,
      error,
    );
  }
  const parts = timeSplit(labelled, sizes);

  let reference: ReferenceFeatures | undefined;
  const referenceOption = options.reference ?? 'clickhouse';
  if (referenceOption === 'clickhouse') {
    const profile = await loadReferenceProfile(store, model);
    if (profile === undefined)
      log?.info('no reference profile stored; encoding statistics come from the train split');
    else reference = referenceFeaturesFromProfile(profile);
  } else if (referenceOption !== 'none') {
    reference = referenceFeaturesFromProfile(referenceOption.profile);
  }

  const encoding = fitEncoding(
    parts.train.map((r) => rawFeatures(r.event)),
    {
      spec: options.encoding,
      reference,
      missingIndicators: options.missingIndicators,
      maxCategories: options.maxCategories,
    },
  );
  const columns = inputColumns(encoding);
  if (columns.length === 0)
    throw invalid(`model ${JSON.stringify(model)} has no features to train on: set retune.data.encoding`);

  const classes = task === 'classification' ? [...new Set(labelled.map((r) => String(r.label)))].sort() : [];
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const encode = (r: { event: LabelledEvent; label: string | number }): DatasetRow => ({
    x: encodeFeatures(encoding, rawFeatures(r.event)),
    y: task === 'classification' ? (classIndex.get(String(r.label)) as number) : (r.label as number),
    id: r.event.id,
  });

  await mkdir(options.dir, { recursive: true });
  for (const split of ['train', 'validation', 'holdout'] as const) {
    const text = parts[split].map((r) => formatRow(encode(r))).join('\n');
    await writeFile(splitFile(options.dir, split), text === '' ? '' : `${text}\n`);
  }
  const range = (rows: typeof labelled): { firstTsMs: number; lastTsMs: number } => ({
    firstTsMs: rows[0]?.event.tsMs ?? Number.NaN,
    lastTsMs: rows[rows.length - 1]?.event.tsMs ?? Number.NaN,
  });
  const ref: DatasetRef = {
    dir: options.dir,
    task,
    classes,
    inputColumns: columns,
    rows: { train: sizes.train, validation: sizes.validation, holdout: sizes.holdout },
  };
  const meta: DatasetMeta = {
    format: DATASET_FORMAT,
    version: DATASET_VERSION,
    ...ref,
    model,
    createdAtMs: clock(),
    window: { sinceMs, untilMs },
    ranges: { train: range(parts.train), validation: range(parts.validation), holdout: range(parts.holdout) },
    encoding,
    droppedRows,
  };
  await writeFile(path.join(options.dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  log?.info(
    { rows: ref.rows, columns: columns.length, droppedRows, dir: options.dir },
    'retune dataset prepared',
  );
  return ref;
}
