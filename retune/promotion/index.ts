/** Public surface of the promotion gate: pure statistics, no I/O. */
export { erfc, chiSquare1Sf, binomialTwoSidedHalf } from './special.js';
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
  checkGate,
  decidePromotion,
  firstChampionDecision,
  type PromotionDecision,
  type PromotionGate,
  type PromotionInput,
  type PromotionTestName,
} from './decision.js';
