import { z } from 'zod';
import type { DeepReadonly } from '../../kernel/deep-readonly.js';
import { MODEL_NAME_PATTERN, MODEL_NAME_RULE } from '../../kernel/names.js';
import { isDetectorName, listDetectors, type DetectorName } from '../../detectors/index.js';

/**
 * The `monitoring:` section of the configuration. Every model seen in the stream is monitored;
 * a model listed under `models` gets its own features, task, reference, window, detectors,
 * performance thresholds and quality rules, the others get `defaults`.
 */

const durationMs = z.number().int().positive();
const featureName = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, {
  message: 'feature names use letters, digits, ".", "_", ":" and "-" (1-128 characters)',
});
const modelName = z.string().regex(MODEL_NAME_PATTERN, { message: MODEL_NAME_RULE });

export const windowSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('time'),
      /** The window is the last `durationMs` of event time up to the evaluation. @default 3600000 */
      durationMs: durationMs.default(3_600_000),
    })
    .strict(),
  z
    .object({
      type: z.literal('events'),
      /** The window is the model's last `count` events. */
      count: z.number().int().positive(),
    })
    .strict(),
]);

export const referenceSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('first_events'),
      /** The model's first `count` stored events become the reference. @default 1000 */
      count: z.number().int().positive().max(1_000_000).default(1_000),
    })
    .strict(),
  z
    .object({
      type: z.literal('time_range'),
      /** Inclusive start, epoch milliseconds. */
      fromMs: z.number().int().nonnegative(),
      /** Exclusive end, epoch milliseconds. */
      toMs: z.number().int().positive(),
      /** Rows pulled to build the profile at most (the earliest first). @default 200000 */
      maxRows: z.number().int().positive().max(1_000_000).default(200_000),
    })
    .strict(),
  z
    .object({
      /** Only an uploaded sample (`driftguard reference set` or `POST /v1/models/:model/reference`). */
      type: z.literal('upload'),
    })
    .strict(),
]);

const detectorSpec = z
  .object({
    /** A detector of the registry (docs/detectors.md): ks, psi, wasserstein, jensen_shannon, ... */
    name: z.string().min(1),
    /** Overrides the detector's documented default threshold. */
    threshold: z.number().positive().optional(),
    /** Evaluate it as an alert rule `drift:<feature>:<name>` (warning). @default false */
    alert: z.boolean().default(false),
  })
  .strict();

export const taskSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('classification'),
      /** The classes; the first is the positive class for binary metrics. */
      classes: z.array(z.string().min(1)).min(2).optional(),
    })
    .strict(),
  z.object({ type: z.literal('regression') }).strict(),
]);

const performanceMetric = z.enum([
  'accuracy',
  'macro_f1',
  'macro_precision',
  'macro_recall',
  'mae',
  'rmse',
  'mape',
  'r2',
  'roc_auc',
]);

export const performanceSchema = z
  .object({
    metric: performanceMetric,
    /** Breaching when the metric falls below this (accuracy, f1, r2, roc_auc). */
    min: z.number().optional(),
    /** Breaching when the metric rises above this (mae, rmse, mape). */
    max: z.number().optional(),
  })
  .strict();

export const qualitySchema = z
  .object({
    /** Share of events where a reference feature is missing, per feature. @default 0.2 */
    maxMissingRate: z.number().min(0).max(1).default(0.2),
    /** Share of a numeric feature's values outside the reference [min, max]. @default 0.1 */
    maxOutOfRangeShare: z.number().min(0).max(1).default(0.1),
    /** Share of a categorical feature's values not in the reference vocabulary. @default 0.1 */
    maxUnseenCategoryShare: z.number().min(0).max(1).default(0.1),
    /** Flag features that appear that the reference does not have, or that vanished. @default true */
    schemaChanges: z.boolean().default(true),
  })
  .strict();

/** Event tags a segment can slice by, with the `predictions` column each reads. */
export const SEGMENT_TAGS = { version: 'version' } as const;

