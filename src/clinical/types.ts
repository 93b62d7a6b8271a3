/**
 * Plain data types shared across the clinical engine. The engine is pure: no I/O, no clock
 * (the time of evaluation is always an argument), no globals.
 */

/** ISO 8601 instant with time zone, e.g. "2026-01-05T08:00:00Z". */
export type IsoDateTime = string;

/**
 * Canonical clinical concepts the engine understands. The value of a measurement of a concept
 * is always in that concept's canonical UCUM unit (see units.ts) once normalised.
 */
export type Concept =
  | 'pao2'
  | 'fio2'
  | 'mechanical_ventilation'
  | 'platelets'
  | 'bilirubin'
  | 'map'
  | 'norepinephrine'
  | 'epinephrine'
  | 'dopamine'
  | 'dobutamine'
  | 'gcs'
  | 'creatinine'
  | 'urine_output'
  | 'ferritin'
  | 'hla_dr'
  | 'hla_dr_percent'
  | 'neutrophils'
  | 'lactate'
  | 'suPAR'
  | 'weight'
  // Inputs of the HScore (Fardet 2014), used by the `hscore` immune rule set.
  | 'temperature'
  | 'hemoglobin'
  | 'leukocytes'
  | 'triglycerides'
  | 'fibrinogen'
  | 'ast'
  // Clinical findings recorded as 1 (present) / 0 (absent), also HScore inputs.
  | 'immunosuppression'
  | 'hepatomegaly'
  | 'splenomegaly'
  | 'hemophagocytosis'
  // Events of suspected infection (Sepsis-3, Seymour 2016), recorded as 1 at the event time:
  // a systemic antibiotic started, a body-fluid culture drawn.
  | 'antibiotic'
  | 'culture';

/** Where a value came from, so every output can point back to its source record. */
export interface Provenance {
  source: string;
  recordId: string;
}

/**
 * One measurement in canonical units. Point measurements (a lab, a MAP) have only `time`;
 * interval measurements (urine output collected over a period, an infusion rate running over
 * a period) also have `endTime`, and `time` is the start of the interval.
 */
export interface Measurement {
  patientId: string;
  concept: Concept;
  value: number;
  /** Canonical UCUM unit of the concept. */
  unit: string;
  time: IsoDateTime;
  endTime?: IsoDateTime;
  provenance?: Provenance;
  /**
   * The value and unit as the source reported them, when they differ from the canonical
   * ones. SOFA scores SI-reported values against the SI column of the printed table.
   */
  reported?: { value: number; unit: string };
}

/** Result-like union used at the core instead of exceptions. */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });

/** The immune states of the ImmunoSep rule set (and the alternative rule sets). */
export type ImmuneClassName = 'MALS' | 'immunoparalysis' | 'unclassified' | 'indeterminate';
