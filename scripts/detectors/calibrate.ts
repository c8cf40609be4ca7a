/**
 * Calibration by simulation of the detectors' default thresholds and the default
 * model-level decision. Not a unit test: run it when thresholds or the rule change.
 *
 *   node --import tsx scripts/detectors/calibrate.ts [--windows 200] [--trials 40]
 *
 * Targets (exit code 1 if missed):
 *  - stationary data, 20 numeric features, windows of n = 100,000 against a reference of
 *    100,000: the default model decision flags at most 1% of windows;
 *  - a 0.1 sigma mean shift at n = 10,000 (in one feature only, the hardest case, and in
 *    all features) is flagged within two windows in every trial.
 * Both from raw samples and from profiles (what the monitor computes from ClickHouse).
 * Prints one JSON object.
 */
import {
  buildNumericProfile,
  buildNumericReferenceProfile,
  categoricalJensenShannon,
  categoricalPsi,
  chiSquareContingency,
  chiSquareGoodnessOfFit,
  cramerVonMisesSorted,
  decideModelDrift,
  energySorted,
  gridOf,
  hellingerFromProfiles,
  jensenShannonFromProfiles,
  ksSorted,
  numericEvidenceFromProfiles,
  numericEvidenceSorted,
  psiFromProfiles,
  runDetector,
  thresholdValue,
  totalVariation,
  wassersteinSorted,
  getDetector,
  type FeatureEvidence,
  type TestResult,
} from '../../detectors/index.js';
import { multinomialCounts, normalArray, uniformSource } from './random.js';

const args = process.argv.slice(2);
function flag(name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}
const WINDOWS = flag('windows', 200);
const TRIALS = flag('trials', 40);
const FEATURES = 20;
const MAX_STATIONARY_RATE = 0.01;

const uniform = uniformSource(20261123);

function sorted(a: Float64Array): Float64Array {
  return a.sort();
}

function flagged(name: string, result: TestResult): boolean {
  const spec = getDetector(name);
  const value = thresholdValue(result, spec.thresholdOn);
  if (value === undefined) return false;
  return spec.thresholdOn === 'p_value' ? value < spec.defaultThreshold : value >= spec.defaultThreshold;
}

/**
 * Model-level false-alarm rate and per-test rates on stationary data: windows of size n
 * against references of size referenceN. References are redrawn every REFERENCE_REFRESH
 * windows: with one fixed reference the rates are conditional on that draw (its own noise
 * is shared by every window), which says more about the draw than about the test.
 */
