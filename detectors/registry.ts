/**
 * Detectors by name, so the monitor's config can say `detector: ks` and get the test, what
 * it needs (raw samples or profiles) and which number its default threshold applies to.
 * The table in docs/detectors.md is generated from the same facts — keep them in step.
 */
import {
  alignCategories,
  categoricalJensenShannon,
  categoricalPsi,
  chiSquareContingency,
  chiSquareGoodnessOfFit,
  totalVariation,
  type CategoryCounts,
} from './categorical.js';
import { cramerVonMises } from './cramer-von-mises.js';
import { hellingerFromCounts } from './divergences.js';
import { energy, wasserstein } from './distances.js';
import { ks } from './ks.js';
import { hellinger, jensenShannon, psi } from './numeric-binned.js';
import type { NumericInput } from './numeric-input.js';
import { categoricalProfileCounts, type CategoricalProfile } from './profiles/categorical-profile.js';
import type { NumericProfile } from './profiles/numeric-profile.js';
import {
  energyFromProfiles,
  hellingerFromProfiles,
  jensenShannonFromProfiles,
  ksFromProfiles,
  psiFromProfiles,
  wassersteinFromProfiles,
} from './profiles/profile-tests.js';
import { computed, notComputable, type TestResult } from './result.js';

export type DetectorName =
  | 'ks'
  | 'psi'
  | 'wasserstein'
  | 'jensen_shannon'
  | 'hellinger'
  | 'energy'
  | 'cramer_von_mises'
  | 'chi_square'
  | 'chi_square_gof'
  | 'tvd';

export type FeatureKind = 'numeric' | 'categorical';

/** What the threshold is compared with: drift when p-value < threshold, or distance >= threshold. */
export type ThresholdTarget = 'p_value' | 'distance' | 'normalized_distance';

export type DetectorInput =
  | { readonly kind: 'numeric'; readonly reference: NumericInput; readonly current: NumericInput }
  | { readonly kind: 'categorical'; readonly reference: CategoryCounts; readonly current: CategoryCounts }
  | { readonly kind: 'numeric_profile'; readonly reference: NumericProfile; readonly current: NumericProfile }
  | {
      readonly kind: 'categorical_profile';
      readonly reference: CategoricalProfile;
      readonly current: CategoricalProfile;
    };

export interface DetectorSpec {
  readonly name: DetectorName;
  readonly kinds: readonly FeatureKind[];
  /** True when it runs from profiles (ClickHouse aggregates); false when it needs raw samples. */
  readonly worksFromProfiles: boolean;
  readonly thresholdOn: ThresholdTarget;
  readonly defaultThreshold: number;
  readonly description: string;
  /** Runs the test; a `not_computable` result for an input kind the detector does not support. */
  readonly run: (input: DetectorInput) => TestResult;
}

function unsupported(name: string, input: DetectorInput): TestResult {
  return notComputable(name, `${name} does not support ${input.kind} input`);
}

function hellingerCategorical(reference: CategoryCounts, current: CategoryCounts): TestResult {
  const a = alignCategories(reference, current);
  if (a.reference.every((c) => c === 0) || a.current.every((c) => c === 0)) {
    return notComputable('hellinger', 'empty reference or current counts');
  }
  return computed('hellinger', hellingerFromCounts(a.reference, a.current), undefined, 'distance');
}