export const segmentSchema = z
  .object({
    /** Slice by this categorical feature's value (segment `country=DE`). Exactly one of `feature` and `tag`. */
    feature: featureName.optional(),
    /** Slice by an event tag: `version` (the model version the producer sent; segment `version=v2`). */
    tag: z.enum(Object.keys(SEGMENT_TAGS) as [keyof typeof SEGMENT_TAGS]).optional(),
    /**
     * Named segments at most per evaluation: the window's most frequent values with at least
     * `minEvents` events. Events of every other value (and, for a feature, events without it)
     * form the one `__other__` segment. @default 10
     */
    maxValues: z.number().int().min(1).max(50).default(10),
    /**
     * Fewest events a segment needs in the window to be evaluated, and in the reference to be
     * compared with its own slice of the reference (else the whole reference). @default 100
     */
    minEvents: z.number().int().min(10).max(1_000_000).default(100),
    /** Evaluate exactly these values (still subject to `minEvents`) instead of the most frequent. */
    values: z.array(z.string().min(1).max(256)).min(1).max(50).optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if ((spec.feature === undefined) === (spec.tag === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'a segment slices by exactly one of `feature: <categorical feature>` or `tag: version`',
      });
    }
    if (spec.values !== undefined && new Set(spec.values).size !== spec.values.length) {
      ctx.addIssue({ code: 'custom', path: ['values'], message: 'segment values must be distinct' });
    }
  });

/** Metrics estimated without labels: CBPE for classifiers with scores, DLE for regression. */
export const ESTIMATED_METRICS = ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'mae', 'rmse'] as const;

/**
 * Performance estimation without labels, multivariate drift and output drift for one model
 * (docs/monitoring.md, "Estimated performance, multivariate drift, attribution"). The
 * estimators are fitted once per reference from its rows in the event store (labelled ones for
 * CBPE and DLE); a model whose reference lacks what one needs is reported as such.
 */
export const estimationSchema = z
  .object({
    /** Fit and evaluate the estimators for this model. @default true */
    enabled: z.boolean().default(true),
    /**
     * Thresholds on estimated metrics (accuracy, precision, recall, f1, roc_auc for classifiers;
     * mae, rmse for regression): rule `estimated:<metric>:threshold`, critical. @default []
     */
    performance: z
      .array(
        z
          .object({
            metric: z.enum(ESTIMATED_METRICS),
            /** Breaching when the estimate falls below this. */
            min: z.number().optional(),
            /** Breaching when the estimate rises above this. */
            max: z.number().optional(),
          })
          .strict()
          .refine((t) => (t.min === undefined) !== (t.max === undefined), {
            message: 'give exactly one of `min` and `max`',
          }),
      )
      .default([]),
    /**
     * Severity of rule `estimated:<metric>`: the estimate left its reference band on the side
     * where the model is worse (lower accuracy, higher MAE). @default "warning"
     */
    bandSeverity: z.enum(['warning', 'critical']).default('warning'),
    multivariate: z
      .object({
        /** PCA reconstruction error of the joint distribution (rule `model:multivariate_drift`). @default true */
        enabled: z.boolean().default(true),
        /** @default "warning" */
        severity: z.enum(['warning', 'critical']).default('warning'),
      })
      .strict()
      .prefault({}),
    /**
     * Drift of the model's outputs (`__prediction__`, `__score__`, `__score__:<class>`) against
     * the reference's, with the same tests as features (rule `drift:<output>:default`, warning).
     * @default true
     */
    outputDrift: z.boolean().default(true),
    /**
     * Features the estimators use at most (the first by name): PCA sums d(d+1)/2 products per row
     * in ClickHouse, and the loss models' fit grows with the cube of their bins. @default 32
     */
    maxFeatures: z.number().int().min(2).max(100).default(32),
    /**
     * Window rows the estimates are computed from at most: a larger window is read on a
     * deterministic sample of about this many rows (one in ceil(events / maxWindowRows), by
     * time: ~48 short slices spread over the window, see monitoring.md), which bounds the cost of
     * a cycle whatever the traffic; the bands are those of the sample's size. Realized
     * performance reads every labelled row. @default 200000
     */
    maxWindowRows: z.number().int().min(1_000).default(200_000),
    /** Reference rows the estimators are fitted on at most (the first ones). @default 20000 */
    maxFitRows: z.number().int().min(1_000).max(200_000).default(20_000),
    /** How often a reference whose estimators still wait for labelled rows is fitted again. @default 900000 */
    refitIntervalMs: durationMs.default(900_000),
  })
  .strict();

