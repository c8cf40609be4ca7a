/** Study definition as it arrives from config, and its validated, compiled form. */
import { invalidOptions } from './errors.js';
import { createPruner, type PrunerOptions } from './pruners/create-pruner.js';
import type { Pruner } from './pruners/pruner.js';
import { createSampler, type SamplerOptions } from './samplers/create-sampler.js';
import type { Sampler } from './samplers/sampler.js';
import { compileSearchSpace, type CompiledSearchSpace, type SearchSpaceOptions } from './search-space.js';
import type { Direction } from './trial.js';

export interface StudyBudgetOptions {
  /** Trials the sampler may create (warm-start trials do not count). @default unlimited */
  maxTrials?: number;
  /** Wall time since the study was created, read from the injected clock. @default unlimited */
  maxWallTimeMs?: number;
  /** Trials running at once; `ask()` answers `wait` beyond this. @default 1 */
  maxConcurrent?: number;
}

/** What to do with trials that were running when the study was snapshotted (the daemon died). */
export type RestoreRunningPolicy = 'requeue' | 'fail';

export interface StudyOptions {
  /** For logs and the dashboard. @default 'study' */
  name?: string;
  /** @default 'minimize' */
  direction?: Direction;
  space: SearchSpaceOptions;
  /** @default { name: 'tpe' } (univariate, Optuna defaults) */
  sampler?: SamplerOptions;
  /** @default { name: 'median' } (like Optuna) */
  pruner?: PrunerOptions;
  /** Unsigned 32-bit integer; the same seed and history give the same suggestions. @default 0 */
  seed?: number;
  budget?: StudyBudgetOptions;
  /**
   * `requeue`: hand interrupted trials out again with the same params (reports discarded);
   * `fail`: mark them failed. @default 'requeue'
   */
  onRestoreRunning?: RestoreRunningPolicy;
}

export interface CompiledStudyOptions {
  readonly name: string;
  readonly direction: Direction;
  readonly space: CompiledSearchSpace;
  readonly sampler: Sampler;
  readonly pruner: Pruner;
  readonly seed: number;
  readonly maxTrials: number;
  readonly maxWallTimeMs: number;
  readonly maxConcurrent: number;
  readonly onRestoreRunning: RestoreRunningPolicy;
  /** The options as given, kept verbatim for snapshots. */
  readonly source: StudyOptions;
}

function positiveInteger(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw invalidOptions(
      `${field} must be a positive integer, got ${JSON.stringify(value)}; omit it for no limit`,
    );
  }
  return value;
}

export function compileStudyOptions(options: StudyOptions): CompiledStudyOptions {
  if (options === null || typeof options !== 'object') {
    throw invalidOptions(`study options must be an object, got ${JSON.stringify(options)}`);
  }
  const direction = options.direction ?? 'minimize';
  if (direction !== 'minimize' && direction !== 'maximize') {
    throw invalidOptions(`direction must be "minimize" or "maximize", got ${JSON.stringify(direction)}`);
  }
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw invalidOptions(`seed must be an integer in [0, 4294967295], got ${JSON.stringify(options.seed)}`);
  }
  const onRestoreRunning = options.onRestoreRunning ?? 'requeue';
  if (onRestoreRunning !== 'requeue' && onRestoreRunning !== 'fail') {
    throw invalidOptions(
      `onRestoreRunning must be "requeue" or "fail", got ${JSON.stringify(onRestoreRunning)}`,
    );
  }
  const budget = options.budget ?? {};
  const maxWallTimeMs = budget.maxWallTimeMs ?? Infinity;
  if (typeof maxWallTimeMs !== 'number' || !(maxWallTimeMs > 0)) {
    throw invalidOptions(
      `budget.maxWallTimeMs must be a number of milliseconds > 0, got ${JSON.stringify(budget.maxWallTimeMs)}`,
    );
  }
  const space = compileSearchSpace(options.space);
  return Object.freeze({
    name: options.name ?? 'study',
    direction,
    space,
    sampler: createSampler(options.sampler, space),
    pruner: createPruner(options.pruner),
    seed,
    maxTrials: positiveInteger('budget.maxTrials', budget.maxTrials, Infinity),
    maxWallTimeMs,
    maxConcurrent: positiveInteger('budget.maxConcurrent', budget.maxConcurrent, 1),
    onRestoreRunning,
    // A private copy: a caller mutating its config object later must not change our snapshots.
    source: structuredClone(options),
  });
}
