import type { PolicyOptions } from '../../../src/alerts/policy.js';
import type { RuleEvaluation } from '../../../src/alerts/types.js';

export const WINDOW_MS = 60_000;
export const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

export const policyOptions: PolicyOptions = {
  forWindows: { warning: 2, critical: 1 },
  resolveAfterWindows: 2,
  cooldownMs: 10 * WINDOW_MS,
  staleAfterMs: 0,
};

/** The evaluation of window number `n` (0-based) of one rule; overrides win. */
export function evaluation(n: number, overrides: Partial<RuleEvaluation> = {}): RuleEvaluation {
  const windowStartMs = T0 + n * WINDOW_MS;
  return {
    model: 'credit',
    rule: 'drift:amount:ks',
    severity: 'warning',
    breaching: true,
    value: 0.31,
    threshold: 0.2,
    summary: 'amount drifted (KS 0.31 > 0.2)',
    windowStartMs,
    windowEndMs: windowStartMs + WINDOW_MS,
    evaluatedAtMs: windowStartMs + WINDOW_MS + 5_000,
    ...overrides,
  };
}
