/**
 * The promotion gate. A challenger replaces the champion only when both hold:
 *   1. practical: improvement >= minImprovement (absolute, or relative to |champion value|);
 *   2. statistical: for classification outcomes (accuracy, error_rate) McNemar's p < alpha with
 *      the challenger right on more discordant rows; for other metrics the paired bootstrap
 *      (1 - alpha) CI of the improvement lies entirely above 0.
 * Improvement is always signed so that positive means the challenger is better.
 */
import { pairedBootstrap } from './bootstrap.js';
import { checkSameLength, discordantCounts, mcnemarTest, MCNEMAR_EXACT_BELOW } from './mcnemar.js';
import { mean, promotionMetric, rowValues, type PromotionMetricName } from './metrics.js';

export type PromotionTestName = 'mcnemar' | 'paired_bootstrap';

export interface PromotionGate {
  readonly metric: PromotionMetricName;
  /** Smallest improvement worth a promotion (metric units, or a fraction when `relative`). */
  readonly minImprovement: number;
  /** Read `minImprovement` as a fraction of |champion value|. */
  readonly relative: boolean;
  /** Significance level. */
  readonly alpha: number;
  readonly bootstrapResamples: number;
  /** `auto`: McNemar for classification metrics, the paired bootstrap otherwise. */
  readonly test: 'auto' | PromotionTestName;
  /** Seed of the bootstrap's PRNG. */
  readonly seed: number;
  /** McNemar: discordant counts below this use the exact binomial test. */
  readonly mcnemarExactBelow?: number;
}

export interface PromotionInput {
  readonly labels: readonly (string | number)[];
  readonly champion: readonly (string | number)[];
  readonly challenger: readonly (string | number)[];
}

export interface PromotionDecision {
  readonly promoted: boolean;
  readonly metric: PromotionMetricName;
  readonly test: PromotionTestName | 'none';
  readonly championValue: number;
  readonly challengerValue: number;
  /** Absolute, positive = challenger better. */
  readonly improvement: number;
  /** improvement / |championValue| (Infinity when the champion scores 0 and the challenger is better). */
  readonly relativeImprovement: number;
  readonly pValue: number | null;
  readonly ciLow: number | null;
  readonly ciHigh: number | null;
  readonly reason: string;
  /** Everything needed to re-check the decision: counts, method, rows, gate. */
  readonly evidence: Record<string, unknown>;
}

const fmt = (v: number): string => (Number.isFinite(v) ? Number(v.toPrecision(4)).toString() : String(v));

export function checkGate(gate: PromotionGate): void {
  promotionMetric(gate.metric);
  if (!(gate.minImprovement >= 0)) {
    throw new RangeError(`minImprovement must be >= 0, got ${gate.minImprovement}`);
  }
  if (!(gate.alpha > 0 && gate.alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${gate.alpha}`);
  if (gate.test === 'mcnemar' && !promotionMetric(gate.metric).classification) {
    throw new RangeError(
      `McNemar's test needs a right/wrong metric (accuracy, error_rate), not ${gate.metric}; use test "paired_bootstrap" or "auto"`,
    );
  }
}

export function decidePromotion(gate: PromotionGate, input: PromotionInput): PromotionDecision {
  checkGate(gate);
  checkSameLength(input.labels.length, input.champion.length, input.challenger.length);
  const metric = promotionMetric(gate.metric);
  const championRows = rowValues(metric, input.labels, input.champion);
  const challengerRows = rowValues(metric, input.labels, input.challenger);
  const championValue = metric.finish(mean(championRows));
  const challengerValue = metric.finish(mean(challengerRows));
  const sign = metric.higherIsBetter ? 1 : -1;
  const improvement = sign * (challengerValue - championValue);
  const relativeImprovement =
    championValue === 0
      ? improvement > 0
        ? Infinity
        : improvement < 0
          ? -Infinity
          : 0
      : improvement / Math.abs(championValue);
  const test: PromotionTestName =
    gate.test === 'auto' ? (metric.classification ? 'mcnemar' : 'paired_bootstrap') : gate.test;

  const achieved = gate.relative ? relativeImprovement : improvement;
  const bigEnough = achieved >= gate.minImprovement && improvement > 0;
  const sizeText = gate.relative
    ? `relative improvement ${fmt(relativeImprovement)} ${bigEnough ? '>=' : '<'} minimum ${fmt(gate.minImprovement)}`
    : `improvement ${fmt(improvement)} ${bigEnough ? '>=' : '<'} minimum ${fmt(gate.minImprovement)}`;
  const base = {
    metric: gate.metric,
    championValue,
    challengerValue,
    improvement,
    relativeImprovement,
    rows: input.labels.length,
    gate: { ...gate },
  };

  if (test === 'mcnemar') {
    const { b, c } = discordantCounts(input.labels, input.champion, input.challenger);
    const result = mcnemarTest(b, c, { exactBelow: gate.mcnemarExactBelow ?? MCNEMAR_EXACT_BELOW });
    const significant = result.pValue < gate.alpha && c > b;
    const testText = `McNemar (${result.method}) p=${fmt(result.pValue)} ${significant ? '<' : 'not <'} alpha ${gate.alpha} (b=${b} champion-only right, c=${c} challenger-only right)`;
    return {
      ...base,
      promoted: bigEnough && significant,
      test,
      pValue: result.pValue,
      ciLow: null,
      ciHigh: null,
      reason: `${bigEnough && significant ? 'promoted' : 'rejected'}: ${sizeText}; ${testText}`,
      evidence: { ...base, test, mcnemar: result },
    };
  }

  const boot = pairedBootstrap({
    champion: championRows,
    challenger: challengerRows,
    finish: metric.finish,
    higherIsBetter: metric.higherIsBetter,
    resamples: gate.bootstrapResamples,
    alpha: gate.alpha,
    seed: gate.seed,
  });
  const significant = boot.ciLow > 0;
  const testText = `paired bootstrap ${fmt((1 - gate.alpha) * 100)}% CI of the improvement [${fmt(boot.ciLow)}, ${fmt(boot.ciHigh)}] ${significant ? 'excludes' : 'includes'} 0 (${boot.resamples} resamples)`;
  return {
    ...base,
    promoted: bigEnough && significant,
    test,
    pValue: null,
    ciLow: boot.ciLow,
    ciHigh: boot.ciHigh,
    reason: `${bigEnough && significant ? 'promoted' : 'rejected'}: ${sizeText}; ${testText}`,
    evidence: { ...base, test, bootstrap: boot },
  };
}

/** No champion yet: the first winner is promoted so there is something to compare against next time. */
export function firstChampionDecision(
  gate: PromotionGate,
  labels: readonly (string | number)[],
  challenger: readonly (string | number)[],
): PromotionDecision {
  const metric = promotionMetric(gate.metric);
  const challengerValue = metric.finish(mean(rowValues(metric, labels, challenger)));
  const reason = `promoted: no champion yet, the study's best trial becomes the first champion (holdout ${gate.metric}=${fmt(challengerValue)})`;
  return {
    promoted: true,
    metric: gate.metric,
    test: 'none',
    championValue: NaN,
    challengerValue,
    improvement: NaN,
    relativeImprovement: NaN,
    pValue: null,
    ciLow: null,
    ciHigh: null,
    reason,
    evidence: { metric: gate.metric, challengerValue, rows: labels.length, firstChampion: true },
  };
}
