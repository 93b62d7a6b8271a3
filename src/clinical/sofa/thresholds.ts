/**
 * The SOFA threshold tables as versioned data, one per reference (CLINICAL.md section 6).
 *
 * A table holds, per organ, one or more SCALES: ordered bands "score s when value <op> threshold",
 * highest score first; the first band that holds gives the score, none gives 0. A scale has ONE
 * unit. Where the printed table gives an SI column, it is a second scale of its own, because the
 * printed SI thresholds are NOT exact conversions of the conventional ones (bilirubin 1.2 mg/dL is
 * 20.5 umol/L but the table prints 20; creatinine 1.2 mg/dL is 106 umol/L but the table prints
 * 110; P/F 400 mmHg is 53.3 kPa to one decimal). Which scale scores a measurement is a convention
 * of the preset (parameters.ts, `unitColumns`):
 * - `vincent1996` scores a value on the column of the unit it was REPORTED in: a bilirubin of
 *   20 umol/L is compared with the printed 20 umol/L (score 1), exactly as a clinician reading
 *   the printed table would, although 20 umol/L is 1.17 mg/dL (score 0 on the mg/dL column).
 * - `mimic-iv` converts everything to conventional units and uses only those columns, as MIMIC
 *   stores and mimic-code scores labs in mg/dL and P/F in mmHg.
 *
 * Interval notation of the printed table, read as bands on a continuous value (Vincent 1996's
 * own table reads the same way): "1.2-1.9" means [1.2, 2.0), so 1.95 mg/dL scores 1 and the
 * next band starts at its printed lower bound. The top band is printed "> 12.0" (bilirubin) and
 * "> 5.0" (creatinine): as printed, exactly 12.0 and 5.0 score 3; mimic-code scores them 4
 * (>= 12.0, >= 5.0). Dopamine: Sepsis-3 prints "< 5" for 2 and "5.1-15" for 3, leaving 5.0 in
 * no band; Vincent 1996 prints "<= 5" and "> 5", which we follow (5.0 scores 2, 5.05 scores 3),
 * as does mimic-code.
 */
import { formatExact } from '../numeric.ts';
import type { OrganScore } from './types.ts';

export type Comparator = '<' | '<=' | '>' | '>=';

/** Score `score` when `value <comparator> threshold`. */
export interface ThresholdBand {
  score: Exclude<OrganScore, 0>;
  comparator: Comparator;
  threshold: number;
}

export interface ScoringScale {
  /** Stable id, e.g. "liver.bilirubin.umol/L". */
  id: string;
  /** What is compared, for messages and documents ("bilirubin", "PaO2/FiO2"). */
  quantity: string;
  /** UCUM unit of the compared value. */
  unit: string;
  /** How clinicians write the unit ('' when unitless). */
  displayUnit: string;
  /** Highest score first; the first band whose comparison holds gives the score; none: 0. */
  bands: readonly ThresholdBand[];
  source: string;
}

/** Respiration: P/F ratio scales plus the ventilation rule. */
export interface RespirationThresholds {
  /** P/F ratio scales: the first in mmHg (canonical), then SI (kPa) if printed. */
  ratio: readonly ScoringScale[];
  /** Scores from this value up need respiratory support (invasive mechanical ventilation)... */
  supportRequiredFromScore: OrganScore;
  /** ...without it the score is capped here. */
  capWithoutSupport: OrganScore;
  source: string;
}

export type Catecholamine = 'norepinephrine' | 'epinephrine' | 'dopamine' | 'dobutamine';
export const CATECHOLAMINES: readonly Catecholamine[] = ['norepinephrine', 'epinephrine', 'dopamine', 'dobutamine'];

/**
 * The version of the score itself. SOFA-2 (JAMA 2025) revises all six organs; it will be a
 * second table kind ('sofa-2') with its own organ scorers behind the same timeline and outputs.
 */
export type SofaScoreVersion = 'sofa-1';

