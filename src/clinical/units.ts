/**
 * Unit normalisation for every clinical concept, through UCUM (the Unified Code for Units of
 * Measure, via @lhncbc/ucum-lhc), following CLINICAL.md section 7.
 *
 * Rules:
 * - Each concept has ONE canonical UCUM unit (CONCEPT_UNITS); the engine computes only on
 *   canonical values. The reported value and unit are kept next to the canonical value.
 * - Anything not convertible is an error value, never a guess: unknown unit strings, units of
 *   another dimension, and UCUM's own "we assumed you meant ..." substitutions are refused.
 * - Mass <-> molar conversions use a molecular weight that is DATA in CONCEPT_UNITS. Where the
 *   clinical spec states a conversion factor (bilirubin 17.1, creatinine 88.4, ferritin 2.247),
 *   the molecular weight is derived from that factor so UCUM reproduces it exactly.
 * - Converted values are rounded to 12 significant digits (numeric.ts) so that a value exactly
 *   on a threshold in decimal stays on it (17.1 umol/L is 1 mg/dL, not 0.9999999999999998).
 * - Implausible values (negative, outside the physiological range of the concept) are
 *   rejected with the value and the reason.
 */
import ucum, { type UcumLhcUtils, type UcumUnit } from '@lhncbc/ucum-lhc';
import { decimalRound, formatExact } from './numeric.ts';
import { type Concept, type Result, err, ok } from './types.ts';

/** Inclusive plausibility limits, in the canonical unit of the concept. */
export interface PlausibleRange {
  min: number;
  max: number;
  /** Only whole numbers are plausible (GCS, 1/0 flags). */
  integer?: boolean;
  /** Why these limits: shown in the error message when a value falls outside. */
  rationale: string;
}

/** A conversion factor stated by the clinical spec that takes precedence over UCUM's definition. */
export interface StatedFactor {
  /** UCUM code of the reported unit. */
  unit: string;
  /** Canonical units per one reported unit. */
  canonicalPerUnit: number;
  source: string;
}

export interface ConceptUnitSpec {
  /** Clinical name for messages and documents. */
  label: string;
  /** Canonical UCUM code: values of this concept are stored and compared in this unit. */
  canonicalUnit: string;
  /** How clinicians write the canonical unit (for messages and documents; '' when unitless). */
  displayUnit: string;
  /** Used by UCUM for mass <-> amount-of-substance conversions. */
  molecularWeightGPerMol?: number;
  /** Where the molecular weight comes from (e.g. the conversion factor the spec states). */
  molecularWeightSource?: string;
  /** Non-UCUM spellings found in lab feeds, mapped to the UCUM code they mean. */
  aliases?: Readonly<Record<string, string>>;
  /**
   * When set, only these UCUM codes are accepted. Used for concepts whose canonical unit is
   * dimensionless or an annotation ({molecules}/{cell}, {score}): UCUM treats annotations as
   * the unity 1, so it would happily "convert" 20 % into 0.2 molecules/cell.
   */
  closedUnits?: readonly string[];
  /** Units that are recognised but must never be converted into this concept, with the reason. */
  refusedUnits?: Readonly<Record<string, string>>;
  statedFactors?: readonly StatedFactor[];
  /**
   * A unitless value ('' or '1') in (above, max] is read as a percent (FiO2 written as 40
   * instead of 0.40). An explicit '{fraction}' is never reinterpreted.
   */
  unitlessPercent?: { above: number; max: number; source: string };
  /** Rates per kg of body weight: a total rate (ug/min) converts when the weight is given. */
  perBodyWeight?: boolean;
  plausible: PlausibleRange;
  /** Source of the canonical unit and conversion facts. */
  source: string;
}

const SPEC_UNITS = 'CLINICAL.md section 7 (Units)';
const SANITY = 'ImmunoGuide sanity limit (engineering judgement, not a clinical threshold)';

/** Unitless / unity spellings. */
const UNITY_ALIASES = { '': '1', '{fraction}': '1', '{ratio}': '1' } as const;
const FLAG_ALIASES = { '': '1', '{flag}': '1', '{boolean}': '1' } as const;
const PRESSURE_ALIASES = { mmHg: 'mm[Hg]', 'mm Hg': 'mm[Hg]', torr: 'mm[Hg]', Torr: 'mm[Hg]' } as const;
/** Cell counts: lab conventions for "thousands per microlitre" / "10^9 per litre". */
const COUNT_ALIASES = {
  'K/uL': '10*3/uL',
  'K/mm3': '10*3/mm3',
  'thou/uL': '10*3/uL',
  '10^3/uL': '10*3/uL',
  'x10^3/uL': '10*3/uL',
  '10E3/uL': '10*3/uL',
  'x10E3/uL': '10*3/uL',
  '10^3/mm3': '10*3/mm3',
  '10^9/L': '10*9/L',
  'x10^9/L': '10*9/L',
  '10E9/L': '10*9/L',
  'x10E9/L': '10*9/L',
  // "G/L" (giga per litre) is the French convention; in UCUM "G" would be the gauss.
  'G/L': '10*9/L',
  'cells/uL': '/uL',
  'cells/mm3': '/mm3',
} as const;

