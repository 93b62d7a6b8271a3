/**
 * Power and sample size of the primary comparison (responder proportions, active vs placebo)
 * by Monte Carlo simulation of whole trials, with exact and analytic references:
 *
 * - simulatePower: N patients randomised 1:1 (within each biomarker stratum when per-stratum
 *   rates are given), each lost to the analysis with probability `dropout`, responders drawn
 *   per arm (and stratum); the trial "succeeds" when the two-sided test of the pooled 2x2 table
 *   gives P <= alpha. Power = share of successful replicates, with a Wilson 95% Monte Carlo CI.
 * - exactPower: the same probability computed by enumerating every 2x2 outcome (no
 *   simulation error), for fixed arm sizes or mixed over the dropout distribution.
 * - powerPropTest / powerPropTestN: the normal-approximation formula of R's power.prop.test
 *   (strict = FALSE), the usual planning calculation, and Fleiss' continuity correction.
 *
 * The tests are exactly those of the analysis (analysis.ts): Fisher's exact test as R's
 * fisher.test (two-sided, 1e-7 relative tolerance), Pearson's chi-square without or with
 * Yates' correction as R's chisq.test. A table with an empty margin has no chi-square P
 * (R: NaN) and counts as not significant.
 */
import { type Result, err, ok } from '../clinical/types.ts';
import { chiSquareCdf, normalCdf, normalQuantile } from './distributions.ts';
import { FISHER_RELATIVE_TOLERANCE, hypergeometricSupport } from './fisher.ts';
import { type Interval, wilsonInterval } from './proportions.ts';
import { BinomialSampler, binomialPmf, xoshiro128 } from './random.ts';

export const POWER_TESTS = ['fisher', 'chisq', 'chisq-yates'] as const;
export type PowerTest = (typeof POWER_TESTS)[number];

export const POWER_TEST_LABELS: Record<PowerTest, string> = {
  fisher: "Fisher's exact test, two-sided",
  chisq: 'Pearson chi-square test without continuity correction',
  'chisq-yates': "chi-square test with Yates' continuity correction",
};

/** One biomarker stratum: its share of the randomised patients and its responder rates. */
export interface StratumScenario {
  name: string;
  /** Relative weight (e.g. the class prevalence among screened patients); normalised over strata. */
  prevalence: number;
  treated: number;
  control: number;
}

export interface PowerScenario {
  /** Responder probability in the active and the placebo arm (used when `strata` is absent). */
  treated: number;
  control: number;
  /** Per-stratum rates; when given they replace `treated`/`control`. */
  strata?: readonly StratumScenario[];
  /** Probability that a randomised patient is not analysed (withdrawn, lost). */
  dropout: number;
  alpha: number;
  test: PowerTest;
}

export interface PowerEstimate {
  /** Patients randomised (both arms). */
  n: number;
  replicates: number;
  rejections: number;
  power: number;
  /** Wilson 95% interval of the power: the Monte Carlo uncertainty. */
  ci95: Interval;
  /** Monte Carlo standard error sqrt(power (1 - power) / replicates). */
  monteCarloSe: number;
  /** Mean number of analysed patients per replicate. */
  meanAnalysed: number;
}

export function checkScenario(s: PowerScenario): Result<PowerScenario, string> {
  const probability = (x: number) => typeof x === 'number' && x >= 0 && x <= 1;
  if (s.strata === undefined || s.strata.length === 0) {
    if (!probability(s.treated) || !probability(s.control)) return err('responder rates must be probabilities in [0, 1]');
  } else {
    for (const st of s.strata) {
      if (!probability(st.treated) || !probability(st.control)) return err(`stratum ${st.name}: responder rates must be in [0, 1]`);
      if (!(st.prevalence > 0 && Number.isFinite(st.prevalence))) return err(`stratum ${st.name}: prevalence must be > 0`);
    }
  }
  if (!(s.dropout >= 0 && s.dropout < 1)) return err('dropout must be in [0, 1)');
  if (!(s.alpha > 0 && s.alpha < 1)) return err('alpha must be in (0, 1)');
  if (!(POWER_TESTS as readonly string[]).includes(s.test)) return err(`test must be one of ${POWER_TESTS.join(', ')}`);
  return ok(s);
}

// ---------------------------------------------------------------------------------------------
// The test decision on a 2x2 table
// ---------------------------------------------------------------------------------------------

/**
 * Whether a 2x2 outcome (x1 of n1 responders vs x2 of n2) is significant at alpha. Fisher's
 * rejection regions are computed once per margin (n1, n2, x1 + x2) and cached.
 */