export interface SofaThresholds {
  scoreVersion: SofaScoreVersion;
  id: string;
  version: string;
  title: string;
  /** Sources of the table as a whole. */
  citation: string;
  respiration: RespirationThresholds;
  coagulation: { platelets: readonly ScoringScale[] };
  liver: { bilirubin: readonly ScoringScale[] };
  cardiovascular: { map: ScoringScale; drugs: Readonly<Record<Catecholamine, ScoringScale>> };
  cns: { gcs: ScoringScale };
  renal: { creatinine: readonly ScoringScale[]; urineOutput: ScoringScale };
  /** How the printed table was read where it is ambiguous. */
  notes: readonly string[];
}

export const VINCENT_1996 =
  'Vincent JL, Moreno R, Takala J, et al. The SOFA (Sepsis-related Organ Failure Assessment) score to describe organ dysfunction/failure. Intensive Care Med 1996;22(7):707-710. doi:10.1007/BF01709751';
export const SINGER_2016 =
  'Singer M, Deutschman CS, Seymour CW, et al. The Third International Consensus Definitions for Sepsis and Septic Shock (Sepsis-3). JAMA 2016;315(8):801-810, Table 1. doi:10.1001/jama.2016.0287';
export const MIMIC_CODE_SOFA = 'MIT-LCP/mimic-code, mimic-iv/concepts/score/sofa.sql';
const TABLE = `${VINCENT_1996}; as tabulated in ${SINGER_2016} (CLINICAL.md section 6)`;

function scale(
  id: string,
  quantity: string,
  unit: string,
  displayUnit: string,
  bands: Array<[Exclude<OrganScore, 0>, Comparator, number]>,
  source: string,
): ScoringScale {
  return Object.freeze({
    id,
    quantity,
    unit,
    displayUnit,
    bands: Object.freeze(bands.map(([score, comparator, threshold]) => Object.freeze({ score, comparator, threshold }))),
    source,
  });
}

const VINCENT_NOTES: readonly string[] = Object.freeze([
  'Bands of the printed table are read on a continuous value: "1.2-1.9 mg/dL" is [1.2, 2.0) and the next band starts at its printed lower bound.',
  'Bilirubin and creatinine score 4 only above the printed "> 12.0 mg/dL (204 umol/L)" and "> 5.0 mg/dL (440 umol/L)": exactly 12.0 mg/dL and 5.0 mg/dL score 3, as printed.',
  'SI columns are printed thresholds, not conversions: a value reported in umol/L or kPa is compared with the SI column, a value reported in conventional units with the conventional column.',
  'Dopamine: 5.0 ug/kg/min scores 2 and above 5 scores 3 (Vincent 1996 prints "<= 5" and "> 5"; Sepsis-3 prints "< 5" and "5.1-15", leaving 5.0-5.1 in no band).',
  'A catecholamine scores only with a rate above 0; dobutamine at any rate above 0 scores 2.',
  'Respiration 3 and 4 need respiratory support, read as invasive mechanical ventilation (the `mechanical_ventilation` concept); without it the score is capped at 2.',
]);