export const modelMonitoringSchema = z
  .object({
    /** Feature kinds; features not listed are inferred from the stored events. @default {} */
    features: z.record(featureName, z.enum(['numeric', 'categorical'])).default({}),
    /** Prediction/label kind; inferred (label → classification, number → regression) when absent. */
    task: taskSchema.optional(),
    reference: referenceSchema.optional(),
    window: windowSchema.optional(),
    detectors: z
      .object({
        numeric: z.array(detectorSpec).optional(),
        categorical: z.array(detectorSpec).optional(),
      })
      .strict()
      .optional(),
    /** Effect-size gate of the model-level rule for numeric (normalised W1) features. @default 0.05 */
    numericEffectThreshold: z.number().positive().default(0.05),
    /** Effect-size gate for categorical (total variation) features. @default 0.05 */
    categoricalEffectThreshold: z.number().positive().default(0.05),
    /** Family-wise level of the model-level rule (Bonferroni-corrected KS / chi-square). @default 0.05 */
    alpha: z.number().positive().max(0.5).default(0.05),
    performance: z.array(performanceSchema).default([]),
    quality: qualitySchema.prefault({}),
    /**
     * Slices evaluated beside the whole model each interval, e.g. `[{ feature: country }]`
     * (docs/monitoring.md, Segments). @default []
     */
    segments: z.array(segmentSchema).max(4).default([]),
    /** Estimated performance, multivariate and output drift (docs/monitoring.md). */
    estimation: estimationSchema.prefault({}),
  })
  .strict()
  .superRefine((model, ctx) => {
    checkDetectorNames(model.detectors, ctx);
    const seen = new Set<string>();
    model.segments.forEach((spec, i) => {
      const by = spec.feature ?? spec.tag ?? '';
      if (seen.has(by)) {
        ctx.addIssue({
          code: 'custom',
          path: ['segments', i],
          message: `two segments slice by "${by}": segment names (${by}=<value>) must be unique per model`,
        });
      }
      seen.add(by);
      if (spec.feature !== undefined && model.features[spec.feature] === 'numeric') {
        ctx.addIssue({
          code: 'custom',
          path: ['segments', i, 'feature'],
          message: `segment feature "${spec.feature}" is configured numeric; slice by a categorical feature`,
        });
      }
    });
  });

/**
 * Detector names refer to the registry in detectors/: an unknown name, or one that cannot test the
 * kind of feature it is listed under, is refused at boot with the valid names, not discovered as
 * an error every interval.
 */
function checkDetectorNames(
  detectors: { numeric?: readonly { name: string }[]; categorical?: readonly { name: string }[] } | undefined,
  ctx: z.RefinementCtx,
): void {
  for (const kind of ['numeric', 'categorical'] as const) {
    (detectors?.[kind] ?? []).forEach((spec, i) => {
      const valid = listDetectors()
        .filter((d) => d.kinds.includes(kind))
        .map((d) => d.name);
      if (valid.includes(spec.name as DetectorName)) return;
      const known = isDetectorName(spec.name);
      ctx.addIssue({
        code: 'custom',
        path: ['detectors', kind, i, 'name'],
        message: known
          ? `detector "${spec.name}" does not test ${kind} features; for ${kind} features use one of: ${valid.join(', ')} (docs/detectors.md)`
          : `unknown detector "${spec.name}"; for ${kind} features use one of: ${valid.join(', ')} (docs/detectors.md)`,
      });
    });
  }
}

