import type { Logger } from '../../kernel/logger.js';
import type { MonitorStore } from './monitor-store.js';
import type { ResolvedModelSettings } from './options.js';
import { referenceGrids, type FeatureGrid } from './queries.js';
import { buildReferenceProfile, type ReferenceProfile, type SampleRow } from './reference.js';
import type { GridSpec } from './rollup-sql.js';

/** A model's reference as the monitor uses it: the profile, its grids, and their identity. */
export interface LoadedReference {
  readonly profile: ReferenceProfile;
  readonly grids: ReadonlyMap<string, FeatureGrid>;
  /** The grid resolution (queries.ts gridCellsFor). */
  readonly cells: number;
  readonly createdAtMs: number;
  /** The grid the rollups count this reference's cells on; its id is the reference's time. */
  readonly grid: GridSpec;
}

/** What the book asks of the store. */
export type ReferenceStore = Pick<
  MonitorStore,
  'referencesCreatedAt' | 'loadReferences' | 'firstEvents' | 'sample' | 'saveReferences'
>;

/** A model whose reference the cycle needs, with its settings (the reference spec and features). */
export interface ReferenceRequest {
  readonly model: string;
  readonly settings: ResolvedModelSettings;
}

/**
 * The references of the models this replica evaluates, for all of a cycle's models at once:
 * loaded once (one query for every model not cached), built once from the models' first events
 * (one query for every model that needs the same count) or a time range when none is stored, and
 * dropped when a newer one appears in the store (another replica, the API or the CLI stored it).
 */
export class ReferenceBook {
  private readonly loaded = new Map<string, LoadedReference>();

  constructor(
    private readonly store: ReferenceStore,
    private readonly gridCells: number,
    private readonly logger: Logger,
  ) {}

  /** The references of `requests` (models without one yet are absent). */
  async references(
    requests: readonly ReferenceRequest[],
    nowMs: number,
  ): Promise<Map<string, LoadedReference>> {
    await this.dropStale(requests.map((r) => r.model));
    const missing = requests.filter((r) => !this.loaded.has(r.model));
    if (missing.length > 0) {
      const stored = await this.store.loadReferences(missing.map((r) => r.model));
      const built = await this.build(
        missing.filter((r) => !stored.has(r.model)),
        nowMs,
      );
      for (const [model, reference] of [...stored, ...built]) this.loaded.set(model, this.load(reference));
    }
    return new Map(
      requests.flatMap((r) => {
        const reference = this.loaded.get(r.model);
        return reference === undefined ? [] : [[r.model, reference] as const];
      }),
    );
  }

  invalidate(model: string): void {
    this.loaded.delete(model);
  }

  /** Drops cached references older than the stored ones (one query for every cached model). */
  private async dropStale(models: readonly string[]): Promise<void> {
    const cached = models.filter((m) => this.loaded.has(m));
    if (cached.length === 0) return;
    const latest = await this.store.referencesCreatedAt(cached);
    for (const model of cached) {
      const stored = latest.get(model);
      if (stored !== undefined && stored > (this.loaded.get(model)?.createdAtMs ?? Infinity))
        this.loaded.delete(model);
    }
  }

  private load(stored: { profile: ReferenceProfile; createdAtMs: number }): LoadedReference {
    const { grids, cells } = referenceGrids(stored.profile.features, this.gridCells);
    // The store keeps seconds: a reference built here and the same one loaded elsewhere must
    // have one identity (every replica publishes the same grid id for it).
    const createdAtMs = Math.floor(stored.createdAtMs / 1000) * 1000;
    return {
      profile: stored.profile,
      grids,
      cells,
      createdAtMs,
      grid: { id: createdAtMs, cells, features: grids },
    };
  }

  /**
   * Builds (and stores) the references that can be built now: first-N references from one query
   * per distinct N, time-range references one by one (rare); an upload reference waits for its
   * upload. Computed once per model: the sample is profiled with the detectors' builders.
   */
  private async build(
    requests: readonly ReferenceRequest[],
    nowMs: number,
  ): Promise<Map<string, { profile: ReferenceProfile; createdAtMs: number }>> {
    const samples = new Map<string, SampleRow[]>();
    const byCount = new Map<number, string[]>();
    for (const { model, settings } of requests) {
      const spec = settings.reference;
      if (spec.type === 'first_events') byCount.set(spec.count, [...(byCount.get(spec.count) ?? []), model]);
      else if (spec.type === 'time_range')
        samples.set(
          model,
          await this.store.sample(model, spec.maxRows, { startMs: spec.fromMs, endMs: spec.toMs }),
        );
    }
    for (const [count, models] of byCount) {
      for (const [model, rows] of await this.store.firstEvents(models, count)) {
        if (rows.length >= count) samples.set(model, rows);
        else this.logger.debug({ model, have: rows.length, need: count }, 'collecting reference events');
      }
    }
    const built: Array<{ model: string; profile: ReferenceProfile }> = [];
    for (const { model, settings } of requests) {
      const sample = samples.get(model);
      if (sample === undefined || sample.length === 0) continue;
      built.push({
        model,
        profile: buildReferenceProfile(sample, settings.features, settings.reference.type),
      });
      this.logger.info({ model, rows: sample.length, source: settings.reference.type }, 'reference built');
    }
    if (built.length > 0) await this.store.saveReferences(built, nowMs);
    return new Map(built.map(({ model, profile }) => [model, { profile, createdAtMs: nowMs }]));
  }
}
