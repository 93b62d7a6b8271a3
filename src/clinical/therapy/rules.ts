/**
 * The ImmunoSep therapy rule set as versioned data (CLINICAL.md section 3): regimens, the dose
 * count rule, the double-dummy companion, the monitoring visits and the safety thresholds, each
 * with its citation. Items the public record does not settle carry an `unconfirmed` note; they
 * are configurable (pass a modified rule set) and every output that uses them repeats the note.
 */
import type { ImmuneClassName } from '../types.ts';

export type DrugName = 'anakinra' | 'interferon-gamma-1b';
export type DoseUnit = 'mg' | 'ug';
export type Route = 'IV' | 'SC';
export type TargetedClass = 'MALS' | 'immunoparalysis';

export interface Regimen {
  drug: DrugName;
  /** Spelled out for clinicians, e.g. "recombinant human interferon-gamma-1b". */
  drugLabel: string;
  doseAmount: number;
  doseUnit: DoseUnit;
  route: Route;
  intervalHours: number;
  durationDays: number;
  /** e.g. "anakinra 200 mg IV every 8 h for 15 days". */
  description: string;
  citation: string;
}

/** A numeric threshold with the comparison that fires it ("value < 30 mL/min"). */
export interface Threshold {
  value: number;
  unit: string;
  comparison: '<' | '<=' | '>' | '>=';
  citation: string;
  /** Present when the public record does not settle the value. */
  unconfirmed?: string;
}

export interface VisitRule {
  day: number;
  assessments: string[];
}

export interface TherapyRuleSet {
  id: string;
  version: string;
  citation: string;
  regimens: Readonly<Record<TargetedClass, Regimen>>;
  /** How many doses a regimen has; see `doseCount` in plan.ts. */
  doseCountRule: string;
  /** What "study day d" means in calendars and visits. */
  studyDayConvention: string;
  doubleDummy: {
    ivInfusionVolumeMl: number;
    scInjectionVolumeMl: number;
    placeboLabel: string;
    citation: string;
  };
  visits: { schedule: VisitRule[]; citation: string; unconfirmed?: string };
  safety: {
    /** Anakinra: Cockcroft-Gault creatinine clearance below which the label advises considering every-other-day dosing. */
    anakinraCreatinineClearance: Threshold & { consider: string };
    /** Interferon-gamma: platelet count below which the haemorrhage signal is raised. */
    interferonGammaPlatelets: Threshold;
    /** Both drugs: absolute neutrophil count defining neutropenia. */
    neutropenia: Threshold;
    /** Anakinra: anaemia signal; haemoglobin below this escalates the advisory to a warning. */
    anakinraHaemoglobin: Threshold;
  };
}

export const IMMUNOSEP_CITATION =
  'ImmunoSep trial report, JAMA 2026;335(9):775-786, doi:10.1001/jama.2025.24175; protocol Kotsaki et al., BMJ Open 2022; NCT04990232 / EudraCT 2020-005768-74';
export const ANAKINRA_LABEL =
  'Kineret (anakinra) US prescribing information: severe renal insufficiency or end-stage renal disease (CrCl < 30 mL/min), consider administering the prescribed dose every other day';
export const ANAKINRA_SMPC_NEUTROPENIA = 'Kineret (anakinra) EU SmPC: not to be initiated in patients with neutropenia (ANC < 1.5 x 10^9/L)';
export const INTERFERON_GAMMA_LABEL = 'Actimmune (interferon gamma-1b) prescribing information, bone-marrow toxicity warning (verify against the current label)';
export const COCKCROFT_GAULT_CITATION = 'Cockcroft DW, Gault MH. Prediction of creatinine clearance from serum creatinine. Nephron 1976;16(1):31-41';

