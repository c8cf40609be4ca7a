/**
 * The default per-feature evidence for `decideModelDrift`: a p-value and an effect size
 * side by side, from raw samples or from profiles.
 */
import { chiSquareContingency, totalVariation, type CategoryCounts } from './categorical.js';
import { DEFAULT_EFFECT_THRESHOLDS, type FeatureEvidence } from './decision.js';
import { wassersteinSorted } from './distances.js';
import { ksSorted } from './ks.js';
import { sortedFinite, type NumericInput } from './numeric-input.js';
import { categoricalProfileCounts, type CategoricalProfile } from './profiles/categorical-profile.js';
import type { NumericProfile } from './profiles/numeric-profile.js';
import { ksFromProfiles, wassersteinFromProfiles } from './profiles/profile-tests.js';
import type { TestResult } from './result.js';

function evidence(
  feature: string,
  test: TestResult,
  effect: TestResult,
  threshold: number,
  normalized: boolean,
) {
  const effectSize =
    effect.status === 'ok'
      ? normalized
        ? (effect.details?.normalized ?? effect.statistic)
        : effect.statistic
      : undefined;
  return {
    feature,
    pValue: test.status === 'ok' ? test.pValue : undefined,
    effectSize,
    effectThreshold: threshold,
  };
}

/** KS p-value + normalised W1 from raw samples (each sample sorted once, shared by both). */
export function numericEvidence(
  feature: string,
  reference: NumericInput,
  current: NumericInput,
  effectThreshold: number = DEFAULT_EFFECT_THRESHOLDS.numeric,
): FeatureEvidence {
  const r = sortedFinite(reference);
  const c = sortedFinite(current);
  return evidence(feature, ksSorted(r, c), wassersteinSorted(r, c), effectThreshold, true);
}

/** Same, from already-sorted Float64Arrays (no copy) — for callers that keep the reference sorted. */
export function numericEvidenceSorted(
  feature: string,
  reference: Float64Array,
  current: Float64Array,
  effectThreshold: number = DEFAULT_EFFECT_THRESHOLDS.numeric,
): FeatureEvidence {
  return evidence(
    feature,
    ksSorted(reference, current),
    wassersteinSorted(reference, current),
    effectThreshold,
    true,
  );
}

/** KS p-value + normalised W1 from profiles (ClickHouse aggregates over the reference grid). */
export function numericEvidenceFromProfiles(
  feature: string,
  reference: NumericProfile,
  current: NumericProfile,
  effectThreshold: number = DEFAULT_EFFECT_THRESHOLDS.numeric,
): FeatureEvidence {
  return evidence(
    feature,
    ksFromProfiles(reference, current),
    wassersteinFromProfiles(reference, current),
    effectThreshold,
    true,
  );
}

/** Chi-square homogeneity p-value + total variation distance. */
export function categoricalEvidence(
  feature: string,
  reference: CategoryCounts,
  current: CategoryCounts,
  effectThreshold: number = DEFAULT_EFFECT_THRESHOLDS.categorical,
): FeatureEvidence {
  return evidence(
    feature,
    chiSquareContingency(reference, current),
    totalVariation(reference, current),
    effectThreshold,
    false,
  );
}

export function categoricalEvidenceFromProfiles(
  feature: string,
  reference: CategoricalProfile,
  current: CategoricalProfile,
  effectThreshold: number = DEFAULT_EFFECT_THRESHOLDS.categorical,
): FeatureEvidence {
  return categoricalEvidence(
    feature,
    categoricalProfileCounts(reference),
    categoricalProfileCounts(current),
    effectThreshold,
  );
}
