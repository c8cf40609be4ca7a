import type { Logger } from '../../kernel/logger.js';
import { evaluateModel, type SegmentEvaluation, type WindowAggregates } from './evaluate.js';
import type { MonitorStore } from './monitor-store.js';
import type { RowWindowReader } from './row-window-reader.js';
import { SEGMENT_TAGS, type ResolvedModelSettings } from './options.js';
import { referenceGrids, type FeatureGrid, type WindowBounds } from './queries.js';
import type { ReferenceProfile, SampleRow } from './reference.js';
import {
  planSegments,
  segmentDimension,
  segmentReference,
  type SegmentReference,
  type SegmentSlice,
} from './segments.js';

/** What segments need of the store: tag counts and samples, and slices aggregated from the rows. */
export type SegmentStore = Pick<MonitorStore, 'tagCounts' | 'sample'> & Pick<RowWindowReader, 'aggregates'>;

export interface SegmentEvaluatorDeps {
  readonly store: SegmentStore;
  readonly cells: number;
  readonly labelHorizonMs: number;
  readonly logger: Logger;
}

export interface SegmentEvaluationInput {
  readonly model: string;
  readonly settings: ResolvedModelSettings;
  readonly reference: { readonly profile: ReferenceProfile; readonly createdAtMs: number };
  readonly window: WindowBounds;
  /** The whole model's window aggregates: a feature segment's value counts come from them. */
  readonly aggregates: WindowAggregates;
  readonly task: 'classification' | 'regression' | undefined;
  readonly evaluatedAtMs: number;
}

interface SliceReference extends SegmentReference {
  readonly grids: Map<string, FeatureGrid>;
  /** The grid resolution (queries.ts gridCellsFor). */
  readonly cells: number;
}

/**
 * Evaluates a model's configured segments in one window: picks each spec's segments from the
 * window's value counts (bounded by maxValues), counts each slice in ClickHouse with the
 * segment's condition appended to the window filter, and compares it with the segment's slice
 * of the reference. Slice references are built from the reference's rows, pulled again from the
 * event store once, and cached until the reference or the set of segments changes.
 */
export class SegmentEvaluator {
  /** model → (reference createdAt, slice key → reference). */
  private readonly cache = new Map<string, { createdAtMs: number; slices: Map<string, SliceReference> }>();

  constructor(private readonly deps: SegmentEvaluatorDeps) {}

  async evaluate(input: SegmentEvaluationInput): Promise<SegmentEvaluation[]> {
    const { model, settings, reference } = input;
    let cached = this.cache.get(model);
    if (cached === undefined || cached.createdAtMs !== reference.createdAtMs) {
      cached = { createdAtMs: reference.createdAtMs, slices: new Map() };
      this.cache.set(model, cached);
    }
    const used = new Map<string, SliceReference>();
    let rows: Promise<{ rows?: SampleRow[]; unavailable: string }> | undefined;
    const evaluations: SegmentEvaluation[] = [];
    for (const spec of settings.segments) {
      const dimension = segmentDimension(spec);
      if (dimension.kind === 'feature' && reference.profile.features[dimension.name]?.kind === 'numeric') {
        this.deps.logger.warn(
          { model, segment: dimension.name },
          'segment feature is numeric in the reference; segments slice by a categorical feature, skipped',
        );
        continue;
      }
      try {
        const counts =
          dimension.kind === 'feature'
            ? (input.aggregates.categories.get(dimension.name) ?? new Map<string, number>())
            : await this.deps.store.tagCounts(
                model,
                input.window,
                (SEGMENT_TAGS as Record<string, string>)[dimension.name] ?? dimension.name,
              );
        const plan = planSegments(spec, counts, input.aggregates.events);
        if (plan.tooSmall.length > 0) {
          this.deps.logger.debug(
            { model, segment: dimension.name, values: plan.tooSmall, minEvents: spec.minEvents },
            'configured segment values below minEvents in this window',
          );
        }
        for (const slice of plan.slices) {
          const key = sliceKey(slice);
          let sliceRef = cached.slices.get(key) ?? used.get(key);
          if (sliceRef === undefined) {
            rows ??= this.referenceRows(model, settings, reference.profile);
            const pulled = await rows;
            const built = segmentReference(
              reference.profile,
              pulled.rows,
              slice,
              spec.minEvents,
              pulled.unavailable,
            );
            sliceRef = { ...built, ...referenceGrids(built.profile.features, this.deps.cells) };
            this.deps.logger.info(
              {
                model,
                segment: slice.name,
                reference: built.source,
                rows: built.profile.rows,
                ...(built.note === undefined ? {} : { note: built.note }),
              },
              'segment reference ready',
            );
          }
          used.set(key, sliceRef);
          try {
            evaluations.push(await this.evaluateSlice(input, slice, sliceRef));
          } catch (error) {
            this.failed(error, model, slice.name);
          }
        }
      } catch (error) {
        this.failed(error, model, dimension.name);
      }
    }
    // Keep only the slices of this evaluation: bounded by the segments configured.
    cached.slices = used;
    return evaluations;
  }

