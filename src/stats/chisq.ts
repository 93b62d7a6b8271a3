/**
 * Pearson's chi-square test of independence for an r x c table of counts, with Yates'
 * continuity correction available for 2x2 tables, computed as R's chisq.test does:
 * expected counts E = row total * column total / N; statistic sum((|O - E| - Y)^2 / E) with
 * Y = min(0.5, min |O - E|) when corrected (so the correction never flips the sign of a
 * deviation), else Y = 0; P from the chi-square distribution with (r - 1)(c - 1) df.
 */
import { chiSquareCdf } from './distributions.ts';

export interface ChiSquareTest {
  statistic: number;
  df: number;
  p: number;
  correction: 'yates' | 'none';
}

/**
 * The test, or null when it is undefined because a row or column total is zero (an expected
 * count of 0; R returns NaN there). `yates` applies only to 2x2 tables (as in R).
 */
export function chiSquareTest(table: readonly (readonly number[])[], options: { yates?: boolean } = {}): ChiSquareTest | null {
  const rows = table.length;
  const columns = table[0]?.length ?? 0;
  if (rows < 2 || columns < 2 || table.some((row) => row.length !== columns)) {
    throw new RangeError('chi-square test needs a rectangular table of at least 2 x 2');
  }
  for (const row of table) {
    for (const cell of row) if (!(Number.isFinite(cell) && cell >= 0)) throw new RangeError(`counts must be >= 0, got ${cell}`);
  }
  const rowTotals = table.map((row) => row.reduce((sum, x) => sum + x, 0));
  const columnTotals = Array.from({ length: columns }, (_, j) => table.reduce((sum, row) => sum + (row[j] as number), 0));
  const total = rowTotals.reduce((sum, x) => sum + x, 0);
  if (rowTotals.some((t) => t === 0) || columnTotals.some((t) => t === 0)) return null;
  const expected = rowTotals.map((r) => columnTotals.map((c) => (r * c) / total));
  const yates = options.yates === true && rows === 2 && columns === 2;
  let correction = 0;
  if (yates) {
    correction = 0.5;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < columns; j++) {
        correction = Math.min(correction, Math.abs((table[i]?.[j] as number) - (expected[i]?.[j] as number)));
      }
    }
  }
  let statistic = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < columns; j++) {
      const e = expected[i]?.[j] as number;
      const deviation = Math.abs((table[i]?.[j] as number) - e) - correction;
      statistic += (deviation * deviation) / e;
    }
  }
  const df = (rows - 1) * (columns - 1);
  return { statistic, df, p: chiSquareCdf(statistic, df, false), correction: yates ? 'yates' : 'none' };
}
