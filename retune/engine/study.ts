/**
 * The ask/tell core of one hyperparameter study. Pure and synchronous: the daemon owns storage
 * (it persists `snapshot()` after each call that changes state) and trainers (it runs the params
 * from `ask()` and feeds back `report()` and `tell()`). Time comes from an injected clock.
 *
 * Suggestions depend only on (seed, trial number, stored trials), never on in-memory random
 * state, so a study restored from its snapshot continues exactly where it stopped.
 */
import { HpoError } from './errors.js';
import type { PruneDecision } from './pruners/pruner.js';
import { explainInvalidParams, type ParamValues } from './search-space.js';
import {
  compileStudyOptions,
  type CompiledStudyOptions,
  type RestoreRunningPolicy,
  type StudyOptions,
} from './study-options.js';
import {
  checkSnapshotEnvelope,
  SNAPSHOT_FORMAT,
  SNAPSHOT_VERSION,
  trialFromSnapshot,
  trialToSnapshot,
  type StudySnapshot,
} from './study-snapshot.js';
import { isBetter, type FinalTrialState, type IntermediateValue, type TrialRecord } from './trial.js';

export interface StudyDependencies {
  /** Milliseconds since the epoch. @default Date.now */
  clock?: () => number;
}

export type StopReason = 'max-trials' | 'max-wall-time' | 'search-space-exhausted';
export type WaitReason = 'max-concurrent' | 'search-space-pending';

export type AskResult =
  /** Run these params; report and tell using `trial.number`. */
  | { readonly kind: 'trial'; readonly trial: TrialRecord }
  /** Nothing to hand out until a running trial is told. */
  | { readonly kind: 'wait'; readonly reason: WaitReason }
  /** The study will hand out no more trials (running ones may still be told). */
  | { readonly kind: 'done'; readonly reason: StopReason };

/** A finished trial from an earlier study, to seed this one's sampler. */
export interface WarmStartTrial {
  readonly params: ParamValues;
  readonly value: number;
}

export interface WarmStartResult {
  readonly added: number;
  /** Trials left out, with why (usually: the space changed since that study). */
  readonly skipped: readonly { readonly index: number; readonly reason: string }[];
}

function stateError(message: string, details: Record<string, unknown> = {}): HpoError {
  return new HpoError('HPO_STATE_INVALID', message, details);
}

export class Study {
  readonly options: CompiledStudyOptions;
  readonly createdAtMs: number;
  private readonly clock: () => number;
  private readonly records: TrialRecord[];

  private constructor(
    options: CompiledStudyOptions,
    createdAtMs: number,
    records: TrialRecord[],
    clock: () => number,
  ) {
    this.options = options;
    this.createdAtMs = createdAtMs;
    this.records = records;
    this.clock = clock;
  }

  /** Validates the options (throws `HPO_OPTIONS_INVALID` naming the bad value) and starts a study. */
  static create(options: StudyOptions, dependencies: StudyDependencies = {}): Study {
    const clock = dependencies.clock ?? Date.now;
    return new Study(compileStudyOptions(options), clock(), [], clock);
  }

  /**
   * Rebuilds a study from `snapshot()` output. Trials that were running when it was taken are
   * re-queued or failed per `onRestoreRunning` (the snapshot's option unless overridden here).
   */
  static restore(
    snapshot: unknown,
    dependencies: StudyDependencies = {},
    overrides: { onRestoreRunning?: RestoreRunningPolicy } = {},
  ): Study {
    const envelope = checkSnapshotEnvelope(snapshot);
    const options = compileStudyOptions(envelope.options);
    const clock = dependencies.clock ?? Date.now;
    const policy = overrides.onRestoreRunning ?? options.onRestoreRunning;
    const now = clock();
    const records = envelope.trials.map((raw, index) => {
      const trial = trialFromSnapshot(raw, index, options.space);
      if (trial.state !== 'running') return trial;
      return policy === 'requeue'
        ? { ...trial, state: 'waiting' as const, intermediate: [], rungValues: [], startedAtMs: undefined }
        : { ...trial, state: 'failed' as const, finishedAtMs: now, failReason: 'interrupted by a restart' };
    });
    return new Study(options, envelope.createdAtMs, records, clock);
  }

