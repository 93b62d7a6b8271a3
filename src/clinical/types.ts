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
  // The three responses the GCS total is the sum of (Teasdale 1974). SOFA presets read them
  // where the source charts them one by one (mimic-code's gcs.sql carries each forward 6 h).
  | 'gcs_motor'
  | 'gcs_verbal'
  | 'gcs_eyes'
  | 'creatinine'
  | 'urine_output'
  // Continuous bladder irrigation: the urine output of such a charting is out - in
  // (mimic-code urine_output.sql nets the two at one charting time).
  | 'gu_irrigant_in'
  | 'gu_irrigant_out'
  // Heart rate: the mimic-iv SOFA preset anchors its hour grid on a stay's first heart rate.
  | 'heart_rate'
  // Respiratory support as charted (mimic-code ventilation.sql): the oxygen delivery device or
  // airway, the ventilator mode (both as RESPIRATORY_SUPPORT codes), and the oxygen flow.
  | 'oxygen_device'
  | 'ventilator_mode'
  | 'o2_flow'
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

/**
 * Codes of the respiratory-support concepts (oxygen_device, ventilator_mode), the categories of
 * mimic-code's ventilation.sql. A category, not an ordinal scale: a tracheostomy is an airway
 * that may or may not be ventilated, and mimic-code keeps it apart from invasive ventilation.
 */
export const RESPIRATORY_SUPPORT = {
  /** Room air (a device charted as "None"). */
  none: 0,
  /** Nasal cannula, face masks, nebulisers. */
  supplementalOxygen: 1,
  highFlowNasalCannula: 2,
  /** BiPAP / CPAP masks, non-invasive ventilator modes. */
  nonInvasiveVentilation: 3,
  /** Endotracheal tube, invasive ventilator modes. */
  invasiveVentilation: 4,
  tracheostomy: 5,
  /** A device the categories do not class (a T-piece): charted, but no status of its own. */
  other: 6,
} as const;
export type RespiratorySupport = (typeof RESPIRATORY_SUPPORT)[keyof typeof RESPIRATORY_SUPPORT];

/** The blood a sample was drawn from (blood gases: only arterial pO2 is PaO2). */
export type BloodSpecimen = 'arterial' | 'venous' | 'mixed-venous' | 'capillary';

/**
 * Where and in what a measurement was taken, when the source says so: what conventions that
 * link values across records need (mimic-code links labs to ICU stays by hospital admission,
 * pairs a blood gas's pO2 with the FiO2 of the same sample, ranks devices charted at one time
 * by when they were recorded). Every field is optional: absent means the source did not say.
 * Ids are the ids of the source's StayRecords (src/sources/import-format.ts), so a measurement
 * links to the stays an import yields.
 */
export interface MeasurementContext {
  /**
   * The encounter the value was recorded in: a hospital admission or an ICU stay (FHIR
   * Observation.encounter as "Encounter/<id>"; MIMIC-IV hadm_id as "hadm/<id>").
   */
  encounterId?: string;
  /** The ICU stay, when the source names it apart from the encounter (MIMIC-IV stay_id as "stay/<id>"). */
  stayId?: string;
  /** The sample the value was measured in: values of one sample share it (MIMIC-IV specimen_id, FHIR Observation.specimen). */
  specimenId?: string;
  /** The blood the sample was drawn from, when known (MIMIC-IV blood-gas item 52033, FHIR Specimen.type or an arterial code). */
  specimen?: BloodSpecimen;
  /** When the value was recorded in the source system (MIMIC-IV storetime, FHIR Observation.issued). */
  recordedAt?: IsoDateTime;
  /**
   * The text the source charted, for a value coded from text (an O2 device name): mimic-code
   * ranks the devices charted at one time by storetime, then by this text.
   */
  sourceText?: string;
}

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
  /** Encounter, stay and sample the value belongs to, when the source says (see MeasurementContext). */
  context?: MeasurementContext;
}

/** Result-like union used at the core instead of exceptions. */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });

/** The immune states of the ImmunoSep rule set (and the alternative rule sets). */
export type ImmuneClassName = 'MALS' | 'immunoparalysis' | 'unclassified' | 'indeterminate';
