/**
 * Divergences between two count (or share) vectors over the same bins/categories: PSI,
 * Jensen–Shannon distance, Hellinger distance, total variation distance. Inputs are raw
 * counts; they are normalised here so ClickHouse aggregates can be passed straight in.
 */

/** Default floor for empty bins in PSI (field practice); a share of 0 is replaced by it. */
export const PSI_EMPTY_BIN_FLOOR = 1e-4;

function total(counts: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < counts.length; i++) s += counts[i] as number;
  return s;
}

function assertSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) {
    throw new RangeError(
      `count vectors differ in length (${a.length} vs ${b.length}); bin both over the same edges`,
    );
  }
}

/**
 * PSI = Σ (r_i - c_i) ln(r_i / c_i) on shares, each share floored at `floor` (no
 * renormalisation after flooring). Always >= 0.
 */
export function psiFromCounts(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
  floor = PSI_EMPTY_BIN_FLOOR,
): number {
  assertSameLength(reference, current);
  const nr = total(reference);
  const nc = total(current);
  let psi = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = Math.max((reference[i] as number) / nr, floor);
    const c = Math.max((current[i] as number) / nc, floor);
    psi += (r - c) * Math.log(r / c);
  }
  return psi;
}

/**
 * Jensen–Shannon distance sqrt((KL(p||m) + KL(q||m)) / 2), m = (p + q) / 2, as
 * `scipy.spatial.distance.jensenshannon` (0·log 0 = 0). Max sqrt(ln 2) in base e, 1 in base 2.
 */
export function jensenShannonFromCounts(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
  base: 'e' | 2 = 'e',
): number {
  assertSameLength(reference, current);
  const nr = total(reference);
  const nc = total(current);
  let js = 0;
  for (let i = 0; i < reference.length; i++) {
    const p = (reference[i] as number) / nr;
    const q = (current[i] as number) / nc;
    const m = (p + q) / 2;
    if (p > 0) js += p * Math.log(p / m);
    if (q > 0) js += q * Math.log(q / m);
  }
  let value = js / 2;
  if (base === 2) value /= Math.LN2;
  // Rounding can leave a -1e-17 for identical inputs; the distance is >= 0 by definition.
  return Math.sqrt(Math.max(0, value));
}

/** Hellinger distance sqrt(1/2 Σ (√p - √q)^2), in [0, 1]. */
export function hellingerFromCounts(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  assertSameLength(reference, current);
  const nr = total(reference);
  const nc = total(current);
  let s = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = Math.sqrt((reference[i] as number) / nr) - Math.sqrt((current[i] as number) / nc);
    s += d * d;
  }
  return Math.sqrt(s / 2);
}

/** Total variation distance 1/2 Σ |p - q|, in [0, 1]. */
export function totalVariationFromCounts(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  assertSameLength(reference, current);
  const nr = total(reference);
  const nc = total(current);
  let s = 0;
  for (let i = 0; i < reference.length; i++) {
    s += Math.abs((reference[i] as number) / nr - (current[i] as number) / nc);
  }
  return s / 2;
}

export { total as sumCounts };
