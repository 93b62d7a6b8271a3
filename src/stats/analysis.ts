/**
 * Two-arm comparisons as the statistical analysis plan reports them (shared/spec/CLINICAL.md
 * section 5), assembled from the validated pieces in this folder. The shapes returned here are
 * the JSON of `immunoguide analyse proportions` and `immunoguide analyse survival` (a public
 * interface: see docs/statistics.md), and are meant for the trial report too.
 */
import { type Result, err, ok } from '../clinical/types.ts';
import { chiSquareTest } from './chisq.ts';
import { fisherExactTwoSided } from './fisher.ts';
import { type ArmCounts, type Interval, newcombeRiskDifference, oddsRatioWoolf, wilsonInterval } from './proportions.ts';
import {
  type SurvivalAtTime,
  coxProportionalHazards,
  kaplanMeier,
  logRankTest,
  medianSurvival,
  survivalAt,
} from './survival.ts';

export interface ArmProportion {
  events: number;
  n: number;
  /** events / n as a fraction (0-1). */
  proportion: number;
  ci95: Interval;
  method: 'wilson';
}

export interface ProportionsComparison {
  treated: ArmProportion;
  control: ArmProportion;
  /** treated minus control, as a fraction. */
  riskDifference: { estimate: number; ci95: Interval; method: 'newcombe' };
  /**
   * Treated odds over control odds. estimate and ci95 are null when the odds ratio is 0/0 (no
   * events in either arm, or only events); `correction` says when 0.5 was added to every cell.
   */
  oddsRatio: {
    estimate: number | null;
    ci95: Interval | null;
    method: 'woolf';
    correction: 'haldane-anscombe' | null;
    note?: string;
  };
  /** Two-sided Fisher exact P (R: fisher.test). */
  fisherP: number;
  /** Pearson chi-square P without continuity correction (R: chisq.test(correct = FALSE)); null if a margin is 0. */
  chiSquareP: number | null;
  chiSquareStatistic: number | null;
  /** With Yates' continuity correction (R's chisq.test default for 2x2 tables). */
  chiSquareYatesP: number | null;
  chiSquareYatesStatistic: number | null;
}

export type CountsError = { kind: 'counts'; arm: 'treated' | 'control'; message: string };

function checkArm(counts: ArmCounts, arm: 'treated' | 'control'): CountsError | null {
  const { events, n } = counts;
  if (!Number.isSafeInteger(events) || !Number.isSafeInteger(n)) return { kind: 'counts', arm, message: `${arm}: events and n must be whole numbers` };
  if (n < 1) return { kind: 'counts', arm, message: `${arm}: n must be at least 1` };
  if (events < 0 || events > n) return { kind: 'counts', arm, message: `${arm}: events must be between 0 and n (got ${events}/${n})` };
  return null;
}

function armProportion(counts: ArmCounts): ArmProportion {
  return { events: counts.events, n: counts.n, proportion: counts.events / counts.n, ci95: wilsonInterval(counts), method: 'wilson' };
}

/** Responder (or event) proportions of two arms compared as the SAP says. */
export function compareProportions(treated: ArmCounts, control: ArmCounts): Result<ProportionsComparison, CountsError> {
  const problem = checkArm(treated, 'treated') ?? checkArm(control, 'control');
  if (problem) return err(problem);
  const table = [
    [treated.events, treated.n - treated.events],
    [control.events, control.n - control.events],
  ] as const;
  const or = oddsRatioWoolf(treated, control);
  const pearson = chiSquareTest(table);
  const yates = chiSquareTest(table, { yates: true });
  return ok({
    treated: armProportion(treated),
    control: armProportion(control),
    riskDifference: newcombeRiskDifference(treated, control),
    oddsRatio: or.defined
      ? { estimate: or.estimate, ci95: or.ci95, method: 'woolf', correction: or.correction }
      : { estimate: null, ci95: null, method: 'woolf', correction: null, note: or.reason },
    fisherP: fisherExactTwoSided(table),
    chiSquareP: pearson?.p ?? null,
    chiSquareStatistic: pearson?.statistic ?? null,
    chiSquareYatesP: yates?.p ?? null,
    chiSquareYatesStatistic: yates?.statistic ?? null,
  });
}

/** One subject's follow-up for a survival comparison. */
export interface SurvivalRecord {
  time: number;
  event: boolean;
  group: string;
}

