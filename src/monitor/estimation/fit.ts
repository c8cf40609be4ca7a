import {
  DEFAULT_BAND_CHUNKS,
  MIN_CHUNK_ROWS,
  fitCbpe,
  fitDle,
  fitErrorModel,
  fitReconstruction,
  type FeatureColumn,
} from '../../../detectors/index.js';
import type { ResolvedModelSettings } from '../options.js';
import { buildReferenceProfile, type ReferenceProfile } from '../reference.js';
import type { EstimationRow } from './reference-rows.js';
import type { EstimatorName, FittedEstimators, OutputSpec, ScoreSource } from './types.js';

/**
 * Fits everything the estimation step needs from a reference's rows (pure): the profiles of the
 * model's outputs, PCA reconstruction on the features, and — on the labelled rows — CBPE (scores)
 * or DLE (regression) and the classifier's error model for attribution. What cannot be fitted is
 * reported with the reason, never thrown: a model without scores, a reference with too few
 * labelled rows, a binary model whose single score names no class.
 */

/** Every estimator needs this many rows: 20 contiguous chunks of at least 50 for its band. */
export const MIN_FIT_ROWS = DEFAULT_BAND_CHUNKS * MIN_CHUNK_ROWS;
/** Class scores watched as outputs at most. */
const MAX_SCORE_OUTPUTS = 20;
/** Classes a CBPE model tracks at most (multiclass: one score histogram per class per window). */
const MAX_CBPE_CLASSES = 50;

export const PREDICTION_OUTPUT = '__prediction__';
export const SCORE_OUTPUT = '__score__';

export interface FitInput {
  readonly rows: readonly EstimationRow[];
  readonly profile: ReferenceProfile;
  readonly settings: ResolvedModelSettings;
  readonly task: 'classification' | 'regression' | undefined;
  readonly referenceCreatedAtMs: number;
  readonly nowMs: number;
}

export function fitEstimators(input: FitInput): FittedEstimators {
  const { settings, task } = input;
  const options = settings.estimation;
  const rows = input.rows.slice(0, options.maxFitRows);
  const features = Object.keys(input.profile.features).sort().slice(0, options.maxFeatures);
  const kinds = new Map(features.map((f) => [f, input.profile.features[f]?.kind ?? 'numeric'] as const));
  const unavailable: Partial<Record<EstimatorName, string>> = {};
  let waitingForLabels = false;
  const labelled = rows.filter((r) =>
    task === 'regression' ? r.labelNumber !== null : task === 'classification' && r.label !== null,
  );
  /** An estimator that needs labelled rows: available, or why not (and whether to wait). */
  const needLabels = (name: EstimatorName, usable: number, what: string): boolean => {
    if (usable >= MIN_FIT_ROWS) return true;
    const unlabelled = rows.length - labelled.length;
    if (unlabelled > 0) waitingForLabels = true;
    unavailable[name] =
      `${usable} ${what} in the reference, ${MIN_FIT_ROWS} needed` +
      (unlabelled > 0
        ? ` (${unlabelled} of its ${rows.length} rows have no outcome yet; fitted again when they arrive)`
        : rows.length < MIN_FIT_ROWS
          ? ` (the reference has ${rows.length} rows: raise reference.count)`
          : '');
    return false;
  };

  const outputs = options.outputDrift ? outputSpecs(rows, task) : [];
  const result: {
    -readonly [K in keyof FittedEstimators]: FittedEstimators[K];
  } = {
    version: 1,
    referenceCreatedAtMs: input.referenceCreatedAtMs,
    fittedAtMs: input.nowMs,
    rows: rows.length,
    labelledRows: labelled.length,
    task,
    outputs,
    unavailable,
    waitingForLabels: false,
  };
  if (options.outputDrift && outputs.length === 0)
    unavailable.outputs = "the reference's events carry no prediction or score";

  if (options.multivariate.enabled) {
    if (features.length < 2)
      unavailable.reconstruction = `needs at least 2 features, the reference has ${features.length}`;
    else if (rows.length < MIN_FIT_ROWS)
      unavailable.reconstruction = `the reference has ${rows.length} rows, ${MIN_FIT_ROWS} needed: raise reference.count`;
    else
      attempt(unavailable, 'reconstruction', () => {
        result.reconstruction = fitReconstruction(featureColumns(rows, features, kinds));
      });
  }

  if (task === 'classification') {
    const scored = cbpeRows(rows, labelled, classesOf(settings, rows, labelled), settings);
    if ('reason' in scored) unavailable.cbpe = scored.reason;
    else if (needLabels('cbpe', scored.rows.length, 'labelled rows with scores of known classes')) {
      const { source, rows: usable, classes } = scored;
      const index = new Map(classes.map((c, k) => [c, k]));
      attempt(unavailable, 'cbpe', () => {
        result.cbpe = {
          model: fitCbpe({
            classes,
            scores: source.classes.map((c) =>
              Float64Array.from(usable, (r) => scoreOf(r, c, source) as number),
            ),
            predicted: Int32Array.from(usable, (r) => index.get(r.predictionLabel) as number),
            actual: Int32Array.from(usable, (r) => index.get(r.label as string) as number),
          }),
          scores: source,
        };
      });
    }
    const predictedRows = labelled.filter((r) => r.predictionLabel !== '');
    if (features.length === 0) unavailable.error_model = 'the reference has no features';
    else if (needLabels('error_model', predictedRows.length, 'labelled rows with a predicted label')) {
      const ids = new Map<string, number>();
      const id = (label: string): number => {
        let k = ids.get(label);
        if (k === undefined) ids.set(label, (k = ids.size));
        return k;
      };
      attempt(unavailable, 'error_model', () => {
        result.errorModel = fitErrorModel(
          featureColumns(predictedRows, features, kinds),
          Int32Array.from(predictedRows, (r) => id(r.predictionLabel)),
          Int32Array.from(predictedRows, (r) => id(r.label as string)),
        );
      });
    }
  } else if (task === 'regression') {
    const usable = labelled.filter((r) => r.predictionNumber !== null);
    if (needLabels('dle', usable.length, 'labelled rows with a numeric prediction')) {
      attempt(unavailable, 'dle', () => {
        result.dle = fitDle({
          features: featureColumns(usable, features, kinds),
          predictions: Float64Array.from(usable, (r) => r.predictionNumber as number),
          actual: Float64Array.from(usable, (r) => r.labelNumber as number),
        });
      });
    }
  }
  result.waitingForLabels = waitingForLabels;
  return result;
}

