/**
 * Properties of every numeric detector on hostile input (see hostile-samples.ts), on the small
 * and the large-reference paths. Each export is one property; hostile-inputs.test.ts runs it in
 * a worker under a time budget, so a detector that never returns fails instead of blocking.
 *
 * What must hold, for every input:
 * - every public detector function returns (the budget) and neither throws nor hangs;
 * - it answers `ok` with finite numbers only (statistic, p-value in [0, 1], every detail), or
 *   refuses (`not_computable`) with a reason — and a refusal has a cause in the input (nothing
 *   left after dropping NaN, an infinity, magnitudes that overflow float64, one value per
 *   sample for the asymptotic KS);
 * - the large-reference path (radix sort, bucketed quantile selection) gives exactly what the
 *   sorting path gives on the same values, and the profile path exactly what the raw path
 *   gives for PSI/JS/Hellinger;
 * - samples repeated k times (same empirical distribution, but past every fast-path threshold)
 *   keep KS D, W1 and energy bit for bit, and normalised W1 within 1e-12 relative.
 */
import fc from 'fast-check';
import { binCounts, binCountsSorted, quantileEdges } from '../../../detectors/binning.js';
import { decideModelDrift } from '../../../detectors/decision.js';
import { cramerVonMises, cramerVonMisesSorted } from '../../../detectors/cramer-von-mises.js';
import { energy, energySorted, wasserstein, wassersteinSorted } from '../../../detectors/distances.js';
import {
  hellingerFromCounts,
  jensenShannonFromCounts,
  psiFromCounts,
} from '../../../detectors/divergences.js';
import { numericEvidence, numericEvidenceFromProfiles } from '../../../detectors/feature-evidence.js';
import { ks, ksSorted, ksStatisticSorted } from '../../../detectors/ks.js';
import { sortedFinite } from '../../../detectors/numeric-input.js';
import { hellinger, jensenShannon, psi } from '../../../detectors/numeric-binned.js';
import {
  buildNumericProfile,
  buildNumericReferenceProfile,
  gridOf,
} from '../../../detectors/profiles/numeric-profile.js';
import {
  energyFromProfiles,
  hellingerFromProfiles,
  jensenShannonFromProfiles,
  ksFromProfiles,
  psiFromProfiles,
  wassersteinFromProfiles,
} from '../../../detectors/profiles/profile-tests.js';
import { listDetectors, runDetector } from '../../../detectors/registry.js';
import type { TestResult } from '../../../detectors/result.js';
import { expand, hostileSample, largeRecipe, replicate } from './hostile-samples.js';

function fail(message: string): never {
  throw new Error(message);
}

function show(r: TestResult): string {
  return r.status === 'ok'
    ? `ok(${r.statistic}, p=${r.pValue}, ${JSON.stringify(r.details ?? {})})`
    : `not_computable(${r.reason})`;
}

/** What the inputs hold, to say whether a refusal has a cause. */
interface Traits {
  readonly n: number;
  readonly infinite: boolean;
  readonly maxAbs: number;
}

