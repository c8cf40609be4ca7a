/**
 * Monte Carlo check of the promotion gate's error rates, with the real decision code
 * (retune/promotion: `decideOnDiscordance` is what `decidePromotion` calls after counting; the
 * first decisions of every scenario are also run through `decidePromotion` on the materialised
 * rows, and must agree).
 *
 * The world: a champion of accuracy 0.80; a holdout of 5,000 rows; a critical model retriggers
 * every cooldown (6 h), 4 studies a day, 120 in a month; consecutive holdouts share 80 % of their
 * rows (the newest rows of a growing window). The champion's per-row outcomes are fixed for its
 * life; each study brings a new challenger whose rows disagree with the champion's on a share
 * `d` of rows (the discordance): P(only the champion right) = (d - gain) / 2, P(only the
 * challenger right) = (d + gain) / 2. The gate: accuracy, minImprovement 0.01, alpha 0.05,
 * alpha spending 6 / (pi^2 k^2) (the defaults).
 *
 * Scenarios (issue 18's acceptance):
 *   1. null challengers over a month of cooldown-spaced studies: false promotions per champion
 *      lifetime <= alpha, for gain 0 and for the least favourable null, gain = the minimum;
 *   2. a true gain of twice the minimum at 5,000 holdout rows: promoted >= 80 % (first test of
 *      a champion), with the power by discordance and by test index beside it;
 *   3. a gain below the minimum (0.005 < 0.01): promoted <= alpha.
 * Beside them, for comparison: the same gate without alpha spending and the gate as it was
 * (two-sided McNemar with c > b, minimum checked on the point estimate), at gain 0 and at the
 * minimum; and the paired t gate (MSE, decidePromotion on rows) over lifetimes of null
 * challengers at the margin.
 *
 * Run: node --import tsx scripts/retune/simulate-gate.ts [--quick] [--seed N]
 * Prints one JSON document. --quick uses fewer replicates (a smoke run, wider intervals).
 */
import { performance } from 'node:perf_hooks';
import { Rng } from '../../retune/engine/index.js';
import {
  decideOnDiscordance,
  decidePromotion,
  mcnemarTest,
  logBeta,
  normalCdf,
  normalQuantile,
  regularizedBeta,
  spentAlpha,
  type PromotionGate,
} from '../../retune/promotion/index.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const seedAt = args.indexOf('--seed');
const SEED = seedAt >= 0 ? Number(args[seedAt + 1]) : 20261215;

const HOLDOUT = 5000;
const NEW_ROWS_PER_STUDY = 1000; // 80 % of a holdout is shared with the previous study's
const STUDIES_PER_MONTH = 120; // 30 days at one study per 6 h cooldown
const CHAMPION_ACCURACY = 0.8;
const DISCORDANCE = 0.06;

const GATE: PromotionGate = {
  metric: 'accuracy',
  minImprovement: 0.01,
  relative: false,
  alpha: 0.05,
  test: 'auto',
  alphaSpending: 'inverse-square',
};

const REPLICATES = {
  lifetimes: quick ? 300 : 4000,
  lifetimesComparison: quick ? 200 : 1000,
  power: quick ? 1000 : 10000,
  regressionLifetimes: quick ? 40 : 300,
};

/** Wilson 95 % interval of a proportion. */
function rate(hits: number, n: number) {
  const p = hits / n;
  const z = 1.959963984540054;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  return { rate: p, hits, n, ci95: [Math.max(0, centre - half), Math.min(1, centre + half)] as const };
}

type Rule = (b: number, c: number, n: number, testIndex: number, gain: number) => boolean;

const summaryOf = (b: number, c: number, n: number, right: number) => ({
  n,
  b,
  c,
  championValue: right / n,
  challengerValue: (right - b + c) / n,
});

/** The gate as implemented, on counts. */
const gateRule =
  (gate: PromotionGate): Rule =>
  (b, c, n, testIndex) =>
    decideOnDiscordance(gate, summaryOf(b, c, n, Math.round(n * CHAMPION_ACCURACY)), { testIndex }).promoted;

/** The gate before issue 18: two-sided McNemar p < alpha with c > b, and the point estimate >= minimum. */
const oldRule: Rule = (b, c, n) =>
  (c - b) / n >= GATE.minImprovement && c > b && mcnemarTest(b, c, { exactBelow: 25 }).pValue < GATE.alpha;

