/**
 * Which rows a study learns from. A study the monitor starts because a model drifted learns the
 * world after the drift: its train, validation and holdout rows all come after the drift onset
 * the monitor reported (at most `lookbackMs` back), and it waits, visibly, until enough of them
 * are labelled. Every other study (manual, API, or a monitor trigger without an onset) reads the
 * newest `lookbackMs`. Pure.
 */
import type { DataWindow } from '../data/scoring.js';
import type { RetuneConfig } from '../options.js';

/** Stored with the study (`studies.data_window`) and shown by the API. */
export interface StudyWindow {
  readonly policy: DataWindow['policy'];
  /** The drift onset the monitor reported: the start of the first window of its unhealthy streak. */
  readonly onsetMs?: number;
  /** Set once the data is read. */
  readonly sinceMs?: number;
  readonly untilMs?: number;
  /** drift-onset: labelled rows after the onset needed before training, and counted so far. */
  readonly neededRows?: number;
  readonly labelledRows?: number;
  readonly countedAtMs?: number;
  /** Why the policy is lookback when the trigger was the monitor (e.g. no onset given). */
  readonly note?: string;
}

export interface WindowTrigger {
  readonly source: 'monitor' | 'manual' | 'api';
  readonly driftOnsetMs?: number;
}

/** The policy a new study gets. */
export function initialWindow(trigger: WindowTrigger, data: RetuneConfig['data']): StudyWindow {
  if (trigger.source !== 'monitor') return { policy: 'lookback' };
  if (!data.afterDrift.enabled)
    return { policy: 'lookback', note: 'retune.data.afterDrift.enabled is false' };
  if (trigger.driftOnsetMs === undefined || !Number.isFinite(trigger.driftOnsetMs))
    return { policy: 'lookback', note: 'the monitor reported no drift onset' };
  return {
    policy: 'drift-onset',
    onsetMs: trigger.driftOnsetMs,
    neededRows: data.afterDrift.minLabelledRows,
  };
}

/** The rows of a window ending at `untilMs`: after the onset, but never beyond the lookback. */
export function dataWindowAt(window: StudyWindow, untilMs: number, lookbackMs: number): DataWindow {
  const lookbackStart = untilMs - lookbackMs;
  if (window.policy === 'drift-onset' && window.onsetMs !== undefined)
    return {
      policy: 'drift-onset',
      onsetMs: window.onsetMs,
      sinceMs: Math.max(window.onsetMs, lookbackStart),
      untilMs,
    };
  return { policy: 'lookback', sinceMs: lookbackStart, untilMs };
}

export function parseStudyWindow(text: string): StudyWindow {
  if (text === '') return { policy: 'lookback' };
  const value = JSON.parse(text) as Partial<StudyWindow>;
  if (value.policy !== 'drift-onset' && value.policy !== 'lookback')
    throw new Error(`not a study window: ${text.slice(0, 200)}`);
  return value as StudyWindow;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** One line for reasons and logs: which rows the study learnt from. */
export function describeWindow(
  window: DataWindow,
  rows?: { train: number; validation: number; holdout: number },
): string {
  const counts =
    rows === undefined
      ? ''
      : ` (train ${rows.train}, validation ${rows.validation}, holdout ${rows.holdout} rows)`;
  if (window.policy === 'drift-onset')
    return `rows after the drift onset ${iso(window.onsetMs ?? window.sinceMs)}, ${iso(window.sinceMs)} to ${iso(window.untilMs)}${counts}`;
  return `the lookback window ${iso(window.sinceMs)} to ${iso(window.untilMs)}${counts}`;
}