  /** The whole study as plain JSON-serialisable data. */
  snapshot(): StudySnapshot {
    return {
      format: SNAPSHOT_FORMAT,
      version: SNAPSHOT_VERSION,
      options: this.options.source,
      createdAtMs: this.createdAtMs,
      trials: this.records.map(trialToSnapshot),
    };
  }

  trials(): readonly TrialRecord[] {
    return [...this.records];
  }

  trial(trialNumber: number): TrialRecord | undefined {
    return this.records[trialNumber];
  }

  /** The complete trial with the best value (the earliest on ties), if any. */
  bestTrial(): TrialRecord | undefined {
    let best: TrialRecord | undefined;
    for (const trial of this.records) {
      if (trial.state !== 'complete' || trial.value === undefined) continue;
      if (best?.value === undefined || isBetter(this.options.direction, trial.value, best.value))
        best = trial;
    }
    return best;
  }

  /** Why the study will create no more trials, or `undefined` while it may. */
  stopReason(): StopReason | undefined {
    if (this.clock() - this.createdAtMs >= this.options.maxWallTimeMs) return 'max-wall-time';
    const sampled = this.records.filter((t) => t.origin === 'sampler').length;
    const waiting = this.records.some((t) => t.state === 'waiting');
    if (sampled >= this.options.maxTrials && !waiting) return 'max-trials';
    return undefined;
  }

  /** Hands out the next trial: a re-queued one first, otherwise a new sampler suggestion. */
  ask(): AskResult {
    const wallTimeUp = this.clock() - this.createdAtMs >= this.options.maxWallTimeMs;
    if (wallTimeUp) return { kind: 'done', reason: 'max-wall-time' };
    const running = this.records.filter((t) => t.state === 'running').length;
    if (running >= this.options.maxConcurrent) return { kind: 'wait', reason: 'max-concurrent' };

    const waiting = this.records.find((t) => t.state === 'waiting');
    if (waiting !== undefined)
      return {
        kind: 'trial',
        trial: this.replace({ ...waiting, state: 'running', startedAtMs: this.clock() }),
      };

    const stop = this.stopReason();
    if (stop !== undefined) return { kind: 'done', reason: stop };

    const trialNumber = this.records.length;
    const suggestion = this.options.sampler.suggest({
      space: this.options.space,
      direction: this.options.direction,
      seed: this.options.seed,
      trialNumber,
      trials: this.records,
    });
    if (suggestion.kind === 'exhausted') {
      return running > 0
        ? { kind: 'wait', reason: 'search-space-pending' }
        : { kind: 'done', reason: 'search-space-exhausted' };
    }
    const trial: TrialRecord = {
      number: trialNumber,
      state: 'running',
      origin: 'sampler',
      params: suggestion.params,
      value: undefined,
      intermediate: [],
      rungValues: [],
      startedAtMs: this.clock(),
      finishedAtMs: undefined,
      failReason: undefined,
    };
    this.records.push(trial);
    return { kind: 'trial', trial };
  }

  /**
   * Records an intermediate value (step = epochs, boosting rounds... any increasing resource) and
   * says whether the trial should stop. Pruning is advice: stop the trainer, then
   * `tell(n, 'pruned')`. A repeated step keeps its first value, as in Optuna.
   */
  report(trialNumber: number, step: number, value: number): PruneDecision {
    const trial = this.runningTrial(trialNumber, 'report');
    if (!Number.isSafeInteger(step) || step < 0) {
      throw stateError(`report step must be a non-negative integer, got ${JSON.stringify(step)}`, {
        trialNumber,
      });
    }
    if (typeof value !== 'number') {
      throw stateError(`report value must be a number, got ${JSON.stringify(value)}`, { trialNumber, step });
    }
    let current = trial;
    if (!trial.intermediate.some((r) => r.step === step)) {
      const intermediate: IntermediateValue[] = [...trial.intermediate, { step, value }].sort(
        (a, b) => a.step - b.step,
      );
      current = this.replace({ ...trial, intermediate });
    }
    const decision = this.options.pruner.decide({
      direction: this.options.direction,
      trial: current,
      trials: this.records,
    });
    if (decision.rungValues !== undefined && decision.rungValues.length !== current.rungValues.length) {
      this.replace({ ...current, rungValues: [...decision.rungValues] });
    }
    return decision;
  }

