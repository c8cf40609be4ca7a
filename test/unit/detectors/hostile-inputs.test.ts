/**
 * Hostile numeric input (issue 16): fixtures from scipy/numpy and properties over every numeric
 * detector. The bodies run in a worker, each under a time budget (time-budget.ts), so a
 * detector that loops forever fails here instead of blocking the suite. Budgets are ~10x the
 * time measured on the shared 2-core machine.
 */
import { beforeAll, describe, it } from 'vitest';
import { runWithinBudgets, type Body } from './time-budget.js';

const checks = new URL('./edge-checks.ts', import.meta.url);
const properties = new URL('./hostile-properties.ts', import.meta.url);

const bodies: (Body & { readonly title: string })[] = [
  {
    title: "issue 16's examples return, and refuse rather than carry inf or NaN",
    module: properties,
    name: 'issue16ExamplesAnswer',
    budgetMs: 5_000,
  },
  {
    title: 'scipy fixtures, small samples: NaN, ±inf, signed zeros, subnormals, huge offsets, overflow',
    module: checks,
    name: 'smallEdgeCasesMatchScipy',
    budgetMs: 5_000,
  },
  {
    title: 'scipy fixtures, references of >= 20,000 values: signed-zero bin edges, infinities',
    module: checks,
    name: 'largeEdgeCasesMatchScipy',
    budgetMs: 10_000,
  },
  {
    title: 'small samples: an ok answer holds only finite numbers, a refusal has a cause',
    module: properties,
    name: 'smallSamplesGetAnAnswer',
    budgetMs: 20_000,
  },
  {
    title: 'large references: the same, on the radix and bucketed paths',
    module: properties,
    name: 'largeSamplesGetAnAnswer',
    budgetMs: 20_000,
  },
  {
    title: 'large path = sorting path, profile path = raw path, exactly',
    module: properties,
    name: 'largePathAgreesWithSortingPath',
    budgetMs: 20_000,
  },
  {
    title: 'samples repeated past 20,000 values keep KS D, W1 and energy',
    module: properties,
    name: 'repeatedSamplesKeepTheirDistances',
    budgetMs: 20_000,
  },
];

/** vitest's own timeout: every body before this one may run first (e.g. under `-t`), plus slack. */
const VITEST_TIMEOUT_MS = bodies.reduce((s, b) => s + b.budgetMs, 0) + 5_000;

describe('hostile numeric input (every numeric detector, raw and from profiles)', () => {
  let results = new Map<string, Promise<void>>();
  beforeAll(() => {
    results = runWithinBudgets(bodies);
  });
  for (const b of bodies) {
    it(b.title, () => results.get(b.name), VITEST_TIMEOUT_MS);
  }
});