export class TestDecision {
  /** Fisher regions by (n1, n2), then by m = x1 + x2. */
  private readonly fisherRegions = new Map<number, Array<Uint8Array | undefined>>();
  private readonly test: PowerTest;
  private readonly alpha: number;

  constructor(test: PowerTest, alpha: number) {
    this.test = test;
    this.alpha = alpha;
  }

  rejects(x1: number, n1: number, x2: number, n2: number): boolean {
    if (this.test === 'fisher') return this.fisherRegion(n1, n2, x1 + x2)[x1 - Math.max(0, x1 + x2 - n2)] === 1;
    const p = chiSquare2x2P(x1, n1, x2, n2, this.test === 'chisq-yates');
    return p !== null && p <= this.alpha;
  }

  /** The rejection flags of x1 = max(0, m - n2) .. min(m, n1) for margins n1, n2, m. */
  fisherRegion(n1: number, n2: number, m: number): Uint8Array {
    if (n1 >= 32768 || n2 >= 32768) throw new RangeError('arm sizes of 32768 or more are not supported');
    const key = n1 * 32768 + n2; // below 2^30: a small integer key
    let byMargin = this.fisherRegions.get(key);
    if (byMargin === undefined) {
      byMargin = [];
      this.fisherRegions.set(key, byMargin);
    }
    let region = byMargin[m];
    if (region === undefined) {
      region = fisherRegion(n1, n2, m, this.alpha);
      byMargin[m] = region;
    }
    return region;
  }
}

/**
 * For margins n1, n2 and m responders in total: 1 for each x1 (from max(0, m - n2)) whose
 * two-sided Fisher P is <= alpha. R's P for x is the sum of the probabilities q of the support
 * with q <= P(x) (1 + 1e-7); with the probabilities sorted, that is a prefix sum, so all the
 * P values of a margin take O(k log k) instead of O(k^2).
 */
function fisherRegion(n1: number, n2: number, m: number, alpha: number): Uint8Array {
  const lo = Math.max(0, m - n2);
  const { probabilities } = hypergeometricSupport([
    [lo, n1 - lo],
    [m - lo, n2 - (m - lo)],
  ]);
  const k = probabilities.length;
  const sorted = Float64Array.from(probabilities).sort();
  const prefix = new Float64Array(k);
  let sum = 0;
  for (let i = 0; i < k; i++) {
    sum += sorted[i] as number;
    prefix[i] = sum;
  }
  const region = new Uint8Array(k);
  for (let i = 0; i < k; i++) {
    const threshold = (probabilities[i] as number) * (1 + FISHER_RELATIVE_TOLERANCE);
    // Last index with sorted[j] <= threshold (there is one: the probability itself).
    let a = 0;
    let b = k - 1;
    while (a < b) {
      const mid = (a + b + 1) >>> 1;
      if ((sorted[mid] as number) <= threshold) a = mid;
      else b = mid - 1;
    }
    region[i] = Math.min(1, prefix[a] as number) <= alpha ? 1 : 0;
  }
  return region;
}

/**
 * Pearson chi-square P of the 2x2 table [[x1, n1 - x1], [x2, n2 - x2]], optionally with Yates'
 * correction (R's chisq.test: the correction is min(0.5, |O - E|)); null when a margin is 0.
 * For a 2x2 table every |O - E| equals |ad - bc| / N and sum(1 / E) = N^3 / (r1 r2 c1 c2).
 */
export function chiSquare2x2P(x1: number, n1: number, x2: number, n2: number, yates: boolean): number | null {
  const total = n1 + n2;
  const c1 = x1 + x2;
  const c2 = total - c1;
  if (n1 === 0 || n2 === 0 || c1 === 0 || c2 === 0) return null;
  const deviation = Math.abs(x1 * (n2 - x2) - (n1 - x1) * x2) / total;
  const corrected = yates ? deviation - Math.min(0.5, deviation) : deviation;
  const statistic = (corrected * corrected * total * total * total) / (n1 * n2 * c1 * c2);
  return chiSquareCdf(statistic, 1, false);
}

// ---------------------------------------------------------------------------------------------
// Monte Carlo
// ---------------------------------------------------------------------------------------------

export interface SimulationOptions {
  replicates: number;
  seed: number;
}

/**
 * Power of a trial randomising `n` patients, by simulation. The same seed gives the same
 * replicates (common random numbers across n, so a power curve is smooth).
 */
