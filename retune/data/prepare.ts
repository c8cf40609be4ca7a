import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Store } from '../../kernel/store.js';
import { DriftguardError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/logger.js';
import type { DatasetRef } from '../trainers/trainer.js';
import { formatRow, splitFile, type DatasetRow } from './dataset-files.js';
import {
  encodeFeatures,
  fitEncoding,
  referenceFeaturesFromProfile,
  type EncodingSpec,
  type FeatureEncoding,
  type RawFeatures,
  type ReferenceFeatures,
} from './encoder.js';
import { loadLabelledEvents, loadReferenceProfile, type LabelledEvent } from './load.js';
import {
  scoringSpecOf,
  writeHoldout,
  type DataWindow,
  type HoldoutRow,
  type PreparedDataset,
} from './scoring.js';
import { splitSizes, timeSplit, type SplitOptions } from './split.js';

export const DATASET_FORMAT = 'driftguard.retune.dataset';
export const DATASET_VERSION = 2;

/** The `retune.data` config section (per model). */
export interface PrepareDatasetOptions {
  /** Folder the train and validation files are written to (created): the folder trainers get. */
  readonly dir: string;
  /** Folder of the private holdout (raw features and labels; no program is given it). @default `<dir>-holdout` */
  readonly holdoutDir?: string;
  /** @default 'classification' */
  readonly task?: 'classification' | 'regression';
  /** Predictions from this far back are used. @default 2_592_000_000 (30 days) */
  readonly lookbackMs?: number;
  /** End of the window (exclusive). @default now */
  readonly untilMs?: number;
  /** Start of the window (inclusive); overrides `lookbackMs`. */
  readonly sinceMs?: number;
  /** Why this window (recorded with the dataset and in the promotion evidence). @default lookback */
  readonly windowPolicy?: { readonly policy: DataWindow['policy']; readonly onsetMs?: number };
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
  readonly window: DataWindow;
  /** First and last event time of the train and validation splits. */
  readonly ranges: Readonly<Record<'train' | 'validation', { firstTsMs: number; lastTsMs: number }>>;
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

/** A labelled row before encoding: what a dataset is built from (pure input of `writePreparedDataset`). */
export interface LabelledRow {
  readonly id: string;
  readonly tsMs: number;
  readonly label: string | number;
  readonly features: RawFeatures;
}

/**
 * Builds a model's training data: labelled events from ClickHouse, split by time (train <
 * validation < holdout), encoded, written as JSONL + meta.json under `options.dir`; the holdout
 * goes, unencoded and with its labels, to the private `holdoutDir`.
 */
export async function prepareDataset(
  store: Store,
  model: string,
  options: PrepareDatasetOptions,
): Promise<PreparedDataset> {
  const clock = options.clock ?? Date.now;
  const task = options.task ?? 'classification';
  const untilMs = options.untilMs ?? clock();
  const sinceMs = options.sinceMs ?? untilMs - (options.lookbackMs ?? 30 * 86_400_000);
  const maxRows = options.maxRows ?? 200_000;
  const log = options.logger?.child({ component: 'retune-data', model });

  const events = await loadLabelledEvents(store, model, { sinceMs, untilMs, maxRows });
  const rows: LabelledRow[] = [];
  for (const event of events) {
    const label = task === 'classification' ? classificationLabel(event) : regressionTarget(event);
    if (label !== undefined)
      rows.push({ id: event.id, tsMs: event.tsMs, label, features: rawFeatures(event) });
  }

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
  const prepared = await writePreparedDataset({
    ...options,
    model,
    task,
    rows,
    reference,
    window: { policy: options.windowPolicy?.policy ?? 'lookback', sinceMs, untilMs, ...onset(options) },
    droppedRows: events.length - rows.length,
    createdAtMs: clock(),
  });
  log?.info(
    {
      rows: { ...prepared.ref.rows, holdout: prepared.holdout.rows },
      columns: prepared.ref.inputColumns.length,
      droppedRows: events.length - rows.length,
      dir: options.dir,
      window: prepared.window,
    },
    'retune dataset prepared',
  );
  return prepared;
}

function onset(options: PrepareDatasetOptions): { onsetMs?: number } {
  const onsetMs = options.windowPolicy?.onsetMs;
  return onsetMs === undefined ? {} : { onsetMs };
}

export interface WritePreparedDatasetInput {
  readonly model: string;
  readonly dir: string;
  readonly holdoutDir?: string;
  readonly task: 'classification' | 'regression';
  /** Labelled rows, oldest first. */
  readonly rows: readonly LabelledRow[];
  readonly split?: SplitOptions;
  readonly reference?: ReferenceFeatures;
  readonly encoding?: EncodingSpec;
  readonly missingIndicators?: boolean;
  readonly maxCategories?: number;
  readonly window: DataWindow;
  readonly droppedRows?: number;
  readonly createdAtMs: number;
}

/**
 * The pure part of preparation, from labelled rows to files: split by time, fit the encoding on
 * train (and the reference), take classes from the rows trainers see (train and validation),
 * write train/validation for trainers and the raw holdout privately.
 */
export async function writePreparedDataset(input: WritePreparedDatasetInput): Promise<PreparedDataset> {
  const { model, task, rows } = input;
  let sizes;
  try {
    sizes = splitSizes(rows.length, input.split);
  } catch (error) {
    throw invalid(
      `cannot split the data of model ${JSON.stringify(model)}: ${(error as Error).message}`,
      error,
    );
  }
  const parts = timeSplit(rows, sizes);
  const encoding: FeatureEncoding = fitEncoding(
    parts.train.map((r) => r.features),
    {
      spec: input.encoding,
      reference: input.reference,
      missingIndicators: input.missingIndicators,
      maxCategories: input.maxCategories,
    },
  );
  // Classes come from the rows trainers see. A label only the holdout has is kept there (the
  // truth is what it is: every model gets those rows wrong) and counted in the evidence.
  const classes =
    task === 'classification'
      ? [...new Set([...parts.train, ...parts.validation].map((r) => String(r.label)))].sort()
      : [];
  const scoring = scoringSpecOf(task, classes, encoding);
  if (scoring.inputColumns.length === 0)
    throw invalid(`model ${JSON.stringify(model)} has no features to train on: set retune.data.encoding`);
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const encode = (r: LabelledRow): DatasetRow => ({
    x: encodeFeatures(encoding, r.features),
    y: task === 'classification' ? (classIndex.get(String(r.label)) as number) : Number(r.label),
    id: r.id,
  });
  const holdoutOnlyLabels: Record<string, number> = {};
  if (task === 'classification')
    for (const r of parts.holdout)
      if (!classIndex.has(String(r.label)))
        holdoutOnlyLabels[String(r.label)] = (holdoutOnlyLabels[String(r.label)] ?? 0) + 1;

  await mkdir(input.dir, { recursive: true });
  const hash = createHash('sha256');
  for (const split of ['train', 'validation'] as const) {
    const text = parts[split].map((r) => formatRow(encode(r))).join('\n');
    const content = text === '' ? '' : `${text}\n`;
    hash.update(`${split}\n${content}`);
    await writeFile(splitFile(input.dir, split), content);
  }
  hash.update(JSON.stringify({ classes, columns: scoring.inputColumns }));
  const holdoutRows: HoldoutRow[] = parts.holdout.map((r) => ({
    id: r.id,
    tsMs: r.tsMs,
    label: r.label,
    features: r.features,
  }));
  const holdout = await writeHoldout(input.holdoutDir ?? `${input.dir}-holdout`, holdoutRows);
  const range = (split: readonly LabelledRow[]): { firstTsMs: number; lastTsMs: number } => ({
    firstTsMs: split[0]?.tsMs ?? Number.NaN,
    lastTsMs: split[split.length - 1]?.tsMs ?? Number.NaN,
  });
  // Trainers are given train and validation only; the holdout's count says how much was kept back.
  const ref: DatasetRef = {
    dir: input.dir,
    task,
    classes,
    inputColumns: scoring.inputColumns,
    rows: { train: sizes.train, validation: sizes.validation, holdout: 0 },
  };
  const meta: DatasetMeta = {
    format: DATASET_FORMAT,
    version: DATASET_VERSION,
    ...ref,
    model,
    createdAtMs: input.createdAtMs,
    window: input.window,
    ranges: { train: range(parts.train), validation: range(parts.validation) },
    encoding,
    droppedRows: input.droppedRows ?? 0,
  };
  await writeFile(path.join(input.dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  return {
    ref,
    holdout,
    scoring,
    window: input.window,
    fingerprint: hash.digest('hex'),
    holdoutOnlyLabels,
  };
}
