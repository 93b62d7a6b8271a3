/**
 * Types of the SOFA engine (Sequential Organ Failure Assessment; Vincent 1996, as tabulated in
 * Sepsis-3, CLINICAL.md section 6). The engine is pure: measurements and times in, scores with
 * their explanation out.
 */
import type { IsoDateTime, Measurement, Provenance } from '../types.ts';

/** The six organ systems, in the order of the SOFA table (and of every output). */
export const SOFA_COMPONENTS = ['respiration', 'coagulation', 'liver', 'cardiovascular', 'cns', 'renal'] as const;
export type SofaComponent = (typeof SOFA_COMPONENTS)[number];

/** An organ score: 0 (normal) to 4 (failure). */
export type OrganScore = 0 | 1 | 2 | 3 | 4;

/** Score of each component in a window; null when nothing was measured for it. */
export type SofaComponentScores = Record<SofaComponent, OrganScore | null>;

/**
 * A measurement as the SOFA engine reads it: a canonical Measurement (value in the concept's
 * canonical UCUM unit, see units.ts; `reported` keeps the value and unit as the source reported
 * them, which presets that print SI thresholds use to pick the SI column, see thresholds.ts),
 * optionally with `qualifiers`: facts about the measurement that change how it scores (a GCS
 * with the verbal response charted as "intubated", the "8T" of bedside charts).
 * Any Measurement is a SofaMeasurement.
 */
export interface SofaMeasurement extends Measurement {
  qualifiers?: MeasurementQualifiers;
}

export interface MeasurementQualifiers {
  /** GCS: the verbal response could not be assessed because of an endotracheal tube ("8T"). */
  gcsVerbalIntubated?: boolean;
}

/** A value with its UCUM unit. */
export interface Quantity {
  value: number;
  unit: string;
}

/** Which threshold decided an organ score, and the comparison in words. */
export interface OrganScoreResult {
  score: OrganScore;
  /** Id of the scale that scored the value, e.g. "liver.bilirubin.umol/L". */
  scale: string;
  /** The quantity compared, in the unit of the scale (a P/F ratio, a 24 h urine volume...). */
  value: number;
  unit: string;
  /**
   * The comparison that fired, e.g. "bilirubin 33 umol/L >= 33 umol/L: 2", or for a normal
   * value the nearest band it missed: "platelets 150 x10^3/uL, not < 150: 0".
   */
  comparison: string;
}

/** A measurement an output rests on, with its source. */
export interface SofaInputRef {
  concept: Measurement['concept'];
  value: number;
  unit: string;
  time: IsoDateTime;
  endTime?: IsoDateTime;
  reported?: Measurement['reported'];
  provenance?: Provenance;
}

/** The worst input behind a component score in a window, explained. */
export interface SofaComponentEvidence extends OrganScoreResult {
  component: SofaComponent;
  /** The instant the compared value applies to (a urine total: the end of its period). */
  time: IsoDateTime;
  /** What was done to the inputs before the comparison (P/F pairing, held rate, 24 h urine). */
  derivation?: string;
  inputs: SofaInputRef[];
}

/** A scored window of the timeline. */
export interface SofaWindowScore {
  start: IsoDateTime;
  end: IsoDateTime;
  /** Which edge belongs to the window: "[start, end)" or "(start, end]". */
  interval: '[start, end)' | '(start, end]';
  /** Sum of the component scores, a missing component counting 0 (CLINICAL.md section 6). */
  total: number;
  components: SofaComponentScores;
  /** Components with no input in the window (scored 0 in the total): "not measured", not "normal". */
  missing: SofaComponent[];
  /** The worst input behind each component that has a score (read-only: shared between windows it decides). */
  evidence: Partial<Record<SofaComponent, SofaComponentEvidence>>;
}

/** Day k covers [start + 24(k - 1) h, start + 24k h). */
export interface SofaDay extends SofaWindowScore {
  day: number;
}

/** Hour row `hr` (>= 0): the 24 h window ending at the end of that hour (mimic-code's sofa table). */
export interface SofaHour extends SofaWindowScore {
  hr: number;
  /** The hour itself (the 24 h window is [end - 24 h, end], closed as `interval` says). */
  hourStart: IsoDateTime;
}

/** Why the engine could not score a patient's measurements. */
export interface SofaInputError {
  kind: 'invalid-time' | 'not-canonical-unit' | 'mixed-patients' | 'invalid-parameters';
  message: string;
}
