import {
  buildCategoricalReferenceProfile,
  buildNumericReferenceProfile,
  type CategoricalProfile,
  type NumericProfile,
} from '../../detectors/index.js';

/**
 * A model's reference: one profile per feature, built once from a sample (uploaded, or pulled
 * once from ClickHouse) with the detectors' profile builders, stored as JSON in
 * `reference_profiles`. Windows are later counted in ClickHouse over these profiles' grids.
 */

export type FeatureReference =
  | { readonly kind: 'numeric'; readonly profile: NumericProfile }
  | { readonly kind: 'categorical'; readonly profile: CategoricalProfile };

export interface ReferenceProfile {
  readonly version: 1;
  readonly source: string;
  readonly rows: number;
  readonly features: Readonly<Record<string, FeatureReference>>;
  /**
   * First and last event time of a sample pulled from the event store: segment slices pull the
   * same rows again and check them against it (absent for uploads and older profiles).
   */
  readonly sampleRangeMs?: { readonly firstMs: number; readonly lastMs: number };
  /** Predicted label shares (classification) — used as a drift feature `__prediction__`. */
}

/** One event of a reference sample: features by name (null = missing). */
export interface SampleRow {
  readonly features: Readonly<Record<string, number | string | null>>;
  /** Event tags segments can slice by (`version`), when the row came from the event store. */
  readonly tags?: Readonly<Record<string, string>>;
  /** Event time, when the row came from the event store. */
  readonly tsMs?: number;
}

export const PREDICTION_FEATURE = '__prediction__';

/**
 * Builds the profiles. A feature's kind comes from `kinds` when configured, else from the
 * sample: numeric when every present value is a number.
 */
export function buildReferenceProfile(
  rows: readonly SampleRow[],
  kinds: Readonly<Record<string, 'numeric' | 'categorical'>>,
  source: string,
): ReferenceProfile {
  const names = new Set<string>();
  for (const row of rows) for (const name of Object.keys(row.features)) names.add(name);
  const features: Record<string, FeatureReference> = {};
  for (const name of [...names].sort()) {
    const values = rows.map((row) => row.features[name] ?? null);
    const present = values.filter((v) => v !== null);
    const kind = kinds[name] ?? (present.every((v) => typeof v === 'number') ? 'numeric' : 'categorical');
    if (kind === 'numeric') {
      const numbers = values.map((v) => (typeof v === 'number' ? v : v === null ? null : Number(v)));
      features[name] = {
        kind,
        profile: buildNumericReferenceProfile(
          numbers.map((v) => (v === null || !Number.isFinite(v) ? null : v)),
        ),
      };
    } else {
      features[name] = {
        kind,
        profile: buildCategoricalReferenceProfile(values.map((v) => (v === null ? null : String(v)))),
      };
    }
  }
  let range: { firstMs: number; lastMs: number } | undefined;
  for (const { tsMs } of rows) {
    if (tsMs === undefined) {
      range = undefined;
      break;
    }
    range = {
      firstMs: Math.min(range?.firstMs ?? tsMs, tsMs),
      lastMs: Math.max(range?.lastMs ?? tsMs, tsMs),
    };
  }
  return { version: 1, source, rows: rows.length, features, ...(range ? { sampleRangeMs: range } : {}) };
}

/** Parses an uploaded sample: JSON lines (`{"features": {...}}` or a flat object) or CSV with a header. */
export function parseSample(text: string): SampleRow[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const records: unknown[] = trimmed.startsWith('[')
      ? (JSON.parse(trimmed) as unknown[])
      : trimmed
          .split('\n')
          .map((line) => line.trim())
          .filter((line) => line.length > 0)
          .map((line, i) => {
            try {
              return JSON.parse(line) as unknown;
            } catch (error) {
              throw new SampleError(`line ${i + 1} is not JSON: ${(error as Error).message}`);
            }
          });
    return records.map((record, i) => sampleRowOf(record, i + 1));
  }
  return parseCsv(text);
}

export class SampleError extends Error {
  override readonly name = 'SampleError';
}

function sampleRowOf(record: unknown, line: number): SampleRow {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new SampleError(`record ${line} is not an object`);
  }
  const object = record as Record<string, unknown>;
  const source =
    typeof object['features'] === 'object' && object['features'] !== null
      ? (object['features'] as Record<string, unknown>)
      : object;
  const features: Record<string, number | string | null> = {};
  for (const [key, value] of Object.entries(source)) {
    if (value === null || value === undefined) features[key] = null;
    else if (typeof value === 'number' && Number.isFinite(value)) features[key] = value;
    else if (typeof value === 'string' || typeof value === 'boolean') features[key] = String(value);
    else throw new SampleError(`record ${line}: feature "${key}" must be a number, string, boolean or null`);
  }
  return { features };
}

function parseCsv(text: string): SampleRow[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim().length > 0);
  const header = lines[0]?.split(',').map((h) => h.trim());
  if (header === undefined || header.length === 0) throw new SampleError('the CSV has no header line');
  return lines.slice(1).map((line, i) => {
    const cells = line.split(',');
    if (cells.length !== header.length) {
      throw new SampleError(`CSV line ${i + 2} has ${cells.length} cells, the header ${header.length}`);
    }
    const features: Record<string, number | string | null> = {};
    header.forEach((name, j) => {
      const cell = (cells[j] ?? '').trim();
      const number = Number(cell);
      features[name] = cell === '' ? null : Number.isFinite(number) ? number : cell;
    });
    return { features };
  });
}
