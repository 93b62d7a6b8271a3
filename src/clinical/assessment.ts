/**
 * One patient, one moment: everything the bedside needs, computed by the pure engines and
 * explained. The web census, the patient page and the CDS Hooks cards all read this shape.
 *
 * - immune class under the chosen rule set (with evidence and its age),
 * - SOFA by day (with the components that were missing) and Sepsis-3,
 * - eligibility per criterion,
 * - the recommended targeted therapy with its safety warnings (never a changed dose),
 * - data gaps: what is missing or stale, said in words, so nobody mistakes "not measured"
 *   for "normal".
 */
import { assessSepsis3, type Sepsis3Assessment } from './sepsis3.ts';
import { type EligibilityResult, IMMUNOSEP_CRITERIA, type SiteAnswer, screenEligibility } from './eligibility.ts';
import { IMMUNOSEP, classifyAt, ruleSetInputs } from './immune/index.ts';
import { assertOnePatient } from './immune/samples.ts';
import type { ImmuneClassification, ImmuneRuleSet } from './immune/types.ts';
import { IMMUNOSEP_THERAPY_RULES, type Regimen, type SafetyAssessment, type TherapyPatientFacts, assessSafety, regimenFor } from './therapy.ts';
import { DEFAULT_SOFA_PRESET, sofaDays } from './sofa/index.ts';
import type { IsoDateTime, Measurement } from './types.ts';

export interface PatientFacts {
  id: string;
  birthDate: string | null;
  sex: 'female' | 'male' | 'other' | 'unknown' | null;
  deceasedAt: string | null;
}

/** A day of SOFA as the engine reports it (see sofa/). */
export interface SofaDaySummary {
  day: number;
  start: IsoDateTime;
  end: IsoDateTime;
  total: number;
  components: Record<'respiration' | 'coagulation' | 'liver' | 'cardiovascular' | 'cns' | 'renal', number | null>;
  missing: string[];
}

export interface AssessmentInput {
  patient: PatientFacts;
  /** The patient's measurements (any order); those after `at` are ignored. */
  measurements: readonly Measurement[];
  at: IsoDateTime;
  ruleSet?: ImmuneRuleSet;
  /** Daily SOFA, oldest first; computed from the measurements when not given. */
  sofaDays?: readonly SofaDaySummary[];
  /** SOFA preset for computed days (default mimic-iv conventions). */
  sofaPreset?: string;
  /** Start of SOFA day 1 (default: the patient's first measurement). */
  sofaStart?: IsoDateTime;
  treatmentStart?: IsoDateTime | null;
  siteAnswers?: Record<string, SiteAnswer>;
  covid19?: boolean | null;
}

export interface PatientAssessment {
  patientId: string;
  at: IsoDateTime;
  classification: ImmuneClassification;
  /** Hours since the newest biomarker sample the class rests on (null when none). */
  evidenceAgeHours: number | null;
  sofa: { preset: string; today: SofaDaySummary | null; days: SofaDaySummary[] };
  sepsis3: Sepsis3Assessment | null;
  eligibility: EligibilityResult | null;
  therapy: { regimen: Regimen; safety: SafetyAssessment } | null;
  dataGaps: string[];
}

const HOUR_MS = 3_600_000;
/** Labs older than this are not "current" for safety checks (same window as biomarker validity). */
const LAB_VALIDITY_HOURS = 48;

