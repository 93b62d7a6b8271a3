/**
 * The six SOFA organ scores of single values (Vincent 1996; Sepsis-3 Table 1), on a threshold
 * table from thresholds.ts. Pure functions: the timeline (timeline.ts) uses them on every
 * input of a window and keeps the worst; tests use them for every boundary of the table.
 *
 * Values carry their unit; the unit picks the column of the table (e.g. bilirubin in umol/L is
 * compared with the printed SI column). A unit the table has no column for is an error value.
 */
import { decimalRound } from '../numeric.ts';
import { type Result, err, ok } from '../types.ts';
import {
  CATECHOLAMINES,
  type Catecholamine,
  type ScoringScale,
  type SofaThresholds,
  scoreOnScale,
} from './thresholds.ts';
import type { OrganScoreResult, Quantity, SofaComponentScores } from './types.ts';

/**
 * PaO2/FiO2 robust to binary floating point: 220 / 0.55 is 399.99999999999994 in IEEE doubles,
 * which would score 1 instead of 0 at the 400 mmHg edge. The quotient is rounded to 12
 * significant digits (numeric.ts decimalRound), the precision units.ts keeps for conversions:
 * far below clinical precision (PaO2 to 0.1 mmHg, FiO2 to 0.01 give at most 5-6 significant
 * digits), so no real ratio crosses a band edge, while the ~1e-16 relative noise of the division
 * is removed and an exactly-on-the-edge decimal ratio stays exactly on the edge.
 */
export function pfRatio(pao2: number, fio2: number): number {
  return decimalRound(pao2 / fio2);
}

/** The scale of `scales` in `unit` (UCUM code), if the table has that column. */
export function scaleForUnit(scales: readonly ScoringScale[], unit: string): ScoringScale | undefined {
  return scales.find((s) => s.unit === unit);
}

function onColumn(scales: readonly ScoringScale[], quantity: Quantity, what: string): Result<OrganScoreResult, string> {
  const scale = scaleForUnit(scales, quantity.unit);
  if (scale === undefined) {
    return err(`${what} in "${quantity.unit}" has no column in this SOFA table (columns: ${scales.map((s) => s.unit).join(', ')})`);
  }
  return ok(result(scale, quantity.value));
}

function result(scale: ScoringScale, value: number): OrganScoreResult {
  const decision = scoreOnScale(scale, value);
  return { score: decision.score, scale: scale.id, value, unit: scale.unit, comparison: decision.comparison };
}

/**
 * Respiration from a P/F ratio (mm[Hg] or, where the table prints it, kPa) and whether the
 * patient was on respiratory support (invasive mechanical ventilation) at the time of the gas.
 */
export function scoreRespiration(ratio: Quantity, ventilated: boolean, thresholds: SofaThresholds): Result<OrganScoreResult, string> {
  const { respiration } = thresholds;
  const scored = onColumn(respiration.ratio, ratio, 'a PaO2/FiO2 ratio');
  if (!scored.ok || ventilated || scored.value.score < respiration.supportRequiredFromScore) return scored;
  const capped = respiration.capWithoutSupport;
  return ok({
    ...scored.value,
    score: capped,
    comparison: `${scored.value.comparison}, capped at ${capped} without invasive ventilation (3-4 need respiratory support)`,
  });
}

/** Coagulation from platelets in x10^3/uL (== x10^9/L). */
export function scoreCoagulation(platelets: Quantity, thresholds: SofaThresholds): Result<OrganScoreResult, string> {
  return onColumn(thresholds.coagulation.platelets, platelets, 'platelets');
}

/** Liver from total bilirubin (mg/dL, or umol/L where the table prints the SI column). */
export function scoreLiver(bilirubin: Quantity, thresholds: SofaThresholds): Result<OrganScoreResult, string> {
  return onColumn(thresholds.liver.bilirubin, bilirubin, 'bilirubin');
}

/** Central nervous system from the Glasgow Coma Scale total (3-15). */
export function scoreCns(gcs: number, thresholds: SofaThresholds): OrganScoreResult {
  return result(thresholds.cns.gcs, gcs);
}

/** Renal from creatinine alone (mg/dL, or umol/L where printed). */
export function scoreCreatinine(creatinine: Quantity, thresholds: SofaThresholds): Result<OrganScoreResult, string> {
  return onColumn(thresholds.renal.creatinine, creatinine, 'creatinine');
}

/** Renal from a 24 h urine output (mL/day) alone. */
export function scoreUrineOutput(mlPerDay: number, thresholds: SofaThresholds): OrganScoreResult {
  return result(thresholds.renal.urineOutput, mlPerDay);
}

/** Cardiovascular from MAP alone (mmHg). */
export function scoreMap(mapMmHg: number, thresholds: SofaThresholds): OrganScoreResult {
  return result(thresholds.cardiovascular.map, mapMmHg);
}

/** Cardiovascular from one catecholamine rate (ug/kg/min, given for as long as the preset requires). */
export function scoreCatecholamine(drug: Catecholamine, rateUgPerKgPerMin: number, thresholds: SofaThresholds): OrganScoreResult {
  return result(thresholds.cardiovascular.drugs[drug], rateUgPerKgPerMin);
}

/** The worst of several organ results (the first of equal scores), or null when there are none. */
export function worst(results: readonly OrganScoreResult[]): OrganScoreResult | null {
  let best: OrganScoreResult | null = null;
  for (const r of results) if (best === null || r.score > best.score) best = r;
  return best;
}

export interface CardiovascularInput {
  mapMmHg?: number;
  /** Rates in ug/kg/min (already held for the preset's minimum duration). */
  rates?: Partial<Record<Catecholamine, number>>;
}

/**
 * Cardiovascular from a MAP and catecholamine rates observed together: the worst of the single
 * scores (the table's "or": dopamine > 15 OR epinephrine > 0.1 OR norepinephrine > 0.1 scores
 * 4, and so on). Null when there is no input.
 */
export function scoreCardiovascular(input: CardiovascularInput, thresholds: SofaThresholds): OrganScoreResult | null {
  const results: OrganScoreResult[] = [];
  for (const drug of CATECHOLAMINES) {
    const rate = input.rates?.[drug];
    if (rate !== undefined) results.push(scoreCatecholamine(drug, rate, thresholds));
  }
  if (input.mapMmHg !== undefined) results.push(scoreMap(input.mapMmHg, thresholds));
  return worst(results);
}

export interface RenalInput {
  creatinine?: Quantity;
  urineOutputMlPerDay?: number;
}

/** Renal: the worse of creatinine and 24 h urine output (the table's "or"). Null when there is no input. */
export function scoreRenal(input: RenalInput, thresholds: SofaThresholds): Result<OrganScoreResult | null, string> {
  const results: OrganScoreResult[] = [];
  if (input.creatinine !== undefined) {
    const creatinine = scoreCreatinine(input.creatinine, thresholds);
    if (!creatinine.ok) return creatinine;
    results.push(creatinine.value);
  }
  if (input.urineOutputMlPerDay !== undefined) results.push(scoreUrineOutput(input.urineOutputMlPerDay, thresholds));
  return ok(worst(results));
}

/** Total SOFA: the sum of the component scores, a missing (null) component counting 0. */
export function sofaTotal(components: SofaComponentScores): number {
  let total = 0;
  for (const score of Object.values(components)) total += score ?? 0;
  return total;
}