export const monitoringSchema = z
  .object({
    /** @default true */
    enabled: z.boolean().default(true),
    /** How often every owned model is evaluated. @default 60000 */
    intervalMs: durationMs.default(60_000),
    /** Models seen in the stream in this period are monitored with `defaults`. @default 604800000 */
    discoverLookbackMs: durationMs.default(7 * 24 * 3_600_000),
    /** An outcome counts for a prediction when it arrives within this time of it. @default 604800000 */
    labelHorizonMs: durationMs.default(7 * 24 * 3_600_000),
    /** Window and reference for models without their own. */
    defaults: z
      .object({
        window: windowSchema.prefault({ type: 'time' }),
        reference: referenceSchema.prefault({ type: 'first_events' }),
      })
      .strict()
      .prefault({}),
    models: z.record(modelName, modelMonitoringSchema).default({}),
    /** Cells of the uniform grid ClickHouse counts numeric values in per feature. @default 4096 */
    gridCells: z.number().int().min(64).max(32_768).default(4_096),
    /**
     * Partial aggregates of the stored rows, per minute and hour (docs/monitoring.md, "Rollups"): a cycle reads
     * per-minute and per-hour states instead of the window's rows.
     */
    rollups: z
      .object({
        /** Off: every cycle aggregates the window's rows, as before rollups. @default true */
        enabled: z.boolean().default(true),
        /**
         * Minutes younger than this are read from the rows: late rows mostly land there, and
         * their rollups are not proved yet. @default 120000
         */
        openMs: durationMs.min(60_000).default(120_000),
        /**
         * Minutes a model may need to prove against its rows within a cycle; more (the first
         * cycle after a start, a new reference) are proved in the background while cycles read
         * the rows. @default 60
         */
        syncMinutes: z.number().int().min(1).default(60),
      })
      .strict()
      .prefault({}),
    /**
     * Prometheus series per feature (whole-model gauges are always exported; every result stays
     * in ClickHouse for Grafana). `top`: the `topFeatures` features with the largest effect per
     * model (drifted ones first); `drifted`: only drifted features; `all`: every feature and
     * detector; `off`: none.
     */
    featureMetrics: z
      .object({
        /** @default "top" */
        mode: z.enum(['top', 'drifted', 'all', 'off']).default('top'),
        /** @default 10 */
        topFeatures: z.number().int().min(1).max(1_000).default(10),
      })
      .strict()
      .prefault({}),
    coordination: z
      .object({
        /** Topic whose partition assignment decides which replica evaluates which model. */
        topic: z
          .string()
          .regex(/^[A-Za-z0-9._-]{1,249}$/)
          .default('driftguard.coordination'),
        /** @default 10000 */
        sessionTimeoutMs: durationMs.default(10_000),
        /** @default 1000 */
        heartbeatIntervalMs: durationMs.default(1_000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type MonitoringInput = z.input<typeof monitoringSchema>;
export type MonitoringConfig = z.output<typeof monitoringSchema>;
export type ModelMonitoringConfig = z.output<typeof modelMonitoringSchema>;
export type WindowConfig = z.output<typeof windowSchema>;
export type ReferenceConfig = z.output<typeof referenceSchema>;
export type DetectorConfig = z.output<typeof detectorSpec>;
export type PerformanceConfig = z.output<typeof performanceSchema>;
export type SegmentConfig = z.output<typeof segmentSchema>;
export type EstimationConfig = z.output<typeof estimationSchema>;

export type CompiledMonitoring = DeepReadonly<MonitoringConfig>;

/** Defaults per feature kind: the documented decision rule's tests plus PSI / JS. */
export const DEFAULT_DETECTORS = {
  numeric: [
    { name: 'ks', alert: false },
    { name: 'wasserstein', alert: false },
    { name: 'psi', alert: false },
  ],
  categorical: [
    { name: 'chi_square', alert: false },
    { name: 'tvd', alert: false },
    { name: 'jensen_shannon', alert: false },
  ],
} as const satisfies Record<'numeric' | 'categorical', readonly DetectorConfig[]>;

/** The model's settings with the section defaults filled in. */
export function modelSettings(monitoring: CompiledMonitoring, model: string): ResolvedModelSettings {
  const own = monitoring.models[model];
  const base = own ?? modelMonitoringSchema.parse({});
  return {
    ...base,
    configured: own !== undefined,
    reference: own?.reference ?? monitoring.defaults.reference,
    window: own?.window ?? monitoring.defaults.window,
    detectors: {
      numeric: own?.detectors?.numeric ?? DEFAULT_DETECTORS.numeric,
      categorical: own?.detectors?.categorical ?? DEFAULT_DETECTORS.categorical,
    },
  };
}

export interface ResolvedModelSettings extends Omit<
  DeepReadonly<ModelMonitoringConfig>,
  'reference' | 'window' | 'detectors'
> {
  readonly configured: boolean;
  readonly reference: DeepReadonly<ReferenceConfig>;
  readonly window: DeepReadonly<WindowConfig>;
  readonly detectors: {
    readonly numeric: readonly DeepReadonly<DetectorConfig>[];
    readonly categorical: readonly DeepReadonly<DetectorConfig>[];
  };
}
