/**
 * Binomial proportions and their comparison between two arms, as the ImmunoGuide statistical
 * analysis plan asks (shared/spec/CLINICAL.md section 5): Wilson score intervals per arm, the
 * risk difference with the Newcombe hybrid score interval, and the odds ratio with the Woolf
 * (logit) interval. Validated against R in test/stats/proportions.test.ts
 * (scripts/r/reference.R says which R function gives each reference value).
 *
 * These functions trust their arguments (whole counts, 0 <= events <= n, n >= 1) and throw a
 * RangeError otherwise: that is a programming error. Data from outside is validated first by
 * compareProportions (analysis.ts), which returns errors as values.
 */
import { normalQuantile } from './distributions.ts';

/** Events out of n patients in one arm. */
export interface ArmCounts {
  events: number;
  n: number;
}

/** A two-sided interval [lower, upper]. */
export type Interval = [number, number];

/** The standard normal quantile for a two-sided interval of the given confidence. */
export function twoSidedZ(confidence: number): number {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  return normalQuantile((1 + confidence) / 2);
}

export function assertCounts(counts: ArmCounts, what = 'counts'): void {
  const { events, n } = counts;
  if (!Number.isSafeInteger(events) || !Number.isSafeInteger(n) || n < 1 || events < 0 || events > n) {
    throw new RangeError(`${what}: need whole numbers with 0 <= events <= n and n >= 1, got ${events}/${n}`);
  }
}

/**
 * Wilson score interval for events/n (Wilson 1927), without continuity correction: exactly the
 * interval of R's prop.test(events, n, correct = FALSE), including its convention that the limit
 * is exactly 0 when events = 0 and exactly 1 when events = n.
 */
export function wilsonInterval(counts: ArmCounts, confidence = 0.95): Interval {
  assertCounts(counts);
  const { events, n } = counts;
  const z = twoSidedZ(confidence);
  const p = events / n;
  const z22n = (z * z) / (2 * n);
  const half = z * Math.sqrt((p * (1 - p)) / n + z22n / (2 * n));
  const lower = events === 0 ? 0 : (p + z22n - half) / (1 + 2 * z22n);
  const upper = events === n ? 1 : (p + z22n + half) / (1 + 2 * z22n);
  return [Math.max(lower, 0), Math.min(upper, 1)];
}

export interface RiskDifference {
  /** treated proportion minus control proportion (a fraction, -1..1). */
  estimate: number;
  ci95: Interval;
  method: 'newcombe';
}

/**
 * Difference of two independent proportions, treated minus control, with the hybrid score
 * interval of Newcombe (Stat Med 1998;17:873-90, method 10): with Wilson limits (l1, u1) and
 * (l2, u2) of the two arms and d = p1 - p2,
 *   lower = d - sqrt((p1 - l1)^2 + (u2 - p2)^2),  upper = d + sqrt((u1 - p1)^2 + (p2 - l2)^2).
 * Equal to Epi::ci.pd(method = "Nc") in R.
 */
export function newcombeRiskDifference(treated: ArmCounts, control: ArmCounts, confidence = 0.95): RiskDifference {
  const p1 = treated.events / treated.n;
  const p2 = control.events / control.n;
  const [l1, u1] = wilsonInterval(treated, confidence);
  const [l2, u2] = wilsonInterval(control, confidence);
  const d = p1 - p2;
  return {
    estimate: d,
    ci95: [d - Math.hypot(p1 - l1, u2 - p2), d + Math.hypot(u1 - p1, p2 - l2)],
    method: 'newcombe',
  };
}

/** How zero cells are treated in the odds ratio. */
export type ZeroCellCorrection = 'haldane-anscombe' | 'none';

export type OddsRatio =
  | {
      defined: true;
      /** treated odds / control odds. */
      estimate: number;
      ci95: Interval;
      method: 'woolf';
      /** 'haldane-anscombe' when 0.5 was added to every cell because one cell was zero. */
      correction: 'haldane-anscombe' | null;
    }
  | { defined: false; reason: string; method: 'woolf' };

/**
 * Odds ratio treated vs control, (a d) / (b c) with a, b = treated events, non-events and c, d
 * = control events, non-events, with Woolf's interval exp(ln OR +- z sqrt(1/a + 1/b + 1/c + 1/d))
 * (Woolf 1955). Equal to the formula in base R and to epitools::oddsratio.wald.
 *
 * Zero cells: the plain formula then gives 0 or infinity with an infinite standard error (R
 * prints 0/Inf/NaN), which is no use in a report. With `zeroCellCorrection: 'haldane-anscombe'`
 * (the default), when — and only when — some cell is zero, 0.5 is added to all four cells
 * (Haldane 1956; Anscombe 1956) and the result says so. When both arms have no events, or both
 * have only events, the odds ratio is 0/0: it is reported as undefined, never invented. With
 * 'none', any zero cell makes it undefined.
 */
export function oddsRatioWoolf(
  treated: ArmCounts,
  control: ArmCounts,
  options: { zeroCellCorrection?: ZeroCellCorrection; confidence?: number } = {},
): OddsRatio {
  assertCounts(treated, 'treated');
  assertCounts(control, 'control');
  const correction = options.zeroCellCorrection ?? 'haldane-anscombe';
  let a = treated.events;
  let b = treated.n - treated.events;
  let c = control.events;
  let d = control.n - control.events;
  if (a + c === 0) return { defined: false, reason: 'no events in either arm: the odds ratio is 0/0', method: 'woolf' };
  if (b + d === 0) return { defined: false, reason: 'only events in both arms: the odds ratio is 0/0', method: 'woolf' };
  const zeroCell = a === 0 || b === 0 || c === 0 || d === 0;
  if (zeroCell && correction === 'none') {
    return { defined: false, reason: 'a cell of the 2x2 table is zero (no correction requested)', method: 'woolf' };
  }
  if (zeroCell) {
    a += 0.5;
    b += 0.5;
    c += 0.5;
    d += 0.5;
  }
  const z = twoSidedZ(options.confidence ?? 0.95);
  const estimate = (a * d) / (b * c);
  const se = Math.sqrt(1 / a + 1 / b + 1 / c + 1 / d);
  const log = Math.log(estimate);
  return {
    defined: true,
    estimate,
    ci95: [Math.exp(log - z * se), Math.exp(log + z * se)],
    method: 'woolf',
    correction: zeroCell ? 'haldane-anscombe' : null,
  };
}