/** Spellings of "antibodies bound / molecules per monocyte" (Quantibrite reports AB/c or ABC/cell). */
const MOLECULES_PER_CELL_ALIASES = {
  'molecules/cell': '{molecules}/{cell}',
  'molecules/monocyte': '{molecules}/{cell}',
  '{molecules}/{monocyte}': '{molecules}/{cell}',
  'AB/cell': '{molecules}/{cell}',
  'Ab/cell': '{molecules}/{cell}',
  'ABC/cell': '{molecules}/{cell}',
  'AB/c': '{molecules}/{cell}',
  '{AB}/{cell}': '{molecules}/{cell}',
  '{ABC}/{cell}': '{molecules}/{cell}',
  'antibodies/cell': '{molecules}/{cell}',
} as const;

/**
 * Kilopascal -> mmHg as stated by the spec (1 kPa = 7.50062 mmHg, from the conventional
 * 1 mmHg = 133.322387 Pa). UCUM defines mm[Hg] as 133.322 Pa (7.500638 mmHg per kPa); the two
 * differ by 2.4e-6 relative, and we follow the spec for the unit blood-gas analysers report.
 */
const KPA_TO_MMHG: StatedFactor = { unit: 'kPa', canonicalPerUnit: 7.50062, source: SPEC_UNITS };

/** A 1/0 finding (present / absent). */
function flag(label: string, source: string): ConceptUnitSpec {
  return {
    label,
    canonicalUnit: '1',
    displayUnit: '',
    aliases: FLAG_ALIASES,
    closedUnits: ['1'],
    plausible: { min: 0, max: 1, integer: true, rationale: 'a flag is 1 (yes) or 0 (no)' },
    source,
  };
}

/** One response of the Glasgow Coma Scale, scored 1 to `max`. */
function gcsResponse(label: string, max: number): ConceptUnitSpec {
  return {
    label,
    canonicalUnit: '{score}',
    displayUnit: 'points',
    aliases: { '': '{score}', '1': '{score}', '{points}': '{score}' },
    closedUnits: ['{score}'],
    plausible: { min: 1, max, integer: true, rationale: `the ${label} is a whole number from 1 to ${max} (Teasdale 1974)` },
    source: 'CLINICAL.md section 6 (SOFA central nervous system: GCS)',
  };
}

/** A category of RESPIRATORY_SUPPORT (types.ts): 0 none ... 5 tracheostomy, 6 other. */
function respiratorySupport(label: string, source: string): ConceptUnitSpec {
  return {
    label,
    canonicalUnit: '{category}',
    displayUnit: '',
    aliases: { '': '{category}', '1': '{category}' },
    closedUnits: ['{category}'],
    plausible: {
      min: 0,
      max: 6,
      integer: true,
      rationale: 'a code: 0 none, 1 supplemental oxygen, 2 high-flow nasal cannula, 3 non-invasive ventilation, 4 invasive ventilation, 5 tracheostomy, 6 other',
    },
    source,
  };
}

function vasoactive(label: string, maxUgPerKgPerMin: number): ConceptUnitSpec {
  return {
    label,
    canonicalUnit: 'ug/kg/min',
    displayUnit: 'ug/kg/min',
    perBodyWeight: true,
    plausible: {
      min: 0,
      max: maxUgPerKgPerMin,
      rationale: `${SANITY}: above ${maxUgPerKgPerMin} ug/kg/min is beyond any reported clinical dose`,
    },
    source: 'CLINICAL.md section 6 (SOFA cardiovascular: catecholamine doses in ug/kg/min)',
  };
}

