/**
 * Seeded random numbers for tests and fixtures, so every run sees the same data: the ones the
 * demo's traffic uses (src/seeded-random.ts).
 *
 * Not scripts/detectors/random.ts: that one shifts them to `(x + 0.5) / 2^32` (never 0) and so gives
 * other sequences than the ones the test assertions were written against.
 */
export { seededRandom as rng, normal } from '../../kernel/seeded-random.js';
