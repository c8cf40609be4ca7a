/**
 * The promotion gate: one-sided superiority with a margin, at a level spent over the champion's
 * lifetime.
 *
 *   improvement = challenger - champion (accuracy), champion - challenger (losses): positive is better
 *   margin      = minImprovement, or minImprovement * |champion value| when `relative`
 *   alpha_k     = alpha * 6 / (pi^2 k^2) for the k-th test against this champion (or alpha)
 *   promote  <=> the one-sided (1 - alpha_k) lower confidence bound of the improvement > margin
 *
 * The bound comes from Tango's score interval for right/wrong metrics, the paired t interval for
 * MSE and MAE, the delta-method t interval for RMSE (superiority.ts). For right/wrong metrics
 * with fewer than `mcnemarExactBelow` discordant rows the exact one-sided McNemar test must also
 * reject "no better" at alpha_k, so that tiny counts never lean on the normal approximation.
 */
import { discordantCounts, checkSameLength } from './mcnemar.js';
import { mean, promotionMetric, rowValues, type PromotionMetricName } from './metrics.js';
import { binomialUpperTailHalf } from './special.js';
import { spentAlpha, type AlphaSpendingRule } from './spending.js';
import {
  pairedMeanSuperiority,
  pairedProportionSuperiority,
  rmseSuperiority,
  type SuperiorityResult,
} from './superiority.js';

export type PromotionTestName = 'mcnemar' | 'paired_t';

export interface PromotionGate {
  readonly metric: PromotionMetricName;
  /** Smallest improvement worth a promotion (metric units, or a fraction when `relative`). */
  readonly minImprovement: number;
  /** Read `minImprovement` as a fraction of |champion value|. */
  readonly relative: boolean;
  /** Bound on the probability of promoting a challenger no better than the margin, per champion lifetime. */
  readonly alpha: number;
  /** `auto`: the score test (McNemar-type) for right/wrong metrics, the paired t otherwise. */
  readonly test: 'auto' | PromotionTestName;
  /** How alpha is spent over repeated tests of one champion. @default 'inverse-square' */
  readonly alphaSpending?: AlphaSpendingRule;
  /** Right/wrong metrics: below this many discordant rows the exact McNemar test must agree. @default 25 */
  readonly mcnemarExactBelow?: number;
}

export interface PromotionInput {
  readonly labels: readonly (string | number)[];
  readonly champion: readonly (string | number)[];
  readonly challenger: readonly (string | number)[];
}

export interface PromotionContext {
  /** This is the k-th gate test against the current champion (1-based). @default 1 */
  readonly testIndex?: number;
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
  /** One-sided p-value of H0: improvement <= margin. */
  readonly pValue: number | null;
  /** The one-sided (1 - alpha_k) lower confidence bound of the improvement. */
  readonly ciLow: number | null;
  /** Always null: the bound is one-sided. Kept for the stored decision's shape. */
  readonly ciHigh: number | null;
  /** The absolute improvement the bound had to clear. */
  readonly margin: number | null;
  /** The level this test ran at (alpha_k). */
  readonly alphaSpent: number | null;
  readonly testIndex: number | null;
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
  if (!(gate.alpha > 0 && gate.alpha < 0.5))
    throw new RangeError(`alpha must be in (0, 0.5), got ${gate.alpha}`);
  if (gate.test === 'mcnemar' && !promotionMetric(gate.metric).classification) {
    throw new RangeError(
      `McNemar's test needs a right/wrong metric (accuracy, error_rate), not ${gate.metric}; use test "paired_t" or "auto"`,
    );
  }
}

/** Which test `auto` means for a metric. */
export function gateTest(gate: PromotionGate): PromotionTestName {
  if (gate.test !== 'auto') return gate.test;
  return promotionMetric(gate.metric).classification ? 'mcnemar' : 'paired_t';
}