export const CONCEPT_UNITS: Readonly<Record<Concept, ConceptUnitSpec>> = {
  // Ferritin: ng/mL == ug/L; pmol/L / 2.247 = ng/mL (CLINICAL.md section 7). The molecular
  // weight 1e6 / 2.247 g/mol (about 445 kDa, the ferritin shell) makes UCUM apply exactly that
  // factor. Upper limit 10^6 ng/mL: issue 3 acceptance (values above are transcription or
  // unit errors; the highest reported in haemophagocytic syndromes are in the 10^5 range).
  ferritin: {
    label: 'ferritin',
    canonicalUnit: 'ng/mL',
    displayUnit: 'ng/mL',
    molecularWeightGPerMol: 1e6 / 2.247,
    molecularWeightSource: 'from pmol/L / 2.247 = ng/mL',
    plausible: { min: 0, max: 1e6, rationale: 'above 10^6 ng/mL is not a plausible serum ferritin (issue 3)' },
    source: SPEC_UNITS,
  },
  // Monocyte HLA-DR as antibodies bound per CD14+ monocyte (Quantibrite bead calibration),
  // the ImmunoSep input (CLINICAL.md section 2). UCUM has no unit for it: the annotation
  // {molecules}/{cell} is valid UCUM (dimensionless), hence the closed list of accepted units.
  hla_dr: {
    label: 'monocyte HLA-DR',
    canonicalUnit: '{molecules}/{cell}',
    displayUnit: 'molecules/monocyte',
    aliases: MOLECULES_PER_CELL_ALIASES,
    closedUnits: ['{molecules}/{cell}'],
    refusedUnits: {
      '%':
        'HLA-DR as % positive monocytes is not convertible to molecules per monocyte: ImmunoSep ' +
        'quantifies mHLA-DR as antibodies bound per CD45+/CD14+ monocyte with calibrated beads ' +
        '(Quantibrite-type assay). Record the percentage under hla_dr_percent; only the ' +
        'provide-2017 rule set (HLA-DR < 30 %) uses it',
    },
    plausible: {
      min: 0,
      max: 200_000,
      rationale: `${SANITY}: healthy adults are typically above 15,000 molecules/monocyte; above 200,000 suggests a unit or transcription error`,
    },
    source: 'CLINICAL.md section 2 (mHLA-DR molecules per monocyte)',
  },
  // Percentage of monocytes expressing HLA-DR (PROVIDE-era definition, CLINICAL.md section 2).
  hla_dr_percent: {
    label: 'HLA-DR positive monocytes',
    canonicalUnit: '%',
    displayUnit: '%',
    aliases: MOLECULES_PER_CELL_ALIASES,
    closedUnits: ['%'],
    refusedUnits: {
      '{molecules}/{cell}':
        'molecules per monocyte are not convertible to % HLA-DR positive monocytes; record them ' +
        'under hla_dr, which the immunosep rule set uses',
    },
    plausible: { min: 0, max: 100, rationale: 'a percentage of monocytes lies between 0 and 100' },
    source: 'CLINICAL.md section 2 (HLA-DR % positive monocytes, PROVIDE)',
  },
  // PaO2: 1 kPa = 7.50062 mmHg (CLINICAL.md section 7).
  pao2: {
    label: 'PaO2',
    canonicalUnit: 'mm[Hg]',
    displayUnit: 'mmHg',
    aliases: PRESSURE_ALIASES,
    statedFactors: [KPA_TO_MMHG],
    plausible: {
      min: 10,
      max: 800,
      rationale: `${SANITY}: arterial PaO2 in a living patient; breathing 100% oxygen at sea level it cannot exceed about 670 mmHg`,
    },
    source: SPEC_UNITS,
  },
  // FiO2 as a fraction 0.21-1.0; percent 21-100 recognised (CLINICAL.md section 7).
  fio2: {
    label: 'FiO2',
    canonicalUnit: '1',
    displayUnit: '',
    aliases: UNITY_ALIASES,
    closedUnits: ['1', '%'],
    unitlessPercent: { above: 1, max: 100, source: SPEC_UNITS },
    plausible: {
      min: 0.21,
      max: 1,
      rationale: 'FiO2 lies between 0.21 (room air) and 1.0 (pure oxygen) (CLINICAL.md section 7)',
    },
    source: SPEC_UNITS,
  },
  mechanical_ventilation: flag('mechanical ventilation', 'CLINICAL.md section 6 (respiratory support for SOFA 3-4)'),
  // Platelets: 10^3/uL == 10^9/L (CLINICAL.md section 7).
  platelets: {
    label: 'platelets',
    canonicalUnit: '10*3/uL',
    displayUnit: 'x10^3/uL',
    aliases: COUNT_ALIASES,
    plausible: { min: 0, max: 5000, rationale: `${SANITY}: above 5,000 x10^3/uL exceeds extreme thrombocytosis` },
    source: SPEC_UNITS,
  },
  // Bilirubin: 1 mg/dL = 17.1 umol/L (CLINICAL.md section 7), i.e. a molecular weight of
  // 10 mg/L / 17.1 umol/L = 584.8 g/mol (bilirubin is 584.7 g/mol).
  bilirubin: {
    label: 'bilirubin',
    canonicalUnit: 'mg/dL',
    displayUnit: 'mg/dL',
    molecularWeightGPerMol: 1e4 / 17.1,
    molecularWeightSource: 'from 1 mg/dL = 17.1 umol/L',
    plausible: { min: 0, max: 100, rationale: `${SANITY}: above 100 mg/dL exceeds any reported serum bilirubin` },
    source: SPEC_UNITS,
  },
  // Creatinine: 1 mg/dL = 88.4 umol/L (CLINICAL.md section 7), i.e. a molecular weight of
  // 10 mg/L / 88.4 umol/L = 113.1 g/mol (creatinine is 113.12 g/mol).
  creatinine: {
    label: 'creatinine',
    canonicalUnit: 'mg/dL',
    displayUnit: 'mg/dL',
    molecularWeightGPerMol: 1e4 / 88.4,
    molecularWeightSource: 'from 1 mg/dL = 88.4 umol/L',
    plausible: { min: 0, max: 40, rationale: `${SANITY}: above 40 mg/dL exceeds any reported serum creatinine` },
    source: SPEC_UNITS,
  },
  map: {
    label: 'mean arterial pressure',
    canonicalUnit: 'mm[Hg]',
    displayUnit: 'mmHg',
    aliases: PRESSURE_ALIASES,
    statedFactors: [KPA_TO_MMHG],
    plausible: { min: 0, max: 300, rationale: `${SANITY}: a mean arterial pressure above 300 mmHg is not physiological` },
    source: 'CLINICAL.md section 6 (SOFA cardiovascular: MAP in mmHg)',
  },
  norepinephrine: vasoactive('norepinephrine', 10),
  epinephrine: vasoactive('epinephrine', 10),
  dopamine: vasoactive('dopamine', 100),
  dobutamine: vasoactive('dobutamine', 100),
  // Glasgow Coma Scale total, 3-15 (CLINICAL.md section 6).
  gcs: {
    label: 'Glasgow Coma Scale',
    canonicalUnit: '{score}',
    displayUnit: 'points',
    aliases: { '': '{score}', '1': '{score}', '{points}': '{score}' },
    closedUnits: ['{score}'],
    plausible: { min: 3, max: 15, integer: true, rationale: 'the GCS total is a whole number from 3 to 15' },
    source: 'CLINICAL.md section 6 (SOFA central nervous system)',
  },
  // The three GCS responses (Teasdale 1974): eyes 1-4, verbal 1-5, motor 1-6. A verbal
  // response that cannot be assessed through an endotracheal tube is charted 1 and flagged
  // (the "T" of "8T"; qualifiers.gcsVerbalIntubated), as the total is.
  gcs_motor: gcsResponse('GCS motor response', 6),
  gcs_verbal: gcsResponse('GCS verbal response', 5),
  gcs_eyes: gcsResponse('GCS eye opening', 4),
  // Urine volume over the charted interval (CLINICAL.md section 6, renal).
  urine_output: {
    label: 'urine output',
    canonicalUnit: 'mL',
    displayUnit: 'mL',
    plausible: { min: 0, max: 20_000, rationale: `${SANITY}: above 20 L in one charted interval is not physiological` },
    source: 'CLINICAL.md section 6 (SOFA renal: urine output in mL/day)',
  },
  // Continuous bladder irrigation, charted per collection (mimic-code urine_output.sql: the
  // urine output of a charting is the irrigant drained minus the irrigant instilled).
  gu_irrigant_in: {
    label: 'GU irrigant instilled',
    canonicalUnit: 'mL',
    displayUnit: 'mL',
    plausible: { min: 0, max: 50_000, rationale: `${SANITY}: above 50 L of irrigant in one charted interval is not plausible` },
    source: 'mimic-code urine_output.sql (GU irrigant volume in, subtracted from urine output)',
  },
  gu_irrigant_out: {
    label: 'GU irrigant and urine drained',
    canonicalUnit: 'mL',
    displayUnit: 'mL',
    plausible: { min: 0, max: 50_000, rationale: `${SANITY}: above 50 L drained in one charted interval is not plausible` },
    source: 'mimic-code urine_output.sql (GU irrigant/urine volume out)',
  },
  heart_rate: {
    label: 'heart rate',
    canonicalUnit: '/min',
    displayUnit: '/min',
    aliases: { bpm: '/min', BPM: '/min', 'beats/min': '/min', '{beats}/min': '/min', '{Beats}/min': '/min' },
    // 0 is asystole, a value a monitor charts; mimic-code's hour grid counts any charting.
    plausible: { min: 0, max: 400, rationale: `${SANITY}: above 400 /min is not a heart rate` },
    source: 'mimic-code icustay_times.sql (the hour grid starts at the first heart rate)',
  },
  oxygen_device: respiratorySupport('oxygen delivery device or airway', 'mimic-code oxygen_delivery.sql and ventilation.sql'),
  ventilator_mode: respiratorySupport('ventilator mode', 'mimic-code ventilator_setting.sql and ventilation.sql'),
  o2_flow: {
    label: 'oxygen flow',
    canonicalUnit: 'L/min',
    displayUnit: 'L/min',
    aliases: { lpm: 'L/min', LPM: 'L/min', 'l/min': 'L/min' },
    plausible: { min: 0, max: 100, rationale: `${SANITY}: above 100 L/min exceeds any oxygen delivery device` },
    source: 'mimic-code oxygen_delivery.sql (a device counts at times an O2 flow is charted)',
  },
  // Absolute neutrophil count; the spec writes /mm3, and 1 mm3 = 1 uL.
  neutrophils: {
    label: 'absolute neutrophil count',
    canonicalUnit: '10*3/uL',
    displayUnit: 'x10^3/uL',
    aliases: COUNT_ALIASES,
    plausible: { min: 0, max: 500, rationale: `${SANITY}: above 500 x10^3/uL exceeds leukaemic counts` },
    source: 'CLINICAL.md section 1 (neutropenia < 1500/mm3)',
  },
  // Lactate: 1 mmol/L = 9.008 mg/dL (lactate, 90.08 g/mol).
  lactate: {
    label: 'lactate',
    canonicalUnit: 'mmol/L',
    displayUnit: 'mmol/L',
    molecularWeightGPerMol: 90.08,
    molecularWeightSource: 'lactate; 1 mmol/L = 9.008 mg/dL',
    plausible: { min: 0, max: 50, rationale: `${SANITY}: above 50 mmol/L exceeds any reported blood lactate` },
    source: 'Sepsis-3 septic shock criterion (lactate in mmol/L)',
  },
  // Soluble urokinase plasminogen activator receptor (SAVE-MORE, CLINICAL.md section 2).
  suPAR: {
    label: 'suPAR',
    canonicalUnit: 'ng/mL',
    displayUnit: 'ng/mL',
    plausible: { min: 0, max: 500, rationale: `${SANITY}: above 500 ng/mL exceeds any reported plasma suPAR` },
    source: 'CLINICAL.md section 2 (suPAR >= 6 ng/mL)',
  },
  weight: {
    label: 'body weight',
    canonicalUnit: 'kg',
    displayUnit: 'kg',
    plausible: { min: 0.5, max: 700, rationale: `${SANITY}: body weight between 0.5 and 700 kg` },
    source: 'weight-based dosing (ug/kg/min)',
  },
  // HScore inputs (Fardet 2014, CLINICAL.md section 2).
  temperature: {
    label: 'body temperature',
    canonicalUnit: 'Cel',
    displayUnit: '°C',
    aliases: { '°C': 'Cel', degC: 'Cel', '°F': '[degF]', degF: '[degF]' },
    plausible: { min: 25, max: 45, rationale: `${SANITY}: core temperature between 25 and 45 °C` },
    source: 'CLINICAL.md section 2 (HScore temperature in °C)',
  },
  // Haemoglobin: molar units refer to the monomer (16,114.5 g/mol): 1 g/dL = 0.6206 mmol/L.
  hemoglobin: {
    label: 'haemoglobin',
    canonicalUnit: 'g/dL',
    displayUnit: 'g/dL',
    molecularWeightGPerMol: 16_114.5,
    molecularWeightSource: 'haemoglobin monomer; 1 g/dL = 0.6206 mmol/L',
    plausible: { min: 0, max: 30, rationale: `${SANITY}: above 30 g/dL is not a plausible haemoglobin` },
    source: 'CLINICAL.md section 2 (HScore cytopenia: Hb <= 9.2 g/dL)',
  },
  leukocytes: {
    label: 'white blood cells',
    canonicalUnit: '10*3/uL',
    displayUnit: 'x10^3/uL',
    aliases: COUNT_ALIASES,
    plausible: { min: 0, max: 1000, rationale: `${SANITY}: above 1,000 x10^3/uL exceeds leukaemic counts` },
    source: 'CLINICAL.md section 2 (HScore cytopenia: WBC <= 5000/uL)',
  },
  // Triglycerides: 1 mmol/L = 88.57 mg/dL (as triolein, 885.7 g/mol).
  triglycerides: {
    label: 'triglycerides',
    canonicalUnit: 'mmol/L',
    displayUnit: 'mmol/L',
    molecularWeightGPerMol: 885.7,
    molecularWeightSource: 'as triolein; 1 mmol/L = 88.57 mg/dL',
    plausible: { min: 0, max: 250, rationale: `${SANITY}: above 250 mmol/L exceeds any reported serum triglycerides` },
    source: 'CLINICAL.md section 2 (HScore triglycerides in mmol/L)',
  },
  fibrinogen: {
    label: 'fibrinogen',
    canonicalUnit: 'g/L',
    displayUnit: 'g/L',
    plausible: { min: 0, max: 20, rationale: `${SANITY}: above 20 g/L is not a plausible plasma fibrinogen` },
    source: 'CLINICAL.md section 2 (HScore fibrinogen in g/L)',
  },
  // Aspartate aminotransferase activity. An international unit of enzyme activity (IU) is the
  // enzyme unit U = 1 umol/min, so "IU/L" is U/L (UCUM's [IU] is an arbitrary unit instead).
  ast: {
    label: 'aspartate aminotransferase (AST)',
    canonicalUnit: 'U/L',
    displayUnit: 'U/L',
    aliases: { 'IU/L': 'U/L' },
    plausible: { min: 0, max: 100_000, rationale: `${SANITY}: above 100,000 U/L exceeds any reported AST` },
    source: 'CLINICAL.md section 2 (HScore AST in U/L)',
  },
  immunosuppression: flag(
    'known underlying immunosuppression (HIV or long-term immunosuppressive therapy)',
    'CLINICAL.md section 2 (HScore)',
  ),
  hepatomegaly: flag('hepatomegaly', 'CLINICAL.md section 2 (HScore organomegaly)'),
  splenomegaly: flag('splenomegaly', 'CLINICAL.md section 2 (HScore organomegaly)'),
  hemophagocytosis: flag('haemophagocytosis on bone marrow aspirate', 'CLINICAL.md section 2 (HScore)'),
  antibiotic: flag('systemic antibiotic administered', 'Seymour 2016 suspected infection (Sepsis-3)'),
  culture: flag('body-fluid culture drawn', 'Seymour 2016 suspected infection (Sepsis-3)'),
};

