/**
 * Scoring model versions on a study's holdout, each with its own encoding. The holdout's raw rows
 * and labels are read from the private file no program is given; for each version a scoring set
 * (encoded features and row ids, no labels) is written and handed to the trainer's `predict`, and
 * its answers are read against that version's class list.
 */
import {
  readHoldout,
  writeScoringSet,
  predictionValue,
  type HoldoutRow,
  type ScoringSpec,
} from '../data/scoring.js';
import type { HoldoutRef } from '../data/scoring.js';
import type { RegistryStorage } from '../store/types.js';
import type { Trainer } from '../trainers/trainer.js';

export interface HoldoutTruth {
  readonly rows: readonly HoldoutRow[];
  /** Class names (classification) or targets (regression), in row order. */
  readonly labels: ReadonlyArray<string | number>;
}

export async function readHoldoutTruth(
  holdout: HoldoutRef,
  task: ScoringSpec['task'],
): Promise<HoldoutTruth> {
  const rows = await readHoldout(holdout);
  return {
    rows,
    labels: rows.map((r) => (task === 'classification' ? String(r.label) : Number(r.label))),
  };
}

/** One version's predictions on the holdout, encoded with `spec` into `dir`. */
export async function scoreVersion(
  trainer: Trainer,
  artifact: string,
  spec: ScoringSpec,
  truth: HoldoutTruth,
  dir: string,
): Promise<Array<string | number>> {
  const set = await writeScoringSet(truth.rows, spec, dir);
  const predictions = await trainer.predict(artifact, set, 'holdout');
  if (predictions.length !== truth.rows.length)
    throw new Error(
      `predict returned ${predictions.length} predictions for ${truth.rows.length} holdout rows`,
    );
  return predictions.map((value) => predictionValue(spec, value));
}

/**
 * Which test of the current champion this is (1-based), for alpha spending: one more than the
 * gate tests recorded against it since it last became champion, this study's own excluded (a
 * study resumed after a crash between its decision and its end does not count itself twice).
 */
export async function championTestIndex(
  storage: RegistryStorage,
  model: string,
  champion: string,
  studyId: string,
): Promise<number> {
  const history = await storage.aliasHistory(model, 'champion');
  const crowned = history.filter((e) => e.version === champion).at(-1);
  const sinceMs = crowned?.atMs ?? 0;
  const decisions = await storage.listDecisions(model);
  const earlier = decisions.filter(
    (d) =>
      d.championVersion === champion &&
      d.test !== 'none' &&
      d.studyId !== studyId &&
      d.decidedAtMs >= sinceMs,
  );
  return earlier.length + 1;
}