  /**
   * Finishes a trial. `complete` needs the objective value (a NaN or infinite one fails the
   * trial instead, as in Optuna); `pruned` takes the last reported value when none is given.
   * Telling a finished trial the same state again is a no-op, so retried calls are safe.
   */
  tell(trialNumber: number, state: FinalTrialState, value?: number): TrialRecord {
    const existing = this.records[trialNumber];
    if (existing !== undefined && existing.state === state) return existing;
    const trial = this.runningTrial(trialNumber, 'tell');
    const finishedAtMs = this.clock();
    switch (state) {
      case 'complete': {
        if (typeof value !== 'number') {
          throw stateError(
            `tell(${trialNumber}, "complete") needs the objective value, got ${JSON.stringify(value)}`,
          );
        }
        if (!Number.isFinite(value)) {
          return this.replace({
            ...trial,
            state: 'failed',
            finishedAtMs,
            failReason: `objective value is ${value}`,
          });
        }
        return this.replace({ ...trial, state: 'complete', value, finishedAtMs });
      }
      case 'pruned': {
        const last = trial.intermediate[trial.intermediate.length - 1];
        return this.replace({ ...trial, state: 'pruned', value: value ?? last?.value, finishedAtMs });
      }
      case 'failed':
        return this.replace({ ...trial, state: 'failed', value: undefined, finishedAtMs });
      default: {
        const unknown: unknown = state;
        throw stateError(
          `tell state must be "complete", "pruned" or "failed", got ${JSON.stringify(unknown)}`,
        );
      }
    }
  }

  /**
   * Seeds the sampler with finished trials of an earlier study (same space, same direction).
   * They count as history (and towards TPE's startup trials) but not towards `maxTrials`.
   */
  addWarmStartTrials(trials: readonly WarmStartTrial[]): WarmStartResult {
    const skipped: { index: number; reason: string }[] = [];
    let added = 0;
    trials.forEach((candidate, index) => {
      const invalid = explainInvalidParams(this.options.space, candidate.params);
      if (invalid !== undefined) return skipped.push({ index, reason: invalid });
      if (typeof candidate.value !== 'number' || !Number.isFinite(candidate.value)) {
        return skipped.push({
          index,
          reason: `value ${String(candidate.value)} is not a finite number`,
        });
      }
      this.records.push({
        number: this.records.length,
        state: 'complete',
        origin: 'warm-start',
        params: { ...candidate.params },
        value: candidate.value,
        intermediate: [],
        rungValues: [],
        startedAtMs: undefined,
        finishedAtMs: undefined,
        failReason: undefined,
      });
      added++;
    });
    return { added, skipped };
  }

  /** Warm-starts from another study's snapshot, taking its complete trials. */
  warmStartFrom(snapshot: StudySnapshot): WarmStartResult {
    const previous = Study.restore(snapshot, { clock: this.clock }, { onRestoreRunning: 'fail' });
    if (previous.options.direction !== this.options.direction) {
      throw stateError(
        `cannot warm-start a ${this.options.direction} study from a ${previous.options.direction} one; ` +
          'their values are not comparable',
      );
    }
    const complete = previous.trials().filter((t) => t.state === 'complete');
    return this.addWarmStartTrials(complete.map((t) => ({ params: t.params, value: t.value ?? NaN })));
  }

  private runningTrial(trialNumber: number, operation: string): TrialRecord {
    const trial = this.records[trialNumber];
    if (trial === undefined) {
      throw stateError(
        `${operation}: no trial ${JSON.stringify(trialNumber)} in study "${this.options.name}"`,
      );
    }
    if (trial.state !== 'running') {
      throw stateError(`${operation}: trial ${trialNumber} is ${trial.state}, not running`, { trialNumber });
    }
    return trial;
  }

  private replace(trial: TrialRecord): TrialRecord {
    this.records[trial.number] = trial;
    return trial;
  }
}