export type UnitErrorKind = 'unknown-unit' | 'not-convertible' | 'implausible' | 'refused';

export interface UnitError {
  kind: UnitErrorKind;
  concept: Concept;
  /** The value and unit as reported. */
  value: number;
  unit: string;
  /** Plain-language reason naming the value and unit. */
  message: string;
}

export interface NormalizedValue {
  /** Value in the canonical unit, rounded to 12 significant digits when converted. */
  value: number;
  /** Canonical UCUM unit of the concept. */
  unit: string;
  reported: { value: number; unit: string };
  /** Set when the unit was interpreted, e.g. a unitless FiO2 of 40 read as 40 %. */
  interpretation?: string;
}

export interface NormalizeOptions {
  /** Body weight for converting total rates (ug/min) of weight-based concepts to ug/kg/min. */
  bodyWeightKg?: number;
}

/**
 * The value in the concept's canonical unit, or why it cannot be used: unknown unit, unit of
 * another kind, refused unit (HLA-DR in %), implausible value.
 */
export function normalize(
  concept: Concept,
  value: number,
  unit: string,
  options: NormalizeOptions = {},
): Result<NormalizedValue, UnitError> {
  const spec = CONCEPT_UNITS[concept];
  if (!Number.isFinite(value)) return reportedError(spec, concept, value, unit, 'implausible', 'the value is not a finite number');
  let code = resolveUnitCode(spec, unit);
  const refusal = spec.refusedUnits?.[code];
  if (refusal !== undefined) return reportedError(spec, concept, value, unit, 'refused', refusal);

  let interpretation: string | undefined;
  const unitless = unit.trim() === '' || unit.trim() === '1';
  if (spec.unitlessPercent && unitless && value > spec.unitlessPercent.above && value <= spec.unitlessPercent.max) {
    interpretation = `a unitless ${spec.label} of ${formatExact(value)} is read as ${formatExact(value)} % (${spec.unitlessPercent.source})`;
    code = '%';
  }

  const converted = toCanonical(spec, value, code, options);
  if (!converted.ok) return reportedError(spec, concept, value, unit, converted.error.kind, converted.error.reason);
  const canonicalValue = converted.value;

  const implausible = implausibility(spec, canonicalValue);
  if (implausible !== null) {
    const shown = code === spec.canonicalUnit ? '' : ` (= ${withUnit(canonicalValue, spec.displayUnit)})`;
    return err({
      kind: 'implausible',
      concept,
      value,
      unit,
      message: `${describeReported(spec, value, unit)}${shown} is implausible: ${implausible}`,
    });
  }
  return ok({
    value: canonicalValue,
    unit: spec.canonicalUnit,
    reported: { value, unit },
    ...(interpretation === undefined ? {} : { interpretation }),
  });
}