/** The table as printed (Vincent 1996 / Sepsis-3), conventional and SI columns. */
export const VINCENT_1996_THRESHOLDS: SofaThresholds = Object.freeze({
  scoreVersion: 'sofa-1',
  id: 'sofa-vincent1996',
  version: '1.0.0',
  title: 'SOFA as printed (Vincent 1996; Sepsis-3 Table 1)',
  citation: TABLE,
  respiration: Object.freeze({
    ratio: Object.freeze([
      scale('respiration.pf.mmHg', 'PaO2/FiO2', 'mm[Hg]', 'mmHg', [[4, '<', 100], [3, '<', 200], [2, '<', 300], [1, '<', 400]], TABLE),
      scale('respiration.pf.kPa', 'PaO2/FiO2', 'kPa', 'kPa', [[4, '<', 13.3], [3, '<', 26.7], [2, '<', 40], [1, '<', 53.3]], `${TABLE}, SI column`),
    ]),
    supportRequiredFromScore: 3,
    capWithoutSupport: 2,
    source: `${TABLE}: 3 and 4 "with respiratory support"`,
  }),
  coagulation: Object.freeze({
    // x10^3/uL and x10^9/L are the same number: one column.
    platelets: Object.freeze([
      scale('coagulation.platelets', 'platelets', '10*3/uL', 'x10^3/uL', [[4, '<', 20], [3, '<', 50], [2, '<', 100], [1, '<', 150]], TABLE),
    ]),
  }),
  liver: Object.freeze({
    bilirubin: Object.freeze([
      scale('liver.bilirubin.mg/dL', 'bilirubin', 'mg/dL', 'mg/dL', [[4, '>', 12], [3, '>=', 6], [2, '>=', 2], [1, '>=', 1.2]], TABLE),
      scale('liver.bilirubin.umol/L', 'bilirubin', 'umol/L', 'umol/L', [[4, '>', 204], [3, '>=', 102], [2, '>=', 33], [1, '>=', 20]], `${TABLE}, SI column`),
    ]),
  }),
  cardiovascular: Object.freeze({
    map: scale('cardiovascular.map', 'MAP', 'mm[Hg]', 'mmHg', [[1, '<', 70]], TABLE),
    drugs: Object.freeze({
      dopamine: scale('cardiovascular.dopamine', 'dopamine', 'ug/kg/min', 'ug/kg/min', [[4, '>', 15], [3, '>', 5], [2, '>', 0]], `${VINCENT_1996} (<= 5 / > 5 / > 15); ${SINGER_2016}`),
      dobutamine: scale('cardiovascular.dobutamine', 'dobutamine', 'ug/kg/min', 'ug/kg/min', [[2, '>', 0]], `${TABLE}: dobutamine (any dose)`),
      epinephrine: scale('cardiovascular.epinephrine', 'epinephrine', 'ug/kg/min', 'ug/kg/min', [[4, '>', 0.1], [3, '>', 0]], TABLE),
      norepinephrine: scale('cardiovascular.norepinephrine', 'norepinephrine', 'ug/kg/min', 'ug/kg/min', [[4, '>', 0.1], [3, '>', 0]], TABLE),
    }),
  }),
  cns: Object.freeze({
    gcs: scale('cns.gcs', 'GCS', '{score}', '', [[4, '<', 6], [3, '<', 10], [2, '<', 13], [1, '<', 15]], TABLE),
  }),
  renal: Object.freeze({
    creatinine: Object.freeze([
      scale('renal.creatinine.mg/dL', 'creatinine', 'mg/dL', 'mg/dL', [[4, '>', 5], [3, '>=', 3.5], [2, '>=', 2], [1, '>=', 1.2]], TABLE),
      scale('renal.creatinine.umol/L', 'creatinine', 'umol/L', 'umol/L', [[4, '>', 440], [3, '>=', 300], [2, '>=', 171], [1, '>=', 110]], `${TABLE}, SI column`),
    ]),
    urineOutput: scale('renal.urine-output', 'urine output', 'mL/d', 'mL/day', [[4, '<', 200], [3, '<', 500]], TABLE),
  }),
  notes: VINCENT_NOTES,
});

/**
 * mimic-code's reading of the table (score/sofa.sql): conventional units only, bilirubin
 * >= 12.0 and creatinine >= 5.0 score 4, and ANY charted epinephrine or norepinephrine rate
 * (even 0) scores at least 3 (its CASE tests "rate <= 0.1" on a non-null rate).
 */
