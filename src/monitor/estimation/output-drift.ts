import {
  categoricalEvidenceFromProfiles,
  categoricalProfileFromCounts,
  decideModelDrift,
  numericEvidenceFromProfiles,
  type CategoricalProfile,
  type FeatureEvidence,
  type NumericProfile,
} from '../../../detectors/index.js';
import { detectorRow, numericAggregatesFromCells, verdictRow, type DriftRow } from '../evaluate.js';
import type { ResolvedModelSettings } from '../options.js';
import { outputGrids } from './window-reads.js';
import type { OutputAggregates, OutputSpec } from './types.js';

/**
 * Drift of the model's outputs — the predicted label or number and the scores — judged like a
 * feature (pure): the window's profile of each output over the reference's (the same grid
 * counting as numeric features, docs/monitoring.md), the documented decision rule over the
 * outputs alone (Bonferroni over them, the model's alpha and effect thresholds), and the
 * per-feature detectors for charts. Kept apart from the inputs' `model:drift` verdict: a change
 * of what the model says is a warning of its own, `drift:<output>:default`.
 */
export interface OutputDrift {
  readonly rows: DriftRow[];
  readonly verdicts: ReadonlyArray<{
    readonly output: string;
    readonly drifted: boolean;
    readonly effect: number | null;
    readonly threshold: number;
    readonly reason: string;
  }>;
}

export function outputDrift(
  outputs: readonly OutputSpec[],
  window: OutputAggregates,
  settings: ResolvedModelSettings,
  gridCells: number,
): OutputDrift {
  const events = window.rows;
  const { grids, cells } = outputGrids(outputs, gridCells);
  const rows: DriftRow[] = [];
  const evidence: FeatureEvidence[] = [];
  const profiles = new Map<
    string,
    { reference: NumericProfile | CategoricalProfile; current: NumericProfile | CategoricalProfile }
  >();
  for (const spec of outputs) {
    const ref = spec.reference;
    if (ref.kind === 'numeric') {
      const grid = grids.get(spec.name);
      if (grid === undefined) continue;
      const moments = window.moments.get(spec.name);
      const current = numericAggregatesFromCells(
        ref.profile,
        grid,
        cells,
        window.cells.get(spec.name) ?? new Map<number, number>(),
        moments,
        Math.max(0, events - (moments?.count ?? 0)),
      );
      profiles.set(spec.name, { reference: ref.profile, current });
      evidence.push(
        numericEvidenceFromProfiles(spec.name, ref.profile, current, settings.numericEffectThreshold),
      );
      for (const d of settings.detectors.numeric)
        rows.push(detectorRow(spec.name, 'numeric', d.name, d.threshold, ref.profile, current));
    } else {
      let labelled = 0;
      for (const c of window.labels.values()) labelled += c;
      const current = categoricalProfileFromCounts(
        ref.profile.categories,
        window.labels,
        Math.max(0, events - labelled),
      );
      profiles.set(spec.name, { reference: ref.profile, current });
      evidence.push(
        categoricalEvidenceFromProfiles(spec.name, ref.profile, current, settings.categoricalEffectThreshold),
      );
      for (const d of settings.detectors.categorical)
        rows.push(detectorRow(spec.name, 'categorical', d.name, d.threshold, ref.profile, current));
    }
  }
  const decision = decideModelDrift(evidence, { alpha: settings.alpha });
  const verdicts = decision.features.map((v) => {
    const kind = outputs.find((o) => o.name === v.feature)?.reference.kind ?? 'numeric';
    const p = profiles.get(v.feature);
    const row = verdictRow(
      v,
      kind,
      settings,
      decision,
      { window: p?.current.count ?? 0, reference: p?.reference.count ?? 0 },
      { output: true },
    );
    rows.push(row);
    return {
      output: v.feature,
      drifted: v.drifted,
      effect: row.effect,
      threshold: row.threshold,
      reason: v.reason,
    };
  });
  return { rows, verdicts };
}