/** normalize's error for the reported value (a function, not a closure made per call: normalize runs once per imported value). */
function reportedError(spec: ConceptUnitSpec, concept: Concept, value: number, unit: string, kind: UnitErrorKind, reason: string): Result<never, UnitError> {
  return err({ kind, concept, value, unit, message: `${describeReported(spec, value, unit)}: ${reason}` });
}

/**
 * A canonical value expressed in another unit (for display, and to check round trips). No
 * plausibility check and no unitless-percent interpretation: `unit` means what it says.
 */
export function convertFromCanonical(
  concept: Concept,
  canonicalValue: number,
  unit: string,
): Result<number, UnitError> {
  const spec = CONCEPT_UNITS[concept];
  const fail = (kind: UnitErrorKind, reason: string): Result<never, UnitError> =>
    err({
      kind,
      concept,
      value: canonicalValue,
      unit: spec.canonicalUnit,
      message: `${describeReported(spec, canonicalValue, spec.canonicalUnit)} in ${quote(unit)}: ${reason}`,
    });
  const code = resolveUnitCode(spec, unit);
  const refusal = spec.refusedUnits?.[code];
  if (refusal !== undefined) return fail('refused', refusal);
  const accepted = checkAccepted(spec, code);
  if (accepted !== null) return fail(accepted.kind, accepted.reason);
  if (code === spec.canonicalUnit) return ok(canonicalValue);
  const stated = spec.statedFactors?.find((f) => f.unit === code);
  if (stated) return ok(decimalRound(canonicalValue / stated.canonicalPerUnit));
  const result = ucumConvert(spec, canonicalValue, spec.canonicalUnit, code);
  return result.ok ? ok(decimalRound(result.value)) : fail(result.error.kind, result.error.reason);
}

