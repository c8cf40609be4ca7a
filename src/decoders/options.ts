import { z } from 'zod';
import { MODEL_NAME_PATTERN, MODEL_NAME_RULE } from '../../kernel/names.js';
import { DriftguardError } from '../../kernel/errors.js';

/**
 * Configuration of the input-format decoders. The daemon's config file embeds
 * `decoderOptionsSchema`; `compileDecoderOptions` turns the raw value into a frozen object once at
 * boot so that decoding never re-validates configuration.
 */

/** Which wire formats a topic accepts. `auto` detects per record; any other value pins one format. */
export const INPUT_FORMATS = ['auto', 'native', 'cloudevents', 'oip', 'kserve-v1', 'seldon'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

const featureNames = z.array(z.string().min(1).max(256)).min(1);

/** How one model's tensors map to driftguard feature names and class names. */
export const modelMappingSchema = z
  .object({
    /**
     * Input tensor name → one feature name per column (row-major: the columns of one row).
     * KServe v1 array rows use the tensor name `instances`; object rows use their keys and need no entry.
     * @default {} (columns are named `<tensor>_<column>`, e.g. `input0_0`)
     */
    inputs: z.record(z.string(), featureNames).default({}),
    /**
     * Output tensor name → one class name per column of a multi-column (probability) output.
     * KServe v1 responses use the tensor name `predictions`.
     * @default {} (classes are named by column index: `"0"`, `"1"`, …)
     */
    outputs: z.record(z.string(), featureNames).default({}),
    /**
     * Output tensor whose value is the prediction. Unset: the first single-column output tensor,
     * else the argmax class of the scores tensor.
     */
    predictionOutput: z.string().min(1).optional(),
    /** Output tensor holding class probabilities. Unset: the first multi-column output tensor. */
    scoresOutput: z.string().min(1).optional(),
  })
  .strict();

export const decoderOptionsSchema = z
  .object({
    /**
     * Format of this topic's records. `auto` tells CloudEvents (ce_* headers or a structured
     * envelope), Seldon Core 2 topics (by name), bare OIP / KServe v1 bodies and native events
     * apart per record; a pinned format rejects records of any other format.
     * @default 'auto'
     */
    inputFormat: z.enum(INPUT_FORMATS).default('auto'),
    /**
     * Model name for bare OIP / KServe v1 bodies that name no model (v1 never does).
     * Unset: such records are rejected with `missing_field`.
     */
    model: z.string().regex(MODEL_NAME_PATTERN, { message: MODEL_NAME_RULE }).optional(),
    /**
     * How long a request (or response) waits for its partner before it is dead-lettered as
     * `unpaired`. Its Kafka offset is not committed meanwhile, so this also bounds redelivery
     * after a crash.
     * @default 60000
     */
    pairTimeoutMs: z.number().int().min(100).max(86_400_000).default(60_000),
    /**
     * Most halves held in memory waiting for a partner (all topics and the HTTP endpoint
     * together); past it the oldest are expired as `unpaired`.
     * @default 100000
     */
    maxHeld: z.number().int().min(1).max(10_000_000).default(100_000),
    /**
     * CloudEvents extension attribute that names the model (KServe sets `inferenceservicename`).
     * Without it the OIP `model_name` of the body, then the topic's `model`, are used.
     * @default 'inferenceservicename'
     */
    modelNameAttribute: z
      .string()
      .regex(/^[a-z0-9]{1,64}$/, 'CloudEvents attribute names are lower-case letters and digits')
      .default('inferenceservicename'),
    /**
     * Seldon Core 2 topic prefix: topics `<prefix>.<namespace>.model.<name>.inputs|outputs`.
     * @default 'seldon'
     */
    seldonTopicPrefix: z.string().min(1).max(200).default('seldon'),
    /**
     * Per-model feature and class naming, keyed by model name.
     * @default {}
     */
    models: z
      .record(z.string().regex(MODEL_NAME_PATTERN, { message: MODEL_NAME_RULE }), modelMappingSchema)
      .default({}),
  })
  .strict();

export type DecoderOptionsInput = z.input<typeof decoderOptionsSchema>;
export type DecoderOptions = z.output<typeof decoderOptionsSchema>;
export type ModelMapping = z.output<typeof modelMappingSchema>;

export interface CompiledModelMapping {
  readonly inputs: ReadonlyMap<string, readonly string[]>;
  readonly outputs: ReadonlyMap<string, readonly string[]>;
  readonly predictionOutput: string | undefined;
  readonly scoresOutput: string | undefined;
}

export interface CompiledDecoderOptions {
  readonly inputFormat: InputFormat;
  readonly model: string | undefined;
  readonly pairTimeoutMs: number;
  readonly maxHeld: number;
  readonly modelNameAttribute: string;
  readonly seldonTopicPrefix: string;
  readonly models: ReadonlyMap<string, CompiledModelMapping>;
}

export const EMPTY_MAPPING: CompiledModelMapping = Object.freeze({
  inputs: new Map<string, readonly string[]>(),
  outputs: new Map<string, readonly string[]>(),
  predictionOutput: undefined,
  scoresOutput: undefined,
});

function compileMapping(model: string, mapping: ModelMapping): CompiledModelMapping {
  for (const [side, table] of [
    ['inputs', mapping.inputs],
    ['outputs', mapping.outputs],
  ] as const) {
    for (const [tensor, names] of Object.entries(table)) {
      const seen = new Set<string>();
      for (const name of names) {
        if (seen.has(name)) {
          throw new DriftguardError(
            'CONFIG_INVALID',
            `decoders.models.${model}.${side}.${tensor} lists ${JSON.stringify(name)} twice; each column needs its own name`,
            { retriable: false },
          );
        }
        seen.add(name);
      }
    }
  }
  return Object.freeze({
    inputs: new Map(Object.entries(mapping.inputs).map(([k, v]) => [k, Object.freeze([...v])])),
    outputs: new Map(Object.entries(mapping.outputs).map(([k, v]) => [k, Object.freeze([...v])])),
    predictionOutput: mapping.predictionOutput,
    scoresOutput: mapping.scoresOutput,
  });
}

/** Validate raw options (e.g. from the config file) and freeze them; throws CONFIG_INVALID naming the bad field. */
export function compileDecoderOptions(raw: unknown = {}): CompiledDecoderOptions {
  const parsed = decoderOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? '' : issue.path.map(String).join('.');
    throw new DriftguardError(
      'CONFIG_INVALID',
      `invalid decoder options at ${where || '(root)'}: ${issue?.message ?? parsed.error.message}`,
      { retriable: false, cause: parsed.error },
    );
  }
  const o = parsed.data;
  return Object.freeze({
    inputFormat: o.inputFormat,
    model: o.model,
    pairTimeoutMs: o.pairTimeoutMs,
    maxHeld: o.maxHeld,
    modelNameAttribute: o.modelNameAttribute,
    seldonTopicPrefix: o.seldonTopicPrefix,
    models: new Map(Object.entries(o.models).map(([name, m]) => [name, compileMapping(name, m)])),
  });
}
