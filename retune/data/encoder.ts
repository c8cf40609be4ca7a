/**
 * Turns a model's logged features into the numeric input vector the trainers see. Pure.
 *
 * - numeric: standardised, `(v - mean) / std`, with mean and std from the reference profile
 *   when it has the feature, else from the train split (never from validation or holdout, so
 *   nothing leaks from the rows the trials are judged on); std 0 or unknown counts as 1.
 *   Missing (absent, listed in `missing_names`, or non-finite) becomes 0 (the mean) and, with
 *   `missingIndicators`, a second column `<name>:missing` is 1.
 * - categorical: one-hot over the reference's categories (else the train split's most frequent
 *   ones) plus `<name>=__other__` for anything else; missing is all zeros.
 */

/** Same key as the detectors' categorical profiles use for their "other" bucket. */
export const OTHER_CATEGORY = '__other__';

export interface NumericFeatureEncoding {
  readonly name: string;
  readonly mean: number;
  readonly std: number;
  readonly missingIndicator: boolean;
  /** Where mean and std came from. */
  readonly source: 'explicit' | 'reference' | 'train';
}

export interface CategoricalFeatureEncoding {
  readonly name: string;
  readonly categories: readonly string[];
  readonly source: 'explicit' | 'reference' | 'train';
}

export interface FeatureEncoding {
  readonly numeric: readonly NumericFeatureEncoding[];
  readonly categorical: readonly CategoricalFeatureEncoding[];
}

/** One event's features as stored (parallel arrays in ClickHouse, as maps here). */
export interface RawFeatures {
  readonly numeric: Readonly<Record<string, number>>;
  readonly categorical: Readonly<Record<string, string>>;
  readonly missing: readonly string[];
}

/** Statistics from the model's reference profile, per feature. */
export interface ReferenceFeatures {
  readonly numeric: Readonly<Record<string, { readonly mean: number; readonly std: number }>>;
  readonly categorical: Readonly<Record<string, readonly string[]>>;
}

/** An encoding given in config: names, and optionally fixed statistics or categories. */
export interface EncodingSpec {
  readonly numeric?: ReadonlyArray<
    string | { readonly name: string; readonly mean?: number; readonly std?: number }
  >;
  readonly categorical?: ReadonlyArray<
    string | { readonly name: string; readonly categories?: readonly string[] }
  >;
}

export interface FitEncodingOptions {
  /** Fixed feature list and statistics; features not named are dropped. */
  readonly spec?: EncodingSpec;
  readonly reference?: ReferenceFeatures;
  /** Add a `<name>:missing` column per numeric feature. @default true */
  readonly missingIndicators?: boolean;
  /** Categories kept per feature when learnt from the train split. @default 50 */
  readonly maxCategories?: number;
}

export function emptyReference(): ReferenceFeatures {
  return { numeric: {}, categorical: {} };
}

/** Names of the encoded columns, in vector order. */
export function inputColumns(encoding: FeatureEncoding): string[] {
  const columns: string[] = [];
  for (const f of encoding.numeric) {
    columns.push(f.name);
    if (f.missingIndicator) columns.push(`${f.name}:missing`);
  }
  for (const f of encoding.categorical) {
    for (const c of f.categories) columns.push(`${f.name}=${c}`);
    columns.push(`${f.name}=${OTHER_CATEGORY}`);
  }
  return columns;
}

function isMissingNumber(raw: RawFeatures, name: string): boolean {
  const v = raw.numeric[name];
  return v === undefined || !Number.isFinite(v) || raw.missing.includes(name);
}

export function encodeFeatures(encoding: FeatureEncoding, raw: RawFeatures): number[] {
  const out: number[] = [];
  for (const f of encoding.numeric) {
    const missing = isMissingNumber(raw, f.name);
    out.push(missing ? 0 : ((raw.numeric[f.name] as number) - f.mean) / f.std);
    if (f.missingIndicator) out.push(missing ? 1 : 0);
  }
  for (const f of encoding.categorical) {
    const value = raw.missing.includes(f.name) ? undefined : raw.categorical[f.name];
    let hot = false;
    for (const c of f.categories) {
      const match = value === c;
      hot ||= match;
      out.push(match ? 1 : 0);
    }
    out.push(value !== undefined && !hot ? 1 : 0);
  }
  return out;
}

function usableStd(std: number | undefined): number {
  return std !== undefined && Number.isFinite(std) && std > 0 ? std : 1;
}

function trainMoments(rows: readonly RawFeatures[], name: string): { mean: number; std: number } {
  let n = 0;
  let mean = 0;
  let m2 = 0;
  for (const row of rows) {
    if (isMissingNumber(row, name)) continue;
    const v = row.numeric[name] as number;
    n++;
    const delta = v - mean;
    mean += delta / n;
    m2 += delta * (v - mean);
  }
  return n === 0 ? { mean: 0, std: 1 } : { mean, std: usableStd(Math.sqrt(m2 / n)) };
}

function topCategories(rows: readonly RawFeatures[], name: string, limit: number): string[] {
  const counts = new Map<string, number>();
  for (const row of rows) {
    const v = row.categorical[name];
    if (v !== undefined && !row.missing.includes(name)) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, limit)
    .map(([k]) => k);
}

