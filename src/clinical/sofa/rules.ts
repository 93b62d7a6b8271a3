/**
 * SOFA (Sequential Organ Failure Assessment) as versioned data.
 *
 * Source of the bands: Vincent JL et al. The SOFA score to describe organ dysfunction/failure.
 * Intensive Care Med 1996;22:707-710, as tabulated in Sepsis-3 (Singer M et al. JAMA
 * 2016;315:801-810), transcribed in ../shared/spec/CLINICAL.md section 6.
 *
 * The printed table leaves choices open, and the open reference implementations choose
 * differently (CLINICAL.md, "SOFA conventions differ"). Every such choice is a parameter here;
 * a preset is a named set of parameters. Presets:
 * - `mimic-iv`: the conventions of MIT-LCP/mimic-code's MIMIC-IV `sofa` concept (inclusive
 *   upper bands for bilirubin >= 12.0 and creatinine >= 5.0, vasopressor rate of the infusion
 *   running at the hour's end with no minimum duration, FiO2 from the latest charting within
 *   4 h, no room-air default, urine output scaled to 24 h when 22-30 h are charted).
 * - `vincent1996`: the table as printed (bilirubin > 12.0 and creatinine > 5.0 for 4,
 *   catecholamines counted only when given for at least 1 h).
 *
 * SI units: the printed SI column is not an exact conversion of the conventional one
 * (bilirubin 1.2 mg/dL is 20.5 umol/L, printed 20; creatinine 1.2 mg/dL is 106 umol/L, printed
 * 110; P/F 400 mmHg is 53.3 kPa). A value reported in SI units is therefore scored against the
 * printed SI column, a value reported in conventional units against the conventional column,
 * so a clinician reading the table gets the score the table promises in either unit system.
 */

export type SofaComponent = 'respiration' | 'coagulation' | 'liver' | 'cardiovascular' | 'cns' | 'renal';

export const SOFA_COMPONENTS: readonly SofaComponent[] = ['respiration', 'coagulation', 'liver', 'cardiovascular', 'cns', 'renal'];

export const SOFA_CITATION =
  'Vincent JL et al. Intensive Care Med 1996;22:707-710; Singer M et al. (Sepsis-3) JAMA 2016;315:801-810; CLINICAL.md section 6';
export const MIMIC_CITATION = 'MIT-LCP/mimic-code, MIMIC-IV concept score/sofa.sql and the concepts it uses (CLINICAL.md section 6)';

/** Lower bounds ">= value scores points" for an organ whose value rises with dysfunction. */
export interface RisingBands {
  /** [points, lower bound] from the worst band down, e.g. [[4, 12], [3, 6], [2, 2], [1, 1.2]]. */
  bands: ReadonlyArray<readonly [points: number, atLeast: number]>;
  /** Whether the top band's bound is inclusive (>=) or strict (>). */
  topInclusive: boolean;
  unit: string;
}

export interface SofaParameters {
  preset: string;
  version: string;
  title: string;
  citation: string;
  /**
   * Boundaries of the rolling hourly windows: (end - 24 h, end] as mimic-code's hours, or
   * [end - 24 h, end). Day windows are always [start + 24(k-1) h, start + 24k h).
   */
  hourlyWindowClosure: 'closed-open' | 'open-closed';
  respiration: {
    /** FiO2 charted up to this many hours before a PaO2 pairs with it (same time preferred). */
    fio2LookbackHours: number;
    /** FiO2 assumed when none is charted (0.21 = room air), or null for no P/F at all. */
    fio2Default: number | null;
    /** A point ventilation flag (1/0) holds until the next flag, at most this many hours. */
    ventilationFlagHoldHours: number;
  };
  vasopressors: {
    /** 'hour-end': the rate of the infusion running at each hour's end; 'duration': infusions running >= minimumMinutes. */
    sampling: 'hour-end' | 'duration';
    minimumMinutes: number;
    /** A charted point rate (no end time) holds until the drug's next charting, at most this long. */
    pointRateHoldHours: number;
  };
  urineOutput: {
    /** Urine output counts only when the charted intervals cover this many hours (then scaled to 24 h). */
    minCoverageHours: number;
    maxCoverageHours: number;
  };
  liver: { conventional: RisingBands; si: RisingBands };
  renalCreatinine: { conventional: RisingBands; si: RisingBands };
}

