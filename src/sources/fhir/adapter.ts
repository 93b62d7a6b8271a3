/**
 * FHIR R4 resources -> canonical measurements (typed with @types/fhir).
 *
 * Read: Patient, Encounter (with the hospital encounter it is part of), Observation (value and
 * components, e.g. a GCS panel with its three responses), Condition,
 * MedicationAdministration (vasopressor rates -> ug/kg/min with the patient's weight, antibiotics,
 * study drugs), Procedure and DeviceUseStatement (invasive ventilation), DiagnosticReport (its
 * contained result Observations, e.g. ferritin or mHLA-DR, and culture reports), Specimen,
 * Device and Medication (remembered so later resources can refer to them), and Bundles of any
 * of these. Everything else is counted as skipped.
 *
 * What links a value to others is kept in its `context` (MeasurementContext): the encounter it
 * names (Observation.encounter, MedicationAdministration.context, Procedure.encounter) as
 * "Encounter/<id>", the sample (Observation.specimen) and the blood it is (Specimen.type), the
 * time it was issued.
 *
 * Input is untrusted JSON: every element is checked before use, and each problem becomes an
 * issue on the record, never an exception.
 */
import { createHash } from 'node:crypto';
import type {
  Bundle,
  CodeableConcept,
  Coding,
  Condition,
  DeviceUseStatement,
  DiagnosticReport,
  Encounter,
  MedicationAdministration,
  Observation,
  ObservationComponent,
  Patient,
  Procedure,
  Quantity,
  Reference,
  Resource,
} from 'fhir/r4.js';
import { parseInstant } from '../../clinical/instant.ts';
import { CONCEPT_UNITS } from '../../clinical/units.ts';
import type { BloodSpecimen, Concept, IsoDateTime } from '../../clinical/types.ts';
import { type ChunkCollector, checkPatientId, checkSiteId } from '../collect.ts';
import type { ParserState, SourceMeasurement } from '../import-format.ts';
import { parseFhirInstant } from '../time.ts';

export const UCUM_SYSTEM = 'http://unitsofmeasure.org';
/** Patient.meta.tag system naming the ImmunoGuide site (as the FHIR output writes it). */
export const SITE_TAG_SYSTEM = 'https://immunoguide.org/fhir/CodeSystem/site';

/** Concepts that record that something happened: an Observation without a value means 1. */
const EVENT_CONCEPTS: ReadonlySet<Concept> = new Set(['culture', 'antibiotic']);
/** SNOMED CT qualifiers read as 1 / 0 for yes/no findings. */
const PRESENT_CODES = new Set(['52101004', '10828004', '373066001']); // present, positive, yes
const ABSENT_CODES = new Set(['2667000', '260385009', '373067005']); // absent, negative, no
const SNOMED = 'http://snomed.info/sct';
/** Yes/no concepts (canonical unit 1, only 1 accepted): FiO2 is a fraction, not a flag. */
const FLAG_CONCEPTS: ReadonlySet<Concept> = new Set(
  (Object.keys(CONCEPT_UNITS) as Concept[]).filter((c) => CONCEPT_UNITS[c].canonicalUnit === '1' && CONCEPT_UNITS[c].closedUnits?.length === 1),
);
/** The GCS responses: a coded answer carries its score as an ordinal value. */
const GCS_RESPONSES: ReadonlySet<Concept> = new Set(['gcs_motor', 'gcs_verbal', 'gcs_eyes']);
/** Extensions that give a coded answer its score (R5 ordinalValue, R4 itemWeight, iso21090-CO-value). */
const ORDINAL_EXTENSIONS = new Set([
  'http://hl7.org/fhir/StructureDefinition/ordinalValue',
  'http://hl7.org/fhir/StructureDefinition/itemWeight',
  'http://hl7.org/fhir/StructureDefinition/iso21090-CO-value',
]);
/**
 * A verbal response not assessable through an endotracheal tube (the "T" of "8T"): LOINC's
 * answer list for 9270-0 has no such answer, so the project code system carries one.
 */
export const GCS_VERBAL_INTUBATED = { system: 'https://immunoguide.org/fhir/CodeSystem/concept', code: 'gcs-verbal-intubated' } as const;
/**
 * Specimen.type codes naming the blood a sample is (SNOMED CT specimen concepts, HL7 v2 table
 * 0487). Verify against the terminology releases before relying on a code not listed here.
 */
const BLOOD_SPECIMEN_CODES: ReadonlyMap<string, BloodSpecimen> = new Map([
  [`${SNOMED}|122552005`, 'arterial'],
  [`${SNOMED}|122555007`, 'venous'],
  [`${SNOMED}|122554006`, 'capillary'],
  ['http://terminology.hl7.org/CodeSystem/v2-0487|BLDA', 'arterial'],
  ['http://terminology.hl7.org/CodeSystem/v2-0487|BLDV', 'venous'],
  ['http://terminology.hl7.org/CodeSystem/v2-0487|BLDC', 'capillary'],
  ['http://terminology.hl7.org/CodeSystem/v2-0487|BLDMV', 'mixed-venous'],
]);
/** Remembered Device / Medication / Specimen resources and weights per file (bounded). */
const MAX_REMEMBERED = 100_000;
const MAX_BUNDLE_DEPTH = 4;

/** Resolves references inside a Bundle (fullUrl -> resource) and contained resources. */
interface Scope {
  fullUrls: Map<string, Resource> | undefined;
  contained: Map<string, Resource> | undefined;
  state: ParserState | undefined;
}

/**
 * Maps one resource into `out`. With `entryRecords`, each entry of a Bundle counts as a record
 * of its own (a Bundle file); otherwise the Bundle is one record (a Bundle on an NDJSON line).
 */
