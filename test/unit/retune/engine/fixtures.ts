/** Builders shared by the engine's unit tests. */
import {
  Study,
  type ParamValues,
  type SamplerOptions,
  type SearchSpaceOptions,
  type StudyOptions,
} from '../../../../retune/engine/index.js';

export const braninSpace: SearchSpaceOptions = {
  params: [
    { name: 'x1', type: 'float', low: -5, high: 10 },
    { name: 'x2', type: 'float', low: 0, high: 15 },
  ],
};

export function branin(params: ParamValues): number {
  const x1 = params.x1 as number;
  const x2 = params.x2 as number;
  return (
    (x2 - (5.1 / (4 * Math.PI ** 2)) * x1 ** 2 + (5 / Math.PI) * x1 - 6) ** 2 +
    10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x1) +
    10
  );
}

/** A controllable clock for budget and timestamp tests. */
export function fakeClock(startMs = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let current = startMs;
  return { now: () => current, advance: (ms) => (current += ms) };
}

/** Runs a sequential study to its trial budget and returns the best value seen after each trial. */
export function optimise(
  space: SearchSpaceOptions,
  objective: (params: ParamValues) => number,
  sampler: SamplerOptions,
  seed: number,
  trials: number,
  extra: Partial<StudyOptions> = {},
): number[] {
  const study = Study.create({
    space,
    sampler,
    pruner: { name: 'none' },
    seed,
    budget: { maxTrials: trials },
    ...extra,
  });
  const curve: number[] = [];
  let best = Infinity;
  for (let next = study.ask(); next.kind === 'trial'; next = study.ask()) {
    const value = objective(next.trial.params);
    study.tell(next.trial.number, 'complete', value);
    best = Math.min(best, value);
    curve.push(best);
  }
  return curve;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}