export interface SurvivalComparison {
  reference: string;
  /** The non-reference group: the hazard ratio is this group against the reference. */
  comparison: string;
  groups: Record<string, { n: number; events: number }>;
  logRank: { chiSquare: number; df: number; p: number };
  /**
   * Cox model with the single indicator "in the comparison group", Efron ties. hazardRatio, ci95
   * and p are null when the estimate may be infinite (e.g. a group without events); `note` says why.
   */
  cox: {
    hazardRatio: number | null;
    ci95: Interval | null;
    p: number | null;
    coefficient: number | null;
    standardError: number | null;
    ties: 'efron';
    note?: string;
  };
  /** Per group: the curve at each distinct observed time, or at the requested times. */
  km: Record<string, SurvivalAtTime[]>;
  median: Record<string, number | null>;
  medianCi95: Record<string, [number | null, number | null]>;
}

export type SurvivalComparisonError =
  | { kind: 'groups'; message: string; groups: string[] }
  | { kind: 'reference'; message: string; groups: string[] }
  | { kind: 'data'; message: string };

/**
 * Kaplan-Meier per group, log-rank test and Cox hazard ratio for exactly two groups. The
 * reference group defaults to the first group in sorted order (as R's factor levels, for plain
 * ASCII names). `at` asks for the curves at given times (numbers at risk for a plot); without
 * it every distinct observed time is listed.
 */
export function compareSurvival(
  records: readonly SurvivalRecord[],
  options: { reference?: string; at?: readonly number[] } = {},
): Result<SurvivalComparison, SurvivalComparisonError> {
  for (const r of records) {
    if (!(Number.isFinite(r.time) && r.time >= 0)) return err({ kind: 'data', message: `time must be a finite number >= 0, got ${r.time}` });
  }
  const groups = [...new Set(records.map((r) => r.group))].sort();
  if (groups.length !== 2) {
    return err({
      kind: 'groups',
      message: `exactly two groups are needed for a hazard ratio, found ${groups.length}${groups.length ? ` (${groups.join(', ')})` : ''}`,
      groups,
    });
  }
  const reference = options.reference ?? (groups[0] as string);
  if (!groups.includes(reference)) {
    return err({ kind: 'reference', message: `reference group '${reference}' is not in the data (groups: ${groups.join(', ')})`, groups });
  }
  const comparison = groups.find((g) => g !== reference) as string;
  const levels = [reference, comparison];
  const time = records.map((r) => r.time);
  const event = records.map((r) => r.event);
  const group = records.map((r) => r.group);

  const km: Record<string, SurvivalAtTime[]> = {};
  const median: Record<string, number | null> = {};
  const medianCi95: Record<string, [number | null, number | null]> = {};
  const counts: Record<string, { n: number; events: number }> = {};
  for (const level of levels) {
    const members = records.filter((r) => r.group === level);
    const curve = kaplanMeier({ time: members.map((r) => r.time), event: members.map((r) => r.event) });
    counts[level] = { n: curve.n, events: curve.events };
    km[level] = options.at
      ? survivalAt(curve, options.at)
      : curve.rows.map((row) => ({ time: row.time, survival: row.survival, lower: row.lower, upper: row.upper, atRisk: row.atRisk }));
    const m = medianSurvival(curve);
    median[level] = m.median;
    medianCi95[level] = m.ci;
  }

  const logRank = logRankTest({ time, event, group }, levels);
  if (!logRank.ok) return err({ kind: 'data', message: logRank.error });

  const fit = coxProportionalHazards({ time, event, covariates: group.map((g) => [g === comparison ? 1 : 0]) });
  let cox: SurvivalComparison['cox'];
  if (!fit.ok) {
    cox = { hazardRatio: null, ci95: null, p: null, coefficient: null, standardError: null, ties: 'efron', note: fit.error };
  } else {
    const c = fit.value.coefficients[0];
    if (c === undefined) throw new Error('unreachable: one covariate');
    cox = c.mayBeInfinite || !fit.value.converged
      ? {
          hazardRatio: null,
          ci95: null,
          p: null,
          coefficient: null,
          standardError: null,
          ties: 'efron',
          note: `${fit.value.converged ? '' : 'the Cox model did not converge in 20 iterations: '}the hazard ratio may be infinite (monotone likelihood, e.g. no events in one group, or every event in one group before any in the other); no estimate is given`,
        }
      : { hazardRatio: c.hazardRatio, ci95: c.ci, p: c.p, coefficient: c.coefficient, standardError: c.standardError, ties: 'efron' };
  }

  return ok({
    reference,
    comparison,
    groups: counts,
    logRank: { chiSquare: logRank.value.chiSquare, df: logRank.value.df, p: logRank.value.p },
    cox,
    km,
    median,
    medianCi95,
  });
}