export function mapResource(
  resource: unknown,
  out: ChunkCollector,
  state: ParserState | undefined,
  path = '',
  depth = 0,
  entryRecords = false,
): void {
  if (!isObject(resource) || typeof resource.resourceType !== 'string') {
    out.error('structure', 'not a FHIR resource (a JSON object with "resourceType" is expected)', path || undefined);
    return;
  }
  const contained = containedOf(resource);
  const scope: Scope = contained === undefined ? sharedScope(state) : { fullUrls: undefined, contained, state };
  const type = resource.resourceType;
  const at = path || type;
  switch (type) {
    case 'Bundle':
      mapBundle(resource as unknown as Bundle, out, state, path || 'Bundle', depth, entryRecords);
      return;
    case 'Patient':
      mapPatient(resource as unknown as Patient, out, at);
      return;
    case 'Observation':
      mapObservation(resource as unknown as Observation, out, scope, at, undefined);
      return;
    case 'MedicationAdministration':
      mapMedicationAdministration(resource as unknown as MedicationAdministration, out, scope, at);
      return;
    case 'Procedure':
      mapProcedure(resource as unknown as Procedure, out, scope, at);
      return;
    case 'DeviceUseStatement':
      mapDeviceUse(resource as unknown as DeviceUseStatement, out, scope, at);
      return;
    case 'Condition':
      mapCondition(resource as unknown as Condition, out, scope, at);
      return;
    case 'Encounter':
      mapEncounter(resource as unknown as Encounter, out, scope, at);
      return;
    case 'DiagnosticReport':
      mapDiagnosticReport(resource as unknown as DiagnosticReport, out, scope, at);
      return;
    case 'Device':
    case 'Medication':
    case 'Specimen':
      remember(resource as unknown as Resource, state);
      return; // counted as skipped: nothing to store by itself
    default:
      out.unmapped(`resourceType|${type}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Bundle

function mapBundle(bundle: Bundle, out: ChunkCollector, state: ParserState | undefined, path: string, depth: number, entryRecords: boolean): void {
  if (depth >= MAX_BUNDLE_DEPTH) {
    out.error('not-supported', `Bundles nested deeper than ${MAX_BUNDLE_DEPTH} levels are not read`, path);
    return;
  }
  const entries: unknown = bundle.entry;
  if (entries === undefined) return;
  if (!Array.isArray(entries)) {
    out.error('structure', 'Bundle.entry must be an array', path);
    return;
  }
  const fullUrls = new Map<string, Resource>();
  for (const entry of entries as unknown[]) {
    if (isObject(entry) && typeof entry.fullUrl === 'string' && isObject(entry.resource)) {
      fullUrls.set(entry.fullUrl, entry.resource as unknown as Resource);
    }
  }
  const bundleState: ParserState = state ?? { groups: new Map(), memory: new Map(), lookups: new Map() };
  const outer = bundleState.lookups.get('fullUrls');
  bundleState.lookups.set('fullUrls', fullUrls);
  // Devices, Medications and Specimens first, so entries may refer to them in any order.
  for (const resource of fullUrls.values()) {
    if (resource.resourceType === 'Device' || resource.resourceType === 'Medication' || resource.resourceType === 'Specimen') {
      remember(resource, bundleState);
    }
  }
  entries.forEach((entry: unknown, index: number) => {
    const where = `${path}.entry[${index}]`;
    if (entryRecords) out.begin(where);
    mapEntry(entry, where);
    if (entryRecords) out.end();
  });
  if (outer === undefined) bundleState.lookups.delete('fullUrls');
  else bundleState.lookups.set('fullUrls', outer);

  function mapEntry(entry: unknown, where: string): void {
    if (!isObject(entry)) {
      out.error('structure', 'a Bundle entry must be an object', where);
      return;
    }
    const request = entry.request;
    if (isObject(request) && request.method === 'DELETE') {
      out.warning('not-supported', 'DELETE entries are not applied: the measurement stream is append-only', where);
      return;
    }
    if (entry.resource === undefined) return; // a request-only or response entry
    const resource = entry.resource;
    if (isObject(resource) && resource.resourceType === 'OperationOutcome') return;
    // A resource created by a transaction may have no id yet: its fullUrl (urn:uuid:...) identifies it.
    if (isObject(resource) && resource.id === undefined && typeof entry.fullUrl === 'string') {
      (resource as Record<string, unknown>).id = idFromFullUrl(entry.fullUrl);
    }
    mapResource(resource, out, bundleState, `${where}.resource`, depth + 1);
  }
}

function idFromFullUrl(fullUrl: string): string {
  if (fullUrl.startsWith('urn:uuid:') || fullUrl.startsWith('urn:oid:')) return fullUrl.slice(9);
  const parts = fullUrl.split('/');
  return parts[parts.length - 1] ?? fullUrl;
}

// ---------------------------------------------------------------------------------------------
// Patient and Encounter

function mapPatient(patient: Patient, out: ChunkCollector, at: string): void {
  const idProblem = checkPatientId(patient.id);
  if (idProblem !== undefined) {
    out.error('required', `Patient: ${idProblem}`, el(at, 'id'));
    return;
  }
  const id = patient.id as string;
  const record: { id: string; siteId?: string; birthDate?: string; sex?: 'female' | 'male' | 'other' | 'unknown'; deceasedAt?: string } = { id };
  const tags: unknown = patient.meta?.tag;
  if (Array.isArray(tags)) {
    const site = (tags as unknown[]).find((t): t is Coding => isObject(t) && t.system === SITE_TAG_SYSTEM && typeof t.code === 'string');
    if (site?.code !== undefined) {
      const problem = checkSiteId(site.code);
      if (problem) {
        out.error('value', `Patient ${id}: ${problem}`, el(at, 'meta.tag'));
        return;
      }
      record.siteId = site.code;
    }
  }
  const gender: unknown = patient.gender;
  if (gender === 'female' || gender === 'male' || gender === 'other' || gender === 'unknown') record.sex = gender;
  else if (gender !== undefined) out.warning('value', `Patient ${id}: gender ${JSON.stringify(gender)} is not a FHIR administrative gender; ignored`, el(at, 'gender'));
  const birthDate: unknown = patient.birthDate;
  if (typeof birthDate === 'string') {
    if (/^\d{4}-\d{2}-\d{2}$/.test(birthDate) && Number.isFinite(Date.parse(birthDate))) record.birthDate = birthDate;
    else out.warning('value', `Patient ${id}: birthDate "${birthDate}" is not a full date; ignored`, el(at, 'birthDate'));
  }
  if (patient.deceasedDateTime !== undefined) {
    const time = parseFhirInstant(patient.deceasedDateTime);
    if (time.ok) record.deceasedAt = time.iso;
    else out.warning('value', `Patient ${id}: deceasedDateTime ${time.reason}; ignored`, el(at, 'deceasedDateTime'));
  }
  out.result.patients.push(record);
  out.produced();
}

function mapEncounter(encounter: Encounter, out: ChunkCollector, scope: Scope, at: string): void {
  const patientId = patientOf(encounter.subject, out, scope, at, 'subject');
  if (patientId === undefined) return;
  const id = typeof encounter.id === 'string' ? encounter.id : undefined;
  if (id === undefined) {
    out.error('required', 'Encounter has no id', el(at, 'id'));
    return;
  }
  const text = JSON.stringify([encounter.class, encounter.type, encounter.serviceType]).toLowerCase();
  const stay: { id: string; patientId: string; kind: 'icu' | 'hospital'; start?: string; end?: string; admissionId?: string } = {
    id: `Encounter/${id}`,
    patientId,
    kind: text.includes('icu') || text.includes('intensive') ? 'icu' : 'hospital',
  };
  // An ICU stay is part of a hospital encounter: labs recorded in either count for the stay.
  const partOf = encounterOf(encounter.partOf, scope);
  if (partOf !== undefined) stay.admissionId = partOf;
  const period = encounter.period;
  if (isObject(period)) {
    const start = period.start === undefined ? undefined : parseFhirInstant(period.start);
    const end = period.end === undefined ? undefined : parseFhirInstant(period.end);
    if (start?.ok) stay.start = start.iso;
    else if (start) out.warning('value', `Encounter ${id}: period.start ${start.reason}`, el(at, 'period.start'));
    if (end?.ok) stay.end = end.iso;
    else if (end) out.warning('value', `Encounter ${id}: period.end ${end.reason}`, el(at, 'period.end'));
  }
  out.result.stays.push(stay);
  out.produced();
}

// ---------------------------------------------------------------------------------------------
// Observation (and the Observations contained in a DiagnosticReport)

const OBSERVATION_SKIP = new Set(['registered', 'cancelled', 'entered-in-error']);

function mapObservation(
  observation: Observation,
  out: ChunkCollector,
  scope: Scope,
  at: string,
  inherited: { patientId: string; time: Timing | undefined; encounterId: string | undefined } | undefined,
): void {
  const status: unknown = observation.status;
  if (typeof status === 'string' && OBSERVATION_SKIP.has(status)) {
    if (status === 'entered-in-error') {
      out.warning('informational', `Observation ${observation.id ?? ''} is entered-in-error: not imported (an earlier stored version is not retracted)`, el(at, 'status'));
    }
    return;
  }
  const mainConcept = conceptOfCode(observation.code, out);
  const components: unknown = observation.component;
  const componentList = Array.isArray(components) ? (components as ObservationComponent[]) : [];
  const componentConcepts = componentList.map((c) => (isObject(c) ? conceptOfCode(c.code, out) : undefined));
  if (mainConcept === undefined && componentConcepts.every((c) => c === undefined)) {
    noteUnmapped(observation.code, 'Observation', out);
    return;
  }
  const patientId = inherited?.patientId ?? patientOf(observation.subject, out, scope, at, 'subject');
  if (patientId === undefined) return;
  const time = timingOf(observation, scope, out, at) ?? inherited?.time;
  if (time === undefined) {
    if (!out.failed) out.error('required', 'Observation has no effective time (effectiveDateTime, effectiveInstant or effectivePeriod.start)', el(at, 'effective[x]'));
    return;
  }
  const baseId = recordIdOf(observation, 'Observation');
  const context = observationContext(observation, mainConcept, scope, out, at, inherited?.encounterId);
  if (context === null) return;
  const holder = observation as unknown as Record<string, unknown>;
  // A panel may carry its value in its components only (a GCS panel without a total).
  const panelOnly = !hasValue(holder) && componentConcepts.some((c) => c !== undefined);
  const main = mainConcept === undefined || panelOnly ? undefined : observationValue(holder, mainConcept, patientId, time, baseId, out, at, 'value[x]', context);
  componentList.forEach((component, index) => {
    const concept = componentConcepts[index];
    if (concept === undefined || !isObject(component)) return;
    const m = observationValue(component as unknown as Record<string, unknown>, concept, patientId, time, `${baseId}#component[${index}]`, out, at, `component[${index}].value[x]`, context);
    // A GCS total whose verbal response was not assessable (8T) is flagged as the MIMIC-IV one is.
    if (m?.qualifiers?.gcsVerbalIntubated === true && main?.concept === 'gcs') main.qualifiers = { ...main.qualifiers, gcsVerbalIntubated: true };
  });
  if (mainConcept === 'weight') rememberWeight(patientId, time.start, out, scope.state);
}

