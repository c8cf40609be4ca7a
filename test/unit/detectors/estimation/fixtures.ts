/** Loads the fixtures written by scripts/estimation/gen-fixtures.py (numpy/scipy/sklearn). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { FeatureColumn } from '../../../../detectors/estimation/index.js';

const dir = fileURLToPath(new URL('../../../fixtures/estimation/', import.meta.url));

export function loadCases<T>(name: string): T[] {
  return (JSON.parse(readFileSync(dir + name, 'utf8')) as { cases: T[] }).cases;
}

/** |actual - expected| <= rel · |expected| + abs. */
export function expectClose(
  actual: number | undefined,
  expected: number | null | undefined,
  what: string,
  rel = 1e-9,
  abs = 1e-12,
): void {
  if (expected === null || expected === undefined) {
    expect(actual, what).toBeUndefined();
    return;
  }
  expect(actual, what).toBeDefined();
  const a = actual as number;
  expect(Math.abs(a - expected) <= rel * Math.abs(expected) + abs, `${what}: ${a} vs ${expected}`).toBe(true);
}

export function expectAllClose(
  actual: ArrayLike<number>,
  expected: readonly (number | null)[],
  what: string,
  rel = 1e-9,
  abs = 1e-12,
): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expectClose(actual[i], expected[i], `${what}[${i}]`, rel, abs);
}

export interface JsonColumn {
  name: string;
  kind: 'numeric' | 'categorical';
  values: (number | string | null)[];
}

/** JSON has no NaN: a missing numeric value is null in the fixtures. */
export function toColumn(c: JsonColumn): FeatureColumn {
  return c.kind === 'numeric'
    ? {
        name: c.name,
        kind: 'numeric',
        values: Float64Array.from(c.values, (v) => (v === null ? Number.NaN : (v as number))),
      }
    : { name: c.name, kind: 'categorical', values: c.values as (string | null)[] };
}
