/**
 * Normal and chi-square distribution functions, accurate to about 1e-13 relative in both tails
 * (checked against R's pnorm/qnorm/pchisq/qchisq in test/stats/distributions.test.ts).
 *
 * Method: everything goes through the regularized incomplete gamma functions P(a, x) and
 * Q(a, x) = 1 - P(a, x), evaluated by their power series when x < a + 1 and by Legendre's
 * continued fraction (modified Lentz) otherwise, so the smaller of P and Q is always computed
 * directly and never as 1 minus something close to 1 (Numerical Recipes 3rd ed. section 6.2;
 * Abramowitz & Stegun 6.5.29 and 6.5.31). The chi-square CDF with k degrees of freedom is
 * P(k/2, x/2); the normal tail is Phi(-z) = Q(1/2, z^2/2) / 2. Quantiles invert the CDFs by
 * Newton's method on the log scale (no underflow down to the smallest doubles) from the usual
 * starting approximations (A&S 26.2.23 for the normal, Wilson-Hilferty for the chi-square),
 * with bisection as a safeguard.
 */

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);
const EPSILON = 2.220446049250313e-16;
const TINY = 1e-300;

/**
 * ln Gamma(x) for x > 0. Integers and half-integers up to 171 come from the exact product
 * (chi-square degrees of freedom are almost always such); other values use Stirling's series
 * after shifting the argument above 15, where the series (to the x^-13 term) is accurate to
 * machine precision.
 */
export function logGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  if (x <= 171 && Number.isInteger(2 * x)) {
    if (Number.isInteger(x)) {
      let product = 1;
      for (let k = 2; k < x; k++) product *= k;
      return Math.log(product);
    }
    // Gamma(n + 1/2) = sqrt(pi) * (1/2)(3/2)...(n - 1/2)
    let product = 1;
    for (let k = 0.5; k < x; k++) product *= k;
    return Math.log(product) + LOG_SQRT_PI;
  }
  let shift = 0;
  let product = 1;
  let y = x;
  while (y < 15) {
    product *= y;
    y += 1;
    shift += 1;
  }
  const inv = 1 / y;
  const inv2 = inv * inv;
  // Bernoulli-number coefficients B_2k / (2k (2k - 1)) for k = 1..7.
  const series =
    inv *
    (1 / 12 +
      inv2 * (-1 / 360 + inv2 * (1 / 1260 + inv2 * (-1 / 1680 + inv2 * (1 / 1188 + inv2 * (-691 / 360360 + inv2 / 156))))));
  const stirling = (y - 0.5) * Math.log(y) - y + LOG_SQRT_2PI + series;
  return shift === 0 ? stirling : stirling - Math.log(product);
}

/** sum_n x^n / (a (a+1) ... (a+n)): P(a, x) = x^a e^-x / Gamma(a) * this (A&S 6.5.29). */
function gammaSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < 100000; n++) {
    term *= x / (a + n);
    sum += term;
    if (term < sum * EPSILON * 0.5) break;
  }
  return sum;
}

/**
 * Legendre's continued fraction 1 / (x + 1 - a - 1(1 - a) / (x + 3 - a - 2(2 - a) / ...)),
 * evaluated by the modified Lentz method: Q(a, x) = x^a e^-x / Gamma(a) * this (A&S 6.5.31).
 * Converges quickly for x >= a + 1.
 */
function gammaFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 100000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return h;
}

/** Logs of the regularized incomplete gamma functions P(a, x) and Q(a, x). */
export interface LogGammaTails {
  logP: number;
  logQ: number;
}

/** ln P(a, x) and ln Q(a, x) for a > 0, x >= 0. */
export function logRegularizedGamma(a: number, x: number): LogGammaTails {
  if (!(a > 0) || Number.isNaN(x)) return { logP: Number.NaN, logQ: Number.NaN };
  if (x <= 0) return { logP: Number.NEGATIVE_INFINITY, logQ: 0 };
  if (x === Number.POSITIVE_INFINITY) return { logP: 0, logQ: Number.NEGATIVE_INFINITY };
  const logPrefactor = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    const logP = Math.log(gammaSeries(a, x)) + logPrefactor;
    return { logP, logQ: Math.log1p(-Math.exp(logP)) };
  }
  const logQ = Math.log(gammaFraction(a, x)) + logPrefactor;
  return { logP: Math.log1p(-Math.exp(logQ)), logQ };
}