let crossChecked = 0;
/** Runs a decision through the full row-level path too, and insists both agree. */
function crossCheck(
  gate: PromotionGate,
  champion: Uint8Array,
  challenger: Uint8Array,
  testIndex: number,
  b: number,
  c: number,
) {
  if (crossChecked >= 400) return;
  crossChecked++;
  const labels = Array.from(champion, () => 1);
  const full = decidePromotion(
    gate,
    { labels, champion: Array.from(champion), challenger: Array.from(challenger) },
    { testIndex },
  );
  let right = 0;
  for (const v of champion) right += v;
  const counts = decideOnDiscordance(gate, summaryOf(b, c, champion.length, right), { testIndex });
  if (full.promoted !== counts.promoted || full.pValue !== counts.pValue || full.ciLow !== counts.ciLow)
    throw new Error(`row-level and count-level decisions differ: ${full.reason} / ${counts.reason}`);
}

/**
 * One champion's life: up to `studies` studies, each with a new challenger of the given true
 * gain on a holdout sliding over a stream of rows. Returns the study at which it was first
 * promoted (1-based), or 0.
 */
function lifetime(
  rng: Rng,
  rule: Rule,
  gain: number,
  discordance: number,
  studies: number,
  check?: PromotionGate,
): number {
  const rows = HOLDOUT + NEW_ROWS_PER_STUDY * (studies - 1);
  const champion = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) champion[i] = rng.nextFloat() < CHAMPION_ACCURACY ? 1 : 0;
  const pFlipRight = (discordance - gain) / 2 / CHAMPION_ACCURACY; // champion right, challenger wrong
  const pFlipWrong = (discordance + gain) / 2 / (1 - CHAMPION_ACCURACY); // champion wrong, challenger right
  const challenger = new Uint8Array(HOLDOUT);
  for (let k = 1; k <= studies; k++) {
    const start = (k - 1) * NEW_ROWS_PER_STUDY;
    let b = 0;
    let c = 0;
    for (let i = 0; i < HOLDOUT; i++) {
      const right = champion[start + i] as number;
      const flip = rng.nextFloat() < (right === 1 ? pFlipRight : pFlipWrong);
      const challengerRight = flip ? 1 - right : right;
      challenger[i] = challengerRight;
      if (right === 1 && challengerRight === 0) b++;
      else if (right === 0 && challengerRight === 1) c++;
    }
    if (check !== undefined)
      crossCheck(check, champion.subarray(start, start + HOLDOUT), challenger, k, b, c);
    if (rule(b, c, HOLDOUT, k, gain)) return k;
  }
  return 0;
}

function lifetimes(
  name: string,
  rule: Rule,
  gain: number,
  n: number,
  studies = STUDIES_PER_MONTH,
  check?: PromotionGate,
) {
  const rng = Rng.derive(SEED, name);
  const promotedAt: number[] = [];
  for (let r = 0; r < n; r++) promotedAt.push(lifetime(rng, rule, gain, DISCORDANCE, studies, check));
  const within = (k: number) => rate(promotedAt.filter((at) => at > 0 && at <= k).length, n);
  return { day: within(4), week: within(28), month: within(studies) };
}

/** Independent holdouts of HOLDOUT rows at test index k: the share promoted. */
function singleTests(
  name: string,
  rule: Rule,
  gain: number,
  discordance: number,
  testIndex: number,
  n: number,
) {
  const rng = Rng.derive(SEED, name, testIndex, discordance);
  let hits = 0;
  const pB = (discordance - gain) / 2;
  const pC = (discordance + gain) / 2;
  for (let r = 0; r < n; r++) {
    let b = 0;
    let c = 0;
    for (let i = 0; i < HOLDOUT; i++) {
      const u = rng.nextFloat();
      if (u < pB) b++;
      else if (u < pB + pC) c++;
    }
    if (rule(b, c, HOLDOUT, testIndex, gain)) hits++;
  }
  return rate(hits, n);
}

/** Normal-approximation power of the score test, to show what the discordance costs. */
function approximatePower(gain: number, discordance: number, alpha: number): number {
  const se = Math.sqrt((discordance - gain * gain) / HOLDOUT);
  return normalCdf((gain - GATE.minImprovement) / se + normalQuantile(alpha));
}

