import type { Logger } from '../../kernel/logger.js';
import { sqlIdentifier } from '../../kernel/sql.js';
import type { Store } from '../../kernel/store.js';
import { hoursOf, minuteRanges, minutesOf, MinuteProofs, type WindowSplit } from './rollup-plan.js';
import {
  correctMinutesStatements,
  finalMinuteCountsQuery,
  gridCoverageQuery,
  hourStatusQuery,
  minuteEventsQuery,
  sealedGridId,
  sealHourStatements,
  type GridSpec,
  type HourSeal,
  type ModelGrids,
  type SecondsRange,
} from './rollup-sql.js';

/**
 * Corrections and seals insert differences, and two can be equal (a late row in a minute, then
 * another): a replicated table would drop the second as a retried block.
 */
const REPEATS_ROWS = { repeatsRows: true } as const;

export interface RollupKeeperOptions {
  /**
   * Minutes a model may have to prove (and correct) within a cycle; a window with more (the first
   * cycle after a start, a new reference's grid) is proved in the background while cycles read
   * the rows. @default 60
   */
  readonly syncMinutes: number;
  readonly now?: () => number;
}

/** A model whose window is read from the rollups, and the grid its cells are counted on. */
export interface RollupTarget {
  readonly model: string;
  readonly grid: GridSpec;
}

/** Whether a model's window can be read from the rollups now. */
export type RollupReadiness = 'ready' | 'pending';

interface ModelWork {
  readonly target: RollupTarget;
  /** Minutes to prove, corrected where they differ from the rows. */
  readonly minutes: number[];
  /** Hours to seal afterwards. */
  readonly hours: number[];
}

/**
 * Keeps owned models' rollups fit to read (see rollup-schema.ts): proves the window's sealed
 * minutes against the rows (FINAL) and writes the difference where they differ — all of a minute
 * the first time it is sealed, a late row's share later, the cells on a new reference's grid —
 * and rolls proved minutes up into hours. A cycle prepares all its models with a handful of queries; a model with more minutes
 * to prove than a cycle should wait for is proved in the background (one job per model), and
 * reads its rows meanwhile.
 */
export class RollupKeeper {
  private readonly db: string;
  private readonly proofs = new MinuteProofs();
  private readonly jobs = new Map<string, Promise<void>>();
  private readonly now: () => number;
  /**
   * The latest seal version seen or written: a new seal's version is above it, so it replaces
   * the previous one even when the clock has not moved (or moved back).
   */
  private sealVersion = 0;

  constructor(
    private readonly store: Store,
    private readonly options: RollupKeeperOptions,
    private readonly logger: Logger,
  ) {
    this.db = sqlIdentifier(store.database);
    this.now = options.now ?? Date.now;
  }

  /**
   * Readies the rollups under `split` for each target: 'ready' when they match the rows now,
   * 'pending' while a background job is still proving or correcting them.
   */
  async prepare(targets: readonly RollupTarget[], split: WindowSplit): Promise<Map<string, RollupReadiness>> {
    const readiness = new Map<string, RollupReadiness>();
    if (split.covered === undefined) {
      for (const t of targets) readiness.set(t.model, 'ready');
      return readiness;
    }
    const idle = targets.filter((t) => {
      const busy = this.jobs.has(t.model);
      readiness.set(t.model, busy ? 'pending' : 'ready');
      return !busy;
    });
    const works = await this.workFor(idle, split);
    const now: ModelWork[] = [];
    for (const work of works) {
      if (work.minutes.length <= this.options.syncMinutes) {
        now.push(work);
      } else {
        this.inBackground(work);
        readiness.set(work.target.model, 'pending');
      }
    }
    await this.fix(now);
    return readiness;
  }

  /** Waits for background jobs (one model's, or all): tests, benchmarks, shutdown. */
  async settled(model?: string): Promise<void> {
    const job = model === undefined ? Promise.all(this.jobs.values()) : this.jobs.get(model);
    await job;
  }

  forget(model: string): void {
    this.proofs.forget(model);
  }

  private inBackground(work: ModelWork): void {
    const { model } = work.target;
    this.logger.info(
      { model, minutes: work.minutes.length, hours: work.hours.length },
      'proving the window rollups in the background; reading rows until then',
    );
    const job = this.fix([work])
      .catch((error: unknown) =>
        this.logger.warn({ err: error, model }, 'proving the rollups failed; the next cycle retries'),
      )
      .finally(() => this.jobs.delete(model));
    this.jobs.set(model, job);
  }

