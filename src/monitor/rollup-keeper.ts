import type { Logger } from '../../kernel/logger.js';
import { sqlIdentifier } from '../../kernel/sql.js';
import { insertObjects, type Store } from '../../kernel/store.js';
import { hoursOf, minuteRanges, minutesOf, MinuteProofs, type WindowSplit } from './rollup-plan.js';
import {
  correctMinutesStatements,
  currentGridQuery,
  finalMinuteCountsQuery,
  gridCoverageQuery,
  gridRows,
  hourStatusQuery,
  minuteEventsQuery,
  sealHourStatements,
  type GridSpec,
  type SecondsRange,
} from './rollup-sql.js';

export interface RollupKeeperOptions {
  /**
   * Minutes proved (and corrected) within a cycle; a window with more unproved minutes (the
   * first cycle after a start, a new reference's grid) is proved in the background while cycles
   * read the rows. @default 60
   */
  readonly syncMinutes: number;
  readonly now?: () => number;
}

/** Whether a model's window can be read from the rollups now. */
export type RollupReadiness = 'ready' | 'pending';

/**
 * Keeps each owned model's rollups fit to read (see rollup-schema.ts): publishes the model's grid
 * to the views, proves the window's sealed minutes against the rows (FINAL) and corrects those
 * that differ (a replay, a late row, rows stored before the grid), and rolls proved minutes up
 * into hours. Work on more minutes than a cycle should wait for runs in the background, one job
 * per model; meanwhile the model reads its rows as before.
 */