export const MIMIC_IV_THRESHOLDS: SofaThresholds = Object.freeze({
  scoreVersion: 'sofa-1',
  id: 'sofa-mimic-iv',
  version: '1.0.0',
  title: 'SOFA as scored by mimic-code (MIMIC-IV sofa concept)',
  citation: `${MIMIC_CODE_SOFA}; ${VINCENT_1996}`,
  respiration: Object.freeze({
    ratio: Object.freeze([
      scale('respiration.pf.mmHg', 'PaO2/FiO2', 'mm[Hg]', 'mmHg', [[4, '<', 100], [3, '<', 200], [2, '<', 300], [1, '<', 400]], MIMIC_CODE_SOFA),
    ]),
    supportRequiredFromScore: 3,
    capWithoutSupport: 2,
    source: `${MIMIC_CODE_SOFA}: 3 and 4 only for gases during invasive ventilation`,
  }),
  coagulation: Object.freeze({
    platelets: Object.freeze([
      scale('coagulation.platelets', 'platelets', '10*3/uL', 'x10^3/uL', [[4, '<', 20], [3, '<', 50], [2, '<', 100], [1, '<', 150]], MIMIC_CODE_SOFA),
    ]),
  }),
  liver: Object.freeze({
    bilirubin: Object.freeze([
      scale('liver.bilirubin.mg/dL', 'bilirubin', 'mg/dL', 'mg/dL', [[4, '>=', 12], [3, '>=', 6], [2, '>=', 2], [1, '>=', 1.2]], MIMIC_CODE_SOFA),
    ]),
  }),
  cardiovascular: Object.freeze({
    map: scale('cardiovascular.map', 'MAP', 'mm[Hg]', 'mmHg', [[1, '<', 70]], MIMIC_CODE_SOFA),
    drugs: Object.freeze({
      dopamine: scale('cardiovascular.dopamine', 'dopamine', 'ug/kg/min', 'ug/kg/min', [[4, '>', 15], [3, '>', 5], [2, '>', 0]], MIMIC_CODE_SOFA),
      dobutamine: scale('cardiovascular.dobutamine', 'dobutamine', 'ug/kg/min', 'ug/kg/min', [[2, '>', 0]], MIMIC_CODE_SOFA),
      epinephrine: scale('cardiovascular.epinephrine', 'epinephrine', 'ug/kg/min', 'ug/kg/min', [[4, '>', 0.1], [3, '>=', 0]], MIMIC_CODE_SOFA),
      norepinephrine: scale('cardiovascular.norepinephrine', 'norepinephrine', 'ug/kg/min', 'ug/kg/min', [[4, '>', 0.1], [3, '>=', 0]], MIMIC_CODE_SOFA),
    }),
  }),
  cns: Object.freeze({
    gcs: scale('cns.gcs', 'GCS', '{score}', '', [[4, '<', 6], [3, '<', 10], [2, '<', 13], [1, '<', 15]], MIMIC_CODE_SOFA),
  }),
  renal: Object.freeze({
    creatinine: Object.freeze([
      scale('renal.creatinine.mg/dL', 'creatinine', 'mg/dL', 'mg/dL', [[4, '>=', 5], [3, '>=', 3.5], [2, '>=', 2], [1, '>=', 1.2]], MIMIC_CODE_SOFA),
    ]),
    urineOutput: scale('renal.urine-output', 'urine output', 'mL/d', 'mL/day', [[4, '<', 200], [3, '<', 500]], MIMIC_CODE_SOFA),
  }),
  notes: Object.freeze([
    'Conventional units only: values reported in SI units are converted (units.ts) before the comparison, as MIMIC stores them.',
    'Bilirubin >= 12.0 mg/dL and creatinine >= 5.0 mg/dL score 4 (the printed table says "> 12.0" and "> 5.0").',
    'Any charted epinephrine or norepinephrine rate, 0 included, scores at least 3 (mimic-code tests "rate <= 0.1" on a non-null rate); dopamine > 5 scores 3, > 15 scores 4; dopamine or dobutamine > 0 scores 2.',
    'Respiration 3 and 4 only for arterial gases taken during invasive ventilation; otherwise capped at 2.',
  ]),
});

/** Whether `value <comparator> threshold` holds. */
export function compare(value: number, comparator: Comparator, threshold: number): boolean {
  switch (comparator) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
  }
}

/** The negation of a comparator, to say why a band did not fire ("not < 150"). */
const NEGATED: Record<Comparator, Comparator> = { '<': '>=', '<=': '>', '>': '<=', '>=': '<' };