/** The paired t gate (MSE) over lifetimes of null challengers at the margin, with decidePromotion itself. */
function regressionLifetimes(n: number) {
  const rng = Rng.derive(SEED, 'regression');
  const normal = (): number =>
    Math.sqrt(-2 * Math.log(1 - rng.nextFloat())) * Math.cos(2 * Math.PI * rng.nextFloat());
  const rows = 2000;
  const studies = STUDIES_PER_MONTH;
  const newRows = 400;
  const margin = 0.05;
  const gate: PromotionGate = { ...GATE, metric: 'mse', minImprovement: margin };
  // Champion residuals e ~ N(0, 1), MSE 1; a null challenger at the margin has MSE 1 - margin,
  // its residuals correlated 0.9 with the champion's.
  const sigma2 = Math.sqrt(1 - margin);
  let falsePromotions = 0;
  for (let r = 0; r < n; r++) {
    const stream = rows + newRows * (studies - 1);
    const e1 = Float64Array.from({ length: stream }, normal);
    const labels = new Array<number>(rows).fill(0);
    for (let k = 1; k <= studies; k++) {
      const start = (k - 1) * newRows;
      const champion = Array.from(e1.subarray(start, start + rows));
      const challenger = champion.map((e) => sigma2 * (0.9 * e + Math.sqrt(1 - 0.81) * normal()));
      if (decidePromotion(gate, { labels, champion, challenger }, { testIndex: k }).promoted) {
        falsePromotions++;
        break;
      }
    }
  }
  return { rows, margin, studies, lifetimes: rate(falsePromotions, n) };
}

/**
 * The exact probability that the gate promotes a challenger whose true gain is exactly the
 * minimum (the least favourable null), at test index k: the discordant count m ~ Bin(n, d), and
 * given m the challenger-only count c ~ Bin(m, (d + gain) / 2d); for each m the gate promotes from
 * some smallest c on (found with the real decision code), so the size is a sum over m. No
 * simulation error: this is what the union bound over a champion's life adds up.
 */
function exactSizeAtMinimum(testIndex: number, discordance = DISCORDANCE): number {
  const n = HOLDOUT;
  const gain = GATE.minImprovement;
  const share = (discordance + gain) / (2 * discordance);
  const mean = n * discordance;
  const sd = Math.sqrt(n * discordance * (1 - discordance));
  const promotes = (m: number, c: number): boolean =>
    decideOnDiscordance(GATE, summaryOf(m - c, c, n, Math.round(n * CHAMPION_ACCURACY)), { testIndex })
      .promoted;
  let size = 0;
  for (let m = Math.max(0, Math.floor(mean - 12 * sd)); m <= Math.min(n, Math.ceil(mean + 12 * sd)); m++) {
    if (!promotes(m, m)) continue;
    let low = 0; // promotes(m, low) is false or low = 0
    let high = m; // promotes(m, high) is true
    if (promotes(m, 0)) high = 0;
    while (high - low > 1) {
      const mid = (low + high) >> 1;
      if (promotes(m, mid)) high = mid;
      else low = mid;
    }
    const logPm =
      -Math.log(n + 1) -
      logBeta(m + 1, n - m + 1) +
      m * Math.log(discordance) +
      (n - m) * Math.log1p(-discordance);
    // P(C >= high | m) = I_share(high, m - high + 1).
    const tail = high === 0 ? 1 : regularizedBeta(high, m - high + 1, share);
    size += Math.exp(logPm) * tail;
  }
  return size;
}