export function assessPatient(input: AssessmentInput): PatientAssessment {
  const atMs = Date.parse(input.at);
  const ruleSet = input.ruleSet ?? IMMUNOSEP;
  // One pass over the patient's measurements: those up to `at`, the newest of their times, and
  // the samples of the rule set's own inputs (the classifier reads no other concept, and
  // sifting them out once is much cheaper than letting it scan everything per input; the census
  // runs this for hundreds of patients per request).
  const classifierConcepts: ReadonlySet<string> = new Set(ruleSetInputs(ruleSet));
  const measurements: Measurement[] = [];
  const classifierInputs: Measurement[] = [];
  let lastMs = Number.NEGATIVE_INFINITY;
  for (const m of input.measurements) {
    const ms = Date.parse(m.time);
    if (!(ms <= atMs)) continue;
    measurements.push(m);
    if (ms > lastMs) lastMs = ms;
    if (classifierConcepts.has(m.concept)) classifierInputs.push(m);
  }
  // The classifier refuses a mix of patients across all the measurements, not only its inputs.
  assertOnePatient(measurements);
  const classification = classifyAt(classifierInputs, input.at, ruleSet);
  const dataGaps: string[] = [];

  const evidenceTimes = classification.evidence.inputs.map((i) => Date.parse(i.time));
  const evidenceAgeHours = evidenceTimes.length === 0 ? null : (atMs - Math.max(...evidenceTimes)) / HOUR_MS;
  if (classification.class === 'indeterminate') {
    for (const concept of classification.missing) dataGaps.push(`no valid ${concept} result: order it to classify the immune state`);
    for (const stale of classification.stale) dataGaps.push(`${stale.concept} result is stale (${stale.ageHours.toFixed(0)} h old; valid ${ruleSet.validityWindow.hours} h)`);
  }

  const sofaPreset = input.sofaPreset ?? DEFAULT_SOFA_PRESET;
  // Days run from the anchor to the last measurement (not to `at`: a patient whose data ended
  // months ago has no SOFA "today", and no empty days are invented up to now).
  const computed =
    input.sofaDays ??
    (measurements.length === 0
      ? []
      : sofaDays(measurements, { preset: sofaPreset, until: new Date(Math.min(atMs, lastMs) + 1).toISOString(), ...(input.sofaStart ? { start: input.sofaStart } : {}) }).map(
          ({ day, start, end, total, components, missing }) => ({ day, start, end, total, components, missing }),
        ));
  // A day on which none of the six organs was measured carries no SOFA at all: it is left out
  // rather than shown as a total of 0, which would read as "normal".
  const days = computed.filter((d) => Date.parse(d.start) <= atMs && d.missing.length < 6);
  const last = days.at(-1) ?? null;
  // "Today" is the day window that contains `at`; an older last day is history, not today.
  const today = last !== null && atMs < Date.parse(last.end) ? last : null;
  if (last === null) dataGaps.push('no SOFA could be computed: no SOFA inputs recorded');
  else if (today === null) dataGaps.push(`no SOFA for the current day: the last SOFA day ended ${last.end}`);
  else if (today.missing.length > 0) dataGaps.push(`SOFA today lacks ${today.missing.join(', ')} (scored 0, not measured)`);

  const sepsis3 = assessSepsis3Facts(measurements, days, atMs, dataGaps);
  const facts = therapyFactsAt(input.patient, measurements, input.at);

  const eligibilityResult = screenEligibility(
    {
      birthDate: input.patient.birthDate,
      sepsis3: sepsis3 === null ? null : { met: sepsis3.met, onsetTime: sepsis3.onsetTime },
      immuneClass: classification.class,
      treatmentStart: input.treatmentStart ?? null,
      absoluteNeutrophilCountPerMm3: facts.absoluteNeutrophilCountPerMm3 ?? null,
      covid19: input.covid19 ?? null,
      ...(input.siteAnswers ? { siteAnswers: input.siteAnswers } : {}),
    },
    IMMUNOSEP_CRITERIA,
    input.at,
  );

  const regimen = ruleSet.therapy.kind === 'immunosep-regimens' ? regimenFor(classification.class) : null;
  let therapy: PatientAssessment['therapy'] = null;
  if (regimen !== null) {
    therapy = { regimen, safety: assessSafety(regimen, facts, IMMUNOSEP_THERAPY_RULES) };
  }
  if (input.patient.deceasedAt !== null && Date.parse(input.patient.deceasedAt) <= atMs) dataGaps.unshift('patient deceased');

  return {
    patientId: input.patient.id,
    at: new Date(atMs).toISOString(),
    classification,
    evidenceAgeHours,
    sofa: { preset: sofaPreset, today, days },
    sepsis3,
    eligibility: eligibilityResult.ok ? eligibilityResult.value : null,
    therapy,
    dataGaps,
  };
}

