/**
 * The shape every two-sample test and distance returns.
 *
 * A result is either `ok` or `not_computable` with a reason. An `ok` result holds finite
 * numbers only — statistic, p-value and every detail — because `computed`, the one way to
 * build it, refuses anything else: we never hand back a silent NaN or an Infinity (which
 * JSON would turn into null). Empty windows, a single category, infinite values where a
 * distance would be infinite, or magnitudes that overflow float64 all produce an explicit
 * status the monitor can log. docs/detectors.md lists which inputs each test refuses.
 */
export type TestMethod =
  'exact' | 'asymptotic' | 'distance' | 'histogram' | 'histogram-asymptotic' | 'chi-square' | 'none';

export interface ComputedResult {
  readonly status: 'ok';
  readonly test: string;
  readonly statistic: number;
  /** Present for hypothesis tests; undefined for pure distances. */
  readonly pValue: number | undefined;
  readonly method: TestMethod;
  /** Extra numbers worth logging (degrees of freedom, sample sizes, normalised value...). */
  readonly details?: Readonly<Record<string, number>>;
}

export interface NotComputableResult {
  readonly status: 'not_computable';
  readonly test: string;
  readonly statistic: undefined;
  readonly pValue: undefined;
  readonly method: 'none';
  readonly reason: string;
}

export type TestResult = ComputedResult | NotComputableResult;

/** The first non-finite number among a result's numbers, by name; undefined when all are finite. */
function firstNonFinite(
  statistic: number,
  pValue: number | undefined,
  details: Record<string, number> | undefined,
): [string, number] | undefined {
  if (!Number.isFinite(statistic)) return ['the statistic', statistic];
  if (pValue !== undefined && !Number.isFinite(pValue)) return ['the p-value', pValue];
  for (const [key, value] of Object.entries(details ?? {})) {
    if (!Number.isFinite(value)) return [`details.${key}`, value];
  }
  return undefined;
}

/**
 * An `ok` result — or, when one of its numbers is not finite, a refusal that names it. Known
 * causes (infinite input, too few values) are refused with their own reason before this; what
 * reaches this check is float64 overflow, e.g. a distance between values near ±1e308.
 */
export function computed(
  test: string,
  statistic: number,
  pValue: number | undefined,
  method: TestMethod,
  details?: Record<string, number>,
): TestResult {
  const bad = firstNonFinite(statistic, pValue, details);
  if (bad !== undefined) {
    return notComputable(
      test,
      `${bad[0]} is ${bad[1]} in float64: the values' magnitudes overflow double precision; rescale the feature`,
    );
  }
  return details === undefined
    ? { status: 'ok', test, statistic, pValue, method }
    : { status: 'ok', test, statistic, pValue, method, details };
}

export function notComputable(test: string, reason: string): NotComputableResult {
  return { status: 'not_computable', test, statistic: undefined, pValue: undefined, method: 'none', reason };
}
