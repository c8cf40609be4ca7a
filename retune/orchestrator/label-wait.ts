/**
 * The `waiting` phase of a drift-triggered study: count the labelled rows after the drift onset
 * every `pollIntervalMs` until `minLabelledRows` exist, and give up (the study fails, saying how
 * many arrived) after `maxWaitMs`. Every count is published: the study row (API, CLI), a progress
 * event and a gauge.
 */
import type { Logger } from '../../kernel/logger.js';
import { isRetriable } from '../../kernel/errors.js';
import type { RetuneConfig } from '../options.js';
import type { DatasetProvider } from './ports.js';
import { dataWindowAt, type StudyWindow } from './window.js';

export interface LabelWaitDeps {
  readonly model: string;
  readonly datasets: DatasetProvider;
  readonly data: RetuneConfig['data'];
  readonly now: () => number;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Since when the study waits (its creation time), for `maxWaitMs`. */
  readonly waitingSinceMs: number;
  /** Called with each count (persist, emit, gauge). */
  readonly onCount: (window: StudyWindow) => void;
}

export class LabelWaitTimeout extends Error {}

/** Resolves with the window once enough rows are labelled; rejects on timeout or abort. */
export async function waitForLabels(window: StudyWindow, deps: LabelWaitDeps): Promise<StudyWindow> {
  const needed = window.neededRows ?? deps.data.afterDrift.minLabelledRows;
  let current = window;
  for (;;) {
    deps.signal.throwIfAborted();
    const untilMs = deps.now();
    const bounds = dataWindowAt(current, untilMs, deps.data.lookbackMs);
    let labelled = current.labelledRows ?? 0;
    try {
      labelled = await deps.datasets.countLabelled(deps.model, bounds);
    } catch (error) {
      if (!isRetriable(error)) throw error;
      deps.logger.warn({ err: error }, 'could not count labelled rows; counting again at the next poll');
    }
    current = { ...current, neededRows: needed, labelledRows: labelled, countedAtMs: untilMs };
    deps.onCount(current);
    if (labelled >= needed) return current;
    const waited = untilMs - deps.waitingSinceMs;
    if (waited >= deps.data.afterDrift.maxWaitMs)
      throw new LabelWaitTimeout(
        `waited ${Math.round(waited / 60_000)} min (retune.data.afterDrift.maxWaitMs) for ${needed} labelled rows after the drift onset ${new Date(bounds.onsetMs ?? bounds.sinceMs).toISOString()}; only ${labelled} arrived: lower afterDrift.minLabelledRows or check that outcomes are logged`,
      );
    deps.logger.debug({ labelled, needed }, 'waiting for labels after the drift onset');
    await sleep(
      Math.min(deps.data.afterDrift.pollIntervalMs, deps.data.afterDrift.maxWaitMs - waited),
      deps.signal,
    );
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
