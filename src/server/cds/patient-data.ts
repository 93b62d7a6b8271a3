/**
 * Gathering the patient's FHIR data for one hook call: each prefetch key is taken from the
 * request's `prefetch` when the EHR sent it, otherwise fetched from `fhirServer` with the same
 * query, otherwise marked unavailable - with the reason, so the card can say what it could not see.
 *
 * Prefetch semantics (CDS Hooks 2.0, "Prefetch Template"): a key that is absent was not
 * satisfied; a null value means "no data"; an OperationOutcome value reports an error (no
 * follow-up query, as the spec intends). Resources about another patient are dropped, never used.
 */
import type { Condition, FhirResource, MedicationAdministration, MedicationRequest, Observation, Patient as FhirPatient } from 'fhir/r4.js';
import { type FetchLike, type FhirQueryResult, type FhirQueryTarget, describeOutcome, fhirQuery } from './fhir-client.ts';
import type { PrefetchKey } from './services.ts';
import { hostAllowed, isLoopbackHost } from './settings.ts';
import type { CdsRequest } from './types.ts';

export type KeySource = 'prefetch' | 'fhir-server' | 'none';

export interface KeyStatus {
  key: string;
  source: KeySource;
  /** ok: data (possibly none) obtained; unavailable: we could not see this data. */
  status: 'ok' | 'unavailable';
  count: number;
  /** Why it is unavailable, or a caveat (paginated, truncated, dropped resources). */
  note?: string;
}

export interface PatientData {
  patientId: string;
  patient: FhirPatient | null;
  observations: Observation[];
  administrations: MedicationAdministration[];
  medicationRequests: MedicationRequest[];
  conditions: Condition[];
  keys: KeyStatus[];
  /** Data-source facts worth telling the clinician (dropped resources, partial pages). */
  notes: string[];
}

export interface FhirAccess {
  target: FhirQueryTarget | null;
  /** Why the service does not query the FHIR server itself (when target is null). */
  refusal: string;
}

/** The FHIR server the service may query for this request, or why not. */
export function fhirAccessFor(
  request: CdsRequest,
  policy: { allowedHosts: readonly string[]; authenticated: boolean; timeoutMs: number; fetch: FetchLike },
): FhirAccess {
  if (request.fhirServer === undefined) return { target: null, refusal: 'the EHR sent no fhirServer' };
  let url: URL;
  try {
    url = new URL(request.fhirServer);
  } catch {
    return { target: null, refusal: 'fhirServer is not a valid URL' };
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    return { target: null, refusal: 'fhirServer must use https' };
  }
  // The URL comes from the caller: without an allow-list only an authenticated EHR may make us
  // send requests to a host of its choosing.
  if (policy.allowedHosts.length > 0 ? !hostAllowed(url, policy.allowedHosts) : !policy.authenticated) {
    return { target: null, refusal: `fhirServer host ${url.host} is not on the allowed list (CDS_FHIR_ALLOWED_HOSTS)` };
  }
  return {
    target: {
      baseUrl: request.fhirServer,
      accessToken: request.fhirAuthorization?.access_token,
      timeoutMs: policy.timeoutMs,
      fetch: policy.fetch,
    },
    refusal: '',
  };
}

/** The prefetch template with the context's values in place of its tokens (null when a token has no value). */
export function fillTemplate(template: string, context: CdsRequest['context']): string | null {
  let missing = false;
  const filled = template.replace(/\{\{context\.(\w+)\}\}/g, (_match, field: string) => {
    const value = context[field];
    if (typeof value !== 'string' && typeof value !== 'number') {
      missing = true;
      return '';
    }
    return encodeURIComponent(String(value));
  });
  return missing ? null : filled;
}

interface Collected {
  resources: FhirResource[];
  status: KeyStatus;
}

export async function gatherPatientData(request: CdsRequest, access: FhirAccess, prefetchKeys: readonly PrefetchKey[]): Promise<PatientData> {
  const patientId = request.context.patientId;
  const notes: string[] = [];
  const collected = await Promise.all(prefetchKeys.map((key) => collectKey(key, request, access)));
  const keys = collected.map((c) => c.status);

  const byType = <T extends FhirResource['resourceType']>(key: string, type: T): Array<Extract<FhirResource, { resourceType: T }>> => {
    const entry = collected[prefetchKeys.findIndex((k) => k.key === key)];
    const out: Array<Extract<FhirResource, { resourceType: T }>> = [];
    let foreign = 0;
    let otherType = 0;
    for (const resource of entry?.resources ?? []) {
      if (resource.resourceType !== type) {
        otherType++;
        continue;
      }
      if (!aboutPatient(resource, patientId)) {
        foreign++;
        continue;
      }
      out.push(resource as Extract<FhirResource, { resourceType: T }>);
    }
    if (foreign > 0) notes.push(`${foreign} ${type} resource(s) in "${key}" are about another patient and were ignored`);
    if (otherType > 0 && type !== 'Observation') notes.push(`${otherType} resource(s) of another type in "${key}" were ignored`);
    return out;
  };

  const patients = byType('patient', 'Patient');
  const observations = dedupe(['biomarkers', 'sofaInputs', 'safetyLabs'].flatMap((key) => byType(key, 'Observation')));
  const administrations = byType('administrations', 'MedicationAdministration');
  const medicationRequests = byType('medications', 'MedicationRequest');
  const conditions = byType('conditions', 'Condition');
  for (const status of keys) if (status.status === 'ok' && status.note) notes.push(`${status.key}: ${status.note}`);
  return { patientId, patient: patients[0] ?? null, observations, administrations, medicationRequests, conditions, keys, notes };
}

