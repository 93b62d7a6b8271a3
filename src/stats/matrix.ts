/**
 * The little dense linear algebra the Cox model needs: Cholesky factorisation of a symmetric
 * positive definite matrix, solving with it and inverting it. Matrices are arrays of rows.
 */

export type Matrix = number[][];

/** An n x n matrix of zeros. */
export function zeros(n: number): Matrix {
  return Array.from({ length: n }, () => new Array<number>(n).fill(0));
}

function at(m: Matrix, i: number, j: number): number {
  return (m[i] as number[])[j] as number;
}

/**
 * Lower-triangular L with L L' = a, or null when a is not numerically positive definite: a pivot
 * at or below `tolerance` times the largest diagonal element (R's coxph uses eps^0.75).
 */
export function cholesky(a: Matrix, tolerance = Math.pow(2.220446049250313e-16, 0.75)): Matrix | null {
  const n = a.length;
  const l = zeros(n);
  let largest = 0;
  for (let i = 0; i < n; i++) largest = Math.max(largest, Math.abs(at(a, i, i)));
  if (!(largest > 0)) return null;
  for (let j = 0; j < n; j++) {
    let pivot = at(a, j, j);
    for (let k = 0; k < j; k++) pivot -= at(l, j, k) ** 2;
    if (!(pivot > tolerance * largest)) return null;
    const diagonal = Math.sqrt(pivot);
    (l[j] as number[])[j] = diagonal;
    for (let i = j + 1; i < n; i++) {
      let sum = at(a, i, j);
      for (let k = 0; k < j; k++) sum -= at(l, i, k) * at(l, j, k);
      (l[i] as number[])[j] = sum / diagonal;
    }
  }
  return l;
}

/** Solves (L L') x = b for x. */
export function choleskySolve(l: Matrix, b: readonly number[]): number[] {
  const n = l.length;
  const y = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let sum = b[i] as number;
    for (let k = 0; k < i; k++) sum -= at(l, i, k) * (y[k] as number);
    y[i] = sum / at(l, i, i);
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i] as number;
    for (let k = i + 1; k < n; k++) sum -= at(l, k, i) * (x[k] as number);
    x[i] = sum / at(l, i, i);
  }
  return x;
}

/** (L L')^-1 from the Cholesky factor. */
export function choleskyInverse(l: Matrix): Matrix {
  const n = l.length;
  const inverse = zeros(n);
  for (let j = 0; j < n; j++) {
    const unit = new Array<number>(n).fill(0);
    unit[j] = 1;
    const column = choleskySolve(l, unit);
    for (let i = 0; i < n; i++) (inverse[i] as number[])[j] = column[i] as number;
  }
  return inverse;
}
