/**
 * The two dense linear-algebra routines the estimators need, on small matrices (tens to a
 * few hundred rows): a Cholesky solve for the ridge normal equations of the additive loss
 * models, and the cyclic Jacobi eigendecomposition of a symmetric matrix for PCA. Jacobi is
 * slower than LAPACK's tridiagonal methods but simple, and accurate to a few ulps of the
 * matrix norm in every eigenvalue (checked against numpy.linalg.eigh on fixtures).
 */

/** Solves A x = b for a symmetric positive-definite A (row-major, n × n). */
export function choleskySolve(a: readonly (readonly number[])[], b: readonly number[]): number[] {
  const n = b.length;
  const l: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    const ai = a[i] as readonly number[];
    const li = l[i] as number[];
    for (let j = 0; j <= i; j++) {
      const lj = l[j] as number[];
      let s = ai[j] as number;
      for (let k = 0; k < j; k++) s -= (li[k] as number) * (lj[k] as number);
      if (i === j) {
        if (!(s > 0)) throw new RangeError(`matrix is not positive definite (pivot ${s} at ${i})`);
        li[i] = Math.sqrt(s);
      } else {
        li[j] = s / (lj[j] as number);
      }
    }
  }
  const y = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    const li = l[i] as number[];
    let s = b[i] as number;
    for (let k = 0; k < i; k++) s -= (li[k] as number) * (y[k] as number);
    y[i] = s / (li[i] as number);
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i] as number;
    for (let k = i + 1; k < n; k++) s -= ((l[k] as number[])[i] as number) * (x[k] as number);
    x[i] = s / ((l[i] as number[])[i] as number);
  }
  return x;
}

export interface Eigen {
  /** Eigenvalues, descending. */
  readonly values: number[];
  /** vectors[i] is the unit eigenvector of values[i], its largest-magnitude entry positive. */
  readonly vectors: number[][];
}

const MAX_SWEEPS = 100;

/** Eigendecomposition of a symmetric matrix by cyclic Jacobi rotations. */
export function symmetricEigen(matrix: readonly (readonly number[])[]): Eigen {
  const n = matrix.length;
  const a = matrix.map((row, i) => {
    if (row.length !== n) throw new RangeError(`matrix row ${i} has ${row.length} entries, expected ${n}`);
    return [...row];
  });
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const x = (a[i] as number[])[j] as number;
      const y = (a[j] as number[])[i] as number;
      if (!Number.isFinite(x) || Math.abs(x - y) > 1e-12 * (Math.abs(x) + Math.abs(y) + 1e-300)) {
        throw new RangeError(`matrix is not symmetric and finite at (${i}, ${j}): ${x} vs ${y}`);
      }
    }
  }
  const v: number[][] = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)),
  );
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += ((a[i] as number[])[i] as number) ** 2;
      for (let j = i + 1; j < n; j++) off += ((a[i] as number[])[j] as number) ** 2;
    }
    if (off === 0 || off <= 1e-32 * diag) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) rotate(a, v, p, q);
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (x, y) => ((a[y] as number[])[y] as number) - ((a[x] as number[])[x] as number),
  );
  return {
    values: order.map((i) => (a[i] as number[])[i] as number),
    vectors: order.map((i) => orient(v.map((row) => row[i] as number))),
  };
}

/** One Jacobi rotation zeroing a[p][q] (Numerical Recipes §11.1 formulas). */
function rotate(a: number[][], v: number[][], p: number, q: number): void {
  const ap = a[p] as number[];
  const aq = a[q] as number[];
  const apq = ap[q] as number;
  if (apq === 0) return;
  const theta = ((aq[q] as number) - (ap[p] as number)) / (2 * apq);
  const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
  const c = 1 / Math.sqrt(t * t + 1);
  const s = t * c;
  const n = a.length;
  ap[p] = (ap[p] as number) - t * apq;
  aq[q] = (aq[q] as number) + t * apq;
  ap[q] = 0;
  aq[p] = 0;
  for (let r = 0; r < n; r++) {
    if (r === p || r === q) continue;
    const ar = a[r] as number[];
    const arp = ar[p] as number;
    const arq = ar[q] as number;
    const np = c * arp - s * arq;
    const nq = s * arp + c * arq;
    ar[p] = np;
    ap[r] = np;
    ar[q] = nq;
    aq[r] = nq;
  }
  for (let r = 0; r < n; r++) {
    const vr = v[r] as number[];
    const vrp = vr[p] as number;
    const vrq = vr[q] as number;
    vr[p] = c * vrp - s * vrq;
    vr[q] = s * vrp + c * vrq;
  }
}

/** Flips a vector so its largest-magnitude entry (the first such) is positive. */
function orient(vector: number[]): number[] {
  let best = 0;
  for (let i = 1; i < vector.length; i++) {
    if (Math.abs(vector[i] as number) > Math.abs(vector[best] as number)) best = i;
  }
  return (vector[best] as number) < 0 ? vector.map((x) => -x) : vector;
}