async function collectKey(key: PrefetchKey, request: CdsRequest, access: FhirAccess): Promise<Collected> {
  const prefetch = request.prefetch;
  if (prefetch !== undefined && Object.hasOwn(prefetch, key.key)) {
    const value = prefetch[key.key];
    if (value === null) return { resources: [], status: { key: key.key, source: 'prefetch', status: 'ok', count: 0 } };
    const fromPrefetch = await resourcesOfPrefetchValue(value, key, access);
    if (!fromPrefetch.ok) return { resources: [], status: { key: key.key, source: 'prefetch', status: 'unavailable', count: 0, note: fromPrefetch.reason } };
    return {
      resources: fromPrefetch.resources,
      status: { key: key.key, source: 'prefetch', status: 'ok', count: fromPrefetch.resources.length, ...(fromPrefetch.note ? { note: fromPrefetch.note } : {}) },
    };
  }
  if (access.target === null) {
    return { resources: [], status: { key: key.key, source: 'none', status: 'unavailable', count: 0, note: `not prefetched, and ${access.refusal}` } };
  }
  const url = fillTemplate(key.template, request.context);
  if (url === null) return { resources: [], status: { key: key.key, source: 'none', status: 'unavailable', count: 0, note: 'the context lacks a field the query needs' } };
  const result: FhirQueryResult = await fhirQuery(access.target, url);
  if (!result.ok) return { resources: [], status: { key: key.key, source: 'fhir-server', status: 'unavailable', count: 0, note: result.reason } };
  const caveats = [...result.issues, ...(result.truncated ? [`only the first ${result.pages} page(s) were read`] : [])];
  return {
    resources: result.resources,
    status: { key: key.key, source: 'fhir-server', status: 'ok', count: result.resources.length, ...(caveats.length > 0 ? { note: caveats.join('; ') } : {}) },
  };
}

async function resourcesOfPrefetchValue(
  value: unknown,
  key: PrefetchKey,
  access: FhirAccess,
): Promise<{ ok: true; resources: FhirResource[]; note?: string } | { ok: false; reason: string }> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof (value as { resourceType?: unknown }).resourceType !== 'string') {
    return { ok: false, reason: 'the prefetched value is not a FHIR resource' };
  }
  const resource = value as FhirResource;
  if (resource.resourceType === 'OperationOutcome') return { ok: false, reason: `the EHR reported an error: ${describeOutcome(resource)}` };
  if (resource.resourceType !== 'Bundle') return { ok: true, resources: [resource] };
  const resources: FhirResource[] = [];
  const issues: string[] = [];
  for (const entry of resource.entry ?? []) {
    if (!entry.resource) continue;
    if (entry.resource.resourceType === 'OperationOutcome') issues.push(describeOutcome(entry.resource));
    else resources.push(entry.resource);
  }
  // The EHR may paginate prefetch results; read the rest from its FHIR server when we may.
  const next = resource.link?.find((l) => l.relation === 'next')?.url;
  if (next !== undefined) {
    if (access.target === null) {
      issues.push(`the prefetched ${key.key} results are paginated and the rest could not be read (${access.refusal})`);
    } else {
      const rest = await fhirQuery(access.target, absoluteToRelative(next, access.target.baseUrl));
      if (rest.ok) resources.push(...rest.resources);
      else issues.push(`the rest of the paginated ${key.key} results could not be read (${rest.reason})`);
    }
  }
  return { ok: true, resources, ...(issues.length > 0 ? { note: issues.join('; ') } : {}) };
}

/** A next link as a URL relative to the FHIR base (fhirQuery refuses other origins anyway). */
function absoluteToRelative(link: string, baseUrl: string): string {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return link.startsWith(base) ? link.slice(base.length) : link;
}

/** Whether a resource is about the patient in context (a resource with no patient reference is not used). */
function aboutPatient(resource: FhirResource, patientId: string): boolean {
  if (resource.resourceType === 'Patient') return resource.id === undefined || resource.id === patientId;
  const reference = (resource as { subject?: { reference?: string }; patient?: { reference?: string } }).subject?.reference
    ?? (resource as { patient?: { reference?: string } }).patient?.reference;
  if (reference === undefined) return false;
  return reference === `Patient/${patientId}` || reference.endsWith(`/Patient/${patientId}`);
}

/** The same Observation may come through two keys (creatinine is a SOFA input and a safety lab). */
function dedupe<T extends FhirResource>(observations: T[]): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const o of observations) {
    const id = o.id === undefined ? undefined : `${o.resourceType}/${o.id}`;
    if (id !== undefined) {
      if (seen.has(id)) continue;
      seen.add(id);
    }
    out.push(o);
  }
  return out;
}