/**
 * Fixes the encoding from the train split (and the reference profile / config): which
 * features, in which order (config order; else the reference's, then train-only ones sorted), with which
 * statistics and vocabularies.
 */
export function fitEncoding(
  train: readonly RawFeatures[],
  options: FitEncodingOptions = {},
): FeatureEncoding {
  const reference = options.reference ?? emptyReference();
  const indicators = options.missingIndicators ?? true;
  const maxCategories = options.maxCategories ?? 50;
  const spec = options.spec;

  const numericNames: Array<{ name: string; mean?: number; std?: number }> =
    spec?.numeric !== undefined || spec?.categorical !== undefined
      ? (spec.numeric ?? []).map((f) => (typeof f === 'string' ? { name: f } : f))
      : namesOf(reference.numeric, train, (row) => Object.keys(row.numeric)).map((name) => ({ name }));
  const categoricalNames: Array<{ name: string; categories?: readonly string[] }> =
    spec?.numeric !== undefined || spec?.categorical !== undefined
      ? (spec.categorical ?? []).map((f) => (typeof f === 'string' ? { name: f } : f))
      : namesOf(reference.categorical, train, (row) => Object.keys(row.categorical)).map((name) => ({
          name,
        }));

  const numeric = numericNames.map((f): NumericFeatureEncoding => {
    if (f.mean !== undefined)
      return {
        name: f.name,
        mean: f.mean,
        std: usableStd(f.std),
        missingIndicator: indicators,
        source: 'explicit',
      };
    const ref = reference.numeric[f.name];
    if (ref !== undefined && Number.isFinite(ref.mean))
      return {
        name: f.name,
        mean: ref.mean,
        std: usableStd(ref.std),
        missingIndicator: indicators,
        source: 'reference',
      };
    return { name: f.name, ...trainMoments(train, f.name), missingIndicator: indicators, source: 'train' };
  });
  const numericSet = new Set(numeric.map((f) => f.name));
  const categorical = categoricalNames
    .filter((f) => !numericSet.has(f.name))
    .map((f): CategoricalFeatureEncoding => {
      if (f.categories !== undefined)
        return { name: f.name, categories: [...f.categories], source: 'explicit' };
      const ref = reference.categorical[f.name];
      if (ref !== undefined)
        return { name: f.name, categories: ref.filter((c) => c !== OTHER_CATEGORY), source: 'reference' };
      return { name: f.name, categories: topCategories(train, f.name, maxCategories), source: 'train' };
    });
  return { numeric, categorical };
}

/** The reference's features in its order, then features seen only in train, sorted. */
function namesOf(
  fromReference: Readonly<Record<string, unknown>>,
  train: readonly RawFeatures[],
  namesInRow: (row: RawFeatures) => string[],
): string[] {
  const referenceNames = Object.keys(fromReference);
  const known = new Set(referenceNames);
  const seen = new Set<string>();
  for (const row of train) for (const name of namesInRow(row)) if (!known.has(name)) seen.add(name);
  return [...referenceNames, ...[...seen].sort()];
}

/**
 * Pulls per-feature statistics out of a stored reference profile: the monitor's layout
 * (src/monitor/reference.ts: `{version, source, rows, features: {<name>: {kind, profile}}}`),
 * and, to stay robust to changes of it, any nesting (up to 6 levels) in which the
 * detectors' profiles (`buildNumericReferenceProfile`: `{kind:'numeric', count, mean, m2, ...}`,
 * `buildCategoricalReferenceProfile`: `{kind:'categorical', categories, ...}`) appear keyed by
 * feature name, or in arrays of objects with a `name` / `feature` field.
 */
export function referenceFeaturesFromProfile(profileJson: unknown): ReferenceFeatures {
  const numeric: Record<string, { mean: number; std: number }> = {};
  const categorical: Record<string, readonly string[]> = {};
  const visit = (value: unknown, key: string | undefined, depth: number): void => {
    if (depth > 6 || typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) {
      for (const item of value as unknown[]) visit(item, nameField(item) ?? key, depth + 1);
      return;
    }
    const record = value as Record<string, unknown>;
    const name = nameField(record) ?? key;
    if (name !== undefined && record['kind'] === 'numeric' && typeof record['mean'] === 'number') {
      const count = typeof record['count'] === 'number' ? record['count'] : 0;
      const m2 = typeof record['m2'] === 'number' ? record['m2'] : Number.NaN;
      const std =
        typeof record['std'] === 'number' ? record['std'] : count > 0 ? Math.sqrt(m2 / count) : Number.NaN;
      numeric[name] = { mean: record['mean'], std };
      return;
    }
    if (name !== undefined && record['kind'] === 'categorical' && Array.isArray(record['categories'])) {
      categorical[name] = (record['categories'] as unknown[]).filter(
        (c): c is string => typeof c === 'string',
      );
      return;
    }
    // `{kind, profile}` wrappers (the monitor's layout: features.<name> = {kind, profile}) keep
    // the feature's name from the level above.
    for (const [k, v] of Object.entries(record))
      visit(v, nameField(record) ?? (k === 'profile' ? key : k), depth + 1);
  };
  visit(profileJson, undefined, 0);
  return { numeric, categorical };
}

function nameField(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const name = record['name'] ?? record['feature'];
  return typeof name === 'string' ? name : undefined;
}