/** Whether `unit` is a unit the concept accepts (after alias resolution). */
export function isAcceptedUnit(concept: Concept, unit: string): boolean {
  const spec = CONCEPT_UNITS[concept];
  const code = resolveUnitCode(spec, unit);
  if (spec.refusedUnits?.[code] !== undefined) return false;
  return toCanonical(spec, 1, code, {}).ok;
}

// ---------------------------------------------------------------------------------------------

interface ConversionFailure {
  kind: UnitErrorKind;
  reason: string;
}

/**
 * Token spellings that always mean the same UCUM unit ("mcg" is the microgram, "hr" the hour),
 * replaced only as whole tokens of a unit expression.
 */
const TOKEN_ALIASES: Readonly<Record<string, string>> = { mcg: 'ug', hr: 'h', mmHg: 'mm[Hg]' };

/**
 * Unit strings already resolved, per concept (bounded): an import repeats a handful of unit
 * spellings millions of times, and resolving one cost about as much as the rest of parsing a CSV
 * line.
 */
const resolvedCodes = new WeakMap<ConceptUnitSpec, Map<string, string>>();
const MAX_RESOLVED_PER_CONCEPT = 1000;

/** The UCUM code meant by a reported unit string: trimmed, micro sign, aliases. */
function resolveUnitCode(spec: ConceptUnitSpec, unit: string): string {
  let known = resolvedCodes.get(spec);
  if (known === undefined) {
    known = new Map();
    resolvedCodes.set(spec, known);
  }
  let code = known.get(unit);
  if (code === undefined) {
    code = resolveUnitCodeOnce(spec, unit);
    if (known.size >= MAX_RESOLVED_PER_CONCEPT) known.clear();
    known.set(unit, code);
  }
  return code;
}