export function simulatePower(scenario: PowerScenario, n: number, options: SimulationOptions, decision?: TestDecision): PowerEstimate {
  if (!Number.isSafeInteger(n) || n < 2) throw new RangeError(`n must be a whole number >= 2, got ${n}`);
  if (!Number.isSafeInteger(options.replicates) || options.replicates < 1) throw new RangeError('replicates must be a positive whole number');
  const rng = xoshiro128(options.seed);
  const test = decision ?? new TestDecision(scenario.test, scenario.alpha);
  const retained = new BinomialSampler(rng, 1 - scenario.dropout);
  const strata = scenario.strata !== undefined && scenario.strata.length > 0 ? normalisedStrata(scenario.strata) : null;
  const treated = new BinomialSampler(rng, scenario.treated);
  const control = new BinomialSampler(rng, scenario.control);
  const perStratum = (strata ?? []).map((st, s, all) => {
    const before = all.slice(0, s).reduce((sum, x) => sum + x.prevalence, 0);
    return {
      // P(in this stratum | not in an earlier one): sequential binomials give the multinomial.
      size: new BinomialSampler(rng, Math.min(1, st.prevalence / (1 - before))),
      treated: new BinomialSampler(rng, st.treated),
      control: new BinomialSampler(rng, st.control),
    };
  });
  let rejections = 0;
  let analysedTotal = 0;
  for (let r = 0; r < options.replicates; r++) {
    let x1 = 0;
    let n1 = 0;
    let x2 = 0;
    let n2 = 0;
    if (strata === null) {
      // 1:1: the odd patient (if any) goes to either arm with probability 1/2.
      const half = Math.floor(n / 2);
      const extraToTreated = n % 2 === 1 && rng.next() < 0.5;
      const allocated1 = half + (n % 2 === 1 && extraToTreated ? 1 : 0);
      const allocated2 = n - allocated1;
      n1 = retained.draw(allocated1);
      n2 = retained.draw(allocated2);
      x1 = treated.draw(n1);
      x2 = control.draw(n2);
    } else {
      // Stratum sizes multinomial (sequential binomials), 1:1 within each stratum.
      let remaining = n;
      for (let s = 0; s < perStratum.length; s++) {
        const st = perStratum[s] as (typeof perStratum)[number];
        const size = s === perStratum.length - 1 ? remaining : st.size.draw(remaining);
        remaining -= size;
        const half = Math.floor(size / 2);
        const allocated1 = half + (size % 2 === 1 && rng.next() < 0.5 ? 1 : 0);
        const a1 = retained.draw(allocated1);
        const a2 = retained.draw(size - allocated1);
        n1 += a1;
        n2 += a2;
        x1 += st.treated.draw(a1);
        x2 += st.control.draw(a2);
      }
    }
    analysedTotal += n1 + n2;
    if (test.rejects(x1, n1, x2, n2)) rejections++;
  }
  const power = rejections / options.replicates;
  return {
    n,
    replicates: options.replicates,
    rejections,
    power,
    ci95: wilsonInterval({ events: rejections, n: options.replicates }),
    monteCarloSe: Math.sqrt((power * (1 - power)) / options.replicates),
    meanAnalysed: analysedTotal / options.replicates,
  };
}

function normalisedStrata(strata: readonly StratumScenario[]): StratumScenario[] {
  const total = strata.reduce((s, st) => s + st.prevalence, 0);
  return strata.map((st) => ({ ...st, prevalence: st.prevalence / total }));
}

/** Power at each n (same seed for every n: common random numbers). */
export function powerCurve(scenario: PowerScenario, ns: readonly number[], options: SimulationOptions): PowerEstimate[] {
  const decision = new TestDecision(scenario.test, scenario.alpha);
  return ns.map((n) => simulatePower(scenario, n, options, decision));
}

export interface SampleSizeResult {
  targetPower: number;
  /** Smallest n of the curve whose estimated power reaches the target; null when none does. */
  n: number | null;
  /** Smallest n whose lower 95% Monte Carlo limit reaches the target (a conservative choice). */
  nConservative: number | null;
  curve: PowerEstimate[];
}

/** The sample size for a target power read off a simulated power curve over `ns`. */
export function sampleSizeForPower(scenario: PowerScenario, targetPower: number, ns: readonly number[], options: SimulationOptions): SampleSizeResult {
  const curve = powerCurve(scenario, [...ns].sort((a, b) => a - b), options);
  return {
    targetPower,
    n: curve.find((e) => e.power >= targetPower)?.n ?? null,
    nConservative: curve.find((e) => e.ci95[0] >= targetPower)?.n ?? null,
    curve,
  };
}

// ---------------------------------------------------------------------------------------------
// Exact power by enumeration
// ---------------------------------------------------------------------------------------------

