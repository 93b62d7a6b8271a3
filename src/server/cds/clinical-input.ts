/**
 * The patient's FHIR data as the clinical engine's input, through the FHIR ingest adapter
 * (src/sources/fhir) - the same mapping, units and checks as a FHIR import, so a card and the
 * stored record of the same data agree. Resources the adapter refuses (unknown unit, no time,
 * implausible value) are listed in words for the card, never silently dropped or guessed.
 */
import type { PatientFacts } from '../../clinical/assessment.ts';
import type { Concept, Measurement } from '../../clinical/types.ts';
import type { ConceptDictionary } from '../../sources/concepts/dictionary.ts';
import { ChunkCollector } from '../../sources/collect.ts';
import { mapResource } from '../../sources/fhir/adapter.ts';
import { createParserState } from '../../sources/import-format.ts';
import type { PatientData } from './patient-data.ts';

export interface ClinicalInput {
  patient: PatientFacts;
  measurements: Measurement[];
  /** Problems with resources that could not be used, in words (at most MAX_LISTED, then a count). */
  unusable: string[];
  /** Concepts present in the usable data. */
  conceptsSeen: Set<Concept>;
  /** Study drugs given (dictionary medication id, e.g. "anakinra"), newest first. */
  studyDrugsGiven: Array<{ medication: string; time: string }>;
}

const MAX_LISTED = 10;

export function clinicalInputFrom(data: PatientData, dictionary: ConceptDictionary): ClinicalInput {
  const out = new ChunkCollector({ firstLineNumber: 1, fileName: 'CDS Hooks request', source: 'cds-hooks', dictionary }, 'cds-hooks');
  const state = createParserState();
  const map = (resource: unknown, where: string): void => {
    out.begin(where);
    mapResource(resource, out, state, where);
    out.end();
  };
  if (data.patient !== null) map(data.patient, 'Patient');
  // Observations before administrations: vasopressor rates per kg need the weight seen first.
  data.observations.forEach((o) => map(o, `Observation/${o.id ?? '?'}`));
  data.administrations.forEach((a) => map(a, `MedicationAdministration/${a.id ?? '?'}`));

  const measurements = out.result.measurements.filter((m) => m.patientId === data.patientId);
  const record = out.result.patients.find((p) => p.id === data.patientId);
  const errors = out.result.issues.filter((i) => i.severity === 'error');
  const unusable = errors.slice(0, MAX_LISTED).map((i) => `${i.location[0] ?? ''}: ${i.diagnostics}`);
  if (errors.length > MAX_LISTED) unusable.push(`and ${errors.length - MAX_LISTED} more resource problem(s)`);
  return {
    patient: {
      id: data.patientId,
      birthDate: record?.birthDate ?? null,
      sex: record?.sex ?? null,
      deceasedAt: record?.deceasedAt ?? null,
    },
    measurements,
    unusable,
    conceptsSeen: new Set(measurements.map((m) => m.concept)),
    studyDrugsGiven: out.result.administrations
      .filter((a) => a.patientId === data.patientId)
      .map((a) => ({ medication: a.medication, time: a.time }))
      .sort((x, y) => (x.time < y.time ? 1 : x.time > y.time ? -1 : 0)),
  };
}
