/** Relative comparison helpers for the statistics tests. */
import assert from 'node:assert/strict';

/** |actual - expected| / |expected|, or the absolute difference when expected is 0. */
export function relativeError(actual: number, expected: number): number {
  if (actual === expected) return 0;
  if (expected === 0) return Math.abs(actual);
  return Math.abs(actual - expected) / Math.abs(expected);
}

/**
 * Asserts actual equals expected to a relative tolerance (absolute `floor` near zero). `expected`
 * null means R gave NA/NaN/Inf: the actual value must then be null or non-finite.
 */
export function assertClose(
  actual: number | null | undefined,
  expected: number | null,
  tolerance: number,
  what: string,
  floor = 1e-300,
): void {
  if (expected === null) {
    assert.ok(actual === null || actual === undefined || !Number.isFinite(actual), `${what}: expected NA from R, got ${actual}`);
    return;
  }
  assert.ok(typeof actual === 'number' && Number.isFinite(actual), `${what}: expected ${expected}, got ${actual}`);
  const error = Math.abs(actual - expected);
  assert.ok(
    error <= tolerance * Math.abs(expected) || error <= floor,
    `${what}: expected ${expected}, got ${actual} (relative error ${relativeError(actual, expected).toExponential(2)})`,
  );
}