  /**
   * What each target needs under `split`: the minutes not proved (those of the minute span, and of
   * every hour that is not sealed from its minutes' current count on the model's grid), and those
   * hours.
   */
  private async workFor(targets: readonly RollupTarget[], split: WindowSplit): Promise<ModelWork[]> {
    if (targets.length === 0 || split.covered === undefined) return [];
    const models = targets.map((t) => t.model);
    for (const model of models) this.proofs.prune(model, split.covered.fromS);
    const hours =
      split.span.hours === undefined
        ? new Map<string, number[]>()
        : await this.unsealedHours(targets, split.span.hours);
    const rangesOf = (model: string): SecondsRange[] => [
      ...split.span.minutes,
      ...(hours.get(model) ?? []).map((h) => ({ fromS: h, toS: h + 3600 })),
    ];
    const allRanges = [
      ...split.span.minutes,
      ...[...new Set([...hours.values()].flat())].map((h) => ({ fromS: h, toS: h + 3600 })),
    ];
    const counts =
      allRanges.length === 0
        ? new Map<string, Map<number, number>>()
        : await this.minuteCounts(models, allRanges, 'rollup_ledger');
    return targets.flatMap((target) => {
      const minutes = this.proofs.unproved(
        target.model,
        target.grid.id,
        minutesOf(rangesOf(target.model)),
        counts.get(target.model) ?? new Map(),
      );
      const sealing = hours.get(target.model) ?? [];
      return minutes.length + sealing.length === 0 ? [] : [{ target, minutes, hours: sealing }];
    });
  }

  private async unsealedHours(
    targets: readonly RollupTarget[],
    hours: SecondsRange,
  ): Promise<Map<string, number[]>> {
    const rows = await this.store.select<{
      model: string;
      h: number;
      minutes: string;
      sealed: string;
      grid: string;
      has_seal: number;
      version: string;
    }>(
      'rollup hours',
      hourStatusQuery(
        this.db,
        targets.map((t) => t.model),
        hours,
      ),
    );
    const grids = new Map(targets.map((t) => [t.model, sealedGridId(t.grid)]));
    const unsealed = new Map<string, number[]>();
    for (const row of rows) this.sealVersion = Math.max(this.sealVersion, Number(row.version));
    // Every hour needs a seal, an empty one too: rows written without the ledger (a backfill) are
    // found when the hour's minutes are proved. A sealed hour stays sealed while its ledger count
    // and its grid are unchanged.
    const sealed = new Set(
      rows
        .filter(
          (r) =>
            Number(r.sealed) === Number(r.minutes) &&
            Number(r.grid) === grids.get(r.model) &&
            Number(r.has_seal) === 1,
        )
        .map((r) => `${r.model}\t${Number(r.h)}`),
    );
    for (const target of targets) {
      const open = hoursOf(hours).filter((h) => !sealed.has(`${target.model}\t${h}`));
      if (open.length > 0) unsealed.set(target.model, open);
    }
    return unsealed;
  }

  private async minuteCounts(
    models: readonly string[],
    ranges: readonly SecondsRange[],
    table: 'rollup_events_1m' | 'rollup_ledger',
  ): Promise<Map<string, Map<number, number>>> {
    const rows = await this.store.select<{ model: string; b: number; n: string }>(
      table === 'rollup_ledger' ? 'ledger minutes' : 'rollup minutes',
      minuteEventsQuery(this.db, models, ranges, table),
    );
    return byModel(rows, (r) => [Number(r.b), Number(r.n)]);
  }

  /** Proves every work's minutes, corrects those that differ from the rows, then seals the hours. */
  private async fix(works: readonly ModelWork[]): Promise<void> {
    const proving = works.filter((w) => w.minutes.length > 0);
    // Chunks of at most an hour of minutes: a background job of a day's window reads the rows
    // an hour at a time.
    for (let chunk = 0; proving.some((w) => w.minutes.length > chunk * 60); chunk++) {
      const part = proving.flatMap((w) => {
        const minutes = w.minutes.slice(chunk * 60, (chunk + 1) * 60);
        return minutes.length === 0 ? [] : [{ target: w.target, minutes }];
      });
      await this.prove(part);
    }
    await this.seal(works.filter((w) => w.hours.length > 0));
  }

