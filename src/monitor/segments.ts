import type { DeepReadonly } from '../../kernel/deep-readonly.js';
import type { HealthStatus, ModelEvaluation, SegmentEvaluation } from './evaluate.js';
import type { SegmentConfig } from './options.js';
import { buildReferenceProfile, type ReferenceProfile, type SampleRow } from './reference.js';

/**
 * Segments: slices of a model's traffic by a categorical feature's value or an event tag, each
 * evaluated like a model of its own (docs/monitoring.md, Segments). Pure: a slice's SQL
 * condition is written by queries.ts.
 */

/** The value of the bucket that holds every event of no named segment. */
export const OTHER_SEGMENT_VALUE = '__other__';

export interface SegmentDimension {
  readonly kind: 'feature' | 'tag';
  /** The feature or tag name; also the segment name's prefix (`country=DE`). */
  readonly name: string;
}

export function segmentDimension(spec: DeepReadonly<SegmentConfig>): SegmentDimension {
  if (spec.feature !== undefined) return { kind: 'feature', name: spec.feature };
  if (spec.tag !== undefined) return { kind: 'tag', name: spec.tag };
  throw new RangeError('a segment needs a feature or a tag (the config schema enforces it)');
}

/** `country=DE`, `version=v2`, `country=__other__`. */
export function segmentName(dimension: SegmentDimension, value: string): string {
  return `${dimension.name}=${value}`;
}

/** One slice of the window to evaluate. */
export interface SegmentSlice {
  readonly name: string;
  readonly dimension: SegmentDimension;
  /** The value; undefined for `__other__`, which is every event whose value is not in `excluded`. */
  readonly value: string | undefined;
  /** For `__other__`: the named segments' values. */
  readonly excluded: readonly string[];
  /** Events of the slice in the window (from the value counts). */
  readonly windowEvents: number;
}

export interface SegmentPlan {
  readonly slices: readonly SegmentSlice[];
  /** Values that would have been named but have fewer than `minEvents` window events (configured values only). */
  readonly tooSmall: readonly string[];
}

/**
 * Which segments of one spec to evaluate in this window. Named segments: the configured `values`,
 * else the most frequent values (ties by value), at most `maxValues`, each with at least
 * `minEvents` events. `__other__`: every remaining event (values not named, and for a feature the
 * events without it), evaluated when at least one segment is named (else it is the whole model)
 * and it has `minEvents` events.
 */
export function planSegments(
  spec: DeepReadonly<SegmentConfig>,
  counts: ReadonlyMap<string, number>,
  windowEvents: number,
): SegmentPlan {
  const dimension = segmentDimension(spec);
  const tooSmall: string[] = [];
  const named: Array<[string, number]> = [];
  if (spec.values !== undefined) {
    for (const value of spec.values) {
      const n = counts.get(value) ?? 0;
      if (n >= spec.minEvents) named.push([value, n]);
      else tooSmall.push(value);
    }
  } else {
    const ranked = [...counts]
      .filter(([value]) => value !== OTHER_SEGMENT_VALUE)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [value, n] of ranked) {
      if (named.length >= spec.maxValues || n < spec.minEvents) break;
      named.push([value, n]);
    }
  }
  const slices: SegmentSlice[] = named.map(([value, n]) => ({
    name: segmentName(dimension, value),
    dimension,
    value,
    excluded: [],
    windowEvents: n,
  }));
  const otherEvents = Math.max(0, windowEvents - named.reduce((sum, [, n]) => sum + n, 0));
  if (named.length > 0 && otherEvents >= spec.minEvents) {
    slices.push({
      name: segmentName(dimension, OTHER_SEGMENT_VALUE),
      dimension,
      value: undefined,
      excluded: named.map(([value]) => value),
      windowEvents: otherEvents,
    });
  }
  return { slices, tooSmall };
}

/** The rows of a reference sample in the slice: the same membership as queries.ts sliceCondition in SQL. */
export function sliceSample(rows: readonly SampleRow[], slice: SegmentSlice): SampleRow[] {
  const { dimension } = slice;
  const valueOf = (row: SampleRow): string | undefined => {
    if (dimension.kind === 'tag') return row.tags?.[dimension.name] ?? '';
    const v = row.features[dimension.name];
    return typeof v === 'string' ? v : undefined;
  };
  if (slice.value !== undefined) return rows.filter((row) => valueOf(row) === slice.value);
  const excluded = new Set(slice.excluded);
  return rows.filter((row) => {
    const v = valueOf(row);
    return v === undefined || !excluded.has(v);
  });
}

/** The reference a segment is compared with. */
export interface SegmentReference {
  readonly profile: ReferenceProfile;
  /** 'segment': the segment's own slice of the reference; 'whole': the model's whole reference. */
  readonly source: 'segment' | 'whole';
  /** Why the whole reference is used (source 'whole'). */
  readonly note?: string;
}

/**
 * The slice's reference: the rows of the reference sample in the slice when there are at least
 * `minEvents`, else the whole reference with the reason. `sample` is undefined when the reference
 * rows cannot be had (`unavailable` says why). The slicing feature itself is left out: it is
 * constant within a named segment, so comparing it says nothing.
 */
export function segmentReference(
  whole: ReferenceProfile,
  sample: readonly SampleRow[] | undefined,
  slice: SegmentSlice,
  minEvents: number,
  unavailable = 'the reference rows are not available',
): SegmentReference {
  const drop = slice.dimension.kind === 'feature' ? slice.dimension.name : undefined;
  const fallback = (note: string): SegmentReference => ({
    profile: withoutFeature(whole, drop),
    source: 'whole',
    note,
  });
  if (sample === undefined) return fallback(`${unavailable}; compared with the whole reference`);
  const rows = sliceSample(sample, slice);
  if (rows.length < minEvents) {
    return fallback(
      `the reference has ${rows.length} events of ${slice.name} (fewer than minEvents ${minEvents}); compared with the whole reference`,
    );
  }
  const kinds = Object.fromEntries(Object.entries(whole.features).map(([name, f]) => [name, f.kind]));
  const profile = buildReferenceProfile(rows, kinds, `segment ${slice.name}`);
  return { profile: withoutFeature(profile, drop), source: 'segment' };
}

function withoutFeature(profile: ReferenceProfile, feature: string | undefined): ReferenceProfile {
  if (feature === undefined || !(feature in profile.features)) return profile;
  const features = { ...profile.features };
  delete features[feature];
  return { ...profile, features };
}

/**
 * The model's evaluation with its segments folded in: the health is the worst of the whole model
 * and its segments, each segment problem is a reason that names the segment, and the segments'
 * rules (which carry their segment) go to alerting with the model's. Without segments the whole
 * evaluation is returned as it is.
 */
export function withSegments(
  whole: ModelEvaluation,
  segments: readonly SegmentEvaluation[],
): ModelEvaluation {
  if (segments.length === 0) return whole;
  let status: HealthStatus = whole.status;
  const reasons = [...whole.reasons];
  for (const s of segments) {
    if (RANK[s.status] > RANK[status]) status = s.status;
    for (const reason of s.reasons) reasons.push(`segment ${s.segment}: ${reason}`);
  }
  return {
    ...whole,
    status,
    reasons,
    rules: [...whole.rules, ...segments.flatMap((s) => s.rules)],
    segments,
  };
}

const RANK: Record<HealthStatus, number> = { ok: 0, warning: 1, critical: 2 };
