/**
 * The shape every two-sample test and distance returns.
 *
 * A result is either `ok` (a finite statistic, and a p-value when the test has one) or
 * `not_computable` with a reason. We never hand back a silent NaN: an empty window, a
 * constant reference or a single category produce an explicit status the monitor can log.
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

export function computed(
  test: string,
  statistic: number,
  pValue: number | undefined,
  method: TestMethod,
  details?: Record<string, number>,
): ComputedResult {
  return details === undefined
    ? { status: 'ok', test, statistic, pValue, method }
    : { status: 'ok', test, statistic, pValue, method, details };
}

export function notComputable(test: string, reason: string): NotComputableResult {
  return { status: 'not_computable', test, statistic: undefined, pValue: undefined, method: 'none', reason };
}
