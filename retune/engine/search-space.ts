/**
 * Search-space definitions (as they arrive from YAML config) and their compiled form.
 *
 * Every numeric parameter also has an "internal" representation used by the samplers, the same
 * one Optuna uses: log parameters live in log space, and integer parameters are widened by half
 * a step on each side so that rounding a continuous draw lands on each grid value with equal
 * probability. Categorical parameters are represented by the index of their choice.
 */
import { invalidOptions } from './errors.js';

export type CategoricalChoice = string | number | boolean;
export type ParamValue = CategoricalChoice;
/** The parameters of one trial, by name. Only active parameters are present. */
export type ParamValues = Readonly<Record<string, ParamValue>>;

/** Makes a parameter exist only when another (categorical) parameter takes one of `in`. */
export interface ParamConditionOptions {
  /** Name of a categorical parameter declared earlier in `params`. */
  param: string;
  /** The parent's choices for which this parameter exists. */
  in: readonly CategoricalChoice[];
}

interface ParamOptionsBase {
  name: string;
  /** When set, the parameter exists only for some values of an earlier categorical parameter. */
  condition?: ParamConditionOptions;
}

export interface FloatParamOptions extends ParamOptionsBase {
  type: 'float';
  low: number;
  high: number;
  /** Sample uniformly in log space (needs low > 0). @default false */
  log?: boolean;
}

export interface IntParamOptions extends ParamOptionsBase {
  type: 'int';
  low: number;
  high: number;
  /** Sample uniformly in log space (needs low >= 1; not combinable with step > 1). @default false */
  log?: boolean;
  /** Grid spacing; (high - low) must be a multiple of it. @default 1 */
  step?: number;
}

export interface CategoricalParamOptions extends ParamOptionsBase {
  type: 'categorical';
  choices: readonly CategoricalChoice[];
}

export type ParamOptions = FloatParamOptions | IntParamOptions | CategoricalParamOptions;

export interface SearchSpaceOptions {
  /** Parameters in sampling order; a conditional parameter must come after its parent. */
  params: readonly ParamOptions[];
}

export interface CompiledCondition {
  readonly param: string;
  readonly in: readonly CategoricalChoice[];
}

export interface CompiledFloatParam {
  readonly type: 'float';
  readonly name: string;
  readonly low: number;
  readonly high: number;
  readonly log: boolean;
  readonly condition: CompiledCondition | undefined;
}

export interface CompiledIntParam {
  readonly type: 'int';
  readonly name: string;
  readonly low: number;
  readonly high: number;
  readonly log: boolean;
  readonly step: number;
  readonly condition: CompiledCondition | undefined;
}

export interface CompiledCategoricalParam {
  readonly type: 'categorical';
  readonly name: string;
  readonly choices: readonly CategoricalChoice[];
  readonly condition: CompiledCondition | undefined;
}

export type CompiledParam = CompiledFloatParam | CompiledIntParam | CompiledCategoricalParam;
export type CompiledNumericParam = CompiledFloatParam | CompiledIntParam;

export interface CompiledSearchSpace {
  readonly params: readonly CompiledParam[];
  readonly byName: ReadonlyMap<string, CompiledParam>;
}

const NAME_PATTERN = /^[A-Za-z_][\w.-]*$/;

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** `Array.isArray` without widening a readonly array to `any[]`. */
export function isList(value: unknown): value is readonly unknown[] {
  return Array.isArray(value);
}

