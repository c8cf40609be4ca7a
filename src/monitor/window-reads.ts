import type { Logger } from '../../kernel/logger.js';
import type { Store } from '../../kernel/store.js';
import type { ReadGroup } from './cycle-plan.js';
import type { WindowAggregates } from './evaluate.js';
import { RollupKeeper, type RollupReadiness, type RollupTarget } from './rollup-keeper.js';
import type { WindowSplit } from './rollup-plan.js';
import type { WindowBounds } from './queries.js';
import type { RowWindowReader } from './row-window-reader.js';
import { mergeAggregates, readWindows, type WindowReadModel } from './window-reader.js';

type RowReads = Pick<RowWindowReader, 'aggregates' | 'labelsOf'>;

/** The rollups as the monitor uses them: windows readied, then read. */
export interface RollupPort {
  prepare(targets: readonly RollupTarget[], split: WindowSplit): Promise<Map<string, RollupReadiness>>;
  read(split: WindowSplit, models: readonly WindowReadModel[]): Promise<Map<string, WindowAggregates>>;
  forget(model: string): void;
}

/** The rollup port over the store: the keeper and the reader. */
export function storeRollups(
  store: Store,
  options: { readonly syncMinutes: number; readonly now?: () => number },
  logger: Logger,
): RollupPort & { settled(model?: string): Promise<void> } {
  const keeper = new RollupKeeper(store, options, logger);
  return {
    prepare: (targets, split) => keeper.prepare(targets, split),
    read: (split, models) => readWindows(store, split, models),
    forget: (model) => keeper.forget(model),
    settled: (model) => keeper.settled(model),
  };
}

/** What a group read gives each model: its window aggregates (labels included), or the failure. */
export type GroupRead = Map<string, WindowAggregates | Error>;

/**
 * The one place the monitor reads windows. A group's models whose rollups are ready are read from
 * them together (rollup-sql.ts, window-reader.ts); the others — rollups off, or still being
 * proved — from their rows, one model at a time (row-window-reader.ts). Label joins read the
 * rows (outcomes arrive after their predictions, and a later one corrects an earlier one, so no
 * state kept at insert can hold them): one join per task for the whole group.
 */
export async function readGroup(
  group: ReadGroup,
  rows: RowReads,
  rollups: RollupPort | undefined,
  labelHorizonMs: number,
): Promise<GroupRead> {
  const reads: GroupRead = new Map();
  const ready = await readyModels(group, rollups);
  if (ready.length > 0 && group.split !== undefined && rollups !== undefined) {
    for (const [model, aggregates] of await readReady(group.split, ready, rows, rollups))
      reads.set(model, aggregates);
  }
  for (const plan of group.plans) {
    if (reads.has(plan.model)) continue;
    try {
      reads.set(plan.model, await fromRows(rows, plan, group.window));
    } catch (error) {
      reads.set(plan.model, error instanceof Error ? error : new Error(String(error)));
    }
  }
  await addLabels(group, rows, reads, labelHorizonMs);
  return reads;
}

/**
 * Models whose rollups are ready: the rollup span for all of them at once; the fragments (the
 * window's edges, read from the rows) with them, by feature name, or, for a model alone in its
 * group, by the row reader's positional queries (numeric keys from cached layouts, no string
 * lookup per value): a heavy model's open minutes are the part of its cycle that grows with
 * traffic (87k rows × 20 features: 0.3 s against 0.75 s by name).
 */
async function readReady(
  split: WindowSplit,
  ready: ReadGroup['plans'],
  rows: RowReads,
  rollups: RollupPort,
): Promise<Map<string, WindowAggregates>> {
  const models = ready.map((p) => ({
    model: p.model,
    grid: p.reference.grid,
    known: Object.keys(p.reference.profile.features),
  }));
  const [alone] = ready;
  const [aloneModel] = models;
  if (ready.length !== 1 || alone === undefined || aloneModel === undefined || split.raw.length === 0)
    return rollups.read(split, models);
  const parts = [...(await rollups.read({ ...split, raw: [] }, models)).values()];
  for (const fragment of split.raw) parts.push(await fromRows(rows, alone, fragment, { final: true }));
  return new Map([[alone.model, mergeAggregates(parts, aloneModel.known)]]);
}

/** One model's rows in `window` aggregated by the row reader (FINAL, or proved free of duplicates). */
function fromRows(
  rows: RowReads,
  plan: ReadGroup['plans'][number],
  window: WindowBounds,
  options: { readonly final?: boolean } = {},
): Promise<WindowAggregates> {
  const { grids, cells, profile } = plan.reference;
  return rows.aggregates(
    plan.model,
    window,
    grids,
    cells,
    Object.keys(profile.features),
    undefined,
    0,
    options,
  );
}

/** The group's models whose rollups can be read now. */
async function readyModels(group: ReadGroup, rollups: RollupPort | undefined): Promise<ReadGroup['plans']> {
  if (rollups === undefined || group.split === undefined) return [];
  const targets = group.plans.map((p) => ({ model: p.model, grid: p.reference.grid }));
  const readiness = await rollups.prepare(targets, group.split);
  return group.plans.filter((p) => readiness.get(p.model) === 'ready');
}

async function addLabels(
  group: ReadGroup,
  rows: RowReads,
  reads: GroupRead,
  horizonMs: number,
): Promise<void> {
  const tasks = new Map(
    group.plans.flatMap((p) =>
      p.task === undefined || reads.get(p.model) instanceof Error ? [] : [[p.model, p.task] as const],
    ),
  );
  if (tasks.size === 0) return;
  const labels = await rows.labelsOf(tasks, group.window, horizonMs, true);
  for (const [model, label] of labels) {
    const read = reads.get(model);
    if (read !== undefined && !(read instanceof Error)) reads.set(model, { ...read, labels: label });
  }
}