/** Runs a fit; a RangeError (the estimator's own precondition) becomes its reason. */
function attempt(
  unavailable: Partial<Record<EstimatorName, string>>,
  name: EstimatorName,
  fit: () => void,
): void {
  try {
    fit();
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    unavailable[name] = error.message;
  }
}

/**
 * Feature columns as the estimators take them: a numeric feature's non-numbers and a categorical
 * feature's non-strings are missing — what the window SQL sees, which reads numeric values from
 * the numeric arrays and categories from the categorical ones.
 */
export function featureColumns(
  rows: readonly EstimationRow[],
  names: readonly string[],
  kinds: ReadonlyMap<string, 'numeric' | 'categorical'>,
): FeatureColumn[] {
  return names.map((name) => {
    if (kinds.get(name) === 'categorical') {
      return {
        name,
        kind: 'categorical',
        values: rows.map((r) => {
          const v = r.features[name];
          return typeof v === 'string' ? v : null;
        }),
      };
    }
    return {
      name,
      kind: 'numeric',
      values: Float64Array.from(rows, (r) => {
        const v = r.features[name];
        return typeof v === 'number' ? v : Number.NaN;
      }),
    };
  });
}

/** The configured classes, else every label the reference predicted or its outcomes had, sorted. */
function classesOf(
  settings: ResolvedModelSettings,
  rows: readonly EstimationRow[],
  labelled: readonly EstimationRow[],
): string[] {
  const configured = settings.task?.type === 'classification' ? settings.task.classes : undefined;
  if (configured !== undefined) return [...configured];
  const seen = new Set<string>();
  for (const r of rows) if (r.predictionLabel !== '') seen.add(r.predictionLabel);
  for (const r of labelled) if (r.label !== null) seen.add(r.label);
  return [...seen].sort();
}

/** The score of class `cls` of a row under `source`, or undefined. */
export function scoreOf(row: EstimationRow, cls: string, source: ScoreSource): number | undefined {
  const v = row.scores[cls];
  if (v !== undefined) return v;
  return source.singleScore && row.score !== null ? row.score : undefined;
}