function isChoice(value: unknown): value is CategoricalChoice {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function compileCondition(
  name: string,
  condition: ParamConditionOptions | undefined,
  earlier: ReadonlyMap<string, CompiledParam>,
): CompiledCondition | undefined {
  if (condition === undefined) return undefined;
  const parent = earlier.get(condition.param);
  if (parent === undefined) {
    throw invalidOptions(
      `param "${name}": condition.param ${describe(condition.param)} is not a parameter declared before it; ` +
        `declare the parent first in params`,
    );
  }
  if (parent.type !== 'categorical') {
    throw invalidOptions(
      `param "${name}": condition.param "${parent.name}" is a ${parent.type} parameter; ` +
        `conditions can only depend on categorical parameters`,
    );
  }
  const values: unknown = condition.in;
  if (!isList(values) || values.length === 0) {
    throw invalidOptions(
      `param "${name}": condition.in must be a non-empty list of "${parent.name}" choices, got ${describe(condition.in)}`,
    );
  }
  for (const value of values) {
    if (!isChoice(value) || !parent.choices.includes(value)) {
      throw invalidOptions(
        `param "${name}": condition.in value ${describe(value)} is not a choice of "${parent.name}" ` +
          `(choices: ${describe(parent.choices)})`,
      );
    }
  }
  return { param: parent.name, in: values as CategoricalChoice[] };
}

function requireFiniteNumber(name: string, field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalidOptions(`param "${name}": ${field} must be a finite number, got ${describe(value)}`);
  }
  return value;
}

function compileParam(options: ParamOptions, earlier: ReadonlyMap<string, CompiledParam>): CompiledParam {
  const name = options.name;
  const condition = compileCondition(name, options.condition, earlier);
  switch (options.type) {
    case 'float': {
      const low = requireFiniteNumber(name, 'low', options.low);
      const high = requireFiniteNumber(name, 'high', options.high);
      const log = options.log ?? false;
      if (!(low < high)) {
        throw invalidOptions(
          `param "${name}": low (${low}) must be below high (${high}); swap them or widen the range`,
        );
      }
      if (log && low <= 0) {
        throw invalidOptions(
          `param "${name}": log scale needs low > 0, got low=${low}; raise low or set log: false`,
        );
      }
      return { type: 'float', name, low, high, log, condition };
    }
    case 'int': {
      const low = requireFiniteNumber(name, 'low', options.low);
      const high = requireFiniteNumber(name, 'high', options.high);
      const step = options.step ?? 1;
      const log = options.log ?? false;
      if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high)) {
        throw invalidOptions(`param "${name}": int bounds must be integers, got low=${low}, high=${high}`);
      }
      if (!(low < high)) {
        throw invalidOptions(
          `param "${name}": low (${low}) must be below high (${high}); swap them or widen the range`,
        );
      }
      if (!Number.isSafeInteger(step) || step < 1) {
        throw invalidOptions(
          `param "${name}": step must be a positive integer, got ${describe(options.step)}`,
        );
      }
      if ((high - low) % step !== 0) {
        throw invalidOptions(
          `param "${name}": step ${step} does not divide high - low = ${high - low}; ` +
            `use a high of ${low + Math.floor((high - low) / step) * step} or another step`,
        );
      }
      if (log && low < 1) {
        throw invalidOptions(
          `param "${name}": log scale needs low >= 1, got low=${low}; raise low or set log: false`,
        );
      }
      if (log && step !== 1) {
        throw invalidOptions(
          `param "${name}": log scale cannot be combined with step ${step}; drop one of them`,
        );
      }
      return { type: 'int', name, low, high, log, step, condition };
    }
    case 'categorical': {
      const choices: unknown = options.choices;
      if (!isList(choices) || choices.length === 0) {
        throw invalidOptions(`param "${name}": choices must be a non-empty list, got ${describe(choices)}`);
      }
      const seen = new Set<CategoricalChoice>();
      for (const choice of choices) {
        if (!isChoice(choice)) {
          throw invalidOptions(
            `param "${name}": choice ${describe(choice)} is not a string, finite number or boolean`,
          );
        }
        if (seen.has(choice))
          throw invalidOptions(`param "${name}": choice ${describe(choice)} is listed twice`);
        seen.add(choice);
      }
      return { type: 'categorical', name, choices: [...seen], condition };
    }
    default: {
      const type: unknown = (options as { type?: unknown }).type;
      throw invalidOptions(
        `param "${name}": type ${describe(type)} is not supported; use "float", "int" or "categorical"`,
      );
    }
  }
}