function traits(values: readonly number[]): Traits {
  let n = 0;
  let infinite = false;
  let maxAbs = 0;
  for (const v of values) {
    if (v !== v) continue;
    n++;
    if (!Number.isFinite(v)) infinite = true;
    else maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  return { n, infinite, maxAbs };
}

/**
 * Magnitudes at which a finite W1 or energy may still leave float64: differences near ±1e308,
 * or W1 / 0.001 (the std floor of the normalised value) past ~1.8e305. Below it an infinite
 * or NaN result would be a bug, so a refusal there fails the property.
 */
const OVERFLOW_PRONE = 1e304;

/** `ok` with finite numbers only, or a refusal with a reason; returns whether it was ok. */
function answers(label: string, r: TestResult): boolean {
  if (r.status === 'not_computable') {
    if (typeof r.reason !== 'string' || r.reason.length < 10) fail(`${label}: refusal without a reason`);
    if (r.statistic !== undefined || r.pValue !== undefined) fail(`${label}: refusal carries numbers`);
    return false;
  }
  if (!Number.isFinite(r.statistic)) fail(`${label}: ok with statistic ${r.statistic}`);
  if (r.pValue !== undefined && !(r.pValue >= 0 && r.pValue <= 1))
    fail(`${label}: ok with p-value ${r.pValue}`);
  for (const [key, value] of Object.entries(r.details ?? {})) {
    if (!Number.isFinite(value)) fail(`${label}: ok with details.${key} = ${value}`);
  }
  return true;
}

/** An answer as `answers` demands, and a refusal only when the input `hasCause` for one. */
function refusalJustified(label: string, r: TestResult, hasCause: boolean): void {
  if (!answers(label, r) && !hasCause) fail(`${label}: refused without a cause in the input: ${show(r)}`);
}

/** Every raw-sample detector and the registry on one pair of samples. */
function checkRaw(reference: number[], current: number[]): void {
  const tr = traits(reference);
  const tc = traits(current);
  const empty = tr.n === 0 || tc.n === 0;
  const infinite = tr.infinite || tc.infinite;
  const huge = Math.max(tr.maxAbs, tc.maxAbs) > OVERFLOW_PRONE;

  refusalJustified('ks', ks(reference, current), empty);
  refusalJustified(
    'ks asymptotic',
    ks(reference, current, { method: 'asymptotic' }),
    empty || (tr.n === 1 && tc.n === 1),
  );
  if (Math.max(tr.n, tc.n) <= 200)
    refusalJustified('ks exact', ks(reference, current, { method: 'exact' }), empty);
  refusalJustified('cramer_von_mises', cramerVonMises(reference, current), tr.n < 2 || tc.n < 2);
  if (Math.max(tr.n, tc.n) <= 20) {
    refusalJustified(
      'cvm asymptotic',
      cramerVonMises(reference, current, { method: 'asymptotic' }),
      tr.n < 2 || tc.n < 2,
    );
  }
  refusalJustified('wasserstein', wasserstein(reference, current), empty || infinite || huge);
  refusalJustified('energy', energy(reference, current), empty || infinite || huge);
  // Quantile edges leave float64 only through an infinity, or an interpolation across ±1e308.
  const badEdges = empty || tr.infinite || tr.maxAbs > 1e300;
  refusalJustified('psi', psi(reference, current), badEdges);
  refusalJustified('psi 3 bins', psi(reference, current, { bins: 3 }), badEdges);
  refusalJustified('jensen_shannon', jensenShannon(reference, current, { base: 2 }), badEdges);
  refusalJustified('hellinger', hellinger(reference, current), badEdges);

  for (const spec of listDetectors()) {
    if (!spec.kinds.includes('numeric')) continue;
    const outcome = runDetector(spec.name, { kind: 'numeric', reference, current });
    answers(`registry ${spec.name}`, outcome.result);
    if (outcome.value !== undefined && !Number.isFinite(outcome.value))
      fail(`registry ${spec.name}: value ${outcome.value}`);
    if ((outcome.value === undefined) !== (outcome.drifted === undefined))
      fail(`registry ${spec.name}: drifted without value`);
  }
  const evidence = numericEvidence('x', reference, current);
  if (evidence.pValue !== undefined && !(evidence.pValue >= 0 && evidence.pValue <= 1))
    fail(`evidence p ${evidence.pValue}`);
  if (evidence.effectSize !== undefined && !Number.isFinite(evidence.effectSize))
    fail(`evidence effect ${evidence.effectSize}`);
  decideModelDrift([evidence]);
}

/** The profile path: a reference profile, a window counted over its grid, every detector on them. */
function checkProfiles(reference: number[], current: number[]): void {
  const refProfile = buildNumericReferenceProfile(reference);
  const curProfile = buildNumericProfile(current, gridOf(refProfile));
  const results: [string, TestResult][] = [
    ['ks', ksFromProfiles(refProfile, curProfile)],
    ['wasserstein', wassersteinFromProfiles(refProfile, curProfile)],
    ['energy', energyFromProfiles(refProfile, curProfile)],
    ['psi', psiFromProfiles(refProfile, curProfile)],
    ['jensen_shannon', jensenShannonFromProfiles(refProfile, curProfile)],
    ['hellinger', hellingerFromProfiles(refProfile, curProfile)],
  ];
  for (const [name, r] of results) answers(`${name} from profiles`, r);
  for (const spec of listDetectors()) {
    if (!spec.worksFromProfiles || !spec.kinds.includes('numeric')) continue;
    answers(
      `registry ${spec.name} (profiles)`,
      runDetector(spec.name, { kind: 'numeric_profile', reference: refProfile, current: curProfile }).result,
    );
  }
  const evidence = numericEvidenceFromProfiles('x', refProfile, curProfile);
  if (evidence.effectSize !== undefined && !Number.isFinite(evidence.effectSize))
    fail(`profile evidence effect ${evidence.effectSize}`);
}

/** Small hostile samples: every detector answers, raw and from profiles. */
export function smallSamplesGetAnAnswer(numRuns = 300): void {
  fc.assert(
    fc.property(hostileSample(), hostileSample(), (reference, current) => {
      checkRaw(reference, current);
      checkProfiles(reference, current);
    }),
    { numRuns, includeErrorInReport: true },
  );
}

/** >= 20,000 reference values (the bucketed and radix paths): every detector answers. */
export function largeSamplesGetAnAnswer(numRuns = 10): void {
  const window = fc.oneof(largeRecipe(), hostileSample(60));
  fc.assert(
    fc.property(largeRecipe(), window, (referenceRecipe, currentRecipe) => {
      const [reference, current] = [expand(referenceRecipe), expand(currentRecipe)];
      checkRaw(reference, current);
      checkProfiles(reference, current);
    }),
    { numRuns, includeErrorInReport: true },
  );
}

const builtinSorted = (values: readonly number[]): Float64Array =>
  Float64Array.from(values.filter((v) => v === v)).sort();

function same(label: string, fast: TestResult, slow: TestResult): void {
  const equal =
    fast.status === slow.status &&
    (fast.status === 'not_computable' || (fast.statistic === slow.statistic && fast.pValue === slow.pValue));
  if (!equal) fail(`${label}: large path ${show(fast)} but sorting path ${show(slow)}`);
}

/**
 * The binned tests the way the sorting (small-reference) path computes them: numpy's quantile
 * edges on the built-in sort, counts by a merge pass; refused when an edge is not finite.
 */
function sortingPathBinned(
  reference: readonly number[],
  current: readonly number[],
): Record<string, number | undefined> {
  const sorted = builtinSorted(reference);
  const edges = quantileEdges(sorted, 10);
  if (sorted.length === 0 || builtinSorted(current).length === 0 || !edges.every(Number.isFinite)) {
    return { psi: undefined, js: undefined, hellinger: undefined };
  }
  const r = binCountsSorted(edges, sorted);
  const c = binCounts(edges, current);
  return {
    psi: psiFromCounts(r, c),
    js: jensenShannonFromCounts(r, c),
    hellinger: hellingerFromCounts(r, c),
  };
}

/** Same values through the fast paths and the sorting path: identical answers. */
export function largePathAgreesWithSortingPath(numRuns = 10): void {
  const window = fc.oneof(largeRecipe(1000, 25_000), hostileSample(60));
  fc.assert(
    fc.property(largeRecipe(), window, (referenceRecipe, currentRecipe) => {
      const [reference, current] = [expand(referenceRecipe), expand(currentRecipe)];
      const slow = sortingPathBinned(reference, current);
      const refProfile = buildNumericReferenceProfile(reference);
      const curProfile = buildNumericProfile(current, gridOf(refProfile));
      const binned: [string, TestResult, number | undefined, TestResult][] = [
        ['psi', psi(reference, current), slow.psi, psiFromProfiles(refProfile, curProfile)],
        [
          'jensen_shannon',
          jensenShannon(reference, current),
          slow.js,
          jensenShannonFromProfiles(refProfile, curProfile),
        ],
        [
          'hellinger',
          hellinger(reference, current),
          slow.hellinger,
          hellingerFromProfiles(refProfile, curProfile),
        ],
      ];
      for (const [name, fast, expected, fromProfiles] of binned) {
        const got = fast.status === 'ok' ? fast.statistic : undefined;
        if (got !== expected) fail(`${name}: large path ${show(fast)} but sorting path ${expected}`);
        same(`${name} from profiles vs raw`, fromProfiles, fast);
      }
      const r = builtinSorted(reference);
      const c = builtinSorted(current);
      same('ks', ks(reference, current), ksSorted(r, c));
      same('wasserstein', wasserstein(reference, current), wassersteinSorted(r, c));
      same('energy', energy(reference, current), energySorted(r, c));
      same('cramer_von_mises', cramerVonMises(reference, current), cramerVonMisesSorted(r, c));
    }),
    { numRuns, includeErrorInReport: true },
  );
}

/**
 * A small pair and the same pair repeated past 20,000 values have the same empirical
 * distributions, so KS D, W1 and energy must not move (bit for bit: the merge visits the same
 * CDF gaps, i/n equals (k i)/(k n) exactly); normalised W1 only through the std's rounding.
 * KS D is compared before the p-value's method touches it (exact KS snaps D to the lattice
 * h / lcm(n1, n2), as scipy does; the asymptotic method, which large samples get, does not).
 */
export function repeatedSamplesKeepTheirDistances(numRuns = 30): void {
  fc.assert(
    fc.property(hostileSample(30), hostileSample(30), (a, b) => {
      const [bigA, bigB] = [replicate(a), replicate(b)];
      const [sa, sb, sA, sB] = [a, b, bigA, bigB].map((x) => sortedFinite(x)) as [
        Float64Array,
        Float64Array,
        Float64Array,
        Float64Array,
      ];
      if (sa.length > 0 && sb.length > 0) {
        const [d, dBig] = [ksStatisticSorted(sa, sb), ksStatisticSorted(sA, sB)];
        if (d !== dBig) fail(`ks D: ${d} small but ${dBig} repeated`);
      }
      if (ks(a, b).status !== ks(bigA, bigB).status) fail('ks: one size refused, the other did not');
      const pairs: [string, TestResult, TestResult][] = [
        ['wasserstein', wasserstein(a, b), wasserstein(bigA, bigB)],
        ['energy', energy(a, b), energy(bigA, bigB)],
      ];
      for (const [name, small, large] of pairs) {
        if (small.status !== large.status) fail(`${name}: small ${show(small)} but repeated ${show(large)}`);
        if (small.status !== 'ok' || large.status !== 'ok') continue;
        if (small.statistic !== large.statistic)
          fail(`${name}: small ${show(small)} but repeated ${show(large)}`);
        const x = small.details?.normalized as number;
        const y = large.details?.normalized as number;
        if (!(Math.abs(x - y) <= 1e-12 * Math.abs(x)))
          fail(`${name}: normalised ${x} small but ${y} repeated`);
      }
    }),
    { numRuns, includeErrorInReport: true },
  );
}

/** The two calls of issue 16 that never returned, and its two NaN-carrying `ok` results. */
export function issue16ExamplesAnswer(): void {
  for (const r of [wasserstein([0, 1], [0, Infinity]), energy([0, 1], [0, Infinity])]) {
    if (r.status !== 'not_computable') fail(`expected a refusal (scipy: inf), got ${show(r)}`);
  }
  const asymptotic = ks([1], [2], { method: 'asymptotic' });
  if (asymptotic.status !== 'not_computable') fail(`KS asymptotic with n1 = n2 = 1: ${show(asymptotic)}`);
  for (const r of [wasserstein([0, Infinity, 1], [0, 1, 2]), energy([0, -Infinity, 1], [0, 1, 2])]) {
    answers(r.test, r);
  }
}
