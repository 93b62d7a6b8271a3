/**
 * Decimal-robust arithmetic for threshold decisions.
 *
 * Clinical inputs and thresholds are short decimals (4420 ng/mL, 17.1 umol/L per mg/dL, 15 %),
 * but binary floating point cannot represent most of them exactly: 17.1 umol/L converted to
 * mg/dL gives 0.9999999999999998 and 150 x 10^9/L gives 150.00000000000003 x 10^3/uL. Compared
 * as is, a value that is exactly on a threshold in decimal could land a hair on the wrong side.
 *
 * Derived quantities (unit conversions, ratios, percentages) are therefore rounded to
 * DECIMAL_DIGITS significant digits before any comparison. Twelve digits remove the binary
 * noise (about 1e-16 relative) while staying far below the resolution of any clinical assay
 * (at most 4-5 significant digits), so no real measurement is moved across a threshold.
 */
export const DECIMAL_DIGITS = 12;

/** Integers below this in magnitude have at most DECIMAL_DIGITS digits. */
const MAX_EXACT_INTEGER = 10 ** DECIMAL_DIGITS;

/** `x` rounded to DECIMAL_DIGITS significant digits; non-finite values and 0 unchanged. */
export function decimalRound(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  // An integer of at most DECIMAL_DIGITS digits is its own rounding (most urine volumes, many
  // conversions): spared the text round trip, the costly part.
  if (Number.isInteger(x) && x < MAX_EXACT_INTEGER && x > -MAX_EXACT_INTEGER) return x;
  return Number(x.toPrecision(DECIMAL_DIGITS));
}


/**
 * A number as text, exactly as stored (shortest round-trip representation, never rounded for
 * display), so that a printed comparison never misrepresents the decision: 4420.4 prints as
 * "4420.4", not "4420".
 */
export function formatExact(x: number): string {
  return Object.is(x, -0) ? '0' : String(x);
}