function resolveUnitCodeOnce(spec: ConceptUnitSpec, unit: string): string {
  const trimmed = unit.trim().replace(/[\u00b5\u03bc]/g, 'u');
  const alias = spec.aliases?.[trimmed];
  if (alias !== undefined) return alias;
  return trimmed
    .split('/')
    .map((token) => TOKEN_ALIASES[token] ?? token)
    .join('/');
}

function checkAccepted(spec: ConceptUnitSpec, code: string): ConversionFailure | null {
  if (code === '') return { kind: 'unknown-unit', reason: `no unit was given (expected ${spec.displayUnit})` };
  if (spec.closedUnits && !spec.closedUnits.includes(code)) {
    const known = ucumUtils().validateUnitString(code).status === 'valid';
    return {
      kind: known ? 'not-convertible' : 'unknown-unit',
      reason: `${quote(code)} is not an accepted unit for ${spec.label} (accepted: ${acceptedList(spec)})`,
    };
  }
  return null;
}

function toCanonical(
  spec: ConceptUnitSpec,
  value: number,
  code: string,
  options: NormalizeOptions,
): Result<number, ConversionFailure> {
  const accepted = checkAccepted(spec, code);
  if (accepted !== null) return err(accepted);
  if (code === spec.canonicalUnit) return ok(value);
  const stated = spec.statedFactors?.find((f) => f.unit === code);
  if (stated) return ok(decimalRound(value * stated.canonicalPerUnit));

  const direct = ucumConvert(spec, value, code, spec.canonicalUnit);
  if (direct.ok) return ok(decimalRound(direct.value));
  if (!spec.perBodyWeight || direct.error.kind !== 'not-convertible') return direct;

  // A total rate such as ug/min: divide by body weight when it is known, never assume one.
  const perKg = ucumConvert(spec, value, `(${code})/kg`, spec.canonicalUnit);
  if (!perKg.ok) return direct;
  const weightKg = options.bodyWeightKg;
  if (weightKg === undefined) {
    return err({
      kind: 'not-convertible',
      reason: `${quote(code)} is a total rate; converting it to ${spec.displayUnit} needs the body weight, which was not given`,
    });
  }
  const weight = normalize('weight', weightKg, 'kg');
  if (!weight.ok) return err({ kind: 'implausible', reason: `cannot use the body weight: ${weight.error.message}` });
  return ok(decimalRound(perKg.value / weight.value.value));
}