const specs: readonly DetectorSpec[] = [
  {
    name: 'ks',
    kinds: ['numeric'],
    worksFromProfiles: true,
    thresholdOn: 'p_value',
    defaultThreshold: 0.05,
    description: 'Two-sample Kolmogorov–Smirnov (scipy auto: exact <= 10000, else asymptotic)',
    run: (i) =>
      i.kind === 'numeric'
        ? ks(i.reference, i.current)
        : i.kind === 'numeric_profile'
          ? ksFromProfiles(i.reference, i.current)
          : unsupported('ks', i),
  },
  {
    name: 'psi',
    kinds: ['numeric', 'categorical'],
    worksFromProfiles: true,
    thresholdOn: 'distance',
    defaultThreshold: 0.2,
    description: 'Population Stability Index, 10 reference-quantile bins, empty-bin floor 1e-4',
    run: (i) => {
      switch (i.kind) {
        case 'numeric':
          return psi(i.reference, i.current);
        case 'numeric_profile':
          return psiFromProfiles(i.reference, i.current);
        case 'categorical':
          return categoricalPsi(i.reference, i.current);
        case 'categorical_profile':
          return categoricalPsi(categoricalProfileCounts(i.reference), categoricalProfileCounts(i.current));
      }
    },
  },
  {
    name: 'wasserstein',
    kinds: ['numeric'],
    worksFromProfiles: true,
    thresholdOn: 'normalized_distance',
    defaultThreshold: 0.1,
    description: 'Wasserstein-1 / max(std_ddof0(reference), 0.001)',
    run: (i) =>
      i.kind === 'numeric'
        ? wasserstein(i.reference, i.current)
        : i.kind === 'numeric_profile'
          ? wassersteinFromProfiles(i.reference, i.current)
          : unsupported('wasserstein', i),
  },
  {
    name: 'jensen_shannon',
    kinds: ['numeric', 'categorical'],
    worksFromProfiles: true,
    thresholdOn: 'distance',
    defaultThreshold: 0.1,
    description: 'Jensen–Shannon distance, base e (max 0.833), on reference-quantile bins or categories',
    run: (i) => {
      switch (i.kind) {
        case 'numeric':
          return jensenShannon(i.reference, i.current);
        case 'numeric_profile':
          return jensenShannonFromProfiles(i.reference, i.current);
        case 'categorical':
          return categoricalJensenShannon(i.reference, i.current);
        case 'categorical_profile':
          return categoricalJensenShannon(
            categoricalProfileCounts(i.reference),
            categoricalProfileCounts(i.current),
          );
      }
    },
  },
  {
    name: 'hellinger',
    kinds: ['numeric', 'categorical'],
    worksFromProfiles: true,
    thresholdOn: 'distance',
    defaultThreshold: 0.1,
    description: 'Hellinger distance on reference-quantile bins or categories',
    run: (i) => {
      switch (i.kind) {
        case 'numeric':
          return hellinger(i.reference, i.current);
        case 'numeric_profile':
          return hellingerFromProfiles(i.reference, i.current);
        case 'categorical':
          return hellingerCategorical(i.reference, i.current);
        case 'categorical_profile':
          return hellingerCategorical(
            categoricalProfileCounts(i.reference),
            categoricalProfileCounts(i.current),
          );
      }
    },
  },
  {
    name: 'energy',
    kinds: ['numeric'],
    worksFromProfiles: true,
    thresholdOn: 'normalized_distance',
    defaultThreshold: 0.1,
    description: 'Energy distance / sqrt(max(std_ddof0(reference), 0.001))',
    run: (i) =>
      i.kind === 'numeric'
        ? energy(i.reference, i.current)
        : i.kind === 'numeric_profile'
          ? energyFromProfiles(i.reference, i.current)
          : unsupported('energy', i),
  },
  {
    name: 'cramer_von_mises',
    kinds: ['numeric'],
    worksFromProfiles: false,
    thresholdOn: 'p_value',
    defaultThreshold: 0.05,
    description: 'Two-sample Cramér–von Mises (scipy auto: exact when both n <= 20)',
    run: (i) =>
      i.kind === 'numeric' ? cramerVonMises(i.reference, i.current) : unsupported('cramer_von_mises', i),
  },
  {
    name: 'chi_square',
    kinds: ['categorical'],
    worksFromProfiles: true,
    thresholdOn: 'p_value',
    defaultThreshold: 0.05,
    description: 'Chi-square homogeneity test on the 2 x K table (Yates when K = 2)',
    run: (i) =>
      i.kind === 'categorical'
        ? chiSquareContingency(i.reference, i.current)
        : i.kind === 'categorical_profile'
          ? chiSquareContingency(categoricalProfileCounts(i.reference), categoricalProfileCounts(i.current))
          : unsupported('chi_square', i),
  },
  {
    name: 'chi_square_gof',
    kinds: ['categorical'],
    worksFromProfiles: true,
    thresholdOn: 'p_value',
    defaultThreshold: 0.05,
    description: 'Chi-square goodness of fit of current counts to reference shares',
    run: (i) =>
      i.kind === 'categorical'
        ? chiSquareGoodnessOfFit(i.reference, i.current)
        : i.kind === 'categorical_profile'
          ? chiSquareGoodnessOfFit(categoricalProfileCounts(i.reference), categoricalProfileCounts(i.current))
          : unsupported('chi_square_gof', i),
  },
  {
    name: 'tvd',
    kinds: ['categorical'],
    worksFromProfiles: true,
    thresholdOn: 'distance',
    defaultThreshold: 0.1,
    description: 'Total variation distance between category shares',
    run: (i) =>
      i.kind === 'categorical'
        ? totalVariation(i.reference, i.current)
        : i.kind === 'categorical_profile'
          ? totalVariation(categoricalProfileCounts(i.reference), categoricalProfileCounts(i.current))
          : unsupported('tvd', i),
  },
];

const byName = new Map<string, DetectorSpec>(specs.map((s) => [s.name, s]));

export function listDetectors(): readonly DetectorSpec[] {
  return specs;
}

export function isDetectorName(name: string): name is DetectorName {
  return byName.has(name);
}

/** Looks a detector up by its config name; the error lists the valid names. */
export function getDetector(name: string): DetectorSpec {
  const spec = byName.get(name);
  if (!spec)
    throw new RangeError(`unknown detector "${name}"; expected one of: ${[...byName.keys()].join(', ')}`);
  return spec;
}

export interface DetectorOutcome {
  readonly detector: DetectorName;
  readonly result: TestResult;
  /** The number compared with the threshold (p-value, distance or normalised distance). */
  readonly value: number | undefined;
  readonly threshold: number;
  readonly thresholdOn: ThresholdTarget;
  /** undefined when the test was not computable. */
  readonly drifted: boolean | undefined;
}

/** The number a threshold of type `target` applies to. */
export function thresholdValue(result: TestResult, target: ThresholdTarget): number | undefined {
  if (result.status !== 'ok') return undefined;
  switch (target) {
    case 'p_value':
      return result.pValue;
    case 'distance':
      return result.statistic;
    case 'normalized_distance':
      return result.details?.normalized ?? result.statistic;
  }
}

/** Runs a detector by name and applies its (or the given) threshold. */
export function runDetector(name: string, input: DetectorInput, threshold?: number): DetectorOutcome {
  const spec = getDetector(name);
  const result = spec.run(input);
  const value = thresholdValue(result, spec.thresholdOn);
  const t = threshold ?? spec.defaultThreshold;
  return {
    detector: spec.name,
    result,
    value,
    threshold: t,
    thresholdOn: spec.thresholdOn,
    drifted: value === undefined ? undefined : spec.thresholdOn === 'p_value' ? value < t : value >= t,
  };
}