const REFERENCE_REFRESH = 10;
function stationary(n: number, referenceN: number, windows: number, perTestFeatures: number) {
  let refs: Float64Array[] = [];
  let refProfiles: ReturnType<typeof buildNumericReferenceProfile>[] = [];
  const testNames = ['ks', 'cramer_von_mises', 'wasserstein', 'energy', 'psi', 'jensen_shannon', 'hellinger'];
  const testFlags = new Map(testNames.map((t) => [t, 0]));
  let perTestCount = 0;
  let modelFlags = 0;
  let modelFlagsFromProfiles = 0;
  let pOnlyBonferroniFlags = 0;
  let shareHalfFlags = 0;
  let maxEffect = 0;
  for (let w = 0; w < windows; w++) {
    if (w % REFERENCE_REFRESH === 0) {
      refs = Array.from({ length: FEATURES }, () => sorted(normalArray(uniform, referenceN)));
      refProfiles = refs.map((r) => buildNumericReferenceProfile(r));
    }
    const evidence: FeatureEvidence[] = [];
    const profileEvidence: FeatureEvidence[] = [];
    for (let f = 0; f < FEATURES; f++) {
      const ref = refs[f] as Float64Array;
      const cur = sorted(normalArray(uniform, n));
      const e = numericEvidenceSorted(`f${f}`, ref, cur);
      evidence.push(e);
      maxEffect = Math.max(maxEffect, e.effectSize ?? 0);
      const refProfile = refProfiles[f] as (typeof refProfiles)[number];
      const curProfile = buildNumericProfile(cur, gridOf(refProfile));
      profileEvidence.push(numericEvidenceFromProfiles(`f${f}`, refProfile, curProfile));
      if (f < perTestFeatures) {
        perTestCount++;
        const results: [string, TestResult][] = [
          ['ks', ksSorted(ref, cur)],
          ['cramer_von_mises', cramerVonMisesSorted(ref, cur)],
          ['wasserstein', wassersteinSorted(ref, cur)],
          ['energy', energySorted(ref, cur)],
          ['psi', psiFromProfiles(refProfile, curProfile)],
          ['jensen_shannon', jensenShannonFromProfiles(refProfile, curProfile)],
          ['hellinger', hellingerFromProfiles(refProfile, curProfile)],
        ];
        for (const [name, r] of results)
          if (flagged(name, r)) testFlags.set(name, (testFlags.get(name) ?? 0) + 1);
      }
    }
    if (decideModelDrift(evidence).drifted) modelFlags++;
    if (decideModelDrift(profileEvidence).drifted) modelFlagsFromProfiles++;
    if (decideModelDrift(evidence.map((e) => ({ ...e, effectSize: 1 }))).drifted) pOnlyBonferroniFlags++;
    if (decideModelDrift(evidence, { minDriftedShare: 0.5 }).drifted) shareHalfFlags++;
  }
  return {
    n,
    referenceN,
    windows,
    features: FEATURES,
    modelFlagRate: modelFlags / windows,
    modelFlagRateFromProfiles: modelFlagsFromProfiles / windows,
    alternatives: {
      pValueOnlyBonferroni: pOnlyBonferroniFlags / windows,
      shareAtLeastHalf: shareHalfFlags / windows,
    },
    maxNormalizedW1SeenUnderNull: maxEffect,
    perTestFlagRate: Object.fromEntries(
      testNames.map((t) => [t, { rate: (testFlags.get(t) ?? 0) / perTestCount, windows: perTestCount }]),
    ),
  };
}

