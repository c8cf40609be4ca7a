import { describe, expect, it } from 'vitest';
import { GROUP_FEATURE_BUDGET, groupByWindow, type ModelPlan } from '../../../src/monitor/cycle-plan.js';
import type { WindowBounds } from '../../../src/monitor/queries.js';

/** A plan with `features` features in its reference; grouping reads nothing else of it. */
function plan(model: string, features: number, window: WindowBounds): ModelPlan {
  const profile = {
    features: Object.fromEntries(Array.from({ length: features }, (_, i) => [`f${i}`, {}])),
  };
  // Only the window and the reference's feature names matter to grouping.
  return { model, window, reference: { profile }, task: undefined } as unknown as ModelPlan;
}

const day: WindowBounds = { startMs: 0, endMs: 86_400_000 };
const own: WindowBounds = { startMs: 1_000, endMs: 2_000 };

describe('groupByWindow', () => {
  it('reads a fleet of one window in groups within the feature budget, every model once', () => {
    const fleet = Array.from({ length: 1_000 }, (_, i) => plan(`m${i}`, 20, day));
    const groups = groupByWindow(fleet, undefined);
    // 1,000 × 20 features at 4,000 per group: 200 models per group.
    expect(GROUP_FEATURE_BUDGET).toBe(4_000);
    expect(groups.map((g) => g.plans.length)).toEqual([200, 200, 200, 200, 200]);
    expect(groups.flatMap((g) => g.plans.map((p) => p.model))).toEqual(fleet.map((p) => p.model));
    expect(new Set(groups.map((g) => g.window))).toEqual(new Set([day]));
  });

  it('keeps windows apart, gives a model over the budget a group of its own, and counts a model without features', () => {
    const groups = groupByWindow(
      [plan('a', 3, day), plan('b', 9, day), plan('c', 0, own), plan('d', 2, day), plan('e', 0, day)],
      { sealedBeforeMs: 86_400_000 },
      5,
    );
    expect(groups.map((g) => [g.window === day ? 'day' : 'own', g.plans.map((p) => p.model)])).toEqual([
      ['day', ['a']],
      ['day', ['b']],
      ['day', ['d', 'e']],
      ['own', ['c']],
    ]);
    // Every group of a window shares its split.
    expect(groups[0]?.split).toEqual(groups[2]?.split);
    expect(groups[0]?.split).toBeDefined();
  });
});
