import type { ResolvedModelSettings } from './options.js';
import type { WindowBounds } from './queries.js';
import type { LoadedReference } from './references.js';
import { splitWindow, type WindowSplit } from './rollup-plan.js';

/** One model to evaluate this cycle: its settings, reference, window and task. */
export interface ModelPlan {
  readonly model: string;
  readonly settings: ResolvedModelSettings;
  readonly reference: LoadedReference;
  readonly window: WindowBounds;
  readonly task: 'classification' | 'regression' | undefined;
}

/** Models whose windows are the same span of time: read together, with one split. */
export interface ReadGroup {
  readonly window: WindowBounds;
  /** Where the window is read from; undefined when rollups are off (the rows, per model). */
  readonly split: WindowSplit | undefined;
  readonly plans: readonly ModelPlan[];
}

/**
 * The most features (summed over a group's models, a model counting at least one) one group's
 * statements name. A group's queries list its models' (model, feature) pairs and grids, and
 * ClickHouse refuses a query of more than 50,000 AST elements or 256 KiB of text (the defaults
 * of 18.16 and of the current engine): a fleet of 1,000 models × 20 features in one group broke
 * both. A bigger fleet is read in more groups of the same window, each well under the limits.
 */
export const GROUP_FEATURE_BUDGET = 4_000;

/**
 * Groups the cycle's models by window (pure): every model with the default time window shares
 * one, so a fleet is read with a few queries; a model with its own window gets a group of its
 * own. A window's models are cut into groups of at most `featureBudget` features. Windows are
 * cut at `sealedBeforeMs` (rollup-plan.ts) when rollups are on.
 */
export function groupByWindow(
  plans: readonly ModelPlan[],
  rollups: { readonly sealedBeforeMs: number } | undefined,
  featureBudget = GROUP_FEATURE_BUDGET,
): ReadGroup[] {
  const windows = new Map<string, { window: WindowBounds; plans: ModelPlan[] }>();
  for (const plan of plans) {
    const key = `${plan.window.startMs}:${plan.window.endMs}`;
    let group = windows.get(key);
    if (group === undefined) windows.set(key, (group = { window: plan.window, plans: [] }));
    group.plans.push(plan);
  }
  return [...windows.values()].flatMap((g) => {
    const split = rollups === undefined ? undefined : splitWindow(g.window, rollups.sealedBeforeMs);
    return withinBudget(g.plans, featureBudget).map((part) => ({ window: g.window, split, plans: part }));
  });
}

/** Consecutive runs of `plans` whose features add up to at most `budget` (one model at least). */
function withinBudget(plans: readonly ModelPlan[], budget: number): ModelPlan[][] {
  const parts: ModelPlan[][] = [];
  let part: ModelPlan[] = [];
  let features = 0;
  for (const plan of plans) {
    const size = Math.max(1, Object.keys(plan.reference.profile.features).length);
    if (part.length > 0 && features + size > budget) {
      parts.push(part);
      part = [];
      features = 0;
    }
    part.push(plan);
    features += size;
  }
  if (part.length > 0) parts.push(part);
  return parts;
}
