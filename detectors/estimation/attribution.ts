/**
 * Which features explain a model's warning or critical state, ranked, top 5 with numbers.
 *
 * Three kinds of evidence, each a number per feature:
 * - `effect`: the feature's univariate effect size from the default decision rule
 *   (normalised Wasserstein-1 for numeric features, total variation for categorical ones);
 * - `reconstruction`: the feature's part of the change of the PCA reconstruction error,
 *   (P M P)_jj - (P C P)_jj (reconstruction.ts) — exact, it sums to the change;
 * - `performance`: the feature's part of the change of the expected loss under an additive
 *   loss model, Σ_b Δshare_b · β_b (additive-model.ts) — exact for that model, it sums to the
 *   model's change. For regression it is the DLE MAE model; for classification an additive
 *   model of the reference's error indicator 1[ŷ ≠ y] (`fitErrorModel`).
 *
 * Each kind is turned into shares of blame: |value| / Σ|value| (for `performance`, only the
 * increases of loss count, max(0, value), unless nothing increased). A feature's score is the
 * mean of its shares over the kinds that ALERTED this window (the decision rule drifted, the
 * reconstruction error left its band, the estimate left its band); when none alerted, over
 * every kind given. So the score is in [0, 1], the scores of all features sum to 1, and a
 * kind that is only noise this window does not dilute the one that fired.
 */
import { fitAdditive, inputBinsOf, type AdditiveModel, type AdditiveOptions } from './additive-model.js';
import { checkColumns, type FeatureColumn } from './feature-columns.js';

export type EvidenceKind = 'effect' | 'reconstruction' | 'performance';

export interface AttributionEvidence {
  readonly kind: EvidenceKind;
  /** Whether this evidence fired this window. */
  readonly alert: boolean;
  readonly values: readonly { readonly feature: string; readonly value: number }[];
}

export interface FeatureAttribution {
  readonly feature: string;
  readonly rank: number;
  /** Mean share of blame over the kinds used, in [0, 1]. */
  readonly score: number;
  /** The raw evidence per kind (undefined where that kind was not given for the feature). */
  readonly effect: number | undefined;
  readonly reconstruction: number | undefined;
  readonly performance: number | undefined;
}

export interface Attribution {
  /** The kinds the score averages over. */
  readonly basis: readonly EvidenceKind[];
  readonly features: readonly FeatureAttribution[];
}

export const DEFAULT_ATTRIBUTION_TOP = 5;

export function attributeFeatures(
  evidence: readonly AttributionEvidence[],
  top = DEFAULT_ATTRIBUTION_TOP,
): Attribution {
  const kinds = new Set<EvidenceKind>();
  for (const e of evidence) {
    if (kinds.has(e.kind)) throw new RangeError(`attribution: evidence of kind ${e.kind} given twice`);
    kinds.add(e.kind);
    for (const v of e.values) {
      if (!Number.isFinite(v.value))
        throw new RangeError(`attribution: ${e.kind} of ${v.feature} is ${String(v.value)}`);
    }
  }
  const alerted = evidence.filter((e) => e.alert);
  const basis = alerted.length > 0 ? alerted : evidence;
  const scores = new Map<string, number>();
  const raw = new Map<string, Partial<Record<EvidenceKind, number>>>();
  for (const e of evidence) {
    for (const v of e.values) {
      const r = raw.get(v.feature) ?? {};
      r[e.kind] = v.value;
      raw.set(v.feature, r);
      if (!scores.has(v.feature)) scores.set(v.feature, 0);
    }
  }
  for (const e of basis) {
    const shares = sharesOf(e);
    for (const [feature, share] of shares)
      scores.set(feature, (scores.get(feature) ?? 0) + share / basis.length);
  }
  const ranked = [...scores]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, top)
    .map(([feature, score], i) => {
      const r = raw.get(feature) ?? {};
      return {
        feature,
        rank: i + 1,
        score,
        effect: r.effect,
        reconstruction: r.reconstruction,
        performance: r.performance,
      };
    });
  return { basis: basis.map((e) => e.kind), features: ranked };
}

function sharesOf(e: AttributionEvidence): Map<string, number> {
  let weights = e.values.map((v) => ({ feature: v.feature, w: Math.abs(v.value) }));
  if (e.kind === 'performance') {
    const increases = e.values.map((v) => ({ feature: v.feature, w: Math.max(0, v.value) }));
    if (increases.some((v) => v.w > 0)) weights = increases;
  }
  const total = weights.reduce((s, v) => s + v.w, 0);
  return new Map(weights.map((v) => [v.feature, total > 0 ? v.w / total : 1 / weights.length]));
}

/**
 * The additive model of a classifier's error indicator 1[predicted ≠ actual] over the
 * features' reference bins: what `performance` evidence is computed with for classification
 * (additiveContributions over the window's per-feature bin counts).
 */
export function fitErrorModel(
  features: readonly FeatureColumn[],
  predicted: ArrayLike<number>,
  actual: ArrayLike<number>,
  options: AdditiveOptions = {},
): AdditiveModel {
  const n = predicted.length;
  checkColumns(features, n, 'error model reference');
  if (actual.length !== n) throw new RangeError(`predicted has ${n} rows but actual has ${actual.length}`);
  const error = new Float64Array(n);
  for (let i = 0; i < n; i++) error[i] = predicted[i] === actual[i] ? 0 : 1;
  const inputs = features.map((c) => inputBinsOf(c, options));
  return fitAdditive(inputs, features, [error], options.ridge ?? 10)[0] as AdditiveModel;
}
