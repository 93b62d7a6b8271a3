import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DECIMAL_DIGITS, decimalRound } from '../../src/clinical/numeric.ts';

/** The definition: the shortest double of the value written with DECIMAL_DIGITS significant digits. */
const byText = (x: number): number => (!Number.isFinite(x) || x === 0 ? x : Number(x.toPrecision(DECIMAL_DIGITS)));

describe('decimalRound', () => {
  test('removes binary noise and keeps short decimals', () => {
    assert.equal(decimalRound(220 / 0.55), 400);
    assert.equal(decimalRound(0.1 + 0.2), 0.3);
    assert.equal(decimalRound(17.1 / 17.1), 1);
    assert.equal(decimalRound(1 / 3), 0.333333333333);
    assert.equal(decimalRound(150.00000000000003), 150);
    assert.ok(Object.is(decimalRound(-0), -0));
    assert.ok(Number.isNaN(decimalRound(Number.NaN)));
    assert.equal(decimalRound(Number.POSITIVE_INFINITY), Number.POSITIVE_INFINITY);
  });

  test('integers: unchanged up to twelve digits, rounded beyond (the fast path ends exactly there)', () => {
    for (const x of [1, -1, 4420, 999_999_999_999, -999_999_999_999]) assert.equal(decimalRound(x), x);
    assert.equal(decimalRound(1_000_000_000_000), 1e12);
    assert.equal(decimalRound(1_234_567_890_123), 1_234_567_890_120);
    assert.equal(decimalRound(-1_234_567_890_125), byText(-1_234_567_890_125));
    assert.equal(decimalRound(2 ** 53 + 2), byText(2 ** 53 + 2));
  });

  test('equals the text definition for any double and any integer', () => {
    fc.assert(fc.property(fc.double(), (x) => Object.is(decimalRound(x), byText(x))), { numRuns: 20_000 });
    fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), (x) => Object.is(decimalRound(x), byText(x))), { numRuns: 5_000 });
    fc.assert(fc.property(fc.maxSafeInteger(), (x) => Object.is(decimalRound(x), byText(x))), { numRuns: 5_000 });
  });
});