function hasValue(holder: Record<string, unknown>): boolean {
  for (const key of Object.keys(holder)) if (key.startsWith('value')) return true;
  return false;
}

/**
 * The MeasurementContext of an Observation (shared by its components): encounter, specimen and
 * issued time. A pO2 coded as arterial whose specimen says another blood is refused (null).
 */
function observationContext(
  observation: Observation,
  concept: Concept | undefined,
  scope: Scope,
  out: ChunkCollector,
  at: string,
  inheritedEncounter: string | undefined,
): Record<string, string> | undefined | null {
  const context: Record<string, string> = {};
  const encounterId = encounterOf(observation.encounter, scope) ?? inheritedEncounter;
  if (encounterId !== undefined) context.encounterId = encounterId;
  const reference = observation.specimen;
  if (isObject(reference) && typeof reference.reference === 'string') {
    const ref = reference.reference;
    const specimen = resolve(reference, scope, 'Specimen');
    // A contained Specimen's id is local to its resource.
    context.specimenId = ref.startsWith('#') ? `${recordIdOf(observation, 'Observation')}${ref}` : specimen?.id !== undefined ? `Specimen/${specimen.id}` : ref;
    const type = specimen === undefined ? undefined : bloodSpecimenOf((specimen as unknown as Record<string, unknown>).type);
    if (type !== undefined) context.specimen = type;
  }
  if (concept === 'pao2') {
    // LOINC 2703-7 is arterial by definition: a specimen of other blood contradicts it.
    if (context.specimen !== undefined && context.specimen !== 'arterial') {
      out.error('code-invalid', `arterial pO2 (PaO2) measured in a ${context.specimen} blood specimen: the code and the specimen disagree`, at, 'specimen');
      return null;
    }
    context.specimen = 'arterial';
  }
  const issued = (observation as unknown as Record<string, unknown>).issued;
  if (issued !== undefined) {
    const time = parseFhirInstant(issued);
    if (time.ok) context.recordedAt = time.iso;
  }
  return Object.keys(context).length === 0 ? undefined : context;
}

