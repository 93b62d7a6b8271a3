/**
 * ImmunoGuide's own results as FHIR R4 resources, computed from the stored measurements:
 * - one Observation per SOFA day: the total in valueInteger, the six organ scores as
 *   components (a missing organ has a dataAbsentReason, never a silent 0), preset in `method`;
 * - the current immune class as an Observation with valueCodeableConcept, the rule set and
 *   version in `method`, the comparisons in `note`, and the biomarker Observations it rests on
 *   in `derivedFrom`;
 * - the proposed targeted therapy as a MedicationRequest with intent=proposal.
 */
import type { CodeableConcept, MedicationRequest, Observation, Reference } from 'fhir/r4.js';
import type { PatientAssessment, SofaDaySummary } from '../../clinical/assessment.ts';
import type { Measurement } from '../../clinical/types.ts';
import { observationId } from './resources.ts';

export const IMMUNOGUIDE_CODES = 'https://immunoguide.org/fhir/CodeSystem/result';
export const IMMUNE_CLASS_CODES = 'https://immunoguide.org/fhir/CodeSystem/immune-class';
export const RULE_SET_CODES = 'https://immunoguide.org/fhir/CodeSystem/rule-set';

const SURVEY = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'survey' }] };
const ORGANS = ['respiration', 'coagulation', 'liver', 'cardiovascular', 'cns', 'renal'] as const;

export const SOFA_TOTAL_CODE = 'sofa-total';
export const IMMUNE_CLASS_CODE = 'immune-class';

function code(codeValue: string, display: string): CodeableConcept {
  return { coding: [{ system: IMMUNOGUIDE_CODES, code: codeValue, display }], text: display };
}

export function sofaObservationId(patientId: string, day: SofaDaySummary): string {
  return `sofa-${patientId}-${Date.parse(day.start)}`.slice(0, 64);
}

export function sofaDayObservation(patientId: string, preset: string, day: SofaDaySummary): Observation {
  return {
    resourceType: 'Observation',
    id: sofaObservationId(patientId, day),
    status: 'final',
    category: [SURVEY],
    code: code(SOFA_TOTAL_CODE, 'SOFA total score (24 h worst values)'),
    subject: { reference: `Patient/${patientId}` },
    effectivePeriod: { start: day.start, end: day.end },
    valueInteger: day.total,
    method: { coding: [{ system: RULE_SET_CODES, code: `sofa-${preset}` }], text: `SOFA preset ${preset}` },
    ...(day.missing.length > 0 ? { note: [{ text: `Not measured (scored 0 in the total): ${day.missing.join(', ')}` }] } : {}),
    component: ORGANS.map((organ) => {
      const points = day.components[organ];
      return {
        code: code(`sofa-${organ}`, `SOFA ${organ}`),
        ...(points === null
          ? { dataAbsentReason: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'not-performed' }] } }
          : { valueInteger: points }),
      };
    }),
  };
}

export function immuneClassObservationId(patientId: string): string {
  return `immune-class-${patientId}`.slice(0, 64);
}

/** `observationIdOf` maps an evidence input to the stored measurement's Observation id, when known. */
export function immuneClassObservation(
  patientId: string,
  assessment: PatientAssessment,
  observationIdOf: (input: { concept: string; time: string; provenance?: Measurement['provenance'] }) => string | undefined,
): Observation {
  const c = assessment.classification;
  const derivedFrom: Reference[] = c.evidence.inputs.flatMap((input) => {
    const id = observationIdOf(input);
    return id === undefined ? [] : [{ reference: `Observation/${id}`, display: `${input.concept} ${input.value} ${input.unit} at ${input.time}` }];
  });
  const notes = [c.summary, ...c.evidence.comparisons.map((comparison) => comparison.text)];
  if (c.class === 'indeterminate') {
    if (c.missing.length > 0) notes.push(`missing: ${c.missing.join(', ')}`);
    for (const stale of c.stale) notes.push(`stale: ${stale.concept} (${stale.ageHours.toFixed(1)} h old)`);
  }
  return {
    resourceType: 'Observation',
    id: immuneClassObservationId(patientId),
    status: c.class === 'indeterminate' ? 'preliminary' : 'final',
    category: [SURVEY],
    code: code(IMMUNE_CLASS_CODE, 'Sepsis immune state (ImmunoGuide)'),
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: assessment.at,
    issued: assessment.at,
    valueCodeableConcept: { coding: [{ system: IMMUNE_CLASS_CODES, code: c.class, display: c.class }], text: c.class },
    method: { coding: [{ system: RULE_SET_CODES, code: c.ruleSet.id, version: c.ruleSet.version }], text: `rule set ${c.ruleSet.id} ${c.ruleSet.version}` },
    ...(derivedFrom.length > 0 ? { derivedFrom } : {}),
    note: notes.map((text) => ({ text })),
  };
}

/** The proposed targeted therapy, or undefined when the class has none. Safety warnings travel in `note`. */
export function proposedTherapy(patientId: string, assessment: PatientAssessment): MedicationRequest | undefined {
  const therapy = assessment.therapy;
  if (!therapy) return undefined;
  const { regimen } = therapy;
  const unit = regimen.doseUnit === 'ug' ? 'ug' : 'mg';
  return {
    resourceType: 'MedicationRequest',
    id: `proposal-${patientId}`.slice(0, 64),
    status: 'draft',
    intent: 'proposal',
    subject: { reference: `Patient/${patientId}` },
    authoredOn: assessment.at,
    medicationCodeableConcept: { text: regimen.drugLabel ?? regimen.drug },
    reasonReference: [{ reference: `Observation/${immuneClassObservationId(patientId)}`, display: assessment.classification.summary }],
    dosageInstruction: [
      {
        text: regimen.description,
        route: { text: regimen.route === 'IV' ? 'intravenous' : 'subcutaneous' },
        timing: { repeat: { frequency: 1, period: regimen.intervalHours, periodUnit: 'h', boundsDuration: { value: regimen.durationDays, unit: 'd', system: 'http://unitsofmeasure.org', code: 'd' } } },
        doseAndRate: [{ doseQuantity: { value: regimen.doseAmount, unit, system: 'http://unitsofmeasure.org', code: unit } }],
      },
    ],
    note: therapy.safety.warnings.map((warning) => ({ text: `${warning.severity}: ${warning.message}` })),
  };
}

export function measurementObservationIds(stored: ReadonlyArray<{ id: number; concept: string; effectiveStart: string; source: string; recordId: string }>) {
  const byProvenance = new Map(stored.map((m) => [`${m.source}\u0000${m.recordId}\u0000${m.concept}`, observationId(m.id)]));
  return (input: { concept: string; provenance?: Measurement['provenance'] }): string | undefined =>
    input.provenance ? byProvenance.get(`${input.provenance.source}\u0000${input.provenance.recordId}\u0000${input.concept}`) : undefined;
}
