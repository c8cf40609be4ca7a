/** Jacobi eigendecomposition against numpy.linalg.eigh; Cholesky solve. */
import { describe, expect, it } from 'vitest';
import { choleskySolve, symmetricEigen } from '../../../../detectors/estimation/index.js';
import { expectClose, loadCases } from './fixtures.js';

interface EigenCase {
  id: string;
  matrix: number[][];
  values: number[];
  vectors: number[][];
}

describe('symmetricEigen matches numpy.linalg.eigh', () => {
  const cases = loadCases<EigenCase>('eigen-cases.json');
  it.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const { values, vectors } = symmetricEigen(c.matrix);
    const norm = Math.max(...c.values.map(Math.abs), 1e-300);
    values.forEach((v, i) => expectClose(v, c.values[i], `λ${i}`, 0, 1e-12 * norm));
    const d = c.matrix.length;
    // Eigenvectors are unique up to sign only where the eigenvalue is well separated.
    for (let i = 0; i < d; i++) {
      const gap = Math.min(
        ...c.values.filter((_, j) => j !== i).map((v) => Math.abs(v - (c.values[i] as number))),
        Infinity,
      );
      if (gap < 1e-6 * norm) continue;
      const dot = (vectors[i] as number[]).reduce(
        (s, x, k) => s + x * ((c.vectors[i] as number[])[k] as number),
        0,
      );
      expect(Math.abs(Math.abs(dot) - 1), `vector ${i}`).toBeLessThan(1e-9);
    }
    // V Λ Vᵀ rebuilds the matrix; V is orthonormal.
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) {
        let rebuilt = 0;
        let gram = 0;
        for (let k = 0; k < d; k++) {
          rebuilt +=
            (values[k] as number) *
            ((vectors[k] as number[])[a] as number) *
            ((vectors[k] as number[])[b] as number);
          gram += ((vectors[a] as number[])[k] as number) * ((vectors[b] as number[])[k] as number);
        }
        expect(Math.abs(rebuilt - ((c.matrix[a] as number[])[b] as number))).toBeLessThan(1e-12 * norm * d);
        expect(Math.abs(gram - (a === b ? 1 : 0))).toBeLessThan(1e-12 * d);
      }
    }
  });

  it('refuses a matrix that is not symmetric', () => {
    expect(() =>
      symmetricEigen([
        [1, 2],
        [3, 4],
      ]),
    ).toThrow(/not symmetric and finite at \(1, 0\)/);
    expect(() => symmetricEigen([[1, 2]])).toThrow(/row 0 has 2 entries, expected 1/);
  });
});

describe('choleskySolve', () => {
  it('solves a positive-definite system and refuses one that is not', () => {
    const a = [
      [4, 2, 0.6],
      [2, 5, 1],
      [0.6, 1, 3],
    ];
    const x = choleskySolve(a, [1, 2, 3]);
    a.forEach((row, i) =>
      expect(Math.abs(row.reduce((s, v, k) => s + v * (x[k] as number), 0) - [1, 2, 3][i]!)).toBeLessThan(
        1e-14,
      ),
    );
    expect(() =>
      choleskySolve(
        [
          [1, 2],
          [2, 1],
        ],
        [1, 1],
      ),
    ).toThrow(/not positive definite/);
  });
});
