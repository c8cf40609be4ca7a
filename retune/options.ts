/**
 * The `retune:` section of the configuration. The lead wires `retuneSchema` into the config
 * schema; `compileRetuneOptions` turns its output into the frozen options the Retuner uses and
 * fails at boot, naming the value and the fix, on what zod cannot see (the search space, the
 * sampler and pruner options, which the HPO engine validates).
 */
import { z } from 'zod';
import { MODEL_NAME_PATTERN, MODEL_NAME_RULE } from '../kernel/names.js';
import {
  compileStudyOptions,
  PRUNER_NAMES,
  RECOMMENDED_TPE_OPTIONS,
  SAMPLER_NAMES,
  type StudyOptions,
} from './engine/index.js';
import { ALPHA_SPENDING_RULES, checkGate, PROMOTION_METRICS, type PromotionGate } from './promotion/index.js';

const durationMs = z.number().int().nonnegative();
const fraction = z.number().gt(0).lt(1);

/** A fixed encoding (docs/trainers.md): feature names, optionally with their statistics. */
const encodingSchema = z
  .object({
    numeric: z
      .array(
        z.union([
          z.string().min(1),
          z
            .object({
              name: z.string().min(1),
              mean: z.number().optional(),
              std: z.number().positive().optional(),
            })
            .strict(),
        ]),
      )
      .optional(),
    categorical: z
      .array(
        z.union([
          z.string().min(1),
          z.object({ name: z.string().min(1), categories: z.array(z.string()).optional() }).strict(),
        ]),
      )
      .optional(),
  })
  .strict();

/**
 * `retune.data`: what a study learns from (retune/data, docs/trainers.md). Split sizes go under
 * `split`; `holdoutFraction` / `validationFraction` at this level are accepted shorthands.
 */
