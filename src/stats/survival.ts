/**
 * Time-to-event statistics computed as R's survival package (3.5) computes them, validated in
 * test/stats/survival.test.ts against fixtures from scripts/r/reference.R:
 *
 * - kaplanMeier: survfit(Surv(time, event) ~ 1) — product-limit estimate, Greenwood standard
 *   error of ln S, log-transformed pointwise interval (conf.type = "log", the default), upper
 *   limit capped at 1, no interval once S = 0.
 * - medianSurvival: the median and its interval as print.survfit / summary(fit)$table report.
 * - survivalAt: summary(fit, times = ..., extend = TRUE), for tables of numbers at risk.
 * - logRankTest: survdiff(Surv(time, event) ~ group) (rho = 0), any number of groups.
 * - coxProportionalHazards: coxph(Surv(time, event) ~ x1 + x2 ...) with Efron (default) or
 *   Breslow handling of tied event times, fitted by the same Newton-Raphson iteration as R's
 *   coxfit6 (start at 0, step halving, stop when the log partial likelihood changes by less
 *   than 1e-9 relative, at most 20 iterations), with Wald intervals and P values.
 *
 * Times are compared exactly: R's survival additionally merges times that differ by less than
 * sqrt(machine epsilon) (aeqSurv); times parsed from data are equal or clearly different, so
 * this only matters for times produced by floating-point arithmetic.
 */
import { type Result, err, ok } from '../clinical/types.ts';
import { chiSquareCdf, normalCdf } from './distributions.ts';
import { type Matrix, cholesky, choleskyInverse, choleskySolve, zeros } from './matrix.ts';
import { twoSidedZ } from './proportions.ts';

/** Observed follow-up: a time (>= 0, any unit) and whether the event happened then (else censored). */
export interface SurvivalSample {
  time: readonly number[];
  event: readonly boolean[];
}

function assertSample(sample: SurvivalSample): void {
  if (sample.time.length !== sample.event.length) throw new RangeError('time and event must have the same length');
  for (const t of sample.time) if (!(Number.isFinite(t) && t >= 0)) throw new RangeError(`times must be finite and >= 0, got ${t}`);
}

export interface KaplanMeierRow {
  time: number;
  /** Number at risk at this time (follow-up >= time). */
  atRisk: number;
  events: number;
  censored: number;
  /** Kaplan-Meier S(time), right-continuous: includes the events at this time. */
  survival: number;
  /** Greenwood standard error of ln S (R: std.err); Infinity once S has reached 0. */
  stdErrLogSurvival: number;
  /** Pointwise log-transformed interval; null where S = 0 (R: NA). */
  lower: number | null;
  upper: number | null;
}

export interface KaplanMeierCurve {
  n: number;
  events: number;
  confidence: number;
  /** One row per distinct observed time, event or censoring (R: the survfit object). */
  rows: KaplanMeierRow[];
}

/** Kaplan-Meier estimate with Greenwood variance and log-transformed interval (R: survfit). */
export function kaplanMeier(sample: SurvivalSample, options: { confidence?: number } = {}): KaplanMeierCurve {
  assertSample(sample);
  const confidence = options.confidence ?? 0.95;
  const z = twoSidedZ(confidence);
  const order = sample.time.map((_, i) => i).sort((i, j) => (sample.time[i] as number) - (sample.time[j] as number));
  const rows: KaplanMeierRow[] = [];
  let atRisk = order.length;
  let survival = 1;
  let greenwood = 0;
  let totalEvents = 0;
  for (let start = 0; start < order.length; ) {
    const time = sample.time[order[start] as number] as number;
    let end = start;
    let events = 0;
    while (end < order.length && sample.time[order[end] as number] === time) {
      if (sample.event[order[end] as number]) events++;
      end++;
    }
    const censored = end - start - events;
    if (events > 0) {
      survival *= 1 - events / atRisk;
      // Greenwood: Var(ln S) = sum d / (n (n - d)); infinite when everyone at risk dies.
      greenwood += atRisk === events ? Number.POSITIVE_INFINITY : events / (atRisk * (atRisk - events));
    }
    const se = Math.sqrt(greenwood);
    const interval = logInterval(survival, se, z);
    rows.push({ time, atRisk, events, censored, survival, stdErrLogSurvival: se, ...interval });
    totalEvents += events;
    atRisk -= end - start;
    start = end;
  }
  return { n: order.length, events: totalEvents, confidence, rows };
}

