/**
 * Creatinine clearance by Cockcroft-Gault (Cockcroft & Gault, Nephron 1976;16:31-41):
 *   CrCl (mL/min) = (140 - age in years) x weight in kg / (72 x serum creatinine in mg/dL),
 *   x 0.85 for women.
 * Actual body weight is used, as in the original derivation; the anakinra label's renal advice
 * is expressed as CrCl, hence Cockcroft-Gault rather than an eGFR equation.
 */
import { COCKCROFT_GAULT_CITATION } from './rules.ts';

export type Sex = 'female' | 'male';

export interface CockcroftGaultInputs {
  ageYears?: number | null;
  weightKg?: number | null;
  sex?: Sex | null;
  serumCreatinineMgPerDl?: number | null;
}

export type CreatinineClearance =
  | {
      status: 'computed';
      /** Unrounded: threshold decisions compare this value. */
      creatinineClearanceMlPerMin: number;
      formula: string;
      inputs: { ageYears: number; weightKg: number; sex: Sex; serumCreatinineMgPerDl: number };
      citation: string;
    }
  | { status: 'missing'; missing: string[]; citation: string }
  | { status: 'not-applicable'; reason: string; citation: string };

const FEMALE_FACTOR = 0.85;

export function cockcroftGault(inputs: CockcroftGaultInputs): CreatinineClearance {
  const missing: string[] = [];
  if (inputs.ageYears === undefined || inputs.ageYears === null) missing.push('age');
  if (inputs.weightKg === undefined || inputs.weightKg === null) missing.push('weight');
  if (inputs.sex === undefined || inputs.sex === null) missing.push('sex');
  if (inputs.serumCreatinineMgPerDl === undefined || inputs.serumCreatinineMgPerDl === null) missing.push('serum creatinine');
  if (missing.length > 0) return { status: 'missing', missing, citation: COCKCROFT_GAULT_CITATION };
  const ageYears = inputs.ageYears as number;
  const weightKg = inputs.weightKg as number;
  const sex = inputs.sex as Sex;
  const serumCreatinineMgPerDl = inputs.serumCreatinineMgPerDl as number;
  if (!(serumCreatinineMgPerDl > 0) || !(weightKg > 0) || !(ageYears >= 0) || ageYears >= 140) {
    return {
      status: 'not-applicable',
      reason: `Cockcroft-Gault needs age 0-139 years, weight > 0 kg and serum creatinine > 0 mg/dL (got age ${ageYears}, weight ${weightKg}, creatinine ${serumCreatinineMgPerDl})`,
      citation: COCKCROFT_GAULT_CITATION,
    };
  }
  const male = ((140 - ageYears) * weightKg) / (72 * serumCreatinineMgPerDl);
  const creatinineClearanceMlPerMin = sex === 'female' ? male * FEMALE_FACTOR : male;
  const formula =
    `(140 - ${ageYears}) x ${weightKg} kg / (72 x ${serumCreatinineMgPerDl} mg/dL)` + (sex === 'female' ? ' x 0.85 (female)' : '');
  return {
    status: 'computed',
    creatinineClearanceMlPerMin,
    formula,
    inputs: { ageYears, weightKg, sex, serumCreatinineMgPerDl },
    citation: COCKCROFT_GAULT_CITATION,
  };
}