/** A threshold with its unit, as clinicians read it: "< 150 x10^3/uL", ">= 6" (GCS has no unit). */
export function describeBand(band: ThresholdBand, unit: string): string {
  return `${band.comparator} ${formatExact(band.threshold)}${unit === '' ? '' : ` ${unit}`}`;
}

export interface ScaleDecision {
  score: OrganScore;
  /** The band that fired, or null (score 0). */
  band: ThresholdBand | null;
  comparison: string;
}

/**
 * The score of `value` on `scale`, with the comparison in words. The value is compared as
 * given: callers pass values already free of binary noise (units.ts rounds conversions to 12
 * significant digits; pfRatio does the same for the ratio).
 */
export function scoreOnScale(scale: ScoringScale, value: number): ScaleDecision {
  const shown = `${scale.quantity} ${formatExact(value)}${scale.displayUnit === '' ? '' : ` ${scale.displayUnit}`}`;
  for (const band of scale.bands) {
    if (compare(value, band.comparator, band.threshold)) {
      return { score: band.score, band, comparison: `${shown} ${describeBand(band, scale.displayUnit)}: ${band.score}` };
    }
  }
  const lowest = scale.bands[scale.bands.length - 1];
  const missed = lowest === undefined ? '' : `, ${describeBand({ ...lowest, comparator: NEGATED[lowest.comparator] }, scale.displayUnit)}`;
  return { score: 0, band: null, comparison: `${shown}${missed}: 0` };
}

export const RICU_SOFA = 'R package ricu (Bennett et al. 2023, eth-mds/ricu), R/callback-sofa.R: sofa_resp, sofa_coag, sofa_liver, sofa_cardio, sofa_cns, sofa_renal';

/**
 * ricu's reading of the table (its sofa_* callbacks): conventional units, bilirubin >= 12 and
 * creatinine >= 5 score 4 like mimic-code, but a catecholamine counts only with a rate above 0
 * (`epi > 0 & epi <= 0.1` scores 3) and dopamine 2 needs a rate above 0.
 */
export const RICU_THRESHOLDS: SofaThresholds = Object.freeze({
  ...MIMIC_IV_THRESHOLDS,
  id: 'sofa-ricu',
  version: '1.0.0',
  title: "SOFA as scored by ricu's sofa callbacks",
  citation: `${RICU_SOFA}; ${VINCENT_1996}`,
  cardiovascular: Object.freeze({
    map: scale('cardiovascular.map', 'MAP', 'mm[Hg]', 'mmHg', [[1, '<', 70]], RICU_SOFA),
    drugs: Object.freeze({
      dopamine: scale('cardiovascular.dopamine', 'dopamine', 'ug/kg/min', 'ug/kg/min', [[4, '>', 15], [3, '>', 5], [2, '>', 0]], RICU_SOFA),
      dobutamine: scale('cardiovascular.dobutamine', 'dobutamine', 'ug/kg/min', 'ug/kg/min', [[2, '>', 0]], RICU_SOFA),
      epinephrine: scale('cardiovascular.epinephrine', 'epinephrine', 'ug/kg/min', 'ug/kg/min', [[4, '>', 0.1], [3, '>', 0]], RICU_SOFA),
      norepinephrine: scale('cardiovascular.norepinephrine', 'norepinephrine', 'ug/kg/min', 'ug/kg/min', [[4, '>', 0.1], [3, '>', 0]], RICU_SOFA),
    }),
  }),
  notes: Object.freeze([
    'Conventional units only (ricu converts on load).',
    'Bilirubin >= 12 mg/dL and creatinine >= 5 mg/dL score 4 (findInterval / ">= 5").',
    'A catecholamine counts only with a rate above 0 given in a run of at least 60 min (vaso60); dobutamine > 0 scores 2.',
    'Respiration: a P/F below 200 without ventilation is set to 200 (score 2): 3 and 4 need ventilation.',
  ]),
});