/** Regularized lower incomplete gamma P(a, x) (or Q(a, x) = 1 - P with lowerTail false). */
export function regularizedGamma(a: number, x: number, lowerTail = true): number {
  const tails = logRegularizedGamma(a, x);
  return Math.exp(lowerTail ? tails.logP : tails.logQ);
}

/** -z^2 / 2 with the square split so that its rounding error does not grow with z (as R does). */
function minusHalfSquare(z: number): { high: number; low: number } {
  const abs = Math.abs(z);
  const high = Math.trunc(abs * 16) / 16; // few significant bits: high * high is exact
  return { high: -0.5 * high * high, low: -0.5 * (abs - high) * (abs + high) };
}

/** Standard normal density. */
export function normalDensity(z: number): number {
  const square = minusHalfSquare(z);
  return Math.exp(square.high - LOG_SQRT_2PI) * Math.exp(square.low);
}

/**
 * Phi(x) through P(1/2, x^2/2) = erf(|x| / sqrt 2): with t = x^2 / 2 the prefactor
 * t^(1/2) e^-t / sqrt(pi) equals |x| phi(x), so Phi(x) = 1/2 (1 + sign(x) P) near the centre
 * and, in the tails (t >= 3/2), Phi(-|x|) = Q / 2 = |x| phi(x) h / 2 with h the continued
 * fraction. phi(x) is computed with the split square, so no relative accuracy is lost far out.
 */
function smallerNormalTail(x: number): number {
  return 0.5 * normalDensity(x) * Math.abs(x) * gammaFraction(0.5, 0.5 * x * x);
}

/** Standard normal CDF Phi(z), or its upper tail 1 - Phi(z) when lowerTail is false (R: pnorm). */
export function normalCdf(z: number, lowerTail = true): number {
  if (Number.isNaN(z)) return Number.NaN;
  const x = lowerTail ? z : -z; // the answer is Phi(x)
  if (x === Number.POSITIVE_INFINITY) return 1;
  if (x === Number.NEGATIVE_INFINITY) return 0;
  const t = 0.5 * x * x;
  if (t < 1.5) {
    const centralMass = normalDensity(x) * Math.abs(x) * gammaSeries(0.5, t);
    return x < 0 ? 0.5 - 0.5 * centralMass : 0.5 + 0.5 * centralMass;
  }
  return x < 0 ? smallerNormalTail(x) : 1 - smallerNormalTail(x);
}

/** ln Phi(z) (lowerTail) or ln(1 - Phi(z)); finite far beyond where Phi underflows. */
export function logNormalCdf(z: number, lowerTail = true): number {
  if (Number.isNaN(z)) return Number.NaN;
  const x = lowerTail ? z : -z;
  if (x === Number.POSITIVE_INFINITY) return 0;
  if (x === Number.NEGATIVE_INFINITY) return Number.NEGATIVE_INFINITY;
  const t = 0.5 * x * x;
  if (t >= 1.5) {
    if (x > 0) return Math.log1p(-smallerNormalTail(x));
    const square = minusHalfSquare(x);
    return square.high + square.low - LOG_SQRT_2PI + Math.log(0.5 * Math.abs(x) * gammaFraction(0.5, t));
  }
  return Math.log(normalCdf(x));
}

/** Starting point for the normal quantile, |error| < 4.5e-4 (A&S 26.2.23), for 0 < p <= 0.5. */
function normalQuantileGuess(logP: number): number {
  const t = Math.sqrt(-2 * logP);
  return -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t));
}

/** The z <= 0 with Phi(z) = p, for 0 < p <= 0.5: Newton's method on ln Phi. */
function lowerHalfNormalQuantile(p: number): number {
  if (p === 0.5) return 0;
  const logTarget = Math.log(p);
  let z = normalQuantileGuess(logTarget);
  for (let iteration = 0; iteration < 100; iteration++) {
    const logCdf = logNormalCdf(z);
    // d/dz ln Phi(z) = phi(z) / Phi(z), computed on the log scale (no underflow in the tails).
    const square = minusHalfSquare(z);
    const logSlope = square.high + square.low - LOG_SQRT_2PI - logCdf;
    const step = (logCdf - logTarget) / Math.exp(logSlope);
    z -= step;
    if (!(Math.abs(step) > 1e-15 * Math.max(1, Math.abs(z)))) break;
  }
  // One Halley correction on the plain scale near the centre, where ln Phi is nearly flat in
  // relative terms and the log-scale Newton stops at absolute (not relative) accuracy.
  if (Math.abs(z) < 1) {
    const f = normalCdf(z) - p;
    const step = f / normalDensity(z);
    z -= step / (1 + (z * step) / 2);
  }
  return z;
}

