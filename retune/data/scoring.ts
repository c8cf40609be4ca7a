/**
 * What a model version needs to be scored on new rows, and the scoring sets built from it.
 *
 * Every dataset a study prepares has a `ScoringSpec`: its fitted encoding (means and stds,
 * category lists, feature order), the encoded column names and the class list. The winner of a
 * study is registered with its dataset's spec, so a version is always scored with its own
 * encoding: the promotion gate re-encodes the raw holdout rows once per model version, and a
 * schema change degrades gracefully (an unseen category counts as `__other__`, a feature the
 * version does not know is ignored, a feature it knows that is missing is its missing indicator).
 *
 * The holdout's raw rows and labels stay in a private file no program is given; a scoring set
 * holds the encoded features and row ids only (`{"x": [...], "id": "..."}`).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DatasetRef } from '../trainers/trainer.js';
import { encodeFeatures, inputColumns, type FeatureEncoding, type RawFeatures } from './encoder.js';

export const SCORING_FORMAT = 'driftguard.retune.scoring';
export const SCORING_VERSION = 1;
export const SCORING_FILE = 'driftguard-scoring.json';
export const HOLDOUT_FILE = 'holdout.jsonl';

export interface ScoringSpec {
  readonly format: typeof SCORING_FORMAT;
  readonly version: typeof SCORING_VERSION;
  readonly task: 'classification' | 'regression';
  /** Class names in the order of the model's class indices (classification). */
  readonly classes: readonly string[];
  readonly encoding: FeatureEncoding;
  /** `inputColumns(encoding)`, stored for readers that do not encode. */
  readonly inputColumns: readonly string[];
}

/** One labelled holdout row as stored privately: raw features, the label as logged. */
export interface HoldoutRow {
  readonly id: string;
  readonly tsMs: number;
  readonly label: string | number;
  readonly features: RawFeatures;
}

/** Where the private holdout of a prepared dataset lives. */
export interface HoldoutRef {
  readonly dir: string;
  readonly rows: number;
}

/** The time window a dataset was read from, and why that window. */
export interface DataWindow {
  /** `drift-onset`: rows after the drift the monitor detected; `lookback`: the newest `lookbackMs`. */
  readonly policy: 'drift-onset' | 'lookback';
  readonly sinceMs: number;
  readonly untilMs: number;
  /** The drift onset the monitor reported (drift-onset only). */
  readonly onsetMs?: number;
}

/** A study's prepared data: what trainers see, the private holdout, and how both were encoded. */
export interface PreparedDataset {
  /** Train and validation splits and meta.json: the folder trainers are given. */
  readonly ref: DatasetRef;
  readonly holdout: HoldoutRef;
  /** The encoding of `ref` (the challenger's). */
  readonly scoring: ScoringSpec;
  readonly window: DataWindow;
  /** sha256 of the train and validation files, the classes and the columns. */
  readonly fingerprint: string;
  /** Holdout labels no training row carries, with their counts (every model gets them wrong). */
  readonly holdoutOnlyLabels: Readonly<Record<string, number>>;
}

export function scoringSpecOf(
  task: ScoringSpec['task'],
  classes: readonly string[],
  encoding: FeatureEncoding,
): ScoringSpec {
  return {
    format: SCORING_FORMAT,
    version: SCORING_VERSION,
    task,
    classes: [...classes],
    encoding,
    inputColumns: inputColumns(encoding),
  };
}

/** Validates a stored spec (registry row, scoring.json); undefined when there is none. */
export function parseScoringSpec(value: unknown): ScoringSpec | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const spec = (typeof value === 'string' ? JSON.parse(value) : value) as Partial<ScoringSpec>;
  const encoding = spec.encoding as Partial<FeatureEncoding> | undefined;
  if (
    spec.format !== SCORING_FORMAT ||
    spec.version !== SCORING_VERSION ||
    (spec.task !== 'classification' && spec.task !== 'regression') ||
    !Array.isArray(spec.classes) ||
    !Array.isArray(encoding?.numeric) ||
    !Array.isArray(encoding?.categorical)
  )
    throw new Error(
      `not a ${SCORING_FORMAT} v${SCORING_VERSION} document: ${JSON.stringify(value).slice(0, 200)}`,
    );
  return scoringSpecOf(spec.task, spec.classes, encoding as FeatureEncoding);
}

export function holdoutFile(holdout: HoldoutRef): string {
  return path.join(holdout.dir, HOLDOUT_FILE);
}

export async function writeHoldout(dir: string, rows: readonly HoldoutRow[]): Promise<HoldoutRef> {
  await mkdir(dir, { recursive: true });
  const text = rows.map((r) => JSON.stringify(r)).join('\n');
  await writeFile(path.join(dir, HOLDOUT_FILE), text === '' ? '' : `${text}\n`);
  return { dir, rows: rows.length };
}

export async function readHoldout(holdout: HoldoutRef): Promise<HoldoutRow[]> {
  const file = holdoutFile(holdout);
  const rows: HoldoutRow[] = [];
  let line = 0;
  for (const raw of (await readFile(file, 'utf8')).split('\n')) {
    line++;
    if (raw.trim() === '') continue;
    const row = JSON.parse(raw) as Partial<HoldoutRow>;
    if (
      typeof row.id !== 'string' ||
      (typeof row.label !== 'string' && typeof row.label !== 'number') ||
      typeof row.features !== 'object' ||
      row.features === null
    )
      throw new Error(`${file}:${line}: expected {"id", "tsMs", "label", "features"}`);
    rows.push(row as HoldoutRow);
  }
  return rows;
}

/**
 * Encodes the holdout's features with one model version's spec into `dir` (`holdout.jsonl` of
 * `{"x", "id"}` rows, no labels, and `meta.json`), as the dataset its `predict` is given.
 */
export async function writeScoringSet(
  rows: readonly HoldoutRow[],
  spec: ScoringSpec,
  dir: string,
): Promise<DatasetRef> {
  await mkdir(dir, { recursive: true });
  const text = rows
    .map((r) => JSON.stringify({ x: encodeFeatures(spec.encoding, r.features), id: r.id }))
    .join('\n');
  await writeFile(path.join(dir, HOLDOUT_FILE), text === '' ? '' : `${text}\n`);
  const ref: DatasetRef = {
    dir,
    task: spec.task,
    classes: spec.classes,
    inputColumns: spec.inputColumns,
    rows: { train: 0, validation: 0, holdout: rows.length },
  };
  await writeFile(
    path.join(dir, 'meta.json'),
    `${JSON.stringify({ format: 'driftguard.retune.scoring-set', version: 1, ...ref }, null, 2)}\n`,
  );
  return ref;
}

/**
 * A prediction as the promotion gate compares it: for classification a class index is read
 * against the version's own class list (a champion trained on an older list keeps its meaning);
 * a class name is kept. Regression values are numbers.
 */
export function predictionValue(
  spec: Pick<ScoringSpec, 'task' | 'classes'>,
  value: string | number,
): string | number {
  if (spec.task !== 'classification') return typeof value === 'string' ? Number(value) : value;
  if (typeof value === 'number' && Number.isInteger(value) && spec.classes[value] !== undefined)
    return spec.classes[value];
  return String(value);
}