/** Validates a search-space definition once and returns its frozen compiled form. */
export function compileSearchSpace(options: SearchSpaceOptions): CompiledSearchSpace {
  const rawParams: unknown = (options as { params?: unknown } | null)?.params;
  if (!isList(rawParams)) {
    throw invalidOptions(`space.params must be a list of parameter definitions, got ${describe(options)}`);
  }
  if (rawParams.length === 0) {
    throw invalidOptions('space.params is empty; define at least one parameter to search over');
  }
  const byName = new Map<string, CompiledParam>();
  const params: CompiledParam[] = [];
  for (const raw of rawParams as readonly ParamOptions[]) {
    const name: unknown = (raw as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
      throw invalidOptions(
        `param name ${describe(name)} is invalid; use letters, digits, "_", "-" or ".", starting with a letter or "_"`,
      );
    }
    if (byName.has(name)) throw invalidOptions(`param "${name}" is defined twice; rename one of them`);
    const compiled = Object.freeze(compileParam(raw, byName));
    byName.set(name, compiled);
    params.push(compiled);
  }
  return Object.freeze({ params: Object.freeze(params), byName });
}

/** Whether `param` exists given the values already chosen for earlier parameters. */
export function isParamActive(param: CompiledParam, assigned: ParamValues): boolean {
  if (param.condition === undefined) return true;
  const parentValue = assigned[param.condition.param];
  return parentValue !== undefined && param.condition.in.includes(parentValue);
}

/** Whether `value` is a legal value of `param` (type, bounds, step grid, choice list). */
export function isValueInDomain(param: CompiledParam, value: unknown): value is ParamValue {
  switch (param.type) {
    case 'float':
      return typeof value === 'number' && value >= param.low && value <= param.high;
    case 'int':
      return (
        typeof value === 'number' &&
        Number.isInteger(value) &&
        value >= param.low &&
        value <= param.high &&
        (value - param.low) % param.step === 0
      );
    case 'categorical':
      return param.choices.includes(value as CategoricalChoice);
  }
}

/**
 * Why `params` is not a valid point of the space (exactly the active parameters, each in its
 * domain), or `undefined` when it is. Used for warm starts and restored snapshots.
 */
export function explainInvalidParams(space: CompiledSearchSpace, params: ParamValues): string | undefined {
  const assigned: Record<string, ParamValue> = {};
  for (const param of space.params) {
    const value = params[param.name];
    if (!isParamActive(param, assigned)) {
      if (value !== undefined) return `"${param.name}" is set but inactive for these values of its parent`;
      continue;
    }
    if (value === undefined) return `"${param.name}" is missing`;
    if (!isValueInDomain(param, value)) return `"${param.name}" = ${describe(value)} is outside its domain`;
    assigned[param.name] = value;
  }
  for (const name of Object.keys(params)) {
    if (!space.byName.has(name)) return `"${name}" is not a parameter of this space`;
  }
  return undefined;
}

/** Bounds of a numeric parameter in internal (log / half-step-widened) coordinates. */
export function internalBounds(param: CompiledNumericParam): { low: number; high: number } {
  const halfStep = param.type === 'int' ? param.step / 2 : 0;
  const low = param.low - halfStep;
  const high = param.high + halfStep;
  return param.log ? { low: Math.log(low), high: Math.log(high) } : { low, high };
}

/** A numeric value in internal coordinates. */
export function toInternal(param: CompiledNumericParam, value: number): number {
  return param.log ? Math.log(value) : value;
}

/** The legal value nearest to an internal coordinate: exp for log, rounding to the step grid, clipping. */
export function fromInternal(param: CompiledNumericParam, internal: number): number {
  const value = param.log ? Math.exp(internal) : internal;
  if (param.type === 'float') return Math.min(param.high, Math.max(param.low, value));
  const index = Math.round((value - param.low) / param.step);
  const maxIndex = (param.high - param.low) / param.step;
  return param.low + Math.min(maxIndex, Math.max(0, index)) * param.step;
}
