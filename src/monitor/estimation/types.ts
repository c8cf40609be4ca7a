import type {
  AdditiveModel,
  Attribution,
  BinnedInputAggregates,
  CbpeModel,
  CbpeWindowAggregates,
  DleModel,
  FeatureAttribution,
  LabelledScoreAggregates,
  MomentAggregates,
  ReconstructionModel,
} from '../../../detectors/index.js';
import type { FeatureReference } from '../reference.js';

/**
 * The vocabulary of the monitor's estimation step (issue 15): what is fitted once per reference
 * and stored as JSON, what ClickHouse returns per window, and what an evaluation reports.
 */

/** The estimators of this step, as reported (API, gauges, logs). */
export const ESTIMATORS = ['cbpe', 'dle', 'error_model', 'reconstruction', 'outputs'] as const;
export type EstimatorName = (typeof ESTIMATORS)[number];

/**
 * How a class's score is read from a prediction row: its value in the `scores` map, or, for the
 * positive class of a binary model, the single number `score` when the map does not have it.
 */
export interface ScoreSource {
  /** The tracked classes' names, in CbpeModel.trackedClasses order. */
  readonly classes: readonly string[];
  /** Binary model: a row's single number `score` is the positive class's score. */
  readonly singleScore: boolean;
}

/** One of the model's outputs watched for drift like a feature. */
export interface OutputSpec {
  /** `__prediction__`, `__score__` or `__score__:<class>`. */
  readonly name: string;
  /** Where the value is: the predicted label, the predicted number, the score, a class's score. */
  readonly source: 'label' | 'number' | 'score' | 'class_score';
  /** For `class_score`: the class. */
  readonly cls?: string;
  readonly reference: FeatureReference;
}

/**
 * Everything fitted on one reference, stored in `reference_estimators`. An estimator that could
 * not be fitted has a reason in `unavailable` instead (never an error: no scores, too few
 * labelled rows, an uploaded reference...). `waitingForLabels` is true while CBPE / DLE / the
 * error model lack labelled rows that may still arrive: the reference is fitted again later.
 */
export interface FittedEstimators {
  readonly version: 1;
  readonly referenceCreatedAtMs: number;
  readonly fittedAtMs: number;
  /** Reference rows the fit used, and how many of them were labelled. */
  readonly rows: number;
  readonly labelledRows: number;
  readonly task: 'classification' | 'regression' | undefined;
  readonly cbpe?: { readonly model: CbpeModel; readonly scores: ScoreSource };
  readonly dle?: DleModel;
  /** Classifiers' attribution: an additive model of the error indicator over the features. */
  readonly errorModel?: AdditiveModel;
  readonly reconstruction?: ReconstructionModel;
  readonly outputs: readonly OutputSpec[];
  readonly unavailable: Partial<Record<EstimatorName, string>>;
  readonly waitingForLabels: boolean;
}

/** What ClickHouse returns for one model's window (each part only when its estimator exists). */
export interface EstimationAggregates {
  readonly cbpe?: CbpeWindowAggregates;
  readonly labelled?: LabelledScoreAggregates;
  /** Over DLE's inputs (regression) or the error model's (classification). */
  readonly binned?: BinnedInputAggregates;
  readonly moments?: MomentAggregates;
  readonly outputs?: OutputAggregates;
}

/** The window's outputs: numeric ones by grid cell with moments, the predicted labels counted. */
export interface OutputAggregates {
  /** Rows read (the window's, or its sample's): an output's missing values are the rest. */
  readonly rows: number;
  /** Per numeric output: grid cell → count (cells as the monitor's numeric histogram). */
  readonly cells: ReadonlyMap<string, ReadonlyMap<number, number>>;
  readonly moments: ReadonlyMap<
    string,
    { count: number; sum: number; sumSquares: number; min: number; max: number }
  >;
  /** Predicted label → count. */
  readonly labels: ReadonlyMap<string, number>;
}

/** One estimated metric of one window, beside its realized value. */
export interface EstimatedMetricRow {
  readonly metric: string;
  readonly method: 'cbpe' | 'dle';
  readonly estimated: number | null;
  readonly estimatedLower: number | null;
  readonly estimatedUpper: number | null;
  readonly referenceValue: number | null;
  readonly referenceLower: number | null;
  readonly referenceUpper: number | null;
  /** On the window's labelled rows; null while none arrived. */
  readonly realized: number | null;
  /** The configured threshold (`estimation.performance`), if any. */
  readonly threshold: number | null;
  /** Outside the reference band on the worse side, or across the threshold. */
  readonly breaching: boolean;
  readonly details: Record<string, unknown>;
}

export interface MultivariateResult {
  readonly error: number;
  readonly referenceValue: number;
  readonly lower: number;
  readonly upper: number;
  readonly alert: boolean;
  readonly count: number;
  readonly contributions: readonly { readonly feature: string; readonly value: number }[];
}

/** The estimation step's part of a model's evaluation. */
export interface EstimationReport {
  /** Which estimators were used this window, and why the others were not. */
  readonly available: readonly EstimatorName[];
  readonly unavailable: Partial<Record<EstimatorName, string>>;
  readonly metrics: readonly EstimatedMetricRow[];
  readonly multivariate?: MultivariateResult;
  /** Rows with scores the estimate is over (CBPE), or window rows (DLE). */
  readonly estimatedRows: number;
  /** The window was read on a deterministic sample of one row in this many (1: every row). */
  readonly sampleEvery: number;
}

export type { Attribution, FeatureAttribution };
