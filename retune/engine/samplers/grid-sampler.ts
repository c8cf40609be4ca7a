/**
 * Exhaustive search over a finite grid, in a seeded random order (like Optuna's GridSampler).
 * Conditional parameters expand only under the parent values that activate them, so the grid is
 * a tree of valid points rather than a full Cartesian product.
 */
import { invalidOptions } from '../errors.js';
import { Rng } from '../prng.js';
import {
  isList,
  isParamActive,
  isValueInDomain,
  type CompiledParam,
  type CompiledSearchSpace,
  type ParamValue,
  type ParamValues,
} from '../search-space.js';
import type { Sampler, SuggestContext, Suggestion } from './sampler.js';

export interface GridSamplerOptions {
  name: 'grid';
  /** Points per float parameter, evenly spaced (in log space for log params), ends included. @default 5 */
  floatPoints?: number;
  /** Explicit values for some parameters, replacing the automatic ones. */
  values?: Readonly<Record<string, readonly ParamValue[]>>;
  /** Refuse grids larger than this, so a typo cannot create millions of trials. @default 10000 */
  maxPoints?: number;
}

const DEFAULT_FLOAT_POINTS = 5;
const DEFAULT_MAX_POINTS = 10_000;

function axisValues(
  param: CompiledParam,
  floatPoints: number,
  maxPoints: number,
  explicit: readonly ParamValue[] | undefined,
): ParamValue[] {
  if (explicit !== undefined) {
    const list: unknown = explicit;
    if (!isList(list) || list.length === 0) {
      throw invalidOptions(`sampler.values.${param.name} must be a non-empty list of values`);
    }
    const values: ParamValue[] = [];
    for (const value of list) {
      if (!isValueInDomain(param, value)) {
        throw invalidOptions(
          `sampler.values.${param.name} contains ${JSON.stringify(value)}, which is outside the parameter's domain`,
        );
      }
      values.push(value);
    }
    return [...new Set(values)];
  }
  switch (param.type) {
    case 'categorical':
      return [...param.choices];
    case 'int': {
      if ((param.high - param.low) / param.step + 1 > maxPoints) return tooManyPoints(maxPoints);
      const values: number[] = [];
      for (let v = param.low; v <= param.high; v += param.step) values.push(v);
      return values;
    }
    case 'float': {
      const values: number[] = [];
      const [low, high] = param.log ? [Math.log(param.low), Math.log(param.high)] : [param.low, param.high];
      for (let i = 0; i < floatPoints; i++) {
        const x = low + ((high - low) * i) / (floatPoints - 1);
        // 12 significant digits: 0.1 rather than 0.10000000000000002 in configs and dashboards.
        const value = Number((param.log ? Math.exp(x) : x).toPrecision(12));
        values.push(Math.min(param.high, Math.max(param.low, value)));
      }
      return values;
    }
  }
}

function tooManyPoints(maxPoints: number): never {
  throw invalidOptions(
    `grid has more than sampler.maxPoints=${maxPoints} points; lower sampler.floatPoints, ` +
      `give sampler.values for wide int params, or raise maxPoints`,
  );
}

/** A stable identity for a point: values in declaration order. */
export function gridKey(space: CompiledSearchSpace, params: ParamValues): string {
  return JSON.stringify(space.params.map((param) => params[param.name] ?? null));
}

export class GridSampler implements Sampler {
  readonly name = 'grid';
  readonly points: readonly ParamValues[];
  private readonly keys: readonly string[];

  constructor(space: CompiledSearchSpace, options: GridSamplerOptions) {
    const floatPoints = options.floatPoints ?? DEFAULT_FLOAT_POINTS;
    const maxPoints = options.maxPoints ?? DEFAULT_MAX_POINTS;
    if (!Number.isInteger(floatPoints) || floatPoints < 2) {
      throw invalidOptions(
        `sampler.floatPoints must be an integer >= 2, got ${JSON.stringify(options.floatPoints)}`,
      );
    }
    if (!Number.isInteger(maxPoints) || maxPoints < 1) {
      throw invalidOptions(
        `sampler.maxPoints must be a positive integer, got ${JSON.stringify(options.maxPoints)}`,
      );
    }
    for (const name of Object.keys(options.values ?? {})) {
      if (!space.byName.has(name))
        throw invalidOptions(`sampler.values.${name}: no parameter "${name}" in the space`);
    }
    const axes = new Map(
      space.params.map((param) => [
        param.name,
        axisValues(param, floatPoints, maxPoints, options.values?.[param.name]),
      ]),
    );
    const points: ParamValues[] = [];
    const expand = (index: number, assigned: Record<string, ParamValue>): void => {
      if (points.length > maxPoints) return;
      const param = space.params[index];
      if (param === undefined) {
        points.push({ ...assigned });
        return;
      }
      if (!isParamActive(param, assigned)) {
        expand(index + 1, assigned);
        return;
      }
      for (const value of axes.get(param.name) ?? []) {
        assigned[param.name] = value;
        expand(index + 1, assigned);
        delete assigned[param.name];
      }
    };
    expand(0, {});
    if (points.length > maxPoints) tooManyPoints(maxPoints);
    this.points = points;
    this.keys = points.map((point) => gridKey(space, point));
  }

  suggest(context: SuggestContext): Suggestion {
    // Failed points count as visited: retrying a deterministic failure forever helps nobody.
    const visited = new Set(context.trials.map((trial) => gridKey(context.space, trial.params)));
    const unvisited: number[] = [];
    this.keys.forEach((key, index) => {
      if (!visited.has(key)) unvisited.push(index);
    });
    if (unvisited.length === 0) return { kind: 'exhausted' };
    const rng = Rng.derive(context.seed, context.trialNumber);
    const chosen = unvisited[rng.nextInt(unvisited.length)] ?? 0;
    return { kind: 'params', params: this.points[chosen] ?? {} };
  }
}
