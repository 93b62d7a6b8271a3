/**
 * Safety checks for a targeted regimen (CLINICAL.md section 3). Each check either flags a
 * condition, passes, or says it could not be done and which inputs were missing - never silence.
 * No check ever changes a dose: warnings say what to consider and `doseChanged` is always false.
 */
import { cockcroftGault } from './renal.ts';
import type { CreatinineClearance, Sex } from './renal.ts';
import { describeThreshold, fires } from './rules.ts';
import type { DrugName, Regimen, Threshold, TherapyRuleSet } from './rules.ts';

/** Patient facts the therapy plan uses. Absent (undefined or null) means "not known". */
export interface TherapyPatientFacts {
  ageYears?: number | null;
  weightKg?: number | null;
  sex?: Sex | null;
  serumCreatinineMgPerDl?: number | null;
  /** Platelet count in 10^3/uL (= 10^9/L). */
  plateletsThousandPerUl?: number | null;
  /** Absolute neutrophil count in cells/mm3 (= cells/uL). */
  absoluteNeutrophilCountPerMm3?: number | null;
  haemoglobinGPerDl?: number | null;
  /** Clinically significant bleeding now or a high bleeding risk judged by the clinician. */
  activeBleeding?: boolean | null;
}

export type SafetyCheckName = 'renal-function' | 'haemorrhage' | 'neutropenia' | 'anaemia';

export interface SafetyEvidence {
  name: string;
  value: number | string | boolean;
  unit?: string;
}

export interface SafetyWarning {
  code: string;
  /** warning: a condition was found; advisory: a known drug signal to monitor; not-checked: inputs missing. */
  severity: 'warning' | 'advisory' | 'not-checked';
  check: SafetyCheckName;
  drug: DrugName;
  message: string;
  evidence: SafetyEvidence[];
  threshold?: Threshold;
  /** What the clinician should consider; the software itself never acts on it. */
  consider?: string;
  /** Missing inputs when severity is not-checked. */
  missing?: string[];
  citation: string;
  unconfirmed?: string;
  /** Always false: the planned dose is never changed by a safety check. */
  doseChanged: false;
}

export interface SafetyCheck {
  check: SafetyCheckName;
  drug: DrugName;
  status: 'flagged' | 'clear' | 'not-checked';
  summary: string;
}

export interface SafetyAssessment {
  checks: SafetyCheck[];
  warnings: SafetyWarning[];
  creatinineClearance?: CreatinineClearance;
}

function known<T>(v: T | null | undefined): v is T {
  return v !== undefined && v !== null;
}

