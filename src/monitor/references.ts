import type { Logger } from '../../kernel/logger.js';
import type { MonitorStore } from './monitor-store.js';
import type { ResolvedModelSettings } from './options.js';
import { referenceGrids, type FeatureGrid } from './queries.js';
import { buildReferenceProfile, type ReferenceProfile } from './reference.js';
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

/**
 * The references of the models this replica evaluates: loaded once, built once from the model's
 * first events (or a time range) when none is stored, and dropped when a newer one appears in
 * the store (another replica, the API or the CLI stored it) — checked for every model of a cycle
 * with one query.
 */
export class ReferenceBook {
  private readonly loaded = new Map<string, LoadedReference>();

  constructor(
    private readonly store: Pick<
      MonitorStore,
      'referencesCreatedAt' | 'loadReference' | 'sample' | 'saveReference'
    >,
    private readonly gridCells: number,
    private readonly logger: Logger,
  ) {}

  /** Drops cached references that are older than the stored ones. */
  async refresh(models: readonly string[]): Promise<void> {
    const cached = models.filter((m) => this.loaded.has(m));
    if (cached.length === 0) return;
    const latest = await this.store.referencesCreatedAt(cached);
    for (const model of cached) {
      const stored = latest.get(model);
      if (stored !== undefined && stored > (this.loaded.get(model)?.createdAtMs ?? Infinity))
        this.loaded.delete(model);
    }
  }

  /** The model's reference: cached, stored, or built now; undefined while there is none yet. */
  async get(
    model: string,
    settings: ResolvedModelSettings,
    nowMs: number,
  ): Promise<LoadedReference | undefined> {
    const cached = this.loaded.get(model);
    if (cached !== undefined) return cached;
    const stored = (await this.store.loadReference(model)) ?? (await this.build(model, settings, nowMs));
    if (stored === undefined) return undefined;
    const { grids, cells } = referenceGrids(stored.profile.features, this.gridCells);
    // The store keeps seconds: a reference built here and the same one loaded elsewhere must
    // have one identity (every replica publishes the same grid id for it).
    const createdAtMs = Math.floor(stored.createdAtMs / 1000) * 1000;
    const entry: LoadedReference = {
      profile: stored.profile,
      grids,
      cells,
      createdAtMs,
      grid: { id: createdAtMs, cells, features: grids },
    };
    this.loaded.set(model, entry);
    return entry;
  }

  invalidate(model: string): void {
    this.loaded.delete(model);
  }

  /** Computed rarely: the sample is pulled once and profiled with the detectors' builders. */
  private async build(
    model: string,
    settings: ResolvedModelSettings,
    nowMs: number,
  ): Promise<{ profile: ReferenceProfile; createdAtMs: number } | undefined> {
    const spec = settings.reference;
    if (spec.type === 'upload') return undefined;
    const sample =
      spec.type === 'first_events'
        ? await this.store.sample(model, spec.count)
        : await this.store.sample(model, spec.maxRows, { startMs: spec.fromMs, endMs: spec.toMs });
    if (spec.type === 'first_events' && sample.length < spec.count) {
      this.logger.debug({ model, have: sample.length, need: spec.count }, 'collecting reference events');
      return undefined;
    }
    if (sample.length === 0) return undefined;
    const profile = buildReferenceProfile(sample, settings.features, spec.type);
    await this.store.saveReference(model, profile, nowMs);
    this.logger.info({ model, rows: sample.length, source: spec.type }, 'reference built');
    return { profile, createdAtMs: nowMs };
  }
}