/** Standard normal quantile (R: qnorm): Phi(z) = p, or 1 - Phi(z) = p when lowerTail is false. */
export function normalQuantile(p: number, lowerTail = true): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  // Upper-tail probability p at z is the lower-tail probability p at -z.
  const sign = lowerTail ? 1 : -1;
  if (p === 0) return -sign * Number.POSITIVE_INFINITY;
  if (p === 1) return sign * Number.POSITIVE_INFINITY;
  // 1 - p is exact for p in [0.5, 1] (Sterbenz), so no accuracy is lost by reflecting.
  return p <= 0.5 ? sign * lowerHalfNormalQuantile(p) : -sign * lowerHalfNormalQuantile(1 - p);
}

/** Chi-square CDF with df degrees of freedom (R: pchisq); the upper tail when lowerTail is false. */
export function chiSquareCdf(x: number, df: number, lowerTail = true): number {
  if (!(df > 0) || Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return lowerTail ? 0 : 1;
  return regularizedGamma(df / 2, x / 2, lowerTail);
}

/**
 * Chi-square quantile (R: qchisq). Solves ln P(df/2, y) = ln p (or the Q tail, whichever is the
 * smaller probability) by Newton's method in u = ln y, keeping a bracket and bisecting when a
 * Newton step leaves it.
 */
export function chiSquareQuantile(p: number, df: number, lowerTail = true): number {
  if (Number.isNaN(p) || p < 0 || p > 1 || !(df > 0)) return Number.NaN;
  const lower = lowerTail ? p : 1 - p; // lower-tail probability (used for the guess and the limits)
  if (lower === 0) return 0;
  if (lower === 1) return Number.POSITIVE_INFINITY;
  const a = df / 2;
  // Work on the smaller tail: the lower one when its probability is <= 1/2.
  const useLower = lowerTail ? p <= 0.5 : p > 0.5;
  const target = useLower ? (lowerTail ? p : 1 - p) : lowerTail ? 1 - p : p;
  const logTarget = Math.log(target);

  // Starting point: Wilson-Hilferty, or the small-x series P(a, y) ~ y^a / Gamma(a + 1).
  const z = normalQuantile(lower);
  const h = 2 / (9 * df);
  let x0 = df * Math.pow(1 - h + z * Math.sqrt(h), 3);
  const smallX = 2 * Math.exp((Math.log(lower) + logGamma(a + 1)) / a);
  if (!(x0 > 0) || (lower < 0.1 && smallX < x0)) x0 = smallX;
  let u = Math.log(x0 / 2);

  let lowU = Number.NEGATIVE_INFINITY;
  let highU = Number.POSITIVE_INFINITY;
  for (let iteration = 0; iteration < 300; iteration++) {
    const y = Math.exp(u);
    const tails = logRegularizedGamma(a, y);
    const logTail = useLower ? tails.logP : tails.logQ;
    const f = logTail - logTarget; // increasing in u for the lower tail, decreasing for the upper
    const rising = useLower ? f > 0 : f < 0;
    if (rising) highU = Math.min(highU, u);
    else lowU = Math.max(lowU, u);
    if (f === 0) break;
    // d ln P / du = y * density / P, density = y^(a-1) e^-y / Gamma(a).
    const logDensityTimesY = a * u - y - logGamma(a);
    const slope = Math.exp(logDensityTimesY - logTail) * (useLower ? 1 : -1);
    let next = u - f / slope;
    if (!Number.isFinite(next) || next <= lowU || next >= highU) {
      if (Number.isFinite(lowU) && Number.isFinite(highU)) next = (lowU + highU) / 2;
      else next = u + (rising ? -1 : 1); // no bracket yet: walk one e-fold towards the root
    }
    const step = next - u;
    u = next;
    if (Math.abs(step) < 4 * EPSILON * Math.max(1, Math.abs(u))) break;
  }
  return 2 * Math.exp(u);
}
