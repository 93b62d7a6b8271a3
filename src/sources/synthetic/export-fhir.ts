/**
 * Writes a synthetic cohort as a FHIR Bulk Data export: one NDJSON file per resource type
 * (Patient.ndjson, Observation.ndjson, ...), optionally gzipped. The resources use the forms a
 * hospital FHIR server produces, varied by site so the importer's paths are all exercised:
 * ferritin in ug/L and platelets in 10*9/L at one site, FiO2 in percent, MAP as a component of
 * a blood-pressure panel, mHLA-DR in a DiagnosticReport with contained results and a specimen,
 * norepinephrine as ug/kg/min, as ug/min with a contained weight, or as ug/min with the
 * patient's charted weight, ventilation as Procedures (not-done when off), cultures as
 * DiagnosticReports and antibiotics as MedicationAdministrations coded by ATC.
 */
import type {
  DiagnosticReport,
  Encounter,
  FhirResource,
  MedicationAdministration,
  Observation,
  Patient,
  Procedure,
  Quantity,
} from 'fhir/r4.js';
import type { Measurement } from '../../clinical/types.ts';
import { decimalRound } from '../../clinical/numeric.ts';
import { SITE_TAG_SYSTEM, UCUM_SYSTEM } from '../fhir/adapter.ts';
import type { SyntheticRecord } from './cohort.ts';
import { WriterSet } from './line-writer.ts';

const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';
const IMMUNOGUIDE = 'https://immunoguide.org/fhir/CodeSystem/concept';

export interface ExportOptions {
  /** Gzip the files (.ndjson.gz / .csv.gz). */
  gzip?: boolean;
}

export interface ExportReport {
  files: Array<{ path: string; lines: number; bytes: number }>;
  patients: number;
  measurements: number;
}

export async function exportFhirNdjson(records: Iterable<SyntheticRecord>, dir: string, options: ExportOptions = {}): Promise<ExportReport> {
  const writers = new WriterSet(dir, options.gzip === true ? '.ndjson.gz' : '.ndjson');
  let patients = 0;
  let measurements = 0;
  for (const record of records) {
    patients++;
    measurements += record.measurements.length;
    for (const resource of fhirResources(record)) {
      const writer = await writers.get(resource.resourceType);
      await writer.line(JSON.stringify(resource));
    }
  }
  return { files: await writers.close(), patients, measurements };
}

/** The FHIR resources of one synthetic patient. */
export function fhirResources(record: SyntheticRecord): FhirResource[] {
  const { patient } = record;
  const site = patient.siteId;
  const subject = { reference: `Patient/${patient.id}` };
  const patientResource: Patient = {
    resourceType: 'Patient',
    id: patient.id,
    meta: { tag: [{ system: SITE_TAG_SYSTEM, code: site }] },
    gender: patient.sex,
    birthDate: patient.birthDate,
    ...(patient.deceasedAt ? { deceasedDateTime: patient.deceasedAt } : { deceasedBoolean: false }),
  };
  const encounter: Encounter = {
    resourceType: 'Encounter',
    id: `${patient.id}-icu`,
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'ACUTE', display: 'inpatient acute' },
    type: [{ text: 'ICU stay' }],
    subject,
    period: { start: patient.admittedAt },
  };
  const resources: FhirResource[] = [patientResource, encounter];
  const weight = record.measurements.find((m) => m.concept === 'weight');
  let sequence = 0;
  for (const m of record.measurements) {
    const id = `${patient.id}-${++sequence}`;
    const resource = measurementResource(m, id, site, subject, weight);
    if (resource) resources.push(resource);
  }
  return resources;
}