  private async prove(parts: ReadonlyArray<{ target: RollupTarget; minutes: number[] }>): Promise<void> {
    const models = parts.map((p) => p.target.model);
    const ranges = minuteRanges([...new Set(parts.flatMap((p) => p.minutes))]);
    const grids = new Map(
      parts.filter((p) => p.target.grid.features.size > 0).map((p) => [p.target.model, p.target.grid]),
    );
    // The ledger first: a row inserted meanwhile then either shows in both reads, or moves the
    // ledger past the count proved here (and the minute is proved again).
    const ledger = await this.minuteCounts(models, ranges, 'rollup_ledger');
    const [finals, rollups, coverage] = await Promise.all([
      this.store.select<{ model: string; b: number; n: string }>(
        'rows per minute',
        finalMinuteCountsQuery(this.db, models, ranges),
      ),
      this.minuteCounts(models, ranges, 'rollup_events_1m'),
      grids.size === 0
        ? Promise.resolve([])
        : this.store.select<{ model: string; b: number; cells: string; values: string }>(
            'grid coverage',
            gridCoverageQuery(this.db, grids, ranges),
          ),
    ]);
    const truth = byModel(finals, (r) => [Number(r.b), Number(r.n)]);
    const uncovered = byModel(
      coverage.filter((r) => r.cells !== r.values),
      (r) => [Number(r.b), true],
    );
    const wrong = new Map<string, { grid: GridSpec; minutes: number[] }>();
    for (const { target, minutes } of parts) {
      const { model } = target;
      const rows = truth.get(model) ?? new Map<number, number>();
      const held = rollups.get(model) ?? new Map<number, number>();
      const differ = minutes.filter(
        (m) => (rows.get(m) ?? 0) !== (held.get(m) ?? 0) || uncovered.get(model)?.has(m) === true,
      );
      if (differ.length > 0) wrong.set(model, { grid: target.grid, minutes: differ });
    }
    await this.correct(wrong);
    for (const { target, minutes } of parts) {
      const counts = ledger.get(target.model);
      for (const m of minutes) this.proofs.prove(target.model, target.grid.id, m, counts?.get(m) ?? 0);
    }
  }

  /**
   * Corrects the minutes that differ from the rows, every model at once over the union of their
   * minutes (a minute that already matches inserts nothing).
   */
  private async correct(wrong: ReadonlyMap<string, { grid: GridSpec; minutes: number[] }>): Promise<void> {
    if (wrong.size === 0) return;
    const grids: ModelGrids = new Map([...wrong].map(([model, w]) => [model, w.grid]));
    const ranges = minuteRanges([...new Set([...wrong.values()].flatMap((w) => w.minutes))]);
    for (const statement of correctMinutesStatements(this.db, grids, ranges))
      await this.store.command('correct rollups', statement, REPEATS_ROWS);
    this.logger.info(
      { models: wrong.size, minutes: [...wrong.values()].reduce((n, w) => n + w.minutes.length, 0) },
      'rollup minutes corrected from the rows',
    );
  }

  /**
   * Seals each work's hours, every model of one hour in the same statements, at the ledger count
   * its minutes were proved with: a row that arrived since leaves the seal behind the ledger, so
   * the hour is proved again.
   */
  private async seal(works: readonly ModelWork[]): Promise<void> {
    const byHour = new Map<number, RollupTarget[]>();
    for (const work of works)
      for (const hour of work.hours) byHour.set(hour, [...(byHour.get(hour) ?? []), work.target]);
    for (const [hourS, targets] of [...byHour].sort((a, b) => a[0] - b[0])) {
      const minutes = minutesOf([{ fromS: hourS, toS: hourS + 3600 }]);
      const seals: HourSeal[] = targets.map((t) => ({
        model: t.model,
        grid: t.grid,
        ledger: this.proofs.provedCount(t.model, t.grid.id, minutes),
      }));
      this.sealVersion = Math.max(this.now(), this.sealVersion + 1);
      for (const statement of sealHourStatements(this.db, hourS, seals, this.sealVersion))
        await this.store.command('seal rollup hour', statement, REPEATS_ROWS);
    }
  }
}

/** Rows keyed by their model, each mapped to an entry of that model's map. */
function byModel<R extends { model: string }, K, V>(
  rows: readonly R[],
  entry: (row: R) => [K, V],
): Map<string, Map<K, V>> {
  const out = new Map<string, Map<K, V>>();
  for (const row of rows) {
    let map = out.get(row.model);
    if (map === undefined) out.set(row.model, (map = new Map<K, V>()));
    const [key, value] = entry(row);
    map.set(key, value);
  }
  return out;
}
