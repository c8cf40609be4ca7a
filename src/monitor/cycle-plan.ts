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
 * Groups the cycle's models by window (pure): every model with the default time window shares
 * one, so a fleet is read with a few queries; a model with its own window gets a group of its
 * own. Windows are cut at `sealedBeforeMs` (rollup-plan.ts) when rollups are on.
 */
export function groupByWindow(
  plans: readonly ModelPlan[],
  rollups: { readonly sealedBeforeMs: number } | undefined,
): ReadGroup[] {
  const groups = new Map<string, { window: WindowBounds; plans: ModelPlan[] }>();
  for (const plan of plans) {
    const key = `${plan.window.startMs}:${plan.window.endMs}`;
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { window: plan.window, plans: [] }));
    group.plans.push(plan);
  }
  return [...groups.values()].map((g) => ({
    window: g.window,
    split: rollups === undefined ? undefined : splitWindow(g.window, rollups.sealedBeforeMs),
    plans: g.plans,
  }));
}