function bloodSpecimenOf(type: unknown): BloodSpecimen | undefined {
  for (const coding of codingsOf(type)) {
    const found = BLOOD_SPECIMEN_CODES.get(`${coding.system}|${coding.code}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** "Encounter/<id>" of a reference to an Encounter (relative, absolute, or a Bundle fullUrl). */
function encounterOf(reference: unknown, scope: Scope): string | undefined {
  if (!isObject(reference) || typeof reference.reference !== 'string') return undefined;
  const ref = reference.reference;
  const fullUrls = scope.state?.lookups.get('fullUrls') as Map<string, Resource> | undefined;
  const target = fullUrls?.get(ref);
  if (target !== undefined) return target.resourceType === 'Encounter' ? `Encounter/${target.id ?? idFromFullUrl(ref)}` : undefined;
  const match = /(?:^|\/)Encounter\/([^/]+)(?:\/_history\/[^/]+)?$/.exec(ref);
  return match ? `Encounter/${match[1]}` : undefined;
}

/** The value[x] of an Observation or component, normalised into the concept's canonical unit. */
function observationValue(
  holder: Record<string, unknown>,
  concept: Concept,
  patientId: string,
  time: Timing,
  recordId: string,
  out: ChunkCollector,
  element: string,
  child: string,
  context: Record<string, string> | undefined,
): SourceMeasurement | undefined {
  let value: number | undefined;
  let unit = '';
  let intubated = false;
  if (holder.valueQuantity !== undefined) {
    const q = quantity(holder.valueQuantity as Quantity, out, element, child);
    if (q === undefined) return;
    ({ value, unit } = q);
  } else if (holder.valueInteger !== undefined) {
    if (typeof holder.valueInteger !== 'number' || !Number.isInteger(holder.valueInteger)) {
      out.error('value', `valueInteger ${JSON.stringify(holder.valueInteger)} is not an integer`, element, child);
      return undefined;
    }
    value = holder.valueInteger;
  } else if (holder.valueBoolean !== undefined) {
    if (typeof holder.valueBoolean !== 'boolean') {
      out.error('value', `valueBoolean ${JSON.stringify(holder.valueBoolean)} is not true or false`, element, child);
      return undefined;
    }
    if (!FLAG_CONCEPTS.has(concept)) {
      out.error('value', `a yes/no value cannot record ${CONCEPT_UNITS[concept].label}`, element, child);
      return undefined;
    }
    value = holder.valueBoolean ? 1 : 0;
  } else if (holder.valueCodeableConcept !== undefined && GCS_RESPONSES.has(concept)) {
    const coded = gcsAnswer(holder.valueCodeableConcept, concept);
    if (coded === undefined) {
      out.error('value', `the coded ${CONCEPT_UNITS[concept].label} carries no score (an ordinal value extension${concept === 'gcs_verbal' ? `, or ${GCS_VERBAL_INTUBATED.system}#${GCS_VERBAL_INTUBATED.code}` : ''})`, element, child);
      return undefined;
    }
    value = coded.value;
    intubated = coded.intubated;
  } else if (holder.valueCodeableConcept !== undefined && FLAG_CONCEPTS.has(concept)) {
    const codings = codingsOf(holder.valueCodeableConcept as CodeableConcept);
    const present = codings.some((c) => c.system === SNOMED && PRESENT_CODES.has(c.code));
    const absent = codings.some((c) => c.system === SNOMED && ABSENT_CODES.has(c.code));
    if (EVENT_CONCEPTS.has(concept)) value = 1; // a culture with a result (an organism) was drawn
    else if (present !== absent) value = present ? 1 : 0;
    else {
      out.error('value', `valueCodeableConcept does not say present or absent for ${CONCEPT_UNITS[concept].label}`, element, child);
      return undefined;
    }
  } else if (holder.valueString !== undefined) {
    out.error('value', `a text value (${JSON.stringify(holder.valueString)}) is not a measurement of ${CONCEPT_UNITS[concept].label}`, element, child);
    return;
  } else if (EVENT_CONCEPTS.has(concept)) {
    value = 1;
  } else if (holder.dataAbsentReason !== undefined) {
    out.warning('informational', `no value (dataAbsentReason) for ${CONCEPT_UNITS[concept].label}: nothing imported`, element, child);
    return;
  } else {
    out.error('required', `no value for ${CONCEPT_UNITS[concept].label} (valueQuantity expected)`, element, child);
    return;
  }
  const m = out.value(patientId, concept, value, unit, time.start, time.end, recordId, undefined, element, child);
  if (m !== undefined && context !== undefined) m.context = context;
  if (m !== undefined && intubated) m.qualifiers = { gcsVerbalIntubated: true };
  return m;
}

/** The score of a coded GCS response: its ordinal value, or 1 flagged for an intubated verbal response. */
function gcsAnswer(code: unknown, concept: Concept): { value: number; intubated: boolean } | undefined {
  if (!isObject(code) || !Array.isArray(code.coding)) return undefined;
  for (const coding of code.coding as unknown[]) {
    if (!isObject(coding)) continue;
    if (concept === 'gcs_verbal' && coding.system === GCS_VERBAL_INTUBATED.system && coding.code === GCS_VERBAL_INTUBATED.code) return { value: 1, intubated: true };
    const extensions = Array.isArray(coding.extension) ? (coding.extension as unknown[]) : [];
    for (const extension of extensions) {
      if (isObject(extension) && typeof extension.url === 'string' && ORDINAL_EXTENSIONS.has(extension.url) && typeof extension.valueDecimal === 'number') {
        return { value: extension.valueDecimal, intubated: false };
      }
    }
  }
  return undefined;
}

function quantity(q: Quantity, out: ChunkCollector, element: string, child?: string): { value: number; unit: string } | undefined {
  if (!isObject(q)) {
    out.error('structure', 'valueQuantity must be an object', element, child);
    return undefined;
  }
  if (typeof q.value !== 'number' || !Number.isFinite(q.value)) {
    out.error('value', `the quantity has no numeric value (got ${JSON.stringify(q.value) ?? 'nothing'})`, element, child);
    return undefined;
  }
  if (q.comparator !== undefined) {
    out.error('value', `"${String(q.comparator)}${q.value}" is a bound, not a measured value`, element, child);
    return undefined;
  }
  // The UCUM code is authoritative; the human-readable unit is the fallback.
  const unit = q.system === UCUM_SYSTEM && typeof q.code === 'string' ? q.code : typeof q.unit === 'string' ? q.unit : typeof q.code === 'string' ? q.code : '';
  return { value: q.value, unit };
}

// ---------------------------------------------------------------------------------------------
// MedicationAdministration

const ADMINISTRATION_SKIP = new Set(['not-done', 'entered-in-error']);

function mapMedicationAdministration(admin: MedicationAdministration, out: ChunkCollector, scope: Scope, at: string): void {
  const status: unknown = admin.status;
  if (typeof status === 'string' && ADMINISTRATION_SKIP.has(status)) {
    if (status === 'entered-in-error') out.warning('informational', `MedicationAdministration ${admin.id ?? ''} is entered-in-error: not imported`, el(at, 'status'));
    return;
  }
  const codings = medicationCodings(admin, scope);
  let match;
  for (const coding of codings) {
    match = out.dictionary.medicationForCode(coding.system, coding.code);
    if (match) break;
  }
  if (match === undefined) {
    noteUnmapped({ coding: codings }, 'MedicationAdministration', out);
    return;
  }
  const patientId = patientOf(admin.subject, out, scope, at, 'subject');
  if (patientId === undefined) return;
  const time = effectiveOf(admin as unknown as Record<string, unknown>, out, at);
  if (time === undefined) {
    if (!out.failed) out.error('required', 'MedicationAdministration has no effective time (effectiveDateTime or effectivePeriod.start)', el(at, 'effective[x]'));
    return;
  }
  const recordId = recordIdOf(admin, 'MedicationAdministration');
  if (match.kind === 'medication') {
    const dose = admin.dosage?.dose;
    const record: { patientId: string; medication: string; time: string; endTime?: string; dose?: { value: number; unit: string }; recordId: string } = {
      patientId,
      medication: match.id,
      time: time.start,
      recordId,
    };
    if (time.end !== undefined) record.endTime = time.end;
    if (isObject(dose) && typeof dose.value === 'number') record.dose = { value: dose.value, unit: String(dose.code ?? dose.unit ?? '') };
    out.result.administrations.push(record);
    out.produced();
    return;
  }
  const concept = match.concept;
  if (EVENT_CONCEPTS.has(concept)) {
    out.measure({ patientId, concept, value: 1, unit: '1', time: time.start, recordId });
    return;
  }
  const rate = rateOf(admin, out, at);
  if (rate === undefined) return;
  const weightKg = bodyWeight(admin, patientId, time.start, scope);
  const encounterId = encounterOf(admin.context, scope);
  out.measure({
    patientId,
    concept,
    value: rate.value,
    unit: rate.unit,
    time: time.start,
    endTime: time.end,
    recordId,
    options: weightKg === undefined ? {} : { bodyWeightKg: weightKg },
    element: at,
    child: 'dosage.rate[x]',
    ...(encounterId === undefined ? {} : { context: { encounterId } }),
  });
}

function medicationCodings(admin: MedicationAdministration, scope: Scope): Array<{ system: string; code: string }> {
  if (admin.medicationCodeableConcept !== undefined) return codingsOf(admin.medicationCodeableConcept);
  const target = resolve(admin.medicationReference, scope, 'Medication');
  const code = target === undefined ? undefined : (target as unknown as Record<string, unknown>).code;
  if (isObject(code)) return codingsOf(code);
  return [];
}

function rateOf(admin: MedicationAdministration, out: ChunkCollector, base: string): { value: number; unit: string } | undefined {
  const dosage = admin.dosage;
  if (!isObject(dosage) || (admin.dosage?.rateQuantity === undefined && admin.dosage?.rateRatio === undefined)) {
    out.warning('required', 'a vasoactive drug without an infusion rate (a bolus?) is not a SOFA input: not imported', base, 'dosage.rate[x]');
    return undefined;
  }
  if (admin.dosage.rateQuantity !== undefined) return quantity(admin.dosage.rateQuantity, out, base, 'dosage.rateQuantity');
  const ratio = admin.dosage.rateRatio;
  if (ratio?.numerator === undefined || ratio.denominator === undefined) {
    out.error('required', 'rateRatio needs a numerator and a denominator', base, 'dosage.rate[x]');
    return undefined;
  }
  const numerator = quantity(ratio.numerator, out, base, 'dosage.rateRatio.numerator');
  const denominator = quantity(ratio.denominator, out, base, 'dosage.rateRatio.denominator');
  if (numerator === undefined || denominator === undefined) return undefined;
  if (denominator.value <= 0) {
    out.error('value', 'rateRatio has a zero or negative denominator', base, 'dosage.rate[x]');
    return undefined;
  }
  // "5 ug per 1 min" is 5 ug/min; "300 ug per 60 min" is 5 ug/min too.
  return { value: numerator.value / denominator.value, unit: `(${numerator.unit})/(${denominator.unit})` };
}

/**
 * The body weight for a total rate (ug/min -> ug/kg/min): a contained or referenced weight
 * Observation in supportingInformation, else the patient's latest weight read before in this
 * import at or before the administration. Undefined means unknown: the conversion then fails
 * with a clear message instead of assuming a weight.
 */
function bodyWeight(admin: MedicationAdministration, patientId: string, time: IsoDateTime, scope: Scope): number | undefined {
  const supporting: unknown = admin.supportingInformation;
  if (Array.isArray(supporting)) {
    for (const reference of supporting as Reference[]) {
      const target = resolve(reference, scope, 'Observation') as Observation | undefined;
      if (target === undefined || !isObject(target.valueQuantity)) continue;
      const codes = codingsOf(target.code);
      const isWeight = codes.some((c) => c.system === 'http://loinc.org' && c.code === '29463-7');
      const q = target.valueQuantity;
      if (isWeight && typeof q.value === 'number') {
        const unit = q.system === UCUM_SYSTEM && q.code ? q.code : q.unit ?? 'kg';
        if (unit === 'kg') return q.value;
        if (unit === 'g') return q.value / 1000;
        if (unit === '[lb_av]' || unit === 'lb') return q.value * 0.45359237;
      }
    }
  }
  const known = scope.state?.memory.get(`weight|${patientId}`) as ChartedWeights | undefined;
  if (known === undefined) return undefined;
  // The latest at or before the administration; of weights charted at the same time, the first read.
  const at = instantMs(time);
  const numbers = known.split(' ');
  let bestTime = Number.NEGATIVE_INFINITY;
  let best: string | undefined;
  for (let i = 0; i < numbers.length; i += 2) {
    const charted = Number(numbers[i]);
    if (charted <= at && (best === undefined || charted > bestTime)) {
      bestTime = charted;
      best = numbers[i + 1];
    }
  }
  return best === undefined ? undefined : Number(best);
}

/**
 * A patient's charted weights, in the order read, as text: time (epoch ms) and kg, one number
 * after the other, separated by spaces ("1767574620000 63.1"). One short string rather than
 * objects with time strings, because the parallel screen holds this for every patient three
 * times over (screen-state.ts): 170 bytes a patient instead of 370. Times here are canonical UTC
 * to the millisecond (parseFhirInstant), so epoch ms order them exactly as their text does, and
 * a number's shortest text (String) reads back as the same number.
 */
type ChartedWeights = string;
/** Charted weights remembered per patient (the first ones read). */
const MAX_WEIGHTS = 64;

const instantMs = (time: IsoDateTime): number => parseInstant(time) ?? Date.parse(time);

function rememberWeight(patientId: string, time: IsoDateTime, out: ChunkCollector, state: ParserState | undefined): void {
  if (state === undefined) return;
  const last = out.result.measurements[out.result.measurements.length - 1];
  if (last === undefined || last.concept !== 'weight' || last.patientId !== patientId || last.time !== time) return;
  const key = `weight|${patientId}`;
  const known = state.memory.get(key) as ChartedWeights | undefined;
  if (known === undefined && state.memory.size >= MAX_REMEMBERED) return;
  const weight = `${instantMs(time)} ${last.value}`;
  if (known === undefined) state.memory.set(key, weight);
  else if (countWeights(known) < MAX_WEIGHTS) state.memory.set(key, `${known} ${weight}`);
}

function countWeights(weights: ChartedWeights): number {
  let spaces = 0;
  for (let i = weights.indexOf(' '); i !== -1; i = weights.indexOf(' ', i + 1)) spaces++;
  return (spaces + 1) / 2;
}

// ---------------------------------------------------------------------------------------------
// Procedure, DeviceUseStatement, Condition, DiagnosticReport

function mapProcedure(procedure: Procedure, out: ChunkCollector, scope: Scope, at: string): void {
  const concept = conceptOfCode(procedure.code, out);
  if (concept === undefined) {
    noteUnmapped(procedure.code, 'Procedure', out);
    return;
  }
  const status: unknown = procedure.status;
  if (status === 'entered-in-error' || status === 'preparation') return;
  const patientId = patientOf(procedure.subject, out, scope, at, 'subject');
  if (patientId === undefined) return;
  const time = performedOf(procedure as unknown as Record<string, unknown>, out, at);
  if (time === undefined) {
    if (!out.failed) out.error('required', 'Procedure has no performed time (performedDateTime or performedPeriod.start)', el(at, 'performed[x]'));
    return;
  }
  const value = status === 'not-done' ? 0 : 1;
  const encounterId = encounterOf(procedure.encounter, scope);
  out.measure({
    patientId,
    concept,
    value,
    unit: '1',
    time: time.start,
    endTime: time.end,
    recordId: recordIdOf(procedure, 'Procedure'),
    ...(encounterId === undefined ? {} : { context: { encounterId } }),
  });
}

function mapDeviceUse(statement: DeviceUseStatement, out: ChunkCollector, scope: Scope, at: string): void {
  const status: unknown = statement.status;
  const device = resolve(statement.device, scope, 'Device');
  let concept: Concept | undefined;
  const deviceType = device === undefined ? undefined : (device as unknown as Record<string, unknown>).type;
  const codings = isObject(deviceType) ? codingsOf(deviceType) : [];
  for (const coding of codings) {
    concept = out.dictionary.conceptForDevice(coding.system, coding.code);
    if (concept) break;
  }
  if (concept === undefined) {
    if (device === undefined) out.unmapped('DeviceUseStatement|(device not found)');
    else noteUnmapped({ coding: codings }, 'Device', out);
    return;
  }
  if (status === 'entered-in-error' || status === 'intended' || status === 'on-hold') return;
  const patientId = patientOf(statement.subject, out, scope, at, 'subject');
  if (patientId === undefined) return;
  const holder = statement as unknown as Record<string, unknown>;
  let time: Timing | undefined;
  if (holder.timingPeriod !== undefined || holder.timingDateTime !== undefined) {
    time = periodOrInstant(holder.timingPeriod, holder.timingDateTime, out, at, 'timing[x]');
  } else if (holder.recordedOn !== undefined) {
    time = periodOrInstant(undefined, holder.recordedOn, out, at, 'recordedOn');
  }
  if (time === undefined) {
    if (!out.failed) out.error('required', 'DeviceUseStatement has no time (timingPeriod, timingDateTime or recordedOn)', el(at, 'timing[x]'));
    return;
  }
  out.measure({ patientId, concept, value: 1, unit: '1', time: time.start, endTime: time.end, recordId: recordIdOf(statement, 'DeviceUseStatement') });
}

function mapCondition(condition: Condition, out: ChunkCollector, scope: Scope, at: string): void {
  const verification = codingsOf(condition.verificationStatus).map((c) => c.code);
  if (verification.includes('entered-in-error')) return;
  const patientId = patientOf(condition.subject, out, scope, at, 'subject');
  if (patientId === undefined) return;
  const holder = condition as unknown as Record<string, unknown>;
  const when = holder.onsetDateTime ?? (isObject(holder.onsetPeriod) ? holder.onsetPeriod.start : undefined) ?? holder.recordedDate;
  const concept = conceptOfCode(condition.code, out);
  const recordId = recordIdOf(condition, 'Condition');
  const time = when === undefined ? undefined : parseFhirInstant(when);
  if (concept === undefined) {
    // Kept for eligibility work (infection site, exclusions); not a measurement.
    const record: { patientId: string; codings: Array<{ system: string; code: string; display?: string }>; onset?: string; recordId: string } = {
      patientId,
      codings: codingsOf(condition.code),
      recordId,
    };
    if (time?.ok) record.onset = time.iso;
    out.result.conditions.push(record);
    out.produced();
    return;
  }
  if (time === undefined || !time.ok) {
    out.error('required', `Condition needs an onset or recorded time to place ${CONCEPT_UNITS[concept].label}${time && !time.ok ? `: ${time.reason}` : ''}`, el(at, 'onset[x]'));
    return;
  }
  const value = verification.includes('refuted') ? 0 : 1;
  out.measure({ patientId, concept, value, unit: '1', time: time.iso, recordId });
}

function mapDiagnosticReport(report: DiagnosticReport, out: ChunkCollector, scope: Scope, at: string): void {
  const status: unknown = report.status;
  if (status === 'entered-in-error' || status === 'cancelled' || status === 'registered') return;
  const reportConcept = conceptOfCode(report.code, out);
  const results: unknown = report.result;
  const contained = (Array.isArray(results) ? (results as Reference[]) : [])
    .map((reference, index) => ({ index, target: typeof reference?.reference === 'string' && reference.reference.startsWith('#') ? resolve(reference, scope, 'Observation') : undefined }))
    .filter((r): r is { index: number; target: Resource } => r.target !== undefined);
  if (reportConcept === undefined && contained.length === 0) {
    noteUnmapped(report.code, 'DiagnosticReport', out);
    return;
  }
  const patientId = patientOf(report.subject, out, scope, at, 'subject');
  if (patientId === undefined) return;
  const reportTime = effectiveOf(report as unknown as Record<string, unknown>, out, at) ?? specimenTime(report.specimen, scope);
  const baseId = recordIdOf(report, 'DiagnosticReport');
  if (reportConcept !== undefined) {
    if (reportTime !== undefined) {
      out.measure({ patientId, concept: reportConcept, value: 1, unit: '1', time: reportTime.start, recordId: baseId });
    } else if (!out.failed) {
      out.error('required', 'DiagnosticReport has no effective time', el(at, 'effective[x]'));
    }
  }

  for (const { index, target } of contained) {
    const observation = target as Observation;
    const id = typeof observation.id === 'string' ? observation.id : String(index);
    // Contained ids are local to the report: the record id carries the report's.
    const scoped = { ...observation, id: `${baseId.replace(/^DiagnosticReport\//, '')}#${id}` } as Observation;
    mapObservation(scoped, out, scope, `DiagnosticReport.contained(${id})`, { patientId, time: reportTime, encounterId: encounterOf(report.encounter, scope) });
  }
}

// ---------------------------------------------------------------------------------------------
// Shared element readers

interface Timing {
  start: IsoDateTime;
  end?: IsoDateTime | undefined;
}

function timingOf(observation: Observation, scope: Scope, out: ChunkCollector, at: string): Timing | undefined {
  const holder = observation as unknown as Record<string, unknown>;
  const effective = effectiveOf(holder, out, at);
  if (effective !== undefined) return effective;
  if (holder.effectiveDateTime !== undefined || holder.effectivePeriod !== undefined || holder.effectiveInstant !== undefined) return undefined;
  // No effective time at all: the specimen's collection time places a lab value.
  const specimen = observation.specimen === undefined ? undefined : specimenTime([observation.specimen], scope);
  return specimen;
}

function effectiveOf(holder: Record<string, unknown>, out: ChunkCollector, at: string): Timing | undefined {
  if (holder.effectiveDateTime !== undefined) return periodOrInstant(undefined, holder.effectiveDateTime, out, at, 'effectiveDateTime');
  if (holder.effectiveInstant !== undefined) return periodOrInstant(undefined, holder.effectiveInstant, out, at, 'effectiveInstant');
  if (holder.effectivePeriod !== undefined) return periodOrInstant(holder.effectivePeriod, undefined, out, at, 'effectivePeriod');
  return undefined;
}

function performedOf(holder: Record<string, unknown>, out: ChunkCollector, at: string): Timing | undefined {
  if (holder.performedDateTime !== undefined) return periodOrInstant(undefined, holder.performedDateTime, out, at, 'performedDateTime');
  if (holder.performedPeriod !== undefined) return periodOrInstant(holder.performedPeriod, undefined, out, at, 'performedPeriod');
  return undefined;
}

function periodOrInstant(period: unknown, instant: unknown, out: ChunkCollector, element: string, child: string): Timing | undefined {
  if (instant !== undefined) {
    const time = parseFhirInstant(instant);
    if (!time.ok) {
      out.error('value', time.reason, element, child);
      return undefined;
    }
    return { start: time.iso };
  }
  if (!isObject(period)) {
    out.error('structure', 'a Period must be an object', element, child);
    return undefined;
  }
  const start = parseFhirInstant(period.start);
  if (!start.ok) {
    out.error('value', `period.start: ${start.reason}`, element, child);
    return undefined;
  }
  if (period.end === undefined) return { start: start.iso };
  const end = parseFhirInstant(period.end);
  if (!end.ok) {
    out.error('value', `period.end: ${end.reason}`, element, child);
    return undefined;
  }
  return { start: start.iso, end: end.iso };
}

function specimenTime(references: unknown, scope: Scope): Timing | undefined {
  const list = Array.isArray(references) ? (references as Reference[]) : references === undefined ? [] : [references as Reference];
  for (const reference of list) {
    const specimen = resolve(reference, scope, 'Specimen');
    const collection = specimen === undefined ? undefined : (specimen as unknown as Record<string, unknown>).collection;
    if (!isObject(collection)) continue;
    const when = collection.collectedDateTime ?? (isObject(collection.collectedPeriod) ? collection.collectedPeriod.start : undefined);
    const time = when === undefined ? undefined : parseFhirInstant(when);
    if (time?.ok) return { start: time.iso };
  }
  return undefined;
}

/** The concept of a CodeableConcept; two codings naming different concepts is an error. */
function conceptOfCode(code: unknown, out: ChunkCollector): Concept | undefined {
  if (!isObject(code) || !Array.isArray(code.coding)) return undefined;
  let found: Concept | undefined;
  for (const coding of code.coding as unknown[]) {
    if (!isObject(coding) || typeof coding.system !== 'string' || typeof coding.code !== 'string') continue;
    const concept = out.dictionary.conceptForCode(coding.system, coding.code);
    if (concept === undefined) continue;
    if (found !== undefined && found !== concept) {
      out.error('code-invalid', `the codes name two different concepts (${found} and ${concept}); fix the source or the dictionary`);
      return undefined;
    }
    found = concept;
  }
  return found;
}

function codingsOf(code: unknown): Array<{ system: string; code: string; display?: string }> {
  if (!isObject(code) || !Array.isArray(code.coding)) return [];
  const result: Array<{ system: string; code: string; display?: string }> = [];
  for (const coding of code.coding as unknown[]) {
    if (isObject(coding) && typeof coding.system === 'string' && typeof coding.code === 'string') {
      result.push(typeof coding.display === 'string' ? { system: coding.system, code: coding.code, display: coding.display } : { system: coding.system, code: coding.code });
    }
  }
  return result;
}

function noteUnmapped(code: unknown, resourceType: string, out: ChunkCollector): void {
  const first = codingsOf(code)[0];
  out.unmapped(first === undefined ? `${resourceType}|(no coding)` : `${resourceType}|${first.system}|${first.code}`);
}

/** The patient id a subject reference names: Patient/123, an absolute URL, a Bundle fullUrl or an identifier. */
function patientOf(subject: unknown, out: ChunkCollector, scope: Scope, element: string, child: string): string | undefined {
  if (!isObject(subject)) {
    out.error('required', 'no subject: the patient the record belongs to is unknown', element, child);
    return undefined;
  }
  let id: string | undefined;
  const reference = subject.reference;
  // The common case, "Patient/123", without the general reference parsing below.
  if (typeof reference === 'string' && reference.startsWith('Patient/') && reference.indexOf('/', 8) === -1 && !scope.state?.lookups.has('fullUrls')) {
    id = reference.slice(8);
  } else if (typeof reference === 'string') {
    const fullUrls = scope.state?.lookups.get('fullUrls') as Map<string, Resource> | undefined;
    const target = fullUrls?.get(reference);
    if (target !== undefined) {
      if (target.resourceType !== 'Patient') {
        out.error('not-supported', `the subject is a ${target.resourceType}, not a Patient`, element, child);
        return undefined;
      }
      id = target.id ?? idFromFullUrl(reference);
    } else {
      const match = /(?:^|\/)([A-Za-z]+)\/([^/]+)(?:\/_history\/[^/]+)?$/.exec(reference);
      if (match) {
        if (match[1] !== 'Patient') {
          out.error('not-supported', `the subject is a ${match[1]}, not a Patient`, element, child);
          return undefined;
        }
        id = match[2];
      } else if (reference.startsWith('urn:uuid:')) id = reference.slice(9);
    }
  } else if (isObject(subject.identifier) && typeof subject.identifier.value === 'string') {
    id = subject.identifier.value;
  }
  if (id === undefined) {
    out.error('required', `cannot read a patient id from the subject ${JSON.stringify(subject)}`, element, child);
    return undefined;
  }
  const problem = checkPatientId(id);
  if (problem !== undefined) {
    out.error('value', problem, element, child);
    return undefined;
  }
  return id;
}

/** A contained (#id), in-Bundle or remembered resource of the given type. */
function resolve(reference: unknown, scope: Scope, type: string): Resource | undefined {
  if (!isObject(reference) || typeof reference.reference !== 'string') return undefined;
  const ref = reference.reference;
  if (ref.startsWith('#')) {
    const found = scope.contained?.get(ref.slice(1));
    return found?.resourceType === type ? found : undefined;
  }
  const fullUrls = scope.state?.lookups.get('fullUrls') as Map<string, Resource> | undefined;
  const inBundle = fullUrls?.get(ref);
  if (inBundle !== undefined) return inBundle.resourceType === type ? inBundle : undefined;
  const match = /(?:^|\/)([A-Za-z]+)\/([^/]+)(?:\/_history\/[^/]+)?$/.exec(ref);
  if (!match || match[1] !== type) return undefined;
  return scope.state?.memory.get(`${type}/${match[2]}`) as Resource | undefined;
}

/**
 * Keeps what later resources may need of a Device (type), Medication (code) or Specimen
 * (collection time) -- not the whole resource, so memory stays bounded on large exports.
 */
function remember(resource: Resource, state: ParserState | undefined): void {
  if (state === undefined || typeof resource.id !== 'string') return;
  const key = `${resource.resourceType}/${resource.id}`;
  if (!state.memory.has(key) && state.memory.size >= MAX_REMEMBERED) return;
  const full = resource as unknown as Record<string, unknown>;
  const kept: Record<string, unknown> = { resourceType: resource.resourceType, id: resource.id };
  if (resource.resourceType === 'Device') kept.type = full.type;
  else if (resource.resourceType === 'Medication') kept.code = full.code;
  else if (resource.resourceType === 'Specimen') {
    if (isObject(full.collection)) kept.collection = { collectedDateTime: full.collection.collectedDateTime, collectedPeriod: full.collection.collectedPeriod };
    if (isObject(full.type)) kept.type = full.type;
  }
  state.memory.set(key, kept);
}

function containedOf(resource: Record<string, unknown>): Map<string, Resource> | undefined {
  const contained = resource.contained;
  if (!Array.isArray(contained) || contained.length === 0) return undefined;
  const map = new Map<string, Resource>();
  for (const item of contained as unknown[]) {
    if (isObject(item) && typeof item.id === 'string' && typeof item.resourceType === 'string') map.set(item.id, item as unknown as Resource);
  }
  return map;
}

/**
 * The provenance record id: "Observation/123". A resource without an id (rare outside
 * transaction Bundles) is identified by a hash of its content, so importing it again still
 * stores nothing new.
 */
function recordIdOf(resource: { id?: string | undefined }, type: string): string {
  if (typeof resource.id === 'string' && resource.id !== '') return `${type}/${resource.id}`;
  return `${type}/sha256:${createHash('sha256').update(JSON.stringify(resource)).digest('hex').slice(0, 32)}`;
}

/** Scopes of resources without contained resources (most of them): one per state, not one per record. */
const sharedScopes = new WeakMap<ParserState, Scope>();
const STATELESS_SCOPE: Scope = { fullUrls: undefined, contained: undefined, state: undefined };

function sharedScope(state: ParserState | undefined): Scope {
  if (state === undefined) return STATELESS_SCOPE;
  let scope = sharedScopes.get(state);
  if (scope === undefined) sharedScopes.set(state, (scope = { fullUrls: undefined, contained: undefined, state }));
  return scope;
}

/** FHIRPath-like location of an element of the resource at `base`. */
function el(base: string, element: string): string {
  return `${base}.${element}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
