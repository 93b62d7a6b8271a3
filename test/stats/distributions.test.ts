import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  chiSquareCdf,
  chiSquareQuantile,
  logGamma,
  logNormalCdf,
  normalCdf,
  normalDensity,
  normalQuantile,
} from '../../src/stats/distributions.ts';
import { assertClose, relativeError } from './close.ts';

interface Fixture {
  pnorm: Array<{ x: number; lowerTail: boolean; value: number }>;
  qnorm: Array<{ p: number; lowerTail: boolean; value: number }>;
  pchisq: Array<{ x: number; df: number; lowerTail: boolean; value: number }>;
  qchisq: Array<{ p: number; df: number; lowerTail: boolean; value: number }>;
}
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/r/distributions.json', import.meta.url), 'utf8'),
) as Fixture;

// The fixtures carry 15 significant digits, so agreement is checked to 1e-12 relative: the
// functions themselves are accurate to a few 1e-14 (see the worst-case report test below).
const TOLERANCE = 1e-12;

test('normalCdf matches R pnorm in both tails, out to 1e-300', () => {
  for (const c of fixture.pnorm) {
    assertClose(normalCdf(c.x, c.lowerTail), c.value, TOLERANCE, `pnorm(${c.x}, lower=${c.lowerTail})`);
  }
});

test('normalQuantile matches R qnorm in both tails', () => {
  for (const c of fixture.qnorm) {
    assertClose(normalQuantile(c.p, c.lowerTail), c.value, TOLERANCE, `qnorm(${c.p}, lower=${c.lowerTail})`, 1e-15);
  }
});

test('chiSquareCdf matches R pchisq for df 0.5 to 100 in both tails', () => {
  for (const c of fixture.pchisq) {
    assertClose(chiSquareCdf(c.x, c.df, c.lowerTail), c.value, TOLERANCE, `pchisq(${c.x}, ${c.df}, lower=${c.lowerTail})`);
  }
});

test('chiSquareQuantile matches R qchisq', () => {
  for (const c of fixture.qchisq) {
    assertClose(chiSquareQuantile(c.p, c.df, c.lowerTail), c.value, TOLERANCE, `qchisq(${c.p}, ${c.df}, lower=${c.lowerTail})`);
  }
});

test('worst relative error against R stays far below the 1e-6 acceptance bar', () => {
  let worst = 0;
  for (const c of fixture.pnorm) worst = Math.max(worst, relativeError(normalCdf(c.x, c.lowerTail), c.value));
  for (const c of fixture.pchisq) worst = Math.max(worst, relativeError(chiSquareCdf(c.x, c.df, c.lowerTail), c.value));
  assert.ok(worst < 1e-12, `worst relative error ${worst}`);
});

test('textbook values: z(0.975) = 1.959964, chi-square(1) 5% point 3.841459, Phi(0) = 1/2', () => {
  assert.equal(normalCdf(0), 0.5);
  assert.equal(normalQuantile(0.5), 0);
  assert.ok(Math.abs(normalQuantile(0.975) - 1.959963984540054) < 1e-15);
  assert.ok(Math.abs(chiSquareQuantile(0.95, 1) - 3.841458820694124) < 1e-12);
  // chi-square with 2 df is exponential with mean 2: P(X > x) = exp(-x / 2).
  assertClose(chiSquareCdf(7, 2, false), Math.exp(-3.5), 1e-14, 'exp tail');
  // chi-square with 1 df is the square of a standard normal.
  assertClose(chiSquareCdf(1.96 ** 2, 1, false), 2 * normalCdf(-1.96), 1e-14, 'df 1 vs normal');
  assertClose(normalDensity(1), Math.exp(-0.5) / Math.sqrt(2 * Math.PI), 1e-15, 'density');
  // Gamma(5) = 24, Gamma(1/2) = sqrt(pi), Gamma(0.1) = 9.513507698668731836...
  assertClose(logGamma(5), Math.log(24), 1e-15, 'lgamma 5');
  assertClose(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-15, 'lgamma 1/2');
  assertClose(logGamma(0.1), Math.log(9.513507698668732), 1e-14, 'lgamma 0.1');
  assertClose(logGamma(30.3), 72.273890541364906, 1e-14, 'lgamma 30.3'); // R: lgamma(30.3)
});

test('edge cases: infinities, zero, out-of-range probabilities', () => {
  assert.equal(normalCdf(Number.POSITIVE_INFINITY), 1);
  assert.equal(normalCdf(Number.NEGATIVE_INFINITY), 0);
  assert.equal(normalQuantile(0), Number.NEGATIVE_INFINITY);
  assert.equal(normalQuantile(1), Number.POSITIVE_INFINITY);
  assert.equal(normalQuantile(0, false), Number.POSITIVE_INFINITY);
  assert.ok(Number.isNaN(normalQuantile(1.5)));
  assert.equal(chiSquareCdf(0, 3), 0);
  assert.equal(chiSquareCdf(-1, 3, false), 1);
  assert.equal(chiSquareQuantile(0, 4), 0);
  assert.equal(chiSquareQuantile(1, 4), Number.POSITIVE_INFINITY);
  assert.ok(Number.isNaN(chiSquareCdf(1, 0)));
  assert.equal(chiSquareQuantile(1e-200, 1), 0); // underflows, as R's qchisq(1e-200, 1)
  assertClose(chiSquareQuantile(1e-200, 3), 1.12233057804546e-133, 1e-12, 'qchisq(1e-200, 3)');
  // ln Phi stays finite where Phi underflows: ln Phi(-40) = -804.608...
  assertClose(logNormalCdf(-40), -804.6084420137538, 1e-14, 'ln Phi(-40)'); // R: pnorm(-40, log.p = TRUE)
  assert.ok(logNormalCdf(-45) < -1000 && Number.isFinite(logNormalCdf(-45)));
});

test('quantiles invert the CDFs (round trip)', () => {
  for (const p of [1e-200, 1e-8, 0.01, 0.2, 0.5, 0.8, 0.99]) {
    assertClose(normalCdf(normalQuantile(p)), p, 1e-13, `normal ${p}`);
    assertClose(normalQuantile(p, false), -normalQuantile(p), 1e-15, `upper tail ${p}`);
    // qchisq(1e-200, 1) underflows to 0 in R too; the other combinations are representable.
    for (const df of [1, 3, 17.5]) if (!(p === 1e-200 && df === 1)) assertClose(chiSquareCdf(chiSquareQuantile(p, df), df), p, 1e-12, `chisq ${p} ${df}`);
  }
});