function measurementResource(
  m: Measurement,
  id: string,
  site: string,
  subject: { reference: string },
  weight: Measurement | undefined,
): FhirResource | undefined {
  const observation = (code: { system: string; code: string }, value: Partial<Observation>): Observation => ({
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [code] },
    subject,
    ...(m.endTime ? { effectivePeriod: { start: m.time, end: m.endTime } } : { effectiveDateTime: m.time }),
    ...value,
  });
  const q = (value: number, code: string): Quantity => ({ value, unit: code, system: UCUM_SYSTEM, code });
  switch (m.concept) {
    case 'weight':
      return observation({ system: LOINC, code: '29463-7' }, { valueQuantity: q(m.value, 'kg') });
    case 'ferritin':
      return observation({ system: LOINC, code: '2276-4' }, { valueQuantity: site === 'nijmegen' ? q(m.value, 'ug/L') : q(m.value, 'ng/mL') });
    case 'hla_dr': {
      const report: DiagnosticReport = {
        resourceType: 'DiagnosticReport',
        id,
        status: 'final',
        code: { text: 'Monocyte HLA-DR (Quantibrite)' },
        subject,
        specimen: [{ reference: '#specimen' }],
        result: [{ reference: '#hla' }],
        contained: [
          { resourceType: 'Specimen', id: 'specimen', collection: { collectedDateTime: m.time } },
          {
            resourceType: 'Observation',
            id: 'hla',
            status: 'final',
            code: { coding: [{ system: IMMUNOGUIDE, code: 'mhla-dr-molecules' }] },
            valueQuantity: { value: m.value, unit: 'AB/cell' },
          },
        ],
      };
      return report;
    }
    case 'platelets':
      return observation({ system: LOINC, code: '777-3' }, { valueQuantity: site === 'milan' ? q(m.value, '10*9/L') : q(m.value, '10*3/uL') });
    case 'bilirubin':
      return observation({ system: LOINC, code: '1975-2' }, { valueQuantity: q(m.value, 'mg/dL') });
    case 'creatinine':
      return observation({ system: LOINC, code: '2160-0' }, { valueQuantity: q(m.value, 'mg/dL') });
    case 'neutrophils':
      return observation({ system: LOINC, code: '751-8' }, { valueQuantity: q(m.value, '10*3/uL') });
    case 'lactate':
      return observation({ system: LOINC, code: '2524-7' }, { valueQuantity: q(m.value, 'mmol/L') });
    case 'pao2':
      return observation({ system: LOINC, code: '2703-7' }, { valueQuantity: q(m.value, 'mm[Hg]') });
    case 'fio2':
      return observation(
        { system: LOINC, code: '3150-0' },
        { valueQuantity: site === 'athens' ? q(m.value, '1') : q(decimalRound(m.value * 100), '%') },
      );
    case 'map':
      if (site === 'milan') return observation({ system: LOINC, code: '8478-0' }, { valueQuantity: q(m.value, 'mm[Hg]') });
      return observation(
        { system: LOINC, code: '85354-9' },
        { component: [{ code: { coding: [{ system: LOINC, code: '8478-0' }] }, valueQuantity: q(m.value, 'mm[Hg]') }] },
      );
    case 'gcs':
      return observation({ system: LOINC, code: '9269-2' }, { valueInteger: m.value });
    case 'urine_output':
      return observation({ system: LOINC, code: '9187-6' }, { valueQuantity: q(m.value, 'mL') });
    case 'mechanical_ventilation': {
      const procedure: Procedure = {
        resourceType: 'Procedure',
        id,
        status: m.value === 1 ? 'completed' : 'not-done',
        code: { coding: [{ system: SNOMED, code: '1258985005', display: 'Invasive mechanical ventilation' }] },
        subject,
        performedDateTime: m.time,
      };
      return procedure;
    }
    case 'norepinephrine':
      return vasopressor(m, id, site, subject, weight);
    case 'antibiotic': {
      const admin: MedicationAdministration = {
        resourceType: 'MedicationAdministration',
        id,
        status: 'completed',
        medicationCodeableConcept: { coding: [{ system: 'http://www.whocc.no/atc', code: 'J01CR05', display: 'piperacillin and beta-lactamase inhibitor' }] },
        subject,
        effectiveDateTime: m.time,
      };
      return admin;
    }
    case 'culture': {
      const report: DiagnosticReport = {
        resourceType: 'DiagnosticReport',
        id,
        status: 'preliminary',
        code: { coding: [{ system: LOINC, code: '600-7', display: 'Bacteria identified in Blood by Culture' }] },
        subject,
        effectiveDateTime: m.time,
      };
      return report;
    }
    default:
      throw new Error(`the FHIR exporter has no form for ${m.concept}`);
  }
}

function vasopressor(m: Measurement, id: string, site: string, subject: { reference: string }, weight: Measurement | undefined): MedicationAdministration {
  const base: MedicationAdministration = {
    resourceType: 'MedicationAdministration',
    id,
    status: 'completed',
    medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '7512', display: 'norepinephrine' }] },
    subject,
    ...(m.endTime ? { effectivePeriod: { start: m.time, end: m.endTime } } : { effectiveDateTime: m.time }),
  };
  if (site === 'athens' || weight === undefined) {
    return { ...base, dosage: { rateQuantity: { value: m.value, unit: 'ug/kg/min', system: UCUM_SYSTEM, code: 'ug/kg/min' } } };
  }
  // A total rate: the importer needs the weight, from a contained Observation or one charted before.
  const total = { value: m.value * weight.value, unit: 'ug/min', system: UCUM_SYSTEM, code: 'ug/min' };
  const charted = site === 'milan' && weight.time <= m.time;
  if (charted) return { ...base, dosage: { rateQuantity: total } };
  return {
    ...base,
    contained: [
      {
        resourceType: 'Observation',
        id: 'weight',
        status: 'final',
        code: { coding: [{ system: LOINC, code: '29463-7' }] },
        effectiveDateTime: weight.time,
        valueQuantity: { value: weight.value, unit: 'kg', system: UCUM_SYSTEM, code: 'kg' },
      },
    ],
    supportingInformation: [{ reference: '#weight' }],
    dosage:
      site === 'nijmegen'
        ? { rateRatio: { numerator: { value: total.value * 60, unit: 'ug', system: UCUM_SYSTEM, code: 'ug' }, denominator: { value: 1, unit: 'h', system: UCUM_SYSTEM, code: 'h' } } }
        : { rateQuantity: total },
  };
}
