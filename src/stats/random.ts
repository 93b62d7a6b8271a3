/**
 * Seeded pseudo-random numbers for Monte Carlo simulation and synthetic trials: xoshiro128**
 * (Blackman & Vigna 2018) seeded through splitmix32, so the same seed gives the same numbers on
 * every machine. Not for anything secret: randomisation lists use src/trial/drbg.ts.
 * Core code takes the generator as an argument (no global state).
 */

export interface Rng {
  /** Uniform on [0, 1) with 32 bits of resolution. */
  next(): number;
}

/** splitmix32 step: spreads a small seed over the 128-bit state. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** xoshiro128** with a 32-bit integer seed (any number is reduced to 32 bits). */
export function xoshiro128(seed: number): Rng {
  const init = { s: seed | 0 };
  let a = splitmix32(init);
  let b = splitmix32(init);
  let c = splitmix32(init);
  let d = splitmix32(init);
  if ((a | b | c | d) === 0) a = 1; // the all-zero state is a fixed point
  return {
    next(): number {
      const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
      const t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = rotl(d, 11);
      return result / 4294967296;
    },
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A standard normal draw (Box-Muller; 1 - u keeps the logarithm's argument in (0, 1]). */
export function normalDraw(rng: Rng, mean = 0, sd = 1): number {
  const u = 1 - rng.next();
  const v = rng.next();
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A whole number uniform on [min, max]. */
export function integerDraw(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng.next() * (max - min + 1));
}

/**
 * The binomial distribution's cumulative probabilities P(X <= k), k = 0..n, built outwards from
 * the mode with the pmf ratio recurrence (no factorials, no underflow at the mode) and normalised.
 */
export function binomialCdf(n: number, p: number): Float64Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`n must be a whole number >= 0, got ${n}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`p must be in [0, 1], got ${p}`);
  const pmf = binomialPmf(n, p);
  const cdf = new Float64Array(n + 1);
  let sum = 0;
  for (let k = 0; k <= n; k++) {
    sum += pmf[k] as number;
    cdf[k] = sum;
  }
  cdf[n] = 1;
  return cdf;
}

/** Binomial probabilities P(X = k), k = 0..n (normalised; exact 0/1 at p = 0 or 1). */
export function binomialPmf(n: number, p: number): Float64Array {
  const pmf = new Float64Array(n + 1);
  if (p === 0) {
    pmf[0] = 1;
    return pmf;
  }
  if (p === 1) {
    pmf[n] = 1;
    return pmf;
  }
  const mode = Math.min(n, Math.floor((n + 1) * p));
  pmf[mode] = 1;
  const odds = p / (1 - p);
  for (let k = mode; k < n; k++) pmf[k + 1] = (pmf[k] as number) * ((n - k) / (k + 1)) * odds;
  for (let k = mode; k > 0; k--) pmf[k - 1] = (pmf[k] as number) * (k / (n - k + 1)) / odds;
  let total = 0;
  for (let k = 0; k <= n; k++) total += pmf[k] as number;
  for (let k = 0; k <= n; k++) pmf[k] = (pmf[k] as number) / total;
  return pmf;
}

/** Draws from a distribution given by its CDF table (inversion by binary search). */
export function drawFromCdf(rng: Rng, cdf: Float64Array): number {
  const u = rng.next();
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cdf[mid] as number) > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Binomial draws with a fixed success probability p, by inversion with the CDF tables cached
 * per n: a simulation draws from the same few distributions millions of times.
 */
export class BinomialSampler {
  private readonly tables: Array<Float64Array | undefined> = [];
  private readonly rng: Rng;
  private readonly p: number;

  constructor(rng: Rng, p: number) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`p must be in [0, 1], got ${p}`);
    this.rng = rng;
    this.p = p;
  }

  draw(n: number): number {
    if (n === 0 || this.p === 0) return 0;
    if (this.p === 1) return n;
    let cdf = this.tables[n];
    if (cdf === undefined) {
      cdf = binomialCdf(n, this.p);
      this.tables[n] = cdf;
    }
    return drawFromCdf(this.rng, cdf);
  }
}