/** R's conf.type = "log": exp(ln S -+ z se), the upper limit capped at 1; none when S = 0. */
function logInterval(survival: number, se: number, z: number): { lower: number | null; upper: number | null } {
  if (survival === 0) return { lower: null, upper: null };
  const log = Math.log(survival);
  return { lower: Math.exp(log - z * se), upper: Math.min(1, Math.exp(log + z * se)) };
}

/** R's tolerance (sqrt of machine epsilon) for "survival equals 0.5". */
const MEDIAN_TOLERANCE = Math.sqrt(2.220446049250313e-16);

/**
 * The first time a (decreasing) curve is at or below 0.5, as print.survfit finds it: when the
 * curve sits exactly at 0.5 (within 1.5e-8) over an interval, the midpoint between that time
 * and the time the curve next drops; null when the curve never reaches 0.5.
 */
function firstTimeAtOrBelowHalf(values: readonly (number | null)[], times: readonly number[]): number | null {
  const kept: Array<{ value: number; time: number }> = [];
  values.forEach((value, i) => {
    if (value !== null && value < 0.5 + MEDIAN_TOLERANCE) kept.push({ value, time: times[i] as number });
  });
  const first = kept[0];
  if (first === undefined) return null;
  if (Math.abs(first.value - 0.5) < MEDIAN_TOLERANCE) {
    const next = kept.find((k) => k.value < first.value);
    if (next !== undefined) return (first.time + next.time) / 2;
  }
  return first.time;
}

export interface MedianSurvival {
  /** Median survival time, null when survival never falls to 0.5. */
  median: number | null;
  /** [lower, upper]: where the lower and the upper confidence curves reach 0.5; null if never. */
  ci: [number | null, number | null];
}

/** Median survival and its interval (R: print.survfit's median, 0.95LCL, 0.95UCL). */
export function medianSurvival(curve: KaplanMeierCurve): MedianSurvival {
  const times = curve.rows.map((r) => r.time);
  return {
    median: firstTimeAtOrBelowHalf(
      curve.rows.map((r) => r.survival),
      times,
    ),
    // The lower confidence curve reaches 0.5 first: it gives the lower limit of the median.
    ci: [
      firstTimeAtOrBelowHalf(
        curve.rows.map((r) => r.lower),
        times,
      ),
      firstTimeAtOrBelowHalf(
        curve.rows.map((r) => r.upper),
        times,
      ),
    ],
  };
}

export interface SurvivalAtTime {
  time: number;
  survival: number;
  lower: number | null;
  upper: number | null;
  /** Number still at risk at this time (follow-up >= time); 0 after the last follow-up. */
  atRisk: number;
}

/**
 * The curve read at given times, as R's summary(fit, times, extend = TRUE): the estimate of the
 * last row at or before each time (1 before the first), and the number at risk at that time.
 * After the last follow-up the last estimate is carried forward with nobody at risk.
 */
export function survivalAt(curve: KaplanMeierCurve, times: readonly number[]): SurvivalAtTime[] {
  return times.map((time) => {
    let last: KaplanMeierRow | undefined;
    let next: KaplanMeierRow | undefined;
    for (const row of curve.rows) {
      if (row.time <= time) last = row;
      if (row.time >= time) {
        next = row;
        break;
      }
    }
    const atRisk = next?.atRisk ?? 0;
    if (last === undefined) return { time, survival: 1, lower: 1, upper: 1, atRisk };
    return { time, survival: last.survival, lower: last.lower, upper: last.upper, atRisk };
  });
}

export interface LogRankTest {
  chiSquare: number;
  df: number;
  p: number;
  groups: string[];
  observed: number[];
  expected: number[];
}

/**
 * Log-rank test of equal survival across groups (Mantel 1966; R: survdiff with rho = 0):
 * chi-square = (O - E)' V^-1 (O - E) over all groups but one, with the hypergeometric variance
 * V at each event time. Groups in `levels` order (default: sorted). An error when there are
 * fewer than two groups with subjects at risk at an event time.
 */