/** Per-test false-alarm rates for categorical detectors (10 categories, stationary). */
function stationaryCategorical(n: number, windows: number) {
  const shares = [0.3, 0.2, 0.12, 0.1, 0.08, 0.07, 0.05, 0.04, 0.03, 0.01];
  const ref = multinomialCounts(uniform, n, shares);
  const names = ['chi_square', 'chi_square_gof', 'tvd', 'psi', 'jensen_shannon', 'hellinger'];
  const counts = new Map(names.map((t) => [t, 0]));
  for (let w = 0; w < windows; w++) {
    const cur = multinomialCounts(uniform, n, shares);
    const results: [string, TestResult][] = [
      ['chi_square', chiSquareContingency(ref, cur)],
      ['chi_square_gof', chiSquareGoodnessOfFit(ref, cur)],
      ['tvd', totalVariation(ref, cur)],
      ['psi', categoricalPsi(ref, cur)],
      ['jensen_shannon', categoricalJensenShannon(ref, cur)],
      ['hellinger', runDetector('hellinger', { kind: 'categorical', reference: ref, current: cur }).result],
    ];
    for (const [name, r] of results) if (flagged(name, r)) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return {
    n,
    windows,
    perTestFlagRate: Object.fromEntries(names.map((t) => [t, (counts.get(t) ?? 0) / windows])),
  };
}

/** Windows until the default decision flags a 0.1 sigma shift, per trial (Infinity if > 2). */
function detection(shiftedFeatures: number, trials: number, referenceN: number, windowN: number) {
  const delays: number[] = [];
  const profileDelays: number[] = [];
  for (let t = 0; t < trials; t++) {
    const refs = Array.from({ length: FEATURES }, () => sorted(normalArray(uniform, referenceN)));
    const refProfiles = refs.map((r) => buildNumericReferenceProfile(r));
    let delay = Infinity;
    let profileDelay = Infinity;
    for (let w = 1; w <= 2 && (delay === Infinity || profileDelay === Infinity); w++) {
      const windows = refs.map((_, f) =>
        sorted(normalArray(uniform, windowN, f < shiftedFeatures ? 0.1 : 0)),
      );
      const evidence = refs.map((ref, f) => numericEvidenceSorted(`f${f}`, ref, windows[f] as Float64Array));
      if (delay === Infinity && decideModelDrift(evidence).drifted) delay = w;
      const fromProfiles = refProfiles.map((rp, f) =>
        numericEvidenceFromProfiles(`f${f}`, rp, buildNumericProfile(windows[f] as Float64Array, gridOf(rp))),
      );
      if (profileDelay === Infinity && decideModelDrift(fromProfiles).drifted) profileDelay = w;
    }
    delays.push(delay);
    profileDelays.push(profileDelay);
  }
  const within2 = delays.filter((d) => d <= 2).length / trials;
  return {
    shift: 0.1,
    shiftedFeatures,
    referenceN,
    windowN,
    trials,
    flaggedInFirstWindow: delays.filter((d) => d === 1).length / trials,
    flaggedWithinTwoWindows: within2,
    fromProfilesFlaggedWithinTwoWindows: profileDelays.filter((d) => d <= 2).length / trials,
  };
}

function largeSampleTrap() {
  const ref = sorted(normalArray(uniform, 100_000));
  const cur = sorted(normalArray(uniform, 100_000, 0.02));
  const e = numericEvidenceSorted('x', ref, cur);
  return { pValue: e.pValue, normalizedW1: e.effectSize, modelDrift: decideModelDrift([e]).drifted };
}

const started = Date.now();
const stationaryLarge = stationary(100_000, 100_000, WINDOWS, 5);
const stationaryMid = stationary(10_000, 100_000, WINDOWS, 5);
const stationarySmall = stationary(1_000, 1_000, WINDOWS, 5);
const categorical = stationaryCategorical(100_000, Math.min(WINDOWS, 200));
const oneFeature = detection(1, TRIALS, 100_000, 10_000);
const allFeatures = detection(FEATURES, Math.max(5, Math.floor(TRIALS / 4)), 100_000, 10_000);
const trap = largeSampleTrap();

const targets = {
  stationaryModelRateAtN100k: { measured: stationaryLarge.modelFlagRate, max: MAX_STATIONARY_RATE },
  stationaryModelRateAtN10kInDetectionSetting: {
    measured: stationaryMid.modelFlagRate,
    max: MAX_STATIONARY_RATE,
  },
  detectsShiftWithinTwoWindows: { measured: oneFeature.flaggedWithinTwoWindows, min: 1 },
};
const pass =
  stationaryLarge.modelFlagRate <= MAX_STATIONARY_RATE &&
  stationaryLarge.modelFlagRateFromProfiles <= MAX_STATIONARY_RATE &&
  stationaryMid.modelFlagRate <= MAX_STATIONARY_RATE &&
  stationaryMid.modelFlagRateFromProfiles <= MAX_STATIONARY_RATE &&
  oneFeature.flaggedWithinTwoWindows === 1 &&
  oneFeature.fromProfilesFlaggedWithinTwoWindows === 1 &&
  allFeatures.flaggedWithinTwoWindows === 1;

console.log(
  JSON.stringify({
    calibration: 'detectors',
    rule: 'feature drifts when Bonferroni-corrected KS p < 0.05 AND normalised W1 >= 0.05; model drifts when >= 1 feature drifts',
    stationary: [stationaryLarge, stationaryMid, stationarySmall],
    stationaryCategorical: categorical,
    detection: [oneFeature, allFeatures],
    largeSampleTrap: trap,
    targets,
    pass,
    seconds: (Date.now() - started) / 1000,
  }),
);
if (!pass) process.exitCode = 1;
