/** Loads the scipy/numpy reference fixtures written by scripts/detectors/gen-fixtures.py. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../../fixtures/detectors/', import.meta.url));

export function loadFixture<T>(name: string): T[] {
  const parsed = JSON.parse(readFileSync(dir + name, 'utf8')) as { cases: T[] };
  return parsed.cases;
}

/** |actual - expected| <= rel * |expected| + abs (abs covers expected values of 0). */
export function closeTo(actual: number | undefined, expected: number, rel = 1e-9, abs = 1e-12): boolean {
  if (actual === undefined) return false;
  if (actual === expected) return true;
  return Math.abs(actual - expected) <= rel * Math.abs(expected) + abs;
}

export interface NumericCase {
  id: string;
  note: string;
  reference: number[];
  current: number[];
  ks: { statistic: number; pvalue: number; method: 'exact' | 'asymptotic' };
  cvm: { statistic: number; pvalue: number; method: 'exact' | 'asymptotic' } | null;
  wasserstein: number;
  wasserstein_normalized: number;
  energy: number;
  bins: {
    edges: number[];
    reference_counts: number[];
    current_counts: number[];
    psi: number;
    js_e: number;
    js_2: number;
    hellinger: number;
  };
}