export function logRankTest(
  sample: SurvivalSample & { group: readonly string[] },
  levels?: readonly string[],
): Result<LogRankTest, string> {
  assertSample(sample);
  if (sample.group.length !== sample.time.length) throw new RangeError('group must have the same length as time');
  const groups = levels ? [...levels] : [...new Set(sample.group)].sort();
  const k = groups.length;
  const index = new Map(groups.map((g, i) => [g, i]));
  const order = sample.time.map((_, i) => i).sort((i, j) => (sample.time[i] as number) - (sample.time[j] as number));
  const atRisk = new Array<number>(k).fill(0);
  for (const g of sample.group) {
    const i = index.get(g);
    if (i === undefined) throw new RangeError(`group ${g} is not among the levels`);
    atRisk[i] = (atRisk[i] as number) + 1;
  }
  const observed = new Array<number>(k).fill(0);
  const expected = new Array<number>(k).fill(0);
  const variance = zeros(k);
  for (let start = 0; start < order.length; ) {
    const time = sample.time[order[start] as number] as number;
    let end = start;
    const deaths = new Array<number>(k).fill(0);
    const leaving = new Array<number>(k).fill(0);
    while (end < order.length && sample.time[order[end] as number] === time) {
      const subject = order[end] as number;
      const g = index.get(sample.group[subject] as string) as number;
      leaving[g] = (leaving[g] as number) + 1;
      if (sample.event[subject]) deaths[g] = (deaths[g] as number) + 1;
      end++;
    }
    const d = deaths.reduce((s, x) => s + x, 0);
    const n = atRisk.reduce((s, x) => s + x, 0);
    if (d > 0) {
      const factor = n > 1 ? (d * (n - d)) / (n - 1) : 0;
      for (let i = 0; i < k; i++) {
        const share = (atRisk[i] as number) / n;
        observed[i] = (observed[i] as number) + (deaths[i] as number);
        expected[i] = (expected[i] as number) + d * share;
        for (let j = 0; j < k; j++) {
          const other = (atRisk[j] as number) / n;
          (variance[i] as number[])[j] = (variance[i]?.[j] as number) + factor * share * ((i === j ? 1 : 0) - other);
        }
      }
    }
    for (let i = 0; i < k; i++) atRisk[i] = (atRisk[i] as number) - (leaving[i] as number);
    start = end;
  }
  // Groups never at risk at an event time carry no information (R: df counts expected > 0).
  const informative = groups.map((_, i) => i).filter((i) => (expected[i] as number) > 0);
  if (informative.length < 2) return err('the log-rank test needs events while at least two groups are at risk');
  const kept = informative.slice(1);
  const reduced = kept.map((i) => kept.map((j) => variance[i]?.[j] as number));
  const difference = kept.map((i) => (observed[i] as number) - (expected[i] as number));
  const factor = cholesky(reduced, 1e-12);
  if (factor === null) return err('the log-rank variance matrix is singular');
  const solved = choleskySolve(factor, difference);
  const chiSquare = difference.reduce((s, x, i) => s + x * (solved[i] as number), 0);
  const df = kept.length;
  return ok({ chiSquare, df, p: chiSquareCdf(chiSquare, df, false), groups, observed, expected });
}

export type TiesMethod = 'efron' | 'breslow';

export interface CoxOptions {
  ties?: TiesMethod;
  confidence?: number;
  /** Newton-Raphson iterations at most (R: iter.max = 20). */
  maxIterations?: number;
  /** Convergence: |1 - previous log-likelihood / new log-likelihood| <= eps (R: 1e-9). */
  eps?: number;
}

export interface CoxCoefficient {
  coefficient: number;
  standardError: number;
  hazardRatio: number;
  ci: [number, number];
  z: number;
  /** Two-sided Wald P (R: Pr(>|z|)). */
  p: number;
  /**
   * True when the likelihood kept rising along this coefficient (R's warning "coefficient may
   * be infinite"): e.g. a group without events. Its estimate, interval and P are then meaningless.
   */
  mayBeInfinite: boolean;
}

export interface CoxFit {
  coefficients: CoxCoefficient[];
  /** Inverse information at the estimate (R: fit$var). */
  variance: Matrix;
  logLikelihood: { initial: number; final: number };
  iterations: number;
  converged: boolean;
  ties: TiesMethod;
  /** Score (log-rank) test of all coefficients = 0. */
  scoreTest: { statistic: number; df: number; p: number };
  likelihoodRatioTest: { statistic: number; df: number; p: number };
}