  /** A segment never blocks the whole model's evaluation: it is skipped this cycle. */
  private failed(error: unknown, model: string, segment: string): void {
    this.deps.logger.warn({ err: error, model, segment }, 'segment evaluation failed; next interval retries');
  }

  private async evaluateSlice(
    input: SegmentEvaluationInput,
    slice: SegmentSlice,
    sliceRef: SliceReference,
  ): Promise<SegmentEvaluation> {
    const window: WindowBounds = { ...input.window, segment: slice };
    const aggregates = await this.deps.store.aggregates(
      input.model,
      window,
      sliceRef.grids,
      sliceRef.cells,
      // The whole reference's names: a feature the slice's reference lacks is not "new".
      Object.keys(input.reference.profile.features),
      input.task,
      this.deps.labelHorizonMs,
    );
    const evaluation = evaluateModel({
      model: input.model,
      settings: input.settings,
      reference: sliceRef.profile,
      grids: sliceRef.grids,
      cells: sliceRef.cells,
      window: input.window,
      evaluatedAtMs: input.evaluatedAtMs,
      aggregates,
      segment: slice.name,
    });
    return {
      ...evaluation,
      // Receivers show the summary: it names the segment.
      rules: evaluation.rules.map((r) => ({ ...r, summary: `[${slice.name}] ${r.summary}` })),
      reference: sliceRef.source,
      ...(sliceRef.note === undefined ? {} : { referenceNote: sliceRef.note }),
    };
  }

  /**
   * The reference's rows again, with their tags: by the sample's recorded time span (or, for an
   * older profile, the reference settings), checked against the profile so that rows deleted by
   * retention or a changed reference setting fall back to the whole reference instead of
   * silently comparing with other events.
   */
  private async referenceRows(
    model: string,
    settings: ResolvedModelSettings,
    profile: ReferenceProfile,
  ): Promise<{ rows?: SampleRow[]; unavailable: string }> {
    const spec = settings.reference;
    if (spec.type === 'upload' || profile.source === 'upload') {
      return { unavailable: 'the reference was uploaded, so its rows are not in the event store' };
    }
    const span = profile.sampleRangeMs;
    const rows =
      span !== undefined
        ? await this.deps.store.sample(model, profile.rows, {
            startMs: span.firstMs,
            // windowFilter compares whole seconds on `ts`: end on the next second boundary.
            endMs: (Math.floor(span.lastMs / 1000) + 1) * 1000,
          })
        : spec.type === 'first_events'
          ? await this.deps.store.sample(model, profile.rows)
          : await this.deps.store.sample(model, profile.rows, { startMs: spec.fromMs, endMs: spec.toMs });
    let first = Infinity;
    let last = -Infinity;
    for (const row of rows) {
      first = Math.min(first, row.tsMs ?? first);
      last = Math.max(last, row.tsMs ?? last);
    }
    const same =
      rows.length === profile.rows &&
      (span === undefined || (first === span.firstMs && last === span.lastMs));
    if (!same) {
      return {
        unavailable: `the reference's ${profile.rows} events are no longer all in the event store (found ${rows.length}; retention or a changed reference setting)`,
      };
    }
    return { rows, unavailable: '' };
  }
}

function sliceKey(slice: SegmentSlice): string {
  return slice.value === undefined ? `${slice.name}\u0000${slice.excluded.join('\u0000')}` : slice.name;
}