/**
 * Which scores CBPE reads and the labelled rows it can use: rows predicted and labelled with known
 * classes that have every tracked class's score.
 */
function cbpeRows(
  all: readonly EstimationRow[],
  labelled: readonly EstimationRow[],
  found: readonly string[],
  settings: ResolvedModelSettings,
): { source: ScoreSource; rows: EstimationRow[]; classes: readonly string[] } | { reason: string } {
  let classes = found;
  const withMap = all.some((r) => Object.keys(r.scores).length > 0);
  const withNumber = all.some((r) => r.score !== null);
  if (!withMap && !withNumber) return { reason: "the reference's events carry no scores" };
  if (classes.length < 2) return { reason: `needs at least 2 classes, the reference has ${classes.length}` };
  if (classes.length > MAX_CBPE_CLASSES)
    return { reason: `tracks at most ${MAX_CBPE_CLASSES} classes, the reference has ${classes.length}` };
  let source: ScoreSource;
  if (classes.length === 2) {
    const configured = settings.task?.type === 'classification' && settings.task.classes !== undefined;
    const inMaps = classes.filter((c) => all.some((r) => r.scores[c] !== undefined));
    const positive = configured ? (classes[0] as string) : inMaps[0];
    if (positive === undefined) {
      return {
        reason:
          'the events carry one score without its class: set monitoring.models.<model>.task.classes (the first class is the one the score is for)',
      };
    }
    // CBPE's binary form tracks the first class: put the positive one first.
    if (positive !== classes[0]) classes = [positive, ...classes.filter((c) => c !== positive)];
    source = { classes: [positive], singleScore: configured };
  } else {
    source = { classes: [...classes], singleScore: false };
  }
  const known = new Set(classes);
  const rows = labelled.filter(
    (r) =>
      known.has(r.predictionLabel) &&
      r.label !== null &&
      known.has(r.label) &&
      source.classes.every((c) => scoreOf(r, c, source) !== undefined),
  );
  return { source, rows, classes };
}

/**
 * The outputs to watch: the predicted label (classification) or number (regression), the single
 * score, and each class's score in the maps (the first 20 classes by name).
 */
function outputSpecs(
  rows: readonly EstimationRow[],
  task: 'classification' | 'regression' | undefined,
): OutputSpec[] {
  const specs: Array<
    Omit<OutputSpec, 'reference'> & { value: (r: EstimationRow) => number | string | null }
  > = [];
  const labels = rows.some((r) => r.predictionLabel !== '' && r.predictionNumber === null);
  const numbers = rows.some((r) => r.predictionNumber !== null);
  if ((task === 'classification' || (task === undefined && labels)) && labels)
    specs.push({
      name: PREDICTION_OUTPUT,
      source: 'label',
      value: (r) => (r.predictionLabel === '' ? null : r.predictionLabel),
    });
  else if (numbers && task !== 'classification')
    specs.push({ name: PREDICTION_OUTPUT, source: 'number', value: (r) => r.predictionNumber });
  if (rows.some((r) => r.score !== null))
    specs.push({ name: SCORE_OUTPUT, source: 'score', value: (r) => r.score });
  const classes = new Set<string>();
  for (const r of rows) for (const c of Object.keys(r.scores)) classes.add(c);
  for (const cls of [...classes].sort().slice(0, MAX_SCORE_OUTPUTS))
    specs.push({
      name: `${SCORE_OUTPUT}:${cls}`,
      source: 'class_score',
      cls,
      value: (r) => r.scores[cls] ?? null,
    });
  if (specs.length === 0) return [];
  const kinds = Object.fromEntries(
    specs.map((s) => [s.name, s.source === 'label' ? ('categorical' as const) : ('numeric' as const)]),
  );
  const profile = buildReferenceProfile(
    rows.map((r) => ({ features: Object.fromEntries(specs.map((s) => [s.name, s.value(r)])) })),
    kinds,
    'outputs',
  );
  return specs.flatMap(({ name, source, cls }) => {
    const reference = profile.features[name];
    return reference === undefined
      ? []
      : [{ name, source, ...(cls === undefined ? {} : { cls }), reference }];
  });
}