export class RollupKeeper {
  private readonly db: string;
  private readonly proofs = new MinuteProofs();
  private readonly jobs = new Map<string, Promise<void>>();
  /** The grid id each model's views use, as last published or read. */
  private readonly published = new Map<string, number>();
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly options: RollupKeeperOptions,
    private readonly logger: Logger,
  ) {
    this.db = sqlIdentifier(store.database);
    this.now = options.now ?? Date.now;
  }

  /** Makes the views count `model`'s cells on `grid` from now on (once per grid). */
  async publishGrid(model: string, grid: GridSpec): Promise<void> {
    if (this.published.get(model) === grid.id) return;
    const rows = await this.store.select<{ feature: string; grid: string }>(
      'current grid',
      currentGridQuery(this.db, model),
    );
    const current = new Map(rows.map((r) => [r.feature, Number(r.grid)]));
    const stale = [...grid.features.keys()].some((f) => current.get(f) !== grid.id);
    if (stale) {
      await insertObjects(this.store, 'monitor_grids', gridRows(model, grid, this.now()));
      this.logger.info({ model, grid: grid.id, features: grid.features.size }, 'rollup grid published');
    }
    this.published.set(model, grid.id);
  }

  /**
   * Readies the rollups under `split` for reading: 'ready' when they match the rows now,
   * 'pending' while a background job is still proving or correcting them.
   */
  async prepare(model: string, split: WindowSplit, grid: GridSpec): Promise<RollupReadiness> {
    if (split.covered === undefined) return 'ready';
    if (this.jobs.has(model)) return 'pending';
    const work = await this.workFor(model, split, grid);
    if (work.minutes.length + work.hours.length === 0) return 'ready';
    if (work.minutes.length <= this.options.syncMinutes) {
      await this.fix(model, grid, work);
      return 'ready';
    }
    this.logger.info(
      { model, minutes: work.minutes.length, hours: work.hours.length },
      'proving the window rollups in the background; reading rows until then',
    );
    const job = this.fix(model, grid, work)
      .catch((error: unknown) =>
        this.logger.warn({ err: error, model }, 'proving the rollups failed; the next cycle retries'),
      )
      .finally(() => this.jobs.delete(model));
    this.jobs.set(model, job);
    return 'pending';
  }

  /** Waits for a model's background job, if any (tests, benchmarks, shutdown). */
  async settled(model?: string): Promise<void> {
    const job = model === undefined ? Promise.all(this.jobs.values()) : this.jobs.get(model);
    await job;
  }

  forget(model: string): void {
    this.proofs.forget(model);
    this.published.delete(model);
  }

  /**
   * What `split` needs: the minutes not proved (those of the minute span, and of every hour that
   * is not sealed from its minutes' current count on this grid), and those hours.
   */
  private async workFor(
    model: string,
    split: WindowSplit,
    grid: GridSpec,
  ): Promise<{ minutes: number[]; hours: number[] }> {
    const hours =
      split.span.hours === undefined ? [] : await this.unsealedHours(model, split.span.hours, grid);
    const ranges: SecondsRange[] = [
      ...split.span.minutes,
      ...hours.map((h) => ({ fromS: h, toS: h + 3600 })),
    ];
    const minutes = minutesOf(ranges);
    if (split.covered !== undefined) this.proofs.prune(model, split.covered.fromS);
    if (minutes.length === 0) return { minutes, hours };
    const counts = await this.minuteCounts(model, ranges);
    return { minutes: this.proofs.unproved(model, grid.id, minutes, counts), hours };
  }

  private async unsealedHours(model: string, hours: SecondsRange, grid: GridSpec): Promise<number[]> {
    const rows = await this.store.select<{ h: number; minutes: string; sealed: string; grid: string }>(
      'rollup hours',
      hourStatusQuery(this.db, model, hours),
    );
    const status = new Map(rows.map((r) => [Number(r.h), r]));
    return hoursOf(hours).filter((h) => {
      const row = status.get(h);
      if (row === undefined) return false; // nothing stored that hour: nothing to seal
      const emptyGrid = grid.features.size === 0 ? 0 : grid.id;
      return Number(row.sealed) !== Number(row.minutes) || Number(row.grid) !== emptyGrid;
    });
  }

  private async minuteCounts(model: string, ranges: readonly SecondsRange[]): Promise<Map<number, number>> {
    const rows = await this.store.select<{ b: number; n: string }>(
      'rollup minutes',
      minuteEventsQuery(this.db, model, ranges),
    );
    return new Map(rows.map((r) => [Number(r.b), Number(r.n)]));
  }

  /** Proves `work.minutes`, corrects those that differ from the rows, then seals `work.hours`. */
  private async fix(
    model: string,
    grid: GridSpec,
    work: { minutes: number[]; hours: number[] },
  ): Promise<void> {
    for (const range of minuteRanges(work.minutes, 60)) await this.proveRange(model, grid, range);
    for (const hour of work.hours) await this.sealHour(model, grid, hour);
  }

  private async proveRange(model: string, grid: GridSpec, range: SecondsRange): Promise<void> {
    const ranges = [range];
    const [finals, rollup, coverage] = await Promise.all([
      this.store.select<{ b: number; n: string }>(
        'rows per minute',
        finalMinuteCountsQuery(this.db, model, ranges),
      ),
      this.minuteCounts(model, ranges),
      grid.features.size === 0
        ? Promise.resolve([])
        : this.store.select<{ b: number; cells: string; values: string }>(
            'grid coverage',
            gridCoverageQuery(this.db, model, ranges, grid),
          ),
    ]);
    const truth = new Map(finals.map((r) => [Number(r.b), Number(r.n)]));
    const uncovered = new Set(coverage.filter((r) => r.cells !== r.values).map((r) => Number(r.b)));
    const minutes = minutesOf(ranges);
    const wrong = minutes.filter((m) => (truth.get(m) ?? 0) !== (rollup.get(m) ?? 0) || uncovered.has(m));
    if (wrong.length > 0) {
      for (const statement of correctMinutesStatements(this.db, model, minuteRanges(wrong), grid))
        await this.store.command('correct rollups', statement);
      this.logger.info({ model, minutes: wrong.length }, 'rollup minutes corrected from the rows');
    }
    for (const m of minutes) this.proofs.prove(model, grid.id, m, truth.get(m) ?? 0);
  }

  private async sealHour(model: string, grid: GridSpec, hourS: number): Promise<void> {
    const events = [
      ...(await this.minuteCounts(model, [{ fromS: hourS, toS: hourS + 3600 }])).values(),
    ].reduce((sum, n) => sum + n, 0);
    const sealed = grid.features.size === 0 ? undefined : grid;
    for (const statement of sealHourStatements(this.db, model, hourS, sealed, events, this.now()))
      await this.store.command('seal rollup hour', statement);
  }
}
