import { TrainerError } from '../errors.js';

/**
 * Hyperparameters of the built-in TensorFlow.js trainer. These are the names a study's
 * search space uses (docs/trainers.md); values not in the trial's params come from the
 * trainer's `defaults`, then from here.
 */
export interface TfjsParams {
  /** Hidden layers; 0 = logistic / linear regression. @default 1 */
  readonly layers: number;
  /** Units per hidden layer. @default 32 */
  readonly units: number;
  /** @default 0.01 */
  readonly learningRate: number;
  /** @default 32 */
  readonly batchSize: number;
  /** Maximum epochs (ASHA's resource). @default 20 */
  readonly epochs: number;
  /** Dropout after each hidden layer, in [0, 1). @default 0 */
  readonly dropout: number;
  /** L2 penalty on every kernel. @default 0 */
  readonly l2: number;
  /** @default 'adam' */
  readonly optimizer: 'adam' | 'sgd' | 'rmsprop';
  /** Seed of the weight initialisers, dropout masks and per-epoch row order. @default 42 */
  readonly seed: number;
}

export const TFJS_PARAM_DEFAULTS: TfjsParams = Object.freeze({
  layers: 1,
  units: 32,
  learningRate: 0.01,
  batchSize: 32,
  epochs: 20,
  dropout: 0,
  l2: 0,
  optimizer: 'adam',
  seed: 42,
});

export const TFJS_PARAM_NAMES = Object.keys(TFJS_PARAM_DEFAULTS) as ReadonlyArray<keyof TfjsParams>;

type Raw = Readonly<Record<string, string | number | boolean>>;

function invalid(name: string, value: unknown, rule: string): TrainerError {
  return new TrainerError(
    'TRAINER_CONFIG_INVALID',
    `tfjs param ${name} must be ${rule}, got ${JSON.stringify(value)}`,
    {
      details: { param: name, value },
    },
  );
}

function num(
  name: string,
  value: unknown,
  check: (v: number) => boolean,
  rule: string,
  integer = false,
): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value)) ||
    !check(value)
  )
    throw invalid(name, value, rule);
  return value;
}

/** Trial params (plus defaults) → validated hyperparameters. Unknown names are refused. */
export function compileTfjsParams(params: Raw, defaults: Partial<Raw> = {}): TfjsParams {
  for (const name of [...Object.keys(defaults), ...Object.keys(params)])
    if (!(TFJS_PARAM_NAMES as readonly string[]).includes(name))
      throw new TrainerError(
        'TRAINER_CONFIG_INVALID',
        `unknown tfjs param ${JSON.stringify(name)}; the tfjs trainer takes ${TFJS_PARAM_NAMES.join(', ')}`,
        { details: { param: name } },
      );
  const v = { ...TFJS_PARAM_DEFAULTS, ...defaults, ...params } as Record<string, unknown>;
  const optimizer = v['optimizer'];
  if (optimizer !== 'adam' && optimizer !== 'sgd' && optimizer !== 'rmsprop')
    throw invalid('optimizer', optimizer, "one of 'adam', 'sgd', 'rmsprop'");
  return Object.freeze({
    layers: num('layers', v['layers'], (x) => x >= 0 && x <= 16, 'an integer in [0, 16]', true),
    units: num('units', v['units'], (x) => x >= 1 && x <= 4096, 'an integer in [1, 4096]', true),
    learningRate: num('learningRate', v['learningRate'], (x) => x > 0, 'a number > 0'),
    batchSize: num('batchSize', v['batchSize'], (x) => x >= 1, 'an integer >= 1', true),
    epochs: num('epochs', v['epochs'], (x) => x >= 1 && x <= 10_000, 'an integer in [1, 10000]', true),
    dropout: num('dropout', v['dropout'], (x) => x >= 0 && x < 1, 'a number in [0, 1)'),
    l2: num('l2', v['l2'], (x) => x >= 0, 'a number >= 0'),
    optimizer,
    seed: num('seed', v['seed'], () => true, 'an integer', true),
  });
}
