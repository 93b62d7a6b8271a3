/**
 * The FHIR resources our suggestions create: the proposed targeted-therapy MedicationRequest
 * (dose, route, interval and duration straight from the therapy rule set) and the ServiceRequests
 * for missing biomarkers. Both are `status: draft`, `intent: proposal`: ImmunoGuide proposes, the
 * clinician orders (FHIR R4 RequestIntent "proposal": a suggestion without authorisation to act).
 */
import type { CodeableConcept, Coding, MedicationRequest, ServiceRequest } from 'fhir/r4.js';
import type { Concept } from '../../clinical/types.ts';
import type { Regimen, SafetyWarning } from '../../clinical/therapy.ts';
import { SNOMED } from './drugs.ts';

const UCUM = 'http://unitsofmeasure.org';

/** SNOMED CT route of administration codes. */
const ROUTES: Record<Regimen['route'], CodeableConcept> = {
  IV: { coding: [{ system: SNOMED, code: '47625008', display: 'Intravenous route' }], text: 'IV' },
  SC: { coding: [{ system: SNOMED, code: '34206005', display: 'Subcutaneous route' }], text: 'SC' },
};

export function proposedMedicationRequest(
  regimen: Regimen,
  codings: Coding[],
  patientId: string,
  reason: string,
  warnings: readonly SafetyWarning[],
): MedicationRequest {
  const notes = [
    `Proposed by ImmunoGuide: ${regimen.description} (${regimen.citation}).`,
    ...warnings.filter((w) => w.severity === 'warning').map((w) => `Safety: ${w.message}`),
  ];
  return {
    resourceType: 'MedicationRequest',
    status: 'draft',
    intent: 'proposal',
    subject: { reference: `Patient/${patientId}` },
    medicationCodeableConcept: {
      ...(codings.length > 0 ? { coding: codings } : {}),
      text: regimen.drugLabel,
    },
    reasonCode: [{ text: reason }],
    dosageInstruction: [
      {
        text: regimen.description,
        timing: {
          repeat: {
            frequency: 1,
            period: regimen.intervalHours,
            periodUnit: 'h',
            boundsDuration: { value: regimen.durationDays, unit: 'days', system: UCUM, code: 'd' },
          },
        },
        route: ROUTES[regimen.route],
        doseAndRate: [{ doseQuantity: { value: regimen.doseAmount, unit: regimen.doseUnit, system: UCUM, code: regimen.doseUnit } }],
      },
    ],
    note: notes.map((text) => ({ text })),
  };
}

const LABORATORY_PROCEDURE: CodeableConcept = {
  coding: [{ system: SNOMED, code: '108252007', display: 'Laboratory procedure' }],
};

/** How each orderable biomarker must be done (CLINICAL.md section 2). */
const ORDER_NOTES: Partial<Record<Concept, string>> = {
  ferritin: 'Serum ferritin (ng/mL = ug/L).',
  hla_dr:
    'Monocyte HLA-DR quantified as antibodies bound (molecules) per CD45+/CD14+ monocyte by flow cytometry with calibrated beads (Quantibrite-type assay), processed within 6 h of sampling. Percent HLA-DR-positive monocytes cannot be used.',
};

export const ORDERABLE_BIOMARKERS: readonly Concept[] = ['ferritin', 'hla_dr'];

export function proposedServiceRequest(concept: Concept, codings: Coding[], patientId: string, reason: string): ServiceRequest {
  const note = ORDER_NOTES[concept];
  return {
    resourceType: 'ServiceRequest',
    status: 'draft',
    intent: 'proposal',
    category: [LABORATORY_PROCEDURE],
    code: { coding: codings, text: codings[0]?.display ?? concept },
    subject: { reference: `Patient/${patientId}` },
    reasonCode: [{ text: reason }],
    ...(note ? { note: [{ text: note }] } : {}),
  };
}