/**
 * Exact power for fixed analysed arm sizes n1, n2: the sum over all outcomes (x1, x2) of
 * Binomial(n1, p1)(x1) Binomial(n2, p2)(x2) where the test rejects.
 */
export function exactPower(n1: number, n2: number, p1: number, p2: number, test: PowerTest, alpha: number, decision?: TestDecision): number {
  const d = decision ?? new TestDecision(test, alpha);
  const f1 = binomialPmf(n1, p1);
  const f2 = binomialPmf(n2, p2);
  let power = 0;
  if (test === 'fisher') {
    // By margin m = x1 + x2: one region lookup per margin.
    for (let m = 0; m <= n1 + n2; m++) {
      const region = d.fisherRegion(n1, n2, m);
      const lo = Math.max(0, m - n2);
      for (let i = 0; i < region.length; i++) {
        if (region[i] === 1) power += (f1[lo + i] as number) * (f2[m - lo - i] as number);
      }
    }
    return power;
  }
  for (let x1 = 0; x1 <= n1; x1++) {
    const w1 = f1[x1] as number;
    if (w1 === 0) continue;
    for (let x2 = 0; x2 <= n2; x2++) {
      const w2 = f2[x2] as number;
      if (w2 !== 0 && d.rejects(x1, n1, x2, n2)) power += w1 * w2;
    }
  }
  return power;
}

/**
 * Exact power of the simulated design without strata: n randomised (the odd one to either arm
 * with probability 1/2), each arm's analysed size Binomial(allocated, 1 - dropout). Mixture
 * weights below 1e-12 are skipped (their total contribution is below 1e-10).
 */
export function exactPowerWithDropout(scenario: PowerScenario, n: number): number {
  const decision = new TestDecision(scenario.test, scenario.alpha);
  const keep = 1 - scenario.dropout;
  const half = Math.floor(n / 2);
  const splits: Array<[number, number, number]> = n % 2 === 0 ? [[half, half, 1]] : [[half + 1, half, 0.5], [half, half + 1, 0.5]];
  let power = 0;
  for (const [a1, a2, w] of splits) {
    const g1 = binomialPmf(a1, keep);
    const g2 = binomialPmf(a2, keep);
    for (let n1 = 0; n1 <= a1; n1++) {
      if ((g1[n1] as number) < 1e-12) continue;
      for (let n2 = 0; n2 <= a2; n2++) {
        if ((g2[n2] as number) < 1e-12) continue;
        power += w * (g1[n1] as number) * (g2[n2] as number) * exactPower(n1, n2, scenario.treated, scenario.control, scenario.test, scenario.alpha, decision);
      }
    }
  }
  return power;
}

// ---------------------------------------------------------------------------------------------
// Analytic (R's power.prop.test)
// ---------------------------------------------------------------------------------------------

/**
 * Power of the two-sided comparison of two proportions with n per group by the normal
 * approximation, exactly R's power.prop.test(n, p1, p2, sig.level) with strict = FALSE:
 * pnorm((sqrt(n) |p1 - p2| - z(1 - alpha/2) sqrt((p1 + p2)(q1 + q2) / 2)) / sqrt(p1 q1 + p2 q2)).
 */
export function powerPropTest(nPerGroup: number, p1: number, p2: number, alpha: number): number {
  const q1 = 1 - p1;
  const q2 = 1 - p2;
  const z = normalQuantile(alpha / 2, false);
  return normalCdf((Math.sqrt(nPerGroup) * Math.abs(p1 - p2) - z * Math.sqrt(((p1 + p2) * (q1 + q2)) / 2)) / Math.sqrt(p1 * q1 + p2 * q2));
}

/**
 * The (fractional) n per group for a target power, the closed-form solution of the formula
 * above (R: power.prop.test(p1, p2, power, sig.level)$n, which finds it by uniroot), and with
 * Fleiss' continuity correction n' = n/4 (1 + sqrt(1 + 4 / (n |p1 - p2|)))^2 (Fleiss, Tytun &
 * Ury 1980), the usual planning figure for a corrected chi-square or Fisher test.
 */
export function powerPropTestN(p1: number, p2: number, alpha: number, power: number): { n: number; nContinuityCorrected: number } {
  const zAlpha = normalQuantile(alpha / 2, false);
  const zBeta = normalQuantile(power);
  const delta = Math.abs(p1 - p2);
  const root = zAlpha * Math.sqrt(((p1 + p2) * (2 - p1 - p2)) / 2) + zBeta * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  const n = (root / delta) ** 2;
  const corrected = (n / 4) * (1 + Math.sqrt(1 + 4 / (n * delta))) ** 2;
  return { n, nContinuityCorrected: corrected };
}
