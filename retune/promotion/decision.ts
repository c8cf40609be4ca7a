/**
 * The promotion gate: one-sided superiority with a margin, at a level spent over the champion's
 * lifetime.
 *
 *   improvement = challenger - champion (accuracy), champion - challenger (losses): positive is better
 *   margin      = minImprovement, or minImprovement * |champion value| when `relative`
 *   alpha_k     = alpha * 6 / (pi^2 k^2) for the k-th test against this champion (or alpha)
 *   promote  <=> the one-sided (1 - alpha_k) lower confidence bound of the improvement > margin
 *
 * The bound comes from Tango's score interval with a continuity correction for right/wrong
 * metrics, the paired t interval for MSE and MAE, the delta-method t interval for RMSE
 * (superiority.ts). The correction keeps each test at or below alpha_k, exactly computed at the
 * margin by scripts/retune/simulate-gate.ts, and never promotes where the exact one-sided McNemar
 * test would not at small counts (tested), so no separate small-sample rule is needed.
 */
import { discordantCounts, checkSameLength } from './mcnemar.js';
import { mean, promotionMetric, rowValues, type PromotionMetricName } from './metrics.js';
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
  const values = {
    n: input.labels.length,
    championValue: metric.finish(mean(championRows)),
    challengerValue: metric.finish(mean(challengerRows)),
  };
  if (gateTest(gate) === 'mcnemar')
    return decideOnDiscordance(
      gate,
      { ...values, ...discordantCounts(input.labels, input.champion, input.challenger) },
      context,
    );
  const common = commonTerms(gate, values, context);
  const sign = metric.higherIsBetter ? 1 : -1;
  const result =
    metric.name === 'rmse'
      ? rmseSuperiority(championRows, challengerRows, common.margin, common.alphaSpent)
      : pairedMeanSuperiority(
          Float64Array.from(championRows, (v, i) => sign * ((challengerRows[i] as number) - v)),
          common.margin,
          common.alphaSpent,
        );
  return conclude(gate, common, result, {
    method: {
      n: values.n,
      name: metric.name === 'rmse' ? 'paired-t-delta-method' : 'paired-t',
      t: result.statistic,
      standardError: result.standardError,
      df: result.df,
    },
    methodText: `paired t${metric.name === 'rmse' ? ' (delta method)' : ''}, ${result.df} df`,
  });
}

/** A right/wrong comparison summarised by its counts: all the score test needs. */
export interface DiscordanceSummary {
  readonly n: number;
  /** Rows only the champion got right. */
  readonly b: number;
  /** Rows only the challenger got right. */
  readonly c: number;
  readonly championValue: number;
  readonly challengerValue: number;
}

/**
 * The gate for right/wrong metrics from counts (what `decidePromotion` does after counting; the
 * simulation in scripts/retune/simulate-gate.ts calls it directly on simulated counts).
 */
export function decideOnDiscordance(
  gate: PromotionGate,
  summary: DiscordanceSummary,
  context: PromotionContext = {},
): PromotionDecision {
  checkGate(gate);
  if (gateTest(gate) !== 'mcnemar')
    throw new RangeError(`counts decide right/wrong metrics only, not ${gate.metric} with ${gateTest(gate)}`);
  const { b, c, n } = summary;
  const common = commonTerms(gate, summary, context);
  const bound = pairedProportionSuperiority(b, c, n, common.margin, common.alphaSpent);
  return conclude(gate, common, bound, {
    method: { b, c, n, name: 'tango-score-cc', z: bound.statistic },
    methodText: `Tango score (b=${b} champion-only right, c=${c} challenger-only right)`,
  });
}

interface CommonTerms {
  readonly n: number;
  readonly championValue: number;
  readonly challengerValue: number;
  readonly improvement: number;
  readonly relativeImprovement: number;
  readonly testIndex: number;
  readonly alphaSpent: number;
  readonly margin: number;
}

function commonTerms(
  gate: PromotionGate,
  values: { n: number; championValue: number; challengerValue: number },
  context: PromotionContext,
): CommonTerms {
  const { championValue, challengerValue } = values;
  const sign = promotionMetric(gate.metric).higherIsBetter ? 1 : -1;
  const improvement = sign * (challengerValue - championValue);
  const relativeImprovement =
    championValue === 0
      ? improvement > 0
        ? Infinity
        : improvement < 0
          ? -Infinity
          : 0
      : improvement / Math.abs(championValue);
  const testIndex = context.testIndex ?? 1;
  return {
    ...values,
    improvement,
    relativeImprovement,
    testIndex,
    alphaSpent: spentAlpha(gate.alpha, testIndex, gate.alphaSpending ?? 'inverse-square'),
    margin: gate.relative ? gate.minImprovement * Math.abs(championValue) : gate.minImprovement,
  };
}

function conclude(
  gate: PromotionGate,
  common: CommonTerms,
  bound: SuperiorityResult,
  test: { method: Record<string, unknown>; methodText: string },
): PromotionDecision {
  const {
    n,
    championValue,
    challengerValue,
    improvement,
    relativeImprovement,
    testIndex,
    alphaSpent,
    margin,
  } = common;
  const clears = bound.lowerBound > margin;
  const promoted = clears && bound.pValue < alphaSpent;
  const spending =
    (gate.alphaSpending ?? 'inverse-square') === 'none'
      ? `alpha ${fmt(alphaSpent)}`
      : `test ${testIndex} of this champion, alpha_${testIndex} = ${fmt(alphaSpent)} of ${gate.alpha}`;
  const marginText = gate.relative
    ? `${fmt(margin)} (${fmt(gate.minImprovement)} of the champion's ${fmt(championValue)})`
    : fmt(margin);
  const reason =
    `${promoted ? 'promoted' : 'rejected'}: ${gate.metric} ${fmt(challengerValue)} vs champion ${fmt(championValue)} on ${n} holdout rows, ` +
    `gain ${fmt(improvement)}; its one-sided lower bound at level 1 - ${fmt(alphaSpent)} is ${fmt(bound.lowerBound)}, which ${clears ? 'clears' : 'does not clear'} the minimum ${marginText} ` +
    `(${test.methodText}; p=${fmt(bound.pValue)}; ${spending})`;
  return {
    promoted,
    metric: gate.metric,
    test: gateTest(gate),
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
    evidence: {
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
      method: test.method,
      gate: { ...gate },
    },
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