export function decidePromotion(
  gate: PromotionGate,
  input: PromotionInput,
  context: PromotionContext = {},
): PromotionDecision {
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
  const test = gateTest(gate);
  const testIndex = context.testIndex ?? 1;
  const alphaSpent = spentAlpha(gate.alpha, testIndex, gate.alphaSpending ?? 'inverse-square');
  const margin = gate.relative ? gate.minImprovement * Math.abs(championValue) : gate.minImprovement;
  const n = input.labels.length;

  let bound: SuperiorityResult;
  let method: Record<string, unknown>;
  let exactOk = true;
  let methodText: string;
  if (test === 'mcnemar') {
    const { b, c } = discordantCounts(input.labels, input.champion, input.challenger);
    bound = pairedProportionSuperiority(b, c, n, margin, alphaSpent);
    const exactBelow = gate.mcnemarExactBelow ?? 25;
    const exactP = b + c < exactBelow ? binomialUpperTailHalf(c, b + c) : null;
    exactOk = exactP === null || exactP < alphaSpent;
    method = { b, c, n, name: 'tango-score', z: bound.statistic, exactPValue: exactP };
    methodText = `Tango score (b=${b} champion-only right, c=${c} challenger-only right${exactP === null ? '' : `; exact McNemar p=${fmt(exactP)}`})`;
  } else {
    const d =
      metric.name === 'rmse'
        ? undefined
        : Float64Array.from(championRows, (v, i) => sign * ((challengerRows[i] as number) - v));
    const result =
      d === undefined
        ? rmseSuperiority(championRows, challengerRows, margin, alphaSpent)
        : pairedMeanSuperiority(d, margin, alphaSpent);
    bound = result;
    method = {
      n,
      name: metric.name === 'rmse' ? 'paired-t-delta-method' : 'paired-t',
      t: result.statistic,
      standardError: result.standardError,
      df: result.df,
    };
    methodText = `paired t${metric.name === 'rmse' ? ' (delta method)' : ''}, ${result.df} df`;
  }

  const promoted = bound.lowerBound > margin && bound.pValue < alphaSpent && exactOk;
  const spending =
    (gate.alphaSpending ?? 'inverse-square') === 'none'
      ? `alpha ${fmt(alphaSpent)}`
      : `test ${testIndex} of this champion, alpha_${testIndex} = ${fmt(alphaSpent)} of ${gate.alpha}`;
  const marginText = gate.relative
    ? `${fmt(margin)} (${fmt(gate.minImprovement)} of the champion's ${fmt(championValue)})`
    : fmt(margin);
  const clears = bound.lowerBound > margin;
  const reason =
    `${promoted ? 'promoted' : 'rejected'}: ${gate.metric} ${fmt(challengerValue)} vs champion ${fmt(championValue)} on ${n} holdout rows, ` +
    `gain ${fmt(improvement)}; its one-sided lower bound at level 1 - ${fmt(alphaSpent)} is ${fmt(bound.lowerBound)}, which ${clears ? 'clears' : 'does not clear'} the minimum ${marginText} ` +
    `(${methodText}; p=${fmt(bound.pValue)}; ${spending})` +
    (clears && !exactOk ? '; too few discordant rows for the exact test to agree' : '');
  const evidence = {
    metric: gate.metric,
    championValue,
    challengerValue,
    improvement,
    relativeImprovement,
    rows: n,
    margin,
    lowerBound: bound.lowerBound,
    pValue: bound.pValue,
    testIndex,
    alphaSpent,
    method,
    gate: { ...gate },
  };
  return {
    promoted,
    metric: gate.metric,
    test,
    championValue,
    challengerValue,
    improvement,
    relativeImprovement,
    pValue: bound.pValue,
    ciLow: bound.lowerBound,
    ciHigh: null,
    margin,
    alphaSpent,
    testIndex,
    reason,
    evidence,
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
    margin: null,
    alphaSpent: null,
    testIndex: null,
    reason,
    evidence: { metric: gate.metric, challengerValue, rows: labels.length, firstChampion: true },
  };
}