function regimen(r: Omit<Regimen, 'description' | 'citation'>, citation: string): Regimen {
  const description = `${r.drug} ${r.doseAmount} ${r.doseUnit} ${r.route} every ${r.intervalHours} h for ${r.durationDays} days`;
  return { ...r, description, citation };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

const BIOMARKERS_AND_SOFA = ['biomarkers: serum ferritin, monocyte HLA-DR (molecules/monocyte)', 'total SOFA score'];

export const IMMUNOSEP_THERAPY_RULES: TherapyRuleSet = deepFreeze({
  id: 'immunosep-therapy',
  version: '1.0.0',
  citation: IMMUNOSEP_CITATION,
  regimens: {
    // Hyperinflammation (MALS): IL-1 blockade.
    MALS: regimen(
      {
        drug: 'anakinra',
        drugLabel: 'anakinra (recombinant interleukin-1 receptor antagonist)',
        doseAmount: 200,
        doseUnit: 'mg',
        route: 'IV',
        intervalHours: 8,
        durationDays: 15,
      },
      IMMUNOSEP_CITATION,
    ),
    // Immunoparalysis: immune stimulation.
    immunoparalysis: regimen(
      {
        drug: 'interferon-gamma-1b',
        drugLabel: 'recombinant human interferon-gamma-1b',
        doseAmount: 100,
        doseUnit: 'ug',
        route: 'SC',
        intervalHours: 48,
        durationDays: 15,
      },
      IMMUNOSEP_CITATION,
    ),
  },
  doseCountRule:
    'The treatment period is the half-open interval [start, start + duration). Dose k (k = 1, 2, ...) is due at start + (k - 1) x interval and is given when it falls inside the period, so the count is ceil(duration / interval): anakinra every 8 h for 15 days = 360 h / 8 h = 45 doses (last at 352 h); interferon-gamma every 48 h for 15 days = ceil(360 h / 48 h) = 8 doses on study days 1, 3, ..., 15 (last at 336 h). A dose at exactly start + duration would start a 16th day and is not given.',
  studyDayConvention:
    'Study day d (d >= 1) is the 24-hour period [start + (d - 1) x 24 h, start + d x 24 h), start = the first dose; day 0 is the baseline period [start - 24 h, start), sampled before the first dose. Same convention as the daily SOFA timeline (day k = [start + 24(k - 1) h, start + 24k h)).',
  doubleDummy: {
    // Double-dummy blinding: every administration is an IV infusion plus an SC injection; the
    // one that does not carry the active drug (both, in the placebo arm) is saline.
    ivInfusionVolumeMl: 20,
    scInjectionVolumeMl: 0.5,
    placeboLabel: 'normal saline (0.9% NaCl)',
    citation: IMMUNOSEP_CITATION,
  },
  visits: {
    schedule: [
      { day: 0, assessments: [...BIOMARKERS_AND_SOFA, 'baseline, before the first dose'] },
      { day: 2, assessments: BIOMARKERS_AND_SOFA },
      { day: 3, assessments: BIOMARKERS_AND_SOFA },
      { day: 4, assessments: BIOMARKERS_AND_SOFA },
      { day: 5, assessments: BIOMARKERS_AND_SOFA },
      { day: 7, assessments: BIOMARKERS_AND_SOFA },
      { day: 8, assessments: BIOMARKERS_AND_SOFA },
      {
        day: 15,
        assessments: [
          ...BIOMARKERS_AND_SOFA,
          'reversal of immune dysfunction (ferritin fall >= 15% for MALS; mHLA-DR > 8000 with ferritin < 4420 for immunoparalysis)',
          'resolution of the index infection',
        ],
      },
      { day: 28, assessments: [...BIOMARKERS_AND_SOFA, 'vital status (28-day mortality)'] },
      { day: 90, assessments: [...BIOMARKERS_AND_SOFA, 'vital status (90-day mortality)'] },
    ],
    citation: IMMUNOSEP_CITATION,
    unconfirmed: 'visit windows are not public: each visit is scheduled over its whole study day (see the study-day convention)',
  },
  safety: {
    anakinraCreatinineClearance: {
      value: 30,
      unit: 'mL/min',
      comparison: '<',
      consider: 'consider every-other-day dosing per the anakinra label',
      citation: `${ANAKINRA_LABEL}; creatinine clearance by ${COCKCROFT_GAULT_CITATION}`,
      unconfirmed: 'whether ImmunoSep adjusted the anakinra dose for renal function is not public (ImmunoSep adjustment unconfirmed); the planned dose is never changed by this software',
    },
    interferonGammaPlatelets: {
      value: 100,
      unit: '10*3/uL',
      comparison: '<',
      citation: `${IMMUNOSEP_CITATION} (more haemorrhage with interferon-gamma, in patients with low platelets); ${INTERFERON_GAMMA_LABEL}`,
      unconfirmed: 'the trial report gives no platelet cut-off; 100 x 10^3/uL (the SOFA coagulation >= 2 band) is a project default',
    },
    neutropenia: {
      value: 1500,
      unit: '/mm3',
      comparison: '<',
      citation: `NCT04990232 registry exclusion (absolute neutrophil count < 1500/mm3); ${ANAKINRA_SMPC_NEUTROPENIA}; ${INTERFERON_GAMMA_LABEL}`,
      unconfirmed: 'the protocol may say < 1000/mm3; 1500/mm3 (registry text) is the default',
    },
    anakinraHaemoglobin: {
      value: 10,
      unit: 'g/dL',
      comparison: '<',
      citation: `${IMMUNOSEP_CITATION} (more anaemia with anakinra)`,
      unconfirmed: 'the trial report gives no haemoglobin cut-off; 10 g/dL is a project default',
    },
  },
});

/** The regimen a rule set assigns to an immune class; null when the class has no targeted therapy. */
export function regimenInRuleSet(className: ImmuneClassName, ruleSet: TherapyRuleSet): Regimen | null {
  switch (className) {
    case 'MALS':
      return ruleSet.regimens.MALS;
    case 'immunoparalysis':
      return ruleSet.regimens.immunoparalysis;
    case 'unclassified':
    case 'indeterminate':
      return null;
  }
}

/** "< 30 mL/min" */
export function describeThreshold(t: Threshold): string {
  return `${t.comparison} ${t.value} ${t.unit}`;
}

/** Applies a threshold's comparison to an unrounded value. */
export function fires(t: Threshold, value: number): boolean {
  switch (t.comparison) {
    case '<':
      return value < t.value;
    case '<=':
      return value <= t.value;
    case '>':
      return value > t.value;
    case '>=':
      return value >= t.value;
  }
}