interface CoxTerms {
  logLikelihood: number;
  score: number[];
  information: Matrix;
}

/**
 * Cox proportional hazards model (Cox 1972) by maximum partial likelihood. `covariates[i]` is the
 * covariate row of subject i (e.g. [1] for treated, [0] for the reference group). Ties: Efron
 * (1977) by default, as R; Breslow on request. An error when the information matrix is singular
 * (no events, a constant or collinear covariate).
 */
export function coxProportionalHazards(
  data: SurvivalSample & { covariates: readonly (readonly number[])[] },
  options: CoxOptions = {},
): Result<CoxFit, string> {
  assertSample(data);
  const ties = options.ties ?? 'efron';
  const maxIterations = options.maxIterations ?? 20;
  const eps = options.eps ?? 1e-9;
  const z = twoSidedZ(options.confidence ?? 0.95);
  const n = data.time.length;
  if (data.covariates.length !== n) throw new RangeError('covariates must have one row per subject');
  const p = data.covariates[0]?.length ?? 0;
  if (p === 0) throw new RangeError('at least one covariate is needed');
  if (data.covariates.some((row) => row.length !== p || row.some((x) => !Number.isFinite(x)))) {
    throw new RangeError('covariate rows must all have the same length and finite values');
  }
  if (!data.event.some(Boolean)) return err('no events: the Cox model cannot be fitted');

  // Sorted by time; covariates centred (the likelihood is unchanged, the arithmetic is safer).
  const order = data.time.map((_, i) => i).sort((i, j) => (data.time[i] as number) - (data.time[j] as number));
  const means = new Array<number>(p).fill(0);
  for (const row of data.covariates) for (let j = 0; j < p; j++) means[j] = (means[j] as number) + (row[j] as number) / n;
  const time = order.map((i) => data.time[i] as number);
  const event = order.map((i) => data.event[i] === true);
  const x = order.map((i) => (data.covariates[i] as number[]).map((v, j) => v - (means[j] as number)));

  const terms = (beta: readonly number[]): CoxTerms => coxTerms(time, event, x, beta, ties);

  let beta = new Array<number>(p).fill(0);
  const initial = terms(beta);
  const initialFactor = cholesky(initial.information);
  if (initialFactor === null) return err('the information matrix is singular (a covariate is constant or collinear)');
  const initialStep = choleskySolve(initialFactor, initial.score);
  const scoreStatistic = initial.score.reduce((s, u, j) => s + u * (initialStep[j] as number), 0);

  // R's coxfit6 loop, step for step (so the estimate agrees with R to far below 1e-6).
  let logLikelihood = initial.logLikelihood;
  let newBeta = beta.map((b, j) => b + (initialStep[j] as number));
  let halving = false;
  let converged = false;
  let iterations = 1;
  let current: CoxTerms = initial;
  let factor: Matrix | null = initialFactor;
  for (; iterations <= maxIterations; iterations++) {
    current = terms(newBeta);
    factor = cholesky(current.information);
    if (Math.abs(1 - logLikelihood / current.logLikelihood) <= eps && !halving) {
      converged = true;
      break;
    }
    if (iterations === maxIterations) break;
    if (current.logLikelihood < logLikelihood) {
      // Not improving: go back half way towards the last accepted estimate.
      halving = true;
      newBeta = newBeta.map((b, j) => (b + (beta[j] as number)) / 2);
    } else {
      halving = false;
      logLikelihood = current.logLikelihood;
      if (factor === null) return err('the information matrix became singular during fitting');
      const step = choleskySolve(factor, current.score);
      beta = newBeta;
      newBeta = newBeta.map((b, j) => b + (step[j] as number));
    }
  }
  if (iterations > maxIterations) iterations = maxIterations;
  if (factor === null) return err('the information matrix is singular at the estimate');
  const variance = choleskyInverse(factor);
  const finalBeta = newBeta;

  const coefficients = finalBeta.map((coefficient, j): CoxCoefficient => {
    const standardError = Math.sqrt(variance[j]?.[j] as number);
    const zValue = coefficient / standardError;
    // R: infs <- abs(u %*% var); flagged when > eps and > sqrt(eps) * |coef|.
    let drift = 0;
    for (let k = 0; k < p; k++) drift += (current.score[k] as number) * (variance[k]?.[j] as number);
    const mayBeInfinite =
      !Number.isFinite(drift) || (Math.abs(drift) > eps && Math.abs(drift) > Math.sqrt(eps) * Math.abs(coefficient));
    return {
      coefficient,
      standardError,
      hazardRatio: Math.exp(coefficient),
      ci: [Math.exp(coefficient - z * standardError), Math.exp(coefficient + z * standardError)],
      z: zValue,
      p: 2 * normalCdf(-Math.abs(zValue)),
      mayBeInfinite,
    };
  });
  const lrt = 2 * (current.logLikelihood - initial.logLikelihood);
  return ok({
    coefficients,
    variance,
    logLikelihood: { initial: initial.logLikelihood, final: current.logLikelihood },
    iterations,
    converged,
    ties,
    scoreTest: { statistic: scoreStatistic, df: p, p: chiSquareCdf(scoreStatistic, p, false) },
    likelihoodRatioTest: { statistic: lrt, df: p, p: chiSquareCdf(lrt, p, false) },
  });
}