function assessSepsis3Facts(measurements: readonly Measurement[], days: readonly SofaDaySummary[], atMs: number, dataGaps: string[]): Sepsis3Assessment | null {
  const antibiotics = measurements.filter((m) => m.concept === 'antibiotic' && m.value === 1).map((m) => ({ time: m.time, ...(m.provenance ? { id: m.provenance.recordId } : {}) }));
  const cultures = measurements.filter((m) => m.concept === 'culture' && m.value === 1).map((m) => ({ time: m.time, ...(m.provenance ? { id: m.provenance.recordId } : {}) }));
  if (antibiotics.length === 0 || cultures.length === 0) {
    dataGaps.push('Sepsis-3 not assessable: antibiotic and culture times are needed for suspected infection');
    return null;
  }
  if (days.length === 0) {
    dataGaps.push('Sepsis-3 not assessable: no SOFA');
    return null;
  }
  // A day's SOFA is known at the end of its window (or now, for the day in progress).
  const sofa = days.map((d) => ({ time: new Date(Math.min(Date.parse(d.end), atMs)).toISOString(), total: d.total }));
  const result = assessSepsis3({ antibiotics, cultures, sofa });
  return result.ok ? result.value : null;
}

/** The newest value of a concept at `at`, if it is at most `maxAgeHours` old. */
export function latestValue(measurements: readonly Measurement[], concept: Measurement['concept'], at: IsoDateTime, maxAgeHours = LAB_VALIDITY_HOURS): number | null {
  const atMs = Date.parse(at);
  let best: Measurement | undefined;
  let bestMs = Number.NEGATIVE_INFINITY;
  for (const m of measurements) {
    // The concept first: parsing the time of every other measurement is most of the cost.
    if (m.concept !== concept) continue;
    const ms = Date.parse(m.time);
    if (ms > atMs || atMs - ms > maxAgeHours * HOUR_MS) continue;
    if (!best || ms >= bestMs) {
      best = m;
      bestMs = ms;
    }
  }
  return best?.value ?? null;
}

/** The facts the therapy safety checks need, from the newest current values. */
export function therapyFactsAt(patient: PatientFacts, measurements: readonly Measurement[], at: IsoDateTime): TherapyPatientFacts {
  const neutrophils = latestValue(measurements, 'neutrophils', at);
  return {
    ageYears: ageInYears(patient.birthDate, at),
    // Weight changes slowly: a month-old weight is still the best available.
    weightKg: latestValue(measurements, 'weight', at, 24 * 30),
    sex: patient.sex === 'female' || patient.sex === 'male' ? patient.sex : null,
    serumCreatinineMgPerDl: latestValue(measurements, 'creatinine', at),
    plateletsThousandPerUl: latestValue(measurements, 'platelets', at),
    // Canonical neutrophils are 10^3/uL; the safety rule speaks cells/mm3 (= cells/uL).
    absoluteNeutrophilCountPerMm3: neutrophils === null ? null : neutrophils * 1000,
    haemoglobinGPerDl: latestValue(measurements, 'hemoglobin', at),
    activeBleeding: null,
  };
}

export function ageInYears(birthDate: string | null, at: string): number | null {
  if (!birthDate) return null;
  const birth = new Date(`${birthDate}T00:00:00Z`);
  const now = new Date(at);
  let age = now.getUTCFullYear() - birth.getUTCFullYear();
  if (now.getUTCMonth() < birth.getUTCMonth() || (now.getUTCMonth() === birth.getUTCMonth() && now.getUTCDate() < birth.getUTCDate())) age--;
  return age;
}
