/**
 * FHIR R4 read and search at /fhir (JSON only): Patient and Observation, site-isolated and
 * audited like the rest of the API; errors are OperationOutcome. GET /fhir/metadata (the
 * CapabilityStatement) is public.
 */
import type { Observation } from 'fhir/r4.js';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../../store/db.ts';
import { getPatient, listMeasurements, listPatients, measurementPatient } from '../../store/repository.ts';
import { VERSION } from '../../version.ts';
import { auditAccess, requirePatient } from '../access-audit.ts';
import { principalOf } from '../auth/plugin.ts';
import { HttpProblem } from '../problem.ts';
import { assess } from '../api/assessment.ts';
import { toMeasurements } from '../api/store-bridge.ts';
import type { Patient, StoredMeasurement } from '../../store/repository.ts';
import {
  IMMUNE_CLASS_CODE,
  IMMUNOGUIDE_CODES,
  SOFA_TOTAL_CODE,
  immuneClassObservation,
  measurementObservationIds,
  proposedTherapy,
  sofaDayObservation,
} from './derived.ts';
import {
  IMMUNOGUIDE_IDENTIFIER_SYSTEM,
  capabilityStatement,
  conceptsForToken,
  measurementObservation,
  parseObservationId,
  patientResource,
  searchBundle,
} from './resources.ts';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

function baseUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}/fhir`;
}

function send(reply: FastifyReply, resource: unknown): FastifyReply {
  return reply.type(FHIR_JSON).send(resource);
}

type Query = Record<string, string | string[] | undefined>;

function badRequest(detail: string): HttpProblem {
  return new HttpProblem(400, 'Bad Request', detail);
}

/** Search parameters we do not support are an error, never silently ignored (the result would be wrong). */
function checkParameters(query: Query, allowed: readonly string[]): void {
  const unknown = Object.keys(query).filter((name) => !allowed.includes(name) && name !== '_format');
  if (unknown.length > 0) {
    throw badRequest(`Unsupported search parameter(s): ${unknown.join(', ')}. Supported: ${allowed.join(', ')}.`);
  }
  const format = single(query._format);
  if (format !== undefined && !/json/.test(format)) throw badRequest(`Only JSON is supported (_format=${format}).`);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[value.length - 1] : value;
}

function list(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : [value].flat();
}

function parseCount(query: Query): number {
  const text = single(query._count);
  if (text === undefined) return 100;
  const count = Number(text);
  if (!Number.isInteger(count) || count < 0 || count > 1000) throw badRequest(`_count must be an integer from 0 to 1000, got "${text}".`);
  return count;
}

/** A FHIR date search value (eq/lt/le/gt/ge + YYYY, YYYY-MM, YYYY-MM-DD or a dateTime) as [from, to) bounds. */
export function dateBounds(values: string[]): { from?: string; to?: string } {
  let from: number | undefined;
  let to: number | undefined;
  for (const raw of values) {
    const match = /^(eq|lt|le|gt|ge)?(\d{4}(?:-\d{2}(?:-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2}))?)?)?)$/.exec(raw);
    if (!match) throw badRequest(`Invalid date search value "${raw}" (expected e.g. ge2026-01-05 or 2026-01-05T08:00:00Z).`);
    const prefix = match[1] ?? 'eq';
    const [start, end] = dateRange(match[2]!, raw);
    const lower = (value: number) => (from = from === undefined ? value : Math.max(from, value));
    const upper = (value: number) => (to = to === undefined ? value : Math.min(to, value));
    if (prefix === 'eq') {
      lower(start);
      upper(end);
    } else if (prefix === 'ge') lower(start);
    else if (prefix === 'gt') lower(end);
    else if (prefix === 'lt') upper(start);
    else upper(end);
  }
  return {
    ...(from !== undefined ? { from: new Date(from).toISOString() } : {}),
    ...(to !== undefined ? { to: new Date(to).toISOString() } : {}),
  };
}

function dateRange(value: string, raw: string): [number, number] {
  const invalid = () => badRequest(`Invalid date search value "${raw}".`);
  if (value.includes('T')) {
    const instant = Date.parse(value);
    if (Number.isNaN(instant)) throw invalid();
    // A dateTime search value has the precision it is given in: seconds unless milliseconds are given.
    return [instant, instant + (/\.\d+/.test(value) ? 1 : /:\d{2}:\d{2}/.test(value) ? 1000 : 60_000)];
  }
  const [year, month, day] = value.split('-').map(Number) as [number, number | undefined, number | undefined];
  const start = Date.UTC(year, (month ?? 1) - 1, day ?? 1);
  const check = new Date(start);
  if (check.getUTCFullYear() !== year || (month !== undefined && check.getUTCMonth() !== month - 1) || (day !== undefined && check.getUTCDate() !== day)) {
    throw invalid();
  }
  const end = day !== undefined ? Date.UTC(year, month! - 1, day + 1) : month !== undefined ? Date.UTC(year, month, 1) : Date.UTC(year + 1, 0, 1);
  return [start, end];
}

function patientIdFromReference(reference: string): string {
  const id = reference.startsWith('Patient/') ? reference.slice('Patient/'.length) : reference;
  if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id)) throw badRequest(`Invalid patient reference "${reference}".`);
  return id;
}

/** ImmunoGuide's results for a patient now: SOFA days, the immune class, the proposed therapy. */
function derivedResources(patient: Patient, stored: StoredMeasurement[], sofaPreset: string) {
  const at = new Date().toISOString();
  const assessment = assess(patient, toMeasurements(stored), at, sofaPreset);
  const idOf = measurementObservationIds(stored);
  return {
    sofa: assessment.sofa.days.map((day) => sofaDayObservation(patient.id, assessment.sofa.preset, day)),
    immuneClass: immuneClassObservation(patient.id, assessment, idOf),
    therapy: proposedTherapy(patient.id, assessment),
  };
}

/** Which derived results a code search asks for (undefined codes: all). */
function derivedWanted(tokens: string[]): { sofa: boolean; immuneClass: boolean } {
  if (tokens.length === 0) return { sofa: true, immuneClass: true };
  const wants = (codeValue: string) =>
    tokens.some((token) => {
      const [system, value] = token.includes('|') ? token.split('|', 2) : [undefined, token];
      return value === codeValue && (system === undefined || system === '' || system === IMMUNOGUIDE_CODES);
    });
  return { sofa: wants(SOFA_TOTAL_CODE), immuneClass: wants(IMMUNE_CLASS_CODE) };
}

function inDateBounds(start: string | undefined, bounds: { from?: string; to?: string }): boolean {
  if (start === undefined) return true;
  return (bounds.from === undefined || start >= bounds.from) && (bounds.to === undefined || start < bounds.to);
}

export const fhirRoutes: FastifyPluginAsync<{ db: Database }> = async (app, { db }) => {
  const fhirSchema = (summary: string) => ({ tags: ['fhir'], summary });

  app.get('/fhir/metadata', { config: { public: true }, schema: fhirSchema('CapabilityStatement') }, async (request, reply) =>
    send(reply, capabilityStatement(VERSION, baseUrl(request))),
  );

  app.get(
    '/fhir/Patient/:patientId',
    { config: { permission: 'patient:read' }, schema: fhirSchema('Read a Patient') },
    async (request, reply) => {
      const { patientId } = request.params as { patientId: string };
      return send(reply, patientResource(await requirePatient(request, db, patientId, 'fhir:patient:read')));
    },
  );

  app.get(
    '/fhir/Patient',
    { config: { permission: 'patient:read' }, schema: fhirSchema('Search Patients (_id, identifier)') },
    async (request, reply) => {
      const query = request.query as Query;
      checkParameters(query, ['_id', 'identifier', '_count']);
      const count = parseCount(query);
      const principal = principalOf(request);
      let patients = await listPatients(db, principal.sites);
      const ids = list(query._id).flatMap((v) => v.split(','));
      if (ids.length > 0) patients = patients.filter((p) => ids.includes(p.id));
      for (const identifier of list(query.identifier)) {
        const [system, value] = identifier.includes('|') ? identifier.split('|', 2) : [undefined, identifier];
        if (system !== undefined && system !== '' && system !== IMMUNOGUIDE_IDENTIFIER_SYSTEM) patients = [];
        else patients = patients.filter((p) => p.id === value);
      }
      auditAccess(request, { action: 'fhir:patient:search', outcome: 'allowed' });
      const bundle = searchBundle(baseUrl(request), patients.slice(0, count).map(patientResource), `${baseUrl(request)}${request.url.slice('/fhir'.length)}`);
      return send(reply, { ...bundle, total: patients.length });
    },
  );

  app.get(
    '/fhir/Observation/:observationId',
    { config: { permission: 'patient:read' }, schema: fhirSchema('Read an Observation') },
    async (request, reply) => {
      const { observationId } = request.params as { observationId: string };
      const notFound = new HttpProblem(404, 'Not Found', `Observation ${observationId} was not found.`);
      const derived = /^(sofa|immune-class)-(.+?)(?:-(\d+))?$/.exec(observationId);
      if (derived) {
        // Derived results name their patient: the same site check and audit as any patient read.
        const patientId = derived[1] === 'sofa' ? derived[2]! : observationId.slice('immune-class-'.length);
        const patient = await getPatient(db, patientId);
        if (!patient || !principalOf(request).sites.includes(patient.siteId)) {
          auditAccess(request, { action: 'fhir:observation:read', patientId, siteId: patient?.siteId ?? null, outcome: patient ? 'denied' : 'not-found' });
          throw notFound;
        }
        auditAccess(request, { action: 'fhir:observation:read', patientId, siteId: patient.siteId, outcome: 'allowed' });
        const results = derivedResources(patient, await listMeasurements(db, { patientId }), app.sofaPreset);
        const found = [results.immuneClass, ...results.sofa].find((o) => o.id === observationId);
        if (!found) throw notFound;
        return send(reply, found);
      }
      const id = parseObservationId(observationId);
      const patientId = id === undefined ? undefined : await measurementPatient(db, id);
      const patient = patientId === undefined ? undefined : await getPatient(db, patientId);
      if (id === undefined || !patient || !principalOf(request).sites.includes(patient.siteId)) {
        auditAccess(request, { action: 'fhir:observation:read', patientId: patientId ?? null, siteId: patient?.siteId ?? null, outcome: patient ? 'denied' : 'not-found' });
        throw notFound;
      }
      auditAccess(request, { action: 'fhir:observation:read', patientId: patient.id, siteId: patient.siteId, outcome: 'allowed' });
      const [measurement] = await listMeasurements(db, { patientId: patient.id, id });
      return send(reply, measurementObservation(measurement!));
    },
  );

  app.get(
    '/fhir/MedicationRequest',
    { config: { permission: 'patient:read' }, schema: fhirSchema('Search MedicationRequests (patient): the proposed targeted therapy') },
    async (request, reply) => {
      const query = request.query as Query;
      checkParameters(query, ['patient', 'subject', 'intent', '_count']);
      const reference = single(query.patient) ?? single(query.subject);
      if (reference === undefined) throw badRequest('MedicationRequest search needs a patient (patient=Patient/ID).');
      const patient = await requirePatient(request, db, patientIdFromReference(reference), 'fhir:medicationrequest:search');
      const intent = single(query.intent);
      const proposal = derivedResources(patient, await listMeasurements(db, { patientId: patient.id }), app.sofaPreset).therapy;
      const resources = proposal && (intent === undefined || intent === 'proposal') ? [proposal] : [];
      return send(reply, searchBundle(baseUrl(request), resources, `${baseUrl(request)}${request.url.slice('/fhir'.length)}`));
    },
  );

  app.get(
    '/fhir/Observation',
    { config: { permission: 'patient:read' }, schema: fhirSchema('Search Observations (patient, code, date)') },
    async (request, reply) => {
      const query = request.query as Query;
      checkParameters(query, ['patient', 'subject', 'code', 'date', '_count']);
      const reference = single(query.patient) ?? single(query.subject);
      if (reference === undefined) {
        throw badRequest('Observation search needs a patient (patient=Patient/ID): observations are only searched per patient.');
      }
      const count = parseCount(query);
      const patient = await requirePatient(request, db, patientIdFromReference(reference), 'fhir:observation:search');
      const tokens = list(query.code).flatMap((v) => v.split(','));
      const concepts = tokens.length === 0 ? undefined : [...new Set(tokens.flatMap(conceptsForToken))];
      const bounds = dateBounds(list(query.date));
      const measurements =
        concepts !== undefined && concepts.length === 0
          ? []
          : await listMeasurements(db, { patientId: patient.id, ...(concepts ? { concepts } : {}), ...bounds });
      const wanted = derivedWanted(tokens);
      const resources: Observation[] = measurements.map(measurementObservation);
      if (wanted.sofa || wanted.immuneClass) {
        const results = derivedResources(patient, await listMeasurements(db, { patientId: patient.id }), app.sofaPreset);
        if (wanted.immuneClass && inDateBounds(results.immuneClass.effectiveDateTime, bounds)) resources.push(results.immuneClass);
        if (wanted.sofa) resources.push(...results.sofa.filter((o) => inDateBounds(o.effectivePeriod?.start, bounds)));
      }
      const bundle = searchBundle(baseUrl(request), resources.slice(0, count), `${baseUrl(request)}${request.url.slice('/fhir'.length)}`);
      return send(reply, { ...bundle, total: resources.length });
    },
  );
};