/**
 * Log partial likelihood, score and information at beta. Subjects sorted by time; the risk set
 * sums are accumulated from the latest time backwards. For d tied events at a time, with risk
 * set sums S0, S1, S2 and event sums D0, D1, D2, Efron's approximation uses, for r = 0..d-1,
 * S(r) = S - (r / d) D; Breslow's uses S for all r.
 */
function coxTerms(
  time: readonly number[],
  event: readonly boolean[],
  x: readonly (readonly number[])[],
  beta: readonly number[],
  ties: TiesMethod,
): CoxTerms {
  const n = time.length;
  const p = beta.length;
  let logLikelihood = 0;
  const score = new Array<number>(p).fill(0);
  const information = zeros(p);
  let s0 = 0;
  const s1 = new Array<number>(p).fill(0);
  const s2 = zeros(p);
  for (let end = n - 1; end >= 0; ) {
    const t = time[end] as number;
    let start = end;
    while (start > 0 && time[start - 1] === t) start--;
    let deaths = 0;
    let d0 = 0;
    const d1 = new Array<number>(p).fill(0);
    const d2 = zeros(p);
    for (let i = start; i <= end; i++) {
      const row = x[i] as number[];
      let eta = 0;
      for (let j = 0; j < p; j++) eta += (beta[j] as number) * (row[j] as number);
      const risk = Math.exp(eta);
      s0 += risk;
      for (let j = 0; j < p; j++) {
        s1[j] = (s1[j] as number) + risk * (row[j] as number);
        for (let k = 0; k <= j; k++) (s2[j] as number[])[k] = (s2[j]?.[k] as number) + risk * (row[j] as number) * (row[k] as number);
      }
      if (event[i]) {
        deaths++;
        logLikelihood += eta;
        d0 += risk;
        for (let j = 0; j < p; j++) {
          score[j] = (score[j] as number) + (row[j] as number);
          d1[j] = (d1[j] as number) + risk * (row[j] as number);
          for (let k = 0; k <= j; k++) (d2[j] as number[])[k] = (d2[j]?.[k] as number) + risk * (row[j] as number) * (row[k] as number);
        }
      }
    }
    for (let r = 0; r < deaths; r++) {
      const fraction = ties === 'efron' ? r / deaths : 0;
      const denominator = s0 - fraction * d0;
      logLikelihood -= Math.log(denominator);
      for (let j = 0; j < p; j++) {
        const mean = ((s1[j] as number) - fraction * (d1[j] as number)) / denominator;
        score[j] = (score[j] as number) - mean;
        for (let k = 0; k <= j; k++) {
          const meanK = ((s1[k] as number) - fraction * (d1[k] as number)) / denominator;
          const second = ((s2[j]?.[k] as number) - fraction * (d2[j]?.[k] as number)) / denominator;
          (information[j] as number[])[k] = (information[j]?.[k] as number) + second - mean * meanK;
        }
      }
    }
    end = start - 1;
  }
  for (let j = 0; j < p; j++) for (let k = j + 1; k < p; k++) (information[j] as number[])[k] = information[k]?.[j] as number;
  return { logLikelihood, score, information };
}
