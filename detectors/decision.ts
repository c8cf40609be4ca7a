/**
 * Turning per-feature test results into a model-level drift decision.
 *
 * The large-sample trap: at n = 1e5 a KS p-value flags N(0,1) vs N(0.02,1) (p = 1.6e-6)
 * although the shift is negligible (normalised W1 = 0.022). So a feature drifts only when
 * its corrected p-value is below alpha AND its effect size reaches a threshold; the p-value
 * guards small windows against noise, the effect size guards large windows against
 * trivial-but-significant differences.
 *
 * Default rule (DEFAULT_MODEL_DRIFT_RULE), calibrated by scripts/detectors/calibrate.ts:
 * - numeric feature: KS p-value, Bonferroni-corrected over the model's features, < 0.05
 *   AND normalised Wasserstein-1 (W1 / std of reference) >= 0.05;
 * - categorical feature: chi-square (homogeneity) p-value, corrected, < 0.05 AND total
 *   variation distance >= 0.05;
 * - the model drifts when at least one feature drifts (minDriftedShare 0, minDriftedFeatures
 *   1): a single important feature moving by 0.1 sigma is worth an alert, and the effect-size
 *   gate already keeps stationary windows quiet, so requiring e.g. half the features would
 *   only hide real single-feature drift.
 */

export type Correction = 'bonferroni' | 'benjamini_hochberg' | 'none';

/** Bonferroni-adjusted p-values: min(1, p * m). */
export function bonferroni(pValues: readonly number[]): number[] {
  const m = pValues.length;
  return pValues.map((p) => Math.min(1, p * m));
}

/**
 * Benjamini–Hochberg adjusted p-values (q-values), step-up with monotonicity enforced:
 * q_(i) = min_{j >= i} min(1, p_(j) * m / j). Reject where q < alpha to control the FDR.
 */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const adjusted = new Array<number>(m);
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const [p, index] = order[rank - 1] as readonly [number, number];
    running = Math.min(running, (p * m) / rank);
    adjusted[index] = Math.min(1, running);
  }
  return adjusted;
}

export function adjustPValues(pValues: readonly number[], correction: Correction): number[] {
  switch (correction) {
    case 'bonferroni':
      return bonferroni(pValues);
    case 'benjamini_hochberg':
      return benjaminiHochberg(pValues);
    case 'none':
      return [...pValues];
  }
}

/** What the decision needs about one feature: its test p-value and its effect size. */
export interface FeatureEvidence {
  readonly feature: string;
  /** p-value of the feature's test; undefined when not computable (never counts as drift). */
  readonly pValue: number | undefined;
  /** Effect size (normalised W1, TVD, ...); undefined when not computable. */
  readonly effectSize: number | undefined;
  /** Threshold for this feature's effect size. */
  readonly effectThreshold: number;
}

export interface ModelDriftRule {
  /** @default 'bonferroni' */
  readonly correction: Correction;
  /** Family-wise (Bonferroni) or false-discovery (BH) level. @default 0.05 */
  readonly alpha: number;
  /** Model drifts when drifted features / features >= this share... @default 0 */
  readonly minDriftedShare: number;
  /** ...and at least this many features drifted. @default 1 */
  readonly minDriftedFeatures: number;
}

export const DEFAULT_MODEL_DRIFT_RULE: Readonly<ModelDriftRule> = Object.freeze({
  correction: 'bonferroni',
  alpha: 0.05,
  minDriftedShare: 0,
  minDriftedFeatures: 1,
});

/** Default effect-size thresholds used with the default rule. */
export const DEFAULT_EFFECT_THRESHOLDS = Object.freeze({
  /** Normalised Wasserstein-1 for numeric features. */
  numeric: 0.05,
  /** Total variation distance for categorical features. */
  categorical: 0.05,
});

export interface FeatureVerdict {
  readonly feature: string;
  readonly adjustedPValue: number | undefined;
  readonly effectSize: number | undefined;
  readonly drifted: boolean;
  readonly reason: string;
}

export interface ModelDecision {
  readonly drifted: boolean;
  readonly driftedFeatures: number;
  readonly evaluatedFeatures: number;
  readonly driftedShare: number;
  readonly features: readonly FeatureVerdict[];
  readonly rule: Readonly<ModelDriftRule>;
}

/** Applies the correction across the model's features, then the per-feature and model rules. */
export function decideModelDrift(
  evidence: readonly FeatureEvidence[],
  rule: Partial<ModelDriftRule> = {},
): ModelDecision {
  const r: ModelDriftRule = { ...DEFAULT_MODEL_DRIFT_RULE, ...rule };
  const testable = evidence.filter((e) => e.pValue !== undefined && Number.isFinite(e.pValue));
  const adjusted = adjustPValues(
    testable.map((e) => e.pValue as number),
    r.correction,
  );
  const adjustedByFeature = new Map(testable.map((e, i) => [e, adjusted[i] as number]));
  const features = evidence.map((e): FeatureVerdict => {
    const q = adjustedByFeature.get(e);
    if (q === undefined) {
      return {
        feature: e.feature,
        adjustedPValue: undefined,
        effectSize: e.effectSize,
        drifted: false,
        reason: 'no p-value',
      };
    }
    if (e.effectSize === undefined) {
      return {
        feature: e.feature,
        adjustedPValue: q,
        effectSize: undefined,
        drifted: false,
        reason: 'no effect size',
      };
    }
    const significant = q < r.alpha;
    const large = e.effectSize >= e.effectThreshold;
    const reason = significant
      ? large
        ? 'significant and large'
        : 'significant but effect below threshold'
      : 'not significant after correction';
    return {
      feature: e.feature,
      adjustedPValue: q,
      effectSize: e.effectSize,
      drifted: significant && large,
      reason,
    };
  });
  const driftedFeatures = features.filter((f) => f.drifted).length;
  const evaluatedFeatures = testable.length;
  const driftedShare = evaluatedFeatures === 0 ? 0 : driftedFeatures / evaluatedFeatures;
  return {
    drifted:
      driftedFeatures >= r.minDriftedFeatures && driftedShare >= r.minDriftedShare && driftedFeatures > 0,
    driftedFeatures,
    evaluatedFeatures,
    driftedShare,
    features,
    rule: r,
  };
}
