/**
 * Fisher's exact test for a 2x2 table, two-sided, computed the way R's fisher.test does it:
 * conditional on all margins, the count in the top-left cell is hypergeometric; the two-sided P
 * is the total probability of the tables whose probability is at most that of the observed one,
 * "at most" allowing a relative tolerance of 1e-7 (R: relErr <- 1 + 10^(-7)) so that tables
 * exactly as probable as the observed one are not lost to rounding.
 */

/** A 2x2 table of counts [[a, b], [c, d]]: rows are arms, columns outcome yes/no. */
export type Table2x2 = readonly [readonly [number, number], readonly [number, number]];

/** R's fisher.test: d[x] * (1 + 1e-7) is the "as or more extreme" threshold. */
export const FISHER_RELATIVE_TOLERANCE = 1e-7;

function assertTable(table: Table2x2): void {
  for (const row of table) {
    for (const cell of row) {
      if (!Number.isSafeInteger(cell) || cell < 0) throw new RangeError(`2x2 table cells must be whole numbers >= 0, got ${cell}`);
    }
  }
}

/**
 * The hypergeometric distribution of the top-left cell given the margins, as probabilities over
 * its support lo..hi. Built by the ratio recurrence outwards from the mode (no factorials, so no
 * overflow for large trials), then normalised.
 */
export function hypergeometricSupport(table: Table2x2): { lo: number; probabilities: number[] } {
  assertTable(table);
  const [[a, b], [c, d]] = table;
  const m = a + c; // first column total
  const n = b + d; // second column total
  const k = a + b; // first row total
  const lo = Math.max(0, k - n);
  const hi = Math.min(k, m);
  const size = hi - lo + 1;
  const weights = new Array<number>(size).fill(0);
  const mode = Math.min(hi, Math.max(lo, Math.floor(((k + 1) * (m + 1)) / (m + n + 2))));
  weights[mode - lo] = 1;
  // P(x + 1) / P(x) = (m - x)(k - x) / ((x + 1)(n - k + x + 1))
  for (let x = mode; x < hi; x++) {
    weights[x + 1 - lo] = (weights[x - lo] as number) * (((m - x) * (k - x)) / ((x + 1) * (n - k + x + 1)));
  }
  for (let x = mode; x > lo; x--) {
    weights[x - 1 - lo] = (weights[x - lo] as number) * ((x * (n - k + x)) / ((m - x + 1) * (k - x + 1)));
  }
  let total = 0;
  for (const w of weights) total += w;
  return { lo, probabilities: weights.map((w) => w / total) };
}

/** Two-sided Fisher exact P for a 2x2 table (R: fisher.test(table)$p.value). */
export function fisherExactTwoSided(table: Table2x2): number {
  const { lo, probabilities } = hypergeometricSupport(table);
  const observed = probabilities[table[0][0] - lo] as number;
  const threshold = observed * (1 + FISHER_RELATIVE_TOLERANCE);
  let p = 0;
  for (const probability of probabilities) if (probability <= threshold) p += probability;
  return Math.min(1, p);
}
