import { TrainerError } from '../errors.js';
import { DEFAULT_STEP_KEYS } from '../metric-lines.js';

/** The `trainer: { kind: command }` config section. */
export interface CommandTrainerOptions {
  readonly kind: 'command';
  /**
   * Program and arguments, run without a shell. Placeholders replaced inside each element:
   * `{params_file}`, `{data_dir}`, `{artifact_dir}`, `{trial}`.
   */
  readonly argv: readonly string[];
  /** Working directory. @default the daemon's */
  readonly cwd?: string;
  /** Extra environment for the program (on top of the daemon's and the DRIFTGUARD_* ones). */
  readonly env?: Readonly<Record<string, string>>;
  /** Wall-clock limit of one attempt. @default 3_600_000 (1 h) */
  readonly timeoutMs?: number;
  /** Between SIGTERM and SIGKILL when the trial is pruned, cancelled or timed out. @default 5_000 */
  readonly killGraceMs?: number;
  /** Re-runs of a crashed attempt (non-zero exit); a pruned trial is not a crash. @default 1 */
  readonly maxRetries?: number;
  /** Output kept in memory for the result's `logTail`. @default 16_384 characters */
  readonly logTailChars?: number;
  /** Keys of a metric line read as its step. @default ['step', 'epoch'] */
  readonly stepKeys?: readonly string[];
  /**
   * Scores a saved model for promotion: run without a shell with placeholders `{artifact_path}`,
   * `{data_dir}`, `{split}` (`holdout`/`validation`), `{split_file}`, `{output_file}`; it must
   * write JSON lines `{"id": ..., "prediction": ...}` to `{output_file}`.
   */
  readonly predictArgv?: readonly string[];
  /** @default 600_000 */
  readonly predictTimeoutMs?: number;
}

export interface CompiledCommandTrainerOptions {
  readonly argv: readonly string[];
  readonly cwd: string | undefined;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly killGraceMs: number;
  readonly maxRetries: number;
  readonly logTailChars: number;
  readonly stepKeys: readonly string[];
  readonly predictArgv: readonly string[] | undefined;
  readonly predictTimeoutMs: number;
}

const TRAIN_PLACEHOLDERS = ['params_file', 'data_dir', 'artifact_dir', 'trial'];
const PREDICT_PLACEHOLDERS = ['artifact_path', 'data_dir', 'split', 'split_file', 'output_file'];

function invalid(message: string, details: Record<string, unknown> = {}): TrainerError {
  return new TrainerError('TRAINER_CONFIG_INVALID', message, { details });
}

function positiveInt(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min)
    throw invalid(`trainer.${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`, {
      [name]: value,
    });
  return v;
}

function checkArgv(
  name: string,
  raw: readonly string[] | undefined,
  allowed: readonly string[],
): readonly string[] {
  // Config arrives from YAML: check the shape even though the type says string[].
  const list: unknown = raw;
  if (!Array.isArray(list) || list.length === 0 || list.some((a) => typeof a !== 'string'))
    throw invalid(
      `trainer.${name} must be a non-empty list of strings (program first, run without a shell), got ${JSON.stringify(list)}`,
    );
  const argv = list as string[];
  if (argv[0] === '') throw invalid(`trainer.${name}[0] must name the program to run`);
  for (const arg of argv)
    for (const match of arg.matchAll(/\{([a-z_]+)\}/g)) {
      const key = match[1] as string;
      if (!allowed.includes(key))
        throw invalid(
          `trainer.${name} uses unknown placeholder {${key}} in ${JSON.stringify(arg)}; known: ${allowed.map((k) => `{${k}}`).join(', ')}`,
        );
    }
  return Object.freeze([...argv]);
}

/** Validates the command trainer's config once, at boot. */
export function compileCommandTrainerOptions(options: CommandTrainerOptions): CompiledCommandTrainerOptions {
  const argv = checkArgv('argv', options.argv, TRAIN_PLACEHOLDERS);
  const predictArgv =
    options.predictArgv === undefined
      ? undefined
      : checkArgv('predictArgv', options.predictArgv, PREDICT_PLACEHOLDERS);
  for (const [key, value] of Object.entries(options.env ?? {}))
    if (typeof value !== 'string')
      throw invalid(`trainer.env.${key} must be a string, got ${JSON.stringify(value)}`);
  return Object.freeze({
    argv,
    cwd: options.cwd,
    env: Object.freeze({ ...(options.env ?? {}) }),
    timeoutMs: positiveInt('timeoutMs', options.timeoutMs, 3_600_000),
    killGraceMs: positiveInt('killGraceMs', options.killGraceMs, 5_000, 0),
    maxRetries: positiveInt('maxRetries', options.maxRetries, 1, 0),
    logTailChars: positiveInt('logTailChars', options.logTailChars, 16_384),
    stepKeys: Object.freeze([...(options.stepKeys ?? DEFAULT_STEP_KEYS)]),
    predictArgv,
    predictTimeoutMs: positiveInt('predictTimeoutMs', options.predictTimeoutMs, 600_000),
  });
}

/** Replaces `{name}` placeholders inside each argv element; unknown ones were refused at boot. */
export function substituteArgv(argv: readonly string[], values: Readonly<Record<string, string>>): string[] {
  return argv.map((arg) => arg.replace(/\{([a-z_]+)\}/g, (whole, key: string) => values[key] ?? whole));
}