const PF_NOTE = 'P/F ratio in mmHg; a PaO2 reported in kPa is scored against the kPa column (53.3, 40, 26.7, 13.3)';

function bilirubin(topInclusive: boolean): SofaParameters['liver'] {
  return {
    conventional: { bands: [[4, 12], [3, 6], [2, 2], [1, 1.2]], topInclusive, unit: 'mg/dL' },
    si: { bands: [[4, 204], [3, 102], [2, 33], [1, 20]], topInclusive, unit: 'umol/L' },
  };
}

function creatinine(topInclusive: boolean): SofaParameters['renalCreatinine'] {
  return {
    conventional: { bands: [[4, 5], [3, 3.5], [2, 2], [1, 1.2]], topInclusive, unit: 'mg/dL' },
    si: { bands: [[4, 440], [3, 300], [2, 171], [1, 110]], topInclusive, unit: 'umol/L' },
  };
}

export const MIMIC_IV_PRESET: SofaParameters = Object.freeze({
  preset: 'mimic-iv',
  version: '1.0.0',
  title: 'MIMIC-IV sofa concept conventions (mimic-code)',
  citation: MIMIC_CITATION,
  hourlyWindowClosure: 'open-closed',
  respiration: { fio2LookbackHours: 4, fio2Default: null, ventilationFlagHoldHours: 24 },
  vasopressors: { sampling: 'hour-end', minimumMinutes: 0, pointRateHoldHours: 1 },
  urineOutput: { minCoverageHours: 22, maxCoverageHours: 30 },
  liver: bilirubin(true),
  renalCreatinine: creatinine(true),
}) as SofaParameters;

export const VINCENT_1996_PRESET: SofaParameters = Object.freeze({
  preset: 'vincent1996',
  version: '1.0.0',
  title: 'SOFA table as printed (Vincent 1996 / Sepsis-3)',
  citation: SOFA_CITATION,
  hourlyWindowClosure: 'closed-open',
  respiration: { fio2LookbackHours: 4, fio2Default: null, ventilationFlagHoldHours: 24 },
  vasopressors: { sampling: 'duration', minimumMinutes: 60, pointRateHoldHours: 1 },
  urineOutput: { minCoverageHours: 22, maxCoverageHours: 30 },
  liver: bilirubin(false),
  renalCreatinine: creatinine(false),
}) as SofaParameters;

export const SOFA_PRESETS: Readonly<Record<string, SofaParameters>> = {
  'mimic-iv': MIMIC_IV_PRESET,
  vincent1996: VINCENT_1996_PRESET,
};

export const DEFAULT_SOFA_PRESET = 'mimic-iv';

export function findSofaPreset(name: string): SofaParameters | undefined {
  return Object.hasOwn(SOFA_PRESETS, name) ? SOFA_PRESETS[name] : undefined;
}

/** Fixed bands shared by every preset (the table has no ambiguity there). */
export const FIXED_BANDS = {
  respiration: {
    /** [points, below]: P/F < value scores points; 3 and 4 need respiratory support. */
    mmHg: [[4, 100], [3, 200], [2, 300], [1, 400]] as const,
    kPa: [[4, 13.3], [3, 26.7], [2, 40], [1, 53.3]] as const,
    note: PF_NOTE,
  },
  /** Platelets x10^3/uL: < value scores points. */
  coagulation: [[4, 20], [3, 50], [2, 100], [1, 150]] as const,
  /** GCS <= value scores points. */
  cns: [[4, 5], [3, 9], [2, 12], [1, 14]] as const,
  /** Urine output mL/day: < value scores points. */
  urineOutput: [[4, 200], [3, 500]] as const,
  cardiovascular: {
    mapBelowMmHg: 70,
    /** ug/kg/min */
    dopamineAbove4: 15,
    dopamineAbove3: 5,
    epinephrineOrNorepinephrineAbove4: 0.1,
  },
} as const;