function ucumConvert(
  spec: ConceptUnitSpec,
  value: number,
  from: string,
  to: string,
): Result<number, ConversionFailure> {
  const utils = ucumUtils();
  // Fast path, same arithmetic as convertUnitTo's 'normal' case (Unit.convertFrom) on units
  // parsed once: UCUM parses both unit strings on every call otherwise, which dominates the
  // cost of importing large files. Anything else takes the general path below.
  const fromUnit = parsedUnit(utils, from);
  const toUnit = parsedUnit(utils, to);
  if (fromUnit !== undefined && toUnit !== undefined && utils.detectConversionType(fromUnit, toUnit) === 'normal') {
    const pair = `${from}\u0000${to}`;
    const notConvertible = (): Result<never, ConversionFailure> =>
      err({ kind: 'not-convertible', reason: `${quote(from)} cannot be converted to ${quote(to)} for ${spec.label}` });
    // Whether two units are commensurable does not depend on the value: remembered.
    if (incommensurable.has(pair)) return notConvertible();
    let converted: number;
    try {
      converted = toUnit.convertFrom(value, fromUnit);
    } catch {
      // Both units are valid but of different kinds (what convertUnitTo reports as failed).
      if (incommensurable.size >= 10_000) incommensurable.clear();
      incommensurable.add(pair);
      return notConvertible();
    }
    if (Number.isFinite(converted)) return ok(converted);
  }
  const options = spec.molecularWeightGPerMol === undefined ? {} : { molecularWeight: spec.molecularWeightGPerMol };
  const result = utils.convertUnitTo(from, value, to, options);
  // UCUM may "succeed" after substituting a guess ("We assumed you meant G" for "Gauss"): refuse.
  if (result.status === 'succeeded' && result.msg.length === 0 && result.toVal !== null && Number.isFinite(result.toVal)) {
    return ok(result.toVal);
  }
  const unknown = [from, to].find((code) => utils.validateUnitString(code).status !== 'valid');
  if (unknown !== undefined) {
    return err({
      kind: 'unknown-unit',
      reason: `${quote(unknown)} is not a valid UCUM unit (expected a unit such as ${spec.displayUnit})`,
    });
  }
  return err({
    kind: 'not-convertible',
    reason: `${quote(from)} cannot be converted to ${quote(to)} for ${spec.label}`,
  });
}

function implausibility(spec: ConceptUnitSpec, canonicalValue: number): string | null {
  const { min, max, integer, rationale } = spec.plausible;
  const unit = spec.displayUnit;
  if (canonicalValue < 0 && min >= 0) return `a negative value is impossible for ${spec.label}`;
  if (canonicalValue < min) return `below the lower limit of ${withUnit(min, unit)} (${rationale})`;
  if (canonicalValue > max) return `above the upper limit of ${withUnit(max, unit)} (${rationale})`;
  if (integer === true && !Number.isInteger(canonicalValue)) return `not a whole number (${rationale})`;
  return null;
}

function acceptedList(spec: ConceptUnitSpec): string {
  const codes = new Set([...(spec.closedUnits ?? []), ...Object.keys(spec.aliases ?? {}).filter((a) => a !== '')]);
  return [...codes].join(', ');
}

function describeReported(spec: ConceptUnitSpec, value: number, unit: string): string {
  const shown = unit.trim();
  return `${spec.label} ${formatExact(value)}${shown === '' ? ' (no unit)' : shown === '1' ? ' (unitless)' : ` ${shown}`}`;
}

/** "4420 ng/mL", or just "0.4" for a unitless value. */
export function withUnit(value: number, displayUnit: string): string {
  return displayUnit === '' ? formatExact(value) : `${formatExact(value)} ${displayUnit}`;
}

function quote(text: string): string {
  return `"${text}"`;
}

/**
 * Units parsed without any message (no "we assumed you meant ..." substitution), by code;
 * undefined for codes UCUM cannot parse cleanly. Bounded: codes come from data.
 */
const parsedUnits = new Map<string, UcumUnit | undefined>();
/** Pairs of cleanly parsed units that are not commensurable (ug/min and ug/kg/min). */
const incommensurable = new Set<string>();

function parsedUnit(utils: UcumLhcUtils, code: string): UcumUnit | undefined {
  const key = code.trim();
  if (parsedUnits.has(key)) return parsedUnits.get(key);
  const specified = key === '' ? undefined : utils.getSpecifiedUnit(key, 'convert', false);
  const unit = specified?.unit && specified.retMsg.length === 0 && specified.status === 'valid' ? specified.unit : undefined;
  if (parsedUnits.size >= 10_000) parsedUnits.clear();
  parsedUnits.set(key, unit);
  return unit;
}

/**
 * The UCUM utilities object. Despite its name, UcumLhcUtils.getInstance() builds a new object on
 * every call (counting the whole unit table each time), so one is kept: it holds only references
 * to the library's own unit tables and parser, and no state this module changes.
 */
let ucumInstance: UcumLhcUtils | undefined;
function ucumUtils(): UcumLhcUtils {
  ucumInstance ??= ucum.UcumLhcUtils.getInstance();
  return ucumInstance;
}
