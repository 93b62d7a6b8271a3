/**
 * ImmunoGuide data as FHIR R4 resources (typed with @types/fhir). Measurements become
 * Observations coded from the concept dictionary, with UCUM quantities and a meta.source that
 * points back to the record they were imported from.
 */
import { createRequire } from 'node:module';
import type { Bundle, CapabilityStatement, Coding, FhirResource, Observation, Patient as FhirPatient } from 'fhir/r4.js';
import type { Patient, StoredMeasurement } from '../../store/repository.ts';

const require = createRequire(import.meta.url);

interface Dictionary {
  codeSystems: Record<string, string>;
  concepts: Record<string, { display: string; fhir: Array<{ system: string; code: string }> }>;
}

const dictionary = require('../../sources/concepts/dictionary.json') as Dictionary;

export const UCUM = 'http://unitsofmeasure.org';
export const IMMUNOGUIDE_IDENTIFIER_SYSTEM = 'https://immunoguide.org/fhir/NamingSystem/patient-id';

export function codingsFor(concept: string): Coding[] {
  const entry = dictionary.concepts[concept];
  if (!entry) return [{ system: dictionary.codeSystems.immunoguide, code: concept, display: concept }];
  return entry.fhir.map((c) => ({ system: dictionary.codeSystems[c.system] ?? c.system, code: c.code, display: entry.display }));
}

/** The concepts whose dictionary codes match a FHIR token search (`system|code`, `code` or `|code`). */
export function conceptsForToken(token: string): string[] {
  const [system, code] = token.includes('|') ? (token.split('|', 2) as [string, string]) : [undefined, token];
  return Object.keys(dictionary.concepts).filter((concept) =>
    codingsFor(concept).some((c) => c.code === code && (system === undefined || system === '' || c.system === system)),
  );
}

const LAB_CONCEPTS = new Set(['ferritin', 'hla_dr', 'hla_dr_percent', 'platelets', 'bilirubin', 'creatinine', 'pao2', 'lactate', 'neutrophils', 'suPAR']);
const VITAL_CONCEPTS = new Set(['map', 'weight', 'fio2']);

export function patientResource(patient: Patient): FhirPatient {
  return {
    resourceType: 'Patient',
    id: patient.id,
    meta: { tag: [{ system: 'https://immunoguide.org/fhir/CodeSystem/site', code: patient.siteId }] },
    identifier: [{ system: IMMUNOGUIDE_IDENTIFIER_SYSTEM, value: patient.id }],
    ...(patient.sex ? { gender: patient.sex } : {}),
    ...(patient.birthDate ? { birthDate: patient.birthDate } : {}),
    ...(patient.deceasedAt ? { deceasedDateTime: patient.deceasedAt } : { deceasedBoolean: false }),
  };
}

export function observationId(measurementId: number): string {
  return `m${measurementId}`;
}

export function parseObservationId(id: string): number | undefined {
  const match = /^m(\d{1,15})$/.exec(id);
  return match ? Number(match[1]) : undefined;
}

export function measurementObservation(m: StoredMeasurement): Observation {
  const category = LAB_CONCEPTS.has(m.concept) ? 'laboratory' : VITAL_CONCEPTS.has(m.concept) ? 'vital-signs' : 'procedure';
  const codings = codingsFor(m.concept);
  return {
    resourceType: 'Observation',
    id: observationId(m.id),
    meta: { source: `${m.source}#${m.recordId}` },
    status: 'final',
    category: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: category }] },
    ],
    code: { coding: codings, text: codings[0]?.display ?? m.concept },
    subject: { reference: `Patient/${m.patientId}` },
    ...(m.effectiveEnd ? { effectivePeriod: { start: m.effectiveStart, end: m.effectiveEnd } } : { effectiveDateTime: m.effectiveStart }),
    valueQuantity: { value: m.value, unit: m.unit, system: UCUM, code: m.unit },
    ...(m.originalValue !== null && m.originalUnit !== null && (m.originalUnit !== m.unit || Number(m.originalValue) !== m.value)
      ? { note: [{ text: `As reported: ${m.originalValue} ${m.originalUnit}` }] }
      : {}),
  };
}

export function searchBundle(baseUrl: string, resources: FhirResource[], selfUrl: string): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: resources.length,
    link: [{ relation: 'self', url: selfUrl }],
    entry: resources.map((resource) => ({
      fullUrl: `${baseUrl}/${resource.resourceType}/${resource.id}`,
      resource,
      search: { mode: 'match' },
    })),
  };
}

export function capabilityStatement(version: string, baseUrl: string): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-24',
    kind: 'instance',
    software: { name: 'ImmunoGuide', version },
    implementation: { description: 'ImmunoGuide FHIR R4 read and search API', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        security: {
          description:
            'OAuth2 / OpenID Connect bearer tokens (Authorization: Bearer ...), or API keys for service clients. ' +
            "Every request sees only the caller's sites.",
          service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'OAuth' }] }],
        },
        resource: [
          {
            type: 'Patient',
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            searchParam: [{ name: '_id', type: 'token' }, { name: 'identifier', type: 'token' }],
          },
          {
            type: 'MedicationRequest',
            interaction: [{ code: 'search-type' }],
            searchParam: [{ name: 'patient', type: 'reference' }, { name: 'intent', type: 'token' }],
          },
          {
            type: 'Observation',
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            searchParam: [
              { name: 'patient', type: 'reference' },
              { name: 'subject', type: 'reference' },
              { name: 'code', type: 'token' },
              { name: 'date', type: 'date' },
              { name: '_count', type: 'number' },
            ],
          },
        ],
      },
    ],
  };
}
