/**
 * Compact, JSON-serialisable, mergeable summary of a categorical feature.
 *
 * Like the numeric grid, the vocabulary is frozen by the reference: its `maxCategories`
 * most frequent categories (ties by name); everything else — rare reference categories and
 * categories first seen in a window — is counted in `other`. Profiles over the same
 * vocabulary merge by adding counts, exactly and associatively.
 */
import type { CategoryCounts } from '../categorical.js';

/** Key under which the "other" bucket appears when a profile is turned into counts. */
export const OTHER_CATEGORY = '__other__';
export const DEFAULT_MAX_CATEGORIES = 100;

export interface CategoricalProfile {
  readonly kind: 'categorical';
  readonly count: number;
  readonly missing: number;
  /** The frozen vocabulary (the reference's top categories). */
  readonly categories: readonly string[];
  /** Counts aligned with `categories`. */
  readonly counts: readonly number[];
  /** Values outside the vocabulary. */
  readonly other: number;
}

type Label = string | null | undefined;

function tally(values: Iterable<Label>): { counts: Map<string, number>; missing: number } {
  const counts = new Map<string, number>();
  let missing = 0;
  for (const v of values) {
    if (v === null || v === undefined) missing++;
    else counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return { counts, missing };
}

function overVocabulary(
  vocabulary: readonly string[],
  counts: Map<string, number>,
  missing: number,
): CategoricalProfile {
  const inVocabulary = new Set(vocabulary);
  let other = 0;
  let count = 0;
  for (const [k, v] of counts) {
    count += v;
    if (!inVocabulary.has(k)) other += v;
  }
  return {
    kind: 'categorical',
    count,
    missing,
    categories: [...vocabulary],
    counts: vocabulary.map((c) => counts.get(c) ?? 0),
    other,
  };
}

export interface CategoricalReferenceOptions {
  /** Categories kept by name; the rest go to "other". @default 100 */
  readonly maxCategories?: number;
}

export function buildCategoricalReferenceProfile(
  values: Iterable<Label>,
  options: CategoricalReferenceOptions = {},
): CategoricalProfile {
  const { counts, missing } = tally(values);
  const max = options.maxCategories ?? DEFAULT_MAX_CATEGORIES;
  const vocabulary = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, max)
    .map(([k]) => k);
  return overVocabulary(vocabulary, counts, missing);
}

/** Profile of a window (or chunk) over the reference's vocabulary. */
export function buildCategoricalProfile(
  values: Iterable<Label>,
  vocabulary: readonly string[],
): CategoricalProfile {
  const { counts, missing } = tally(values);
  return overVocabulary(vocabulary, counts, missing);
}

/** Window profile from ClickHouse category counts (`GROUP BY value`), over the reference vocabulary. */
export function categoricalProfileFromCounts(
  vocabulary: readonly string[],
  counts: CategoryCounts,
  missing = 0,
): CategoricalProfile {
  const map = new Map<string, number>(counts instanceof Map ? counts : Object.entries(counts));
  return overVocabulary(vocabulary, map, missing);
}

export function mergeCategoricalProfiles(a: CategoricalProfile, b: CategoricalProfile): CategoricalProfile {
  if (a.categories.length !== b.categories.length || a.categories.some((c, i) => c !== b.categories[i])) {
    throw new RangeError(
      'categorical profiles use different vocabularies; build both with buildCategoricalProfile(values, reference.categories)',
    );
  }
  return {
    kind: 'categorical',
    count: a.count + b.count,
    missing: a.missing + b.missing,
    categories: [...a.categories],
    counts: a.counts.map((v, i) => v + (b.counts[i] as number)),
    other: a.other + b.other,
  };
}

/** The profile as category counts (with OTHER_CATEGORY when non-zero) for the categorical tests. */
export function categoricalProfileCounts(profile: CategoricalProfile): Map<string, number> {
  const out = new Map<string, number>();
  profile.categories.forEach((c, i) => out.set(c, profile.counts[i] as number));
  if (profile.other > 0) out.set(OTHER_CATEGORY, profile.other);
  return out;
}
