/** Public surface of the promotion gate: pure statistics, no I/O. */
export {
  erfc,
  chiSquare1Sf,
  binomialTwoSidedHalf,
  binomialUpperTailHalf,
  normalCdf,
  normalSf,
  normalQuantile,
} from './special.js';
export { studentTSf, studentTIsf, regularizedBeta, logBeta } from './student-t.js';
export {
  mcnemarTest,
  discordantCounts,
  MCNEMAR_EXACT_BELOW,
  type McNemarOptions,
  type McNemarResult,
} from './mcnemar.js';
export {
  pairedBootstrap,
  quantileSorted,
  type PairedBootstrapOptions,
  type PairedBootstrapResult,
} from './bootstrap.js';
export {
  PROMOTION_METRICS,
  promotionMetric,
  rowValues,
  type PromotionMetric,
  type PromotionMetricName,
} from './metrics.js';
export {
  tangoScore,
  tangoLowerBound,
  pairedProportionSuperiority,
  pairedMeanSuperiority,
  rmseSuperiority,
  type SuperiorityResult,
} from './superiority.js';
export { spentAlpha, ALPHA_SPENDING_RULES, type AlphaSpendingRule } from './spending.js';
export {
  checkGate,
  decidePromotion,
  decideOnDiscordance,
  firstChampionDecision,
  gateTest,
  type DiscordanceSummary,
  type PromotionContext,
  type PromotionDecision,
  type PromotionGate,
  type PromotionInput,
  type PromotionTestName,
} from './decision.js';