/** Display only; decisions use the unrounded value. */
function show(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function notChecked(
  check: SafetyCheckName,
  drug: DrugName,
  what: string,
  missing: string[],
  citation: string,
  code: string,
): SafetyWarning {
  return {
    code,
    severity: 'not-checked',
    check,
    drug,
    message: `could not check ${what}: missing ${missing.join(', ')}`,
    evidence: [],
    missing,
    citation,
    doseChanged: false,
  };
}

function renalCheck(regimen: Regimen, facts: TherapyPatientFacts, rules: TherapyRuleSet, out: SafetyAssessment): void {
  const t = rules.safety.anakinraCreatinineClearance;
  const crcl = cockcroftGault(facts);
  out.creatinineClearance = crcl;
  if (crcl.status === 'missing') {
    out.warnings.push(notChecked('renal-function', regimen.drug, 'creatinine clearance (Cockcroft-Gault)', crcl.missing, t.citation, 'RENAL_FUNCTION_NOT_CHECKED'));
    out.checks.push({ check: 'renal-function', drug: regimen.drug, status: 'not-checked', summary: `missing ${crcl.missing.join(', ')}` });
    return;
  }
  if (crcl.status === 'not-applicable') {
    out.warnings.push({
      ...notChecked('renal-function', regimen.drug, 'creatinine clearance (Cockcroft-Gault)', [], t.citation, 'RENAL_FUNCTION_NOT_CHECKED'),
      message: `could not check creatinine clearance (Cockcroft-Gault): ${crcl.reason}`,
    });
    out.checks.push({ check: 'renal-function', drug: regimen.drug, status: 'not-checked', summary: crcl.reason });
    return;
  }
  const value = crcl.creatinineClearanceMlPerMin;
  const evidence: SafetyEvidence[] = [
    { name: 'creatinine clearance (Cockcroft-Gault)', value, unit: 'mL/min' },
    { name: 'age', value: crcl.inputs.ageYears, unit: 'years' },
    { name: 'weight', value: crcl.inputs.weightKg, unit: 'kg' },
    { name: 'sex', value: crcl.inputs.sex },
    { name: 'serum creatinine', value: crcl.inputs.serumCreatinineMgPerDl, unit: 'mg/dL' },
    { name: 'formula', value: crcl.formula },
  ];
  if (fires(t, value)) {
    out.warnings.push({
      code: 'ANAKINRA_RENAL_CRCL_LOW',
      severity: 'warning',
      check: 'renal-function',
      drug: regimen.drug,
      message:
        `Creatinine clearance ${show(value)} mL/min (Cockcroft-Gault) ${describeThreshold(t)}: ${t.consider}; ` +
        `ImmunoSep adjustment unconfirmed. The planned dose is unchanged (${regimen.description}).`,
      evidence,
      threshold: t,
      consider: t.consider,
      citation: t.citation,
      ...(t.unconfirmed === undefined ? {} : { unconfirmed: t.unconfirmed }),
      doseChanged: false,
    });
    out.checks.push({ check: 'renal-function', drug: regimen.drug, status: 'flagged', summary: `CrCl ${show(value)} mL/min ${describeThreshold(t)}` });
  } else {
    out.checks.push({ check: 'renal-function', drug: regimen.drug, status: 'clear', summary: `CrCl ${show(value)} mL/min, not ${describeThreshold(t)}` });
  }
}

function haemorrhageCheck(regimen: Regimen, facts: TherapyPatientFacts, rules: TherapyRuleSet, out: SafetyAssessment): void {
  const t = rules.safety.interferonGammaPlatelets;
  out.warnings.push({
    code: 'IFNG_HAEMORRHAGE_SIGNAL',
    severity: 'advisory',
    check: 'haemorrhage',
    drug: regimen.drug,
    message: 'More haemorrhage was reported with interferon-gamma in ImmunoSep, in patients with low platelets: monitor platelets and bleeding.',
    evidence: [],
    citation: t.citation,
    doseChanged: false,
  });
  const flagged: string[] = [];
  const missing: string[] = [];
  const platelets = facts.plateletsThousandPerUl;
  if (!known(platelets)) {
    missing.push('platelet count');
    out.warnings.push(notChecked('haemorrhage', regimen.drug, 'platelet count', ['platelet count'], t.citation, 'PLATELETS_NOT_CHECKED'));
  } else if (fires(t, platelets)) {
    flagged.push(`platelets ${show(platelets)} x 10^3/uL ${describeThreshold(t)}`);
    out.warnings.push({
      code: 'IFNG_HAEMORRHAGE_LOW_PLATELETS',
      severity: 'warning',
      check: 'haemorrhage',
      drug: regimen.drug,
      message: `Platelets ${show(platelets)} x 10^3/uL ${describeThreshold(t)}: haemorrhage risk with interferon-gamma; consider the bleeding risk before each dose. The planned dose is unchanged.`,
      evidence: [{ name: 'platelet count', value: platelets, unit: t.unit }],
      threshold: t,
      consider: 'weigh the bleeding risk before each dose',
      citation: t.citation,
      ...(t.unconfirmed === undefined ? {} : { unconfirmed: t.unconfirmed }),
      doseChanged: false,
    });
  }
  if (!known(facts.activeBleeding)) {
    missing.push('bleeding status');
    out.warnings.push(notChecked('haemorrhage', regimen.drug, 'bleeding status', ['bleeding status'], t.citation, 'BLEEDING_NOT_CHECKED'));
  } else if (facts.activeBleeding) {
    flagged.push('active bleeding');
    out.warnings.push({
      code: 'IFNG_HAEMORRHAGE_ACTIVE_BLEEDING',
      severity: 'warning',
      check: 'haemorrhage',
      drug: regimen.drug,
      message: 'Active bleeding reported: haemorrhage was more frequent with interferon-gamma; weigh the bleeding risk before each dose. The planned dose is unchanged.',
      evidence: [{ name: 'active bleeding', value: true }],
      consider: 'weigh the bleeding risk before each dose',
      citation: t.citation,
      doseChanged: false,
    });
  }
  const status = flagged.length > 0 ? 'flagged' : missing.length > 0 ? 'not-checked' : 'clear';
  const summary = [...flagged, ...(missing.length > 0 ? [`missing ${missing.join(', ')}`] : [])].join('; ') || 'platelets and bleeding status checked, nothing flagged';
  out.checks.push({ check: 'haemorrhage', drug: regimen.drug, status, summary });
}

function neutropeniaCheck(regimen: Regimen, facts: TherapyPatientFacts, rules: TherapyRuleSet, out: SafetyAssessment): void {
  const t = rules.safety.neutropenia;
  const anc = facts.absoluteNeutrophilCountPerMm3;
  if (!known(anc)) {
    out.warnings.push(notChecked('neutropenia', regimen.drug, 'neutrophil count', ['absolute neutrophil count'], t.citation, 'NEUTROPHILS_NOT_CHECKED'));
    out.checks.push({ check: 'neutropenia', drug: regimen.drug, status: 'not-checked', summary: 'missing absolute neutrophil count' });
    return;
  }
  if (fires(t, anc)) {
    out.warnings.push({
      code: 'NEUTROPENIA',
      severity: 'warning',
      check: 'neutropenia',
      drug: regimen.drug,
      message: `Absolute neutrophil count ${show(anc)}/mm3 ${describeThreshold(t)}: neutropenia (an ImmunoSep exclusion; ${regimen.drug} label caution). The planned dose is unchanged.`,
      evidence: [{ name: 'absolute neutrophil count', value: anc, unit: t.unit }],
      threshold: t,
      consider: 'review eligibility and the drug label before starting',
      citation: t.citation,
      ...(t.unconfirmed === undefined ? {} : { unconfirmed: t.unconfirmed }),
      doseChanged: false,
    });
    out.checks.push({ check: 'neutropenia', drug: regimen.drug, status: 'flagged', summary: `ANC ${show(anc)}/mm3 ${describeThreshold(t)}` });
  } else {
    out.checks.push({ check: 'neutropenia', drug: regimen.drug, status: 'clear', summary: `ANC ${show(anc)}/mm3, not ${describeThreshold(t)}` });
  }
}

function anaemiaCheck(regimen: Regimen, facts: TherapyPatientFacts, rules: TherapyRuleSet, out: SafetyAssessment): void {
  const t = rules.safety.anakinraHaemoglobin;
  out.warnings.push({
    code: 'ANAKINRA_ANAEMIA_SIGNAL',
    severity: 'advisory',
    check: 'anaemia',
    drug: regimen.drug,
    message: 'More anaemia was reported with anakinra in ImmunoSep: monitor haemoglobin.',
    evidence: [],
    citation: t.citation,
    doseChanged: false,
  });
  const hb = facts.haemoglobinGPerDl;
  if (!known(hb)) {
    out.warnings.push(notChecked('anaemia', regimen.drug, 'haemoglobin', ['haemoglobin'], t.citation, 'HAEMOGLOBIN_NOT_CHECKED'));
    out.checks.push({ check: 'anaemia', drug: regimen.drug, status: 'not-checked', summary: 'missing haemoglobin' });
    return;
  }
  if (fires(t, hb)) {
    out.warnings.push({
      code: 'ANAKINRA_LOW_HAEMOGLOBIN',
      severity: 'warning',
      check: 'anaemia',
      drug: regimen.drug,
      message: `Haemoglobin ${show(hb)} g/dL ${describeThreshold(t)} before anakinra, which was associated with more anaemia: monitor closely. The planned dose is unchanged.`,
      evidence: [{ name: 'haemoglobin', value: hb, unit: t.unit }],
      threshold: t,
      consider: 'monitor haemoglobin closely',
      citation: t.citation,
      ...(t.unconfirmed === undefined ? {} : { unconfirmed: t.unconfirmed }),
      doseChanged: false,
    });
    out.checks.push({ check: 'anaemia', drug: regimen.drug, status: 'flagged', summary: `haemoglobin ${show(hb)} g/dL ${describeThreshold(t)}` });
  } else {
    out.checks.push({ check: 'anaemia', drug: regimen.drug, status: 'clear', summary: `haemoglobin ${show(hb)} g/dL, not ${describeThreshold(t)}` });
  }
}

/**
 * The safety checks that apply to a regimen's drug: anakinra - renal function, neutropenia,
 * anaemia; interferon-gamma - haemorrhage (platelets, bleeding), neutropenia.
 */
export function assessSafety(regimen: Regimen, facts: TherapyPatientFacts, rules: TherapyRuleSet): SafetyAssessment {
  const out: SafetyAssessment = { checks: [], warnings: [] };
  if (regimen.drug === 'anakinra') {
    renalCheck(regimen, facts, rules, out);
    neutropeniaCheck(regimen, facts, rules, out);
    anaemiaCheck(regimen, facts, rules, out);
  } else {
    haemorrhageCheck(regimen, facts, rules, out);
    neutropeniaCheck(regimen, facts, rules, out);
  }
  return out;
}
