/**
 * Feature columns of reference rows, as the estimators take them: one array per feature,
 * NaN (numeric) or null (categorical) for a missing value.
 */
export type FeatureColumn =
  | { readonly name: string; readonly kind: 'numeric'; readonly values: ArrayLike<number> }
  | { readonly name: string; readonly kind: 'categorical'; readonly values: readonly (string | null)[] };

export function checkColumns(columns: readonly FeatureColumn[], rows: number, what: string): void {
  const names = new Set<string>();
  for (const c of columns) {
    if (names.has(c.name)) throw new RangeError(`${what}: feature ${c.name} is given twice`);
    names.add(c.name);
    if (c.values.length !== rows) {
      throw new RangeError(
        `${what}: feature ${c.name} has ${c.values.length} values, expected ${rows} (one per row)`,
      );
    }
    if (c.kind === 'numeric') {
      for (let i = 0; i < rows; i++) {
        const v = c.values[i] as number;
        if (v === Infinity || v === -Infinity) {
          throw new RangeError(`${what}: feature ${c.name} row ${i} is ${v}; pass NaN for a missing value`);
        }
      }
    }
  }
}

/**
 * The most frequent categories (ties by name), at most `max`: the vocabulary the models
 * keep. Missing values are not categories here.
 */
export function topCategories(
  values: readonly (string | null)[],
  max: number,
): { name: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts]
    .map(([name, count]) => ({ name, count }))
    .sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, max);
}