const started = performance.now();
const alpha = GATE.alpha;
const nullEqual = lifetimes('null-equal', gateRule(GATE), 0, REPLICATES.lifetimes, STUDIES_PER_MONTH, GATE);
const nullMargin = lifetimes('null-margin', gateRule(GATE), GATE.minImprovement, REPLICATES.lifetimes);
const noSpending = lifetimes(
  'no-spending',
  gateRule({ ...GATE, alphaSpending: 'none' }),
  GATE.minImprovement,
  REPLICATES.lifetimesComparison,
);
const oldGateZero = lifetimes('old-gate', oldRule, 0, REPLICATES.lifetimesComparison, 28);
const oldGateMargin = lifetimes(
  'old-gate-margin',
  oldRule,
  GATE.minImprovement,
  REPLICATES.lifetimesComparison,
  28,
);
const twiceMin = 2 * GATE.minImprovement;
const power = singleTests('power', gateRule(GATE), twiceMin, DISCORDANCE, 1, REPLICATES.power);
const powerByDiscordance = [0.03, 0.04, 0.06, 0.08, 0.1, 0.15].map((d) => ({
  discordance: d,
  promoted: singleTests('power-d', gateRule(GATE), twiceMin, d, 1, REPLICATES.power / 5),
  normalApproximation: approximatePower(twiceMin, d, (alpha * 6) / Math.PI ** 2),
}));
const powerByTest = [1, 2, 4, 28, 120].map((k) => ({
  testIndex: k,
  promoted: singleTests('power-k', gateRule(GATE), twiceMin, DISCORDANCE, k, REPLICATES.power / 5),
}));
const goodChallengerLifetimes = lifetimes(
  'twice-min-life',
  gateRule(GATE),
  twiceMin,
  REPLICATES.lifetimesComparison,
  28,
);
const below = singleTests('below', gateRule(GATE), 0.005, DISCORDANCE, 1, REPLICATES.power);
const belowOld = singleTests('below', oldRule, 0.005, DISCORDANCE, 1, REPLICATES.power);
const atMargin = singleTests(
  'at-margin',
  gateRule(GATE),
  GATE.minImprovement,
  DISCORDANCE,
  1,
  REPLICATES.power,
);
const regression = regressionLifetimes(REPLICATES.regressionLifetimes);
const exactSizes = [1, 2, 4, 8, 16, 28, 60, 120].map((k) => {
  const size = exactSizeAtMinimum(k);
  const alphaK = spentAlpha(GATE.alpha, k, 'inverse-square');
  return { testIndex: k, alphaSpent: alphaK, size, ratio: size / alphaK };
});

/** "Within simulation error": the estimate's 95 % interval reaches the target. */
const atMost = (r: { ci95: readonly [number, number] }, target: number) => r.ci95[0] <= target;
const atLeast = (r: { ci95: readonly [number, number] }, target: number) => r.ci95[1] >= target;

const result = {
  generator: 'scripts/retune/simulate-gate.ts',
  seed: SEED,
  quick,
  world: {
    holdoutRows: HOLDOUT,
    newRowsPerStudy: NEW_ROWS_PER_STUDY,
    holdoutOverlap: 1 - NEW_ROWS_PER_STUDY / HOLDOUT,
    studiesPerMonth: STUDIES_PER_MONTH,
    championAccuracy: CHAMPION_ACCURACY,
    discordance: DISCORDANCE,
  },
  gate: GATE,
  alphaFirstTest: (alpha * 6) / Math.PI ** 2,
  nullChallengers: {
    note: 'share of champion lifetimes with a false promotion within a day (4 studies), a week (28), a month (120)',
    gainZero: nullEqual,
    gainAtMinimum: nullMargin,
    withoutAlphaSpending: { note: 'alphaSpending: none, gain = the minimum', ...noSpending },
    oldGate: {
      note: 'the gate before issue 18 (two-sided McNemar, c > b, minimum on the point estimate), 28 studies',
      gainZero: oldGateZero,
      gainAtMinimum: oldGateMargin,
    },
    regressionPairedT: regression,
    exactSizeAtMinimum: {
      note: 'exact P(promote) of one test at gain = the minimum, by test index (no simulation error)',
      sizes: exactSizes,
    },
  },
  twiceTheMinimum: {
    note: 'true gain 0.02 = 2 x minImprovement, 5000 holdout rows, first test of a champion',
    promoted: power,
    byDiscordance: powerByDiscordance,
    byTestIndex: powerByTest,
    promotedWithinADayOfStudies: goodChallengerLifetimes.day,
  },
  belowTheMinimum: {
    note: 'true gain 0.005 < minImprovement 0.01, first test of a champion',
    promoted: below,
    oldGatePromoted: belowOld,
    atTheMinimumPromoted: atMargin,
  },
  rowLevelCrossChecks: crossChecked,
  checks: {
    nullLifetimeFalsePromotionsAtMostAlpha:
      atMost(nullEqual.month, alpha) &&
      atMost(nullMargin.month, alpha) &&
      atMost(regression.lifetimes, alpha),
    twiceMinimumPromotedAtLeast80Percent: atLeast(power, 0.8),
    belowMinimumPromotedAtMostAlpha: atMost(below, alpha) && atMost(atMargin, alpha),
  },
  wallSeconds: Math.round((performance.now() - started) / 100) / 10,
};
process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
if (!Object.values(result.checks).every(Boolean)) process.exitCode = 1;