export const retuneDataSchema = z
  .object({
    /** classification | regression; default: the monitor's task for the model, else classification. */
    task: z.enum(['classification', 'regression']).optional(),
    /** Share of the labelled rows held out for the promotion test (the newest; no program sees them). Shorthand of split.holdoutFraction. @default 0.2 */
    holdoutFraction: fraction.optional(),
    /** Share used for trial validation (the objective). Shorthand of split.validationFraction. @default 0.2 */
    validationFraction: fraction.optional(),
    split: z
      .object({
        validationFraction: fraction.optional(),
        holdoutFraction: fraction.optional(),
        /** Fixed sizes; override the fractions. */
        validationRows: z.number().int().positive().optional(),
        holdoutRows: z.number().int().positive().optional(),
        /** Fewer labelled rows fails the preparation. @default 30 */
        minRows: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    /** Most labelled rows to prepare per study (the newest). @default 100000 */
    maxRows: z.number().int().positive().default(100_000),
    /** How far back to take labelled rows (and at most how far back from a drift onset). @default 604800000 (7 d) */
    lookbackMs: durationMs.default(604_800_000),
    /** Encoding statistics: the stored reference profile, none (train split), or a profile given here. @default "clickhouse" */
    reference: z
      .union([
        z.enum(['clickhouse', 'none']),
        z.object({ profile: z.record(z.string(), z.unknown()) }).strict(),
      ])
      .default('clickhouse'),
    /** A `<name>:missing` column per numeric feature. @default true */
    missingIndicators: z.boolean().default(true),
    /** Categories kept per feature when learnt from the train split. @default 50 */
    maxCategories: z.number().int().positive().default(50),
    /** Fixed features (and optionally statistics). */
    encoding: encodingSchema.optional(),
    /**
     * A study the monitor starts because the model drifted learns the world after the drift:
     * train, validation and holdout come from rows after the drift onset the monitor reports, and
     * the study waits (state `waiting`) until `minLabelledRows` of them are labelled.
     */
    afterDrift: z
      .object({
        /** @default true */
        enabled: z.boolean().default(true),
        /** Labelled rows after the onset before training starts. @default 1000 */
        minLabelledRows: z.number().int().positive().default(1000),
        /** Give up (study failed, with the counts) after waiting this long. @default 604800000 (7 d) */
        maxWaitMs: durationMs.default(604_800_000),
        /** How often the labelled rows are counted while waiting. @default 60000 */
        pollIntervalMs: z.number().int().positive().default(60_000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type RetuneDataConfig = z.output<typeof retuneDataSchema>;

/** The effective split: `split.*` wins over the shorthands; both at once is refused at boot. */
export function splitOptionsOf(data: RetuneDataConfig): {
  validationFraction: number;
  holdoutFraction: number;
  validationRows?: number;
  holdoutRows?: number;
  minRows: number;
} {
  return {
    validationFraction: data.split?.validationFraction ?? data.validationFraction ?? 0.2,
    holdoutFraction: data.split?.holdoutFraction ?? data.holdoutFraction ?? 0.2,
    ...(data.split?.validationRows === undefined ? {} : { validationRows: data.split.validationRows }),
    ...(data.split?.holdoutRows === undefined ? {} : { holdoutRows: data.split.holdoutRows }),
    minRows: data.split?.minRows ?? 30,
  };
}

/**
 * Trainer selection, passed through verbatim to the trainers (retune/trainers validates the
 * fields of each type when it builds the trainer).
 */
export const retuneTrainerSchema = z
  .object({
    /**
     * `tfjs`: the built-in TensorFlow.js trainer; `command`: run your own training program. The
     * other keys are the trainer's own options (docs/trainers.md), validated when it is built.
     */
    kind: z.enum(['tfjs', 'command']),
  })
  .catchall(z.unknown());

export const retuneSchema = z
  .object({
    /** Whether the daemon runs studies at all (routes still read history). @default false */
    enabled: z.boolean().default(false),
    /** Models the monitor may retune; empty means every model. Manual and API triggers are not limited. @default [] */
    models: z.array(z.string().regex(MODEL_NAME_PATTERN, { message: MODEL_NAME_RULE })).default([]),
    /** @default { type: "tfjs" } */
    trainer: retuneTrainerSchema.default({ kind: 'tfjs' }),
    /** Where trials run: GPUs (`auto` asks nvidia-smi) or CPU slots. */
    scheduler: z
      .object({
        /** @default "auto" */
        devices: z.union([z.literal('auto'), z.array(z.string().regex(/^\d+$/))]).default('auto'),
        /** @default 1 */
        trialsPerDevice: z.number().int().positive().default(1),
        /** Concurrent trials on a host without GPUs. @default 1 */
        cpuConcurrency: z.number().int().positive().default(1),
      })
      .strict()
      .prefault({}),
    objective: z
      .object({
        /** The metric each trial reports and the study optimises. @default "val_loss" */
        metric: z.string().min(1).default('val_loss'),
        /** @default "minimize" */
        direction: z.enum(['minimize', 'maximize']).default('minimize'),
      })
      .strict()
      .prefault({}),
    /** The hyperparameters to search (retune/engine SearchSpaceOptions; see docs/hpo.md). */
    space: z
      .object({ params: z.array(z.record(z.string(), z.unknown())).min(1) })
      .strict()
      .default({ params: [{ name: 'learning_rate', type: 'float', low: 1e-4, high: 0.1, log: true }] }),
    /**
     * driftguard's recommended TPE (multivariate, a 10 % kernel floor, constant liar; see
     * docs/hpo.md); `{ name: "tpe" }` alone is Optuna's defaults.
     * @default RECOMMENDED_TPE_OPTIONS
     */
    sampler: z
      .object({ name: z.enum(SAMPLER_NAMES) })
      .catchall(z.unknown())
      .default({ ...RECOMMENDED_TPE_OPTIONS }),
    /** @default { name: "median" } */
    pruner: z
      .object({ name: z.enum(PRUNER_NAMES) })
      .catchall(z.unknown())
      .default({ name: 'median' }),
    budget: z
      .object({
        /** Trials per study. @default 20 */
        maxTrials: z.number().int().positive().default(20),
        /** Wall time per study from when it starts training (waiting for labels does not count). @default 3600000 (1 h) */
        maxWallTimeMs: z.number().int().positive().default(3_600_000),
        /** Trials running at once (further capped by the device pool). @default 1 */
        maxConcurrentTrials: z.number().int().positive().default(1),
      })
      .strict()
      .prefault({}),
    /** Trials that were running when the daemon died: run again (`requeue`) or mark failed. @default "requeue" */
    onRestoreRunning: z.enum(['requeue', 'fail']).default('requeue'),
    /** Seed of the sampler (unsigned 32-bit); each study derives its own from it. @default 0 */
    seed: z.number().int().min(0).max(0xffffffff).default(0),
    promotion: z
      .object({
        /** Holdout metric compared between champion and challenger. @default "accuracy" */
        metric: z.enum(PROMOTION_METRICS).default('accuracy'),
        /** Smallest improvement worth promoting (metric units, or a fraction when `relative`). @default 0.01 */
        minImprovement: z.number().nonnegative().default(0.01),
        /** Read minImprovement relative to |champion value|. @default false */
        relative: z.boolean().default(false),
        /**
         * Bound on the chance of promoting a challenger that is not better by minImprovement, over
         * a champion's whole life (with `alphaSpending: inverse-square`). @default 0.05
         */
        alpha: z.number().gt(0).lt(0.5).default(0.05),
        /**
         * `inverse-square`: the k-th test of one champion runs at alpha * 6 / (pi^2 k^2), which sums
         * to alpha; `none`: every test at alpha (the lifetime false-promotion rate then grows with
         * every study). @default "inverse-square"
         */
        alphaSpending: z.enum(ALPHA_SPENDING_RULES).default('inverse-square'),
        /** `auto`: the score test (McNemar-type) for accuracy/error_rate, the paired t otherwise. @default "auto" */
        test: z.enum(['auto', 'mcnemar', 'paired_t']).default('auto'),
      })
      .strict()
      .prefault({}),
    triggers: z
      .object({
        /** Health statuses (from the monitor: ok, warning, critical) that start a study. @default ["critical"] */
        states: z.array(z.enum(['ok', 'warning', 'critical'])).default(['critical']),
        /**
         * Monitor rules whose breach starts a study whatever the health (a trailing `*` matches a
         * prefix): `estimated:*` retunes when performance estimated without labels (CBPE, DLE)
         * leaves its band or crosses its threshold, before any label arrives;
         * `model:multivariate_drift` on a change of the joint distribution. Whole-model rules
         * only (not a segment's). @default []
         */
        rules: z
          .array(
            z.string().regex(/^[A-Za-z0-9_.:-]+\*?$/, {
              message:
                'a rule id (e.g. estimated:accuracy), optionally ending in * to match a prefix (estimated:*)',
            }),
          )
          .default([]),
        /**
         * Consecutive evaluations a model's health must stay in `states` before a study starts, so
         * that one noisy window does not buy a study. Counted per replica: a model that moves to
         * another replica starts counting again. @default 1
         */
        consecutiveEvaluations: z.number().int().positive().default(1),
        /** Minimum time between two studies of one model (any trigger but `force`). @default 21600000 (6 h) */
        cooldownMs: durationMs.default(21_600_000),
        /** Studies training at once across models (studies waiting for labels do not count). @default 1 */
        maxConcurrentStudies: z.number().int().positive().default(1),
      })
      .strict()
      .prefault({}),
    data: retuneDataSchema.prefault({}),
    /** Promoted artifacts are copied to `<modelStoreDir>/<model>/<version>/`. @default "./var/models" */
    modelStoreDir: z.string().min(1).default('./var/models'),
    /** Datasets and trial artifacts of running studies. @default "./var/retune" */
    workDir: z.string().min(1).default('./var/retune'),
    /** Kafka topic for promotion/rollback events. @default "driftguard.events" */
    eventsTopic: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,249}$/, {
        message: 'Kafka topic names use letters, digits, ".", "_" and "-"',
      })
      .default('driftguard.events'),
  })
  .strict()
  .superRefine((value, ctx) => {
    for (const key of ['holdoutFraction', 'validationFraction'] as const)
      if (value.data[key] !== undefined && value.data.split?.[key] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['data', key],
          message: `set ${key} once: retune.data.${key} (${value.data[key]}) and retune.data.split.${key} (${value.data.split[key]}) are the same setting`,
        });
    const split = splitOptionsOf(value.data);
    if (split.holdoutFraction + split.validationFraction >= 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['data'],
        message: `holdoutFraction + validationFraction must leave rows to train on, got ${split.holdoutFraction} + ${split.validationFraction}`,
      });
    }
    try {
      compileStudyOptions(studyOptionsFrom(value));
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['space'], message: (error as Error).message });
    }
    try {
      checkGate(gateFrom(value));
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['promotion'], message: (error as Error).message });
    }
  });

export type RetuneConfigInput = z.input<typeof retuneSchema>;
export type RetuneConfig = z.output<typeof retuneSchema>;

/** The engine's study options for one study of this config. */
export function studyOptionsFrom(config: RetuneConfig, name = 'study'): StudyOptions {
  return {
    name,
    direction: config.objective.direction,
    space: config.space as unknown as StudyOptions['space'],
    sampler: config.sampler,
    pruner: config.pruner,
    seed: config.seed,
    budget: {
      maxTrials: config.budget.maxTrials,
      maxWallTimeMs: config.budget.maxWallTimeMs,
      maxConcurrent: config.budget.maxConcurrentTrials,
    },
    onRestoreRunning: config.onRestoreRunning,
  };
}

export function gateFrom(config: RetuneConfig): PromotionGate {
  return { ...config.promotion };
}

/** Parses (applying defaults) and freezes; throws a ZodError whose issues name the path and fix. */
export function compileRetuneOptions(input: unknown): Readonly<RetuneConfig> {
  return Object.freeze(retuneSchema.parse(input ?? {}));
}
