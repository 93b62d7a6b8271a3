/**
 * Test support for the CDS Hooks service: an app with the CDS plugin registered on a test
 * database, a stand-in EHR that signs CDS Hooks JWTs and publishes its JWK Set, a stand-in FHIR
 * server on 127.0.0.1, and a synthetic patient as FHIR resources.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Bundle, FhirResource, Observation } from 'fhir/r4.js';
import type { FastifyInstance } from 'fastify';
import { type JWK, SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { SofaDaySummary } from '../../../src/clinical/assessment.ts';
import { fillTemplate } from '../../../src/server/cds/patient-data.ts';
import { type CdsSettings, DEFAULT_CDS_SETTINGS } from '../../../src/server/cds/settings.ts';
import type { CdsRequest, CdsServiceDefinition } from '../../../src/server/cds/types.ts';
import type { Database } from '../../../src/store/db.ts';
import { buildTestApp } from '../../support/app.ts';

/** The evaluation time of every test (the service's clock is fixed to it). */
export const AT = '2026-03-01T12:00:00.000Z';
export const AT_MS = Date.parse(AT);
export const PUBLIC_URL = 'https://immunoguide.example.org';
export const EHR_ISSUER = 'https://ehr.example.org/';
export const PATIENT_ID = 'syn-1';
export const LOINC = 'http://loinc.org';
export const IMMUNOGUIDE_CONCEPT = 'https://immunoguide.org/fhir/CodeSystem/concept';

export const SERVICE = {
  patientView: 'immunoguide-patient-view',
  orderSelect: 'immunoguide-order-select',
  orderSign: 'immunoguide-order-sign',
} as const;

export function hoursBefore(hours: number, at = AT_MS): string {
  return new Date(at - hours * 3_600_000).toISOString();
}

// --- the EHR: JWT signer with a JWK Set on loopback -------------------------------------------

type SigningKey = Parameters<SignJWT['sign']>[0];

export interface TokenOptions {
  aud?: string | string[];
  iss?: string;
  iatSeconds?: number;
  expSeconds?: number;
  jti?: string;
  omit?: Array<'aud' | 'exp' | 'iat' | 'jti'>;
  jku?: string;
  kid?: string;
  /** Sign with another key than the published one. */
  foreignKey?: boolean;
}

export class TestEhr {
  readonly kid = 'ehr-key-1';
  jwksUrl = '';
  #privateKey!: SigningKey;
  #foreign!: SigningKey;
  #server!: http.Server;
  /** JWK Set requests seen (path). */
  readonly jwksRequests: string[] = [];

  static async start(): Promise<TestEhr> {
    const ehr = new TestEhr();
    // ES384: the algorithm CDS Hooks 2.0 recommends.
    const { privateKey, publicKey } = await generateKeyPair('ES384');
    ehr.#privateKey = privateKey;
    ehr.#foreign = (await generateKeyPair('ES384')).privateKey;
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: ehr.kid, alg: 'ES384', use: 'sig' };
    ehr.#server = http.createServer((request, response) => {
      ehr.jwksRequests.push(request.url ?? '');
      if (request.url === '/jwks.json' || request.url === '/other/jwks.json') {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ keys: [jwk] }));
      } else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => ehr.#server.listen(0, '127.0.0.1', resolve));
    ehr.jwksUrl = `http://127.0.0.1:${(ehr.#server.address() as AddressInfo).port}/jwks.json`;
    return ehr;
  }

  get host(): string {
    return new URL(this.jwksUrl).host;
  }

  async token(options: TokenOptions = {}): Promise<string> {
    const now = Math.floor(AT_MS / 1000);
    const claims: Record<string, unknown> = { tenant: 'hospital-1' };
    const jwt = new SignJWT(claims).setProtectedHeader({
      alg: 'ES384',
      typ: 'JWT',
      kid: options.kid ?? this.kid,
      ...(options.jku ? { jku: options.jku } : {}),
    });
    jwt.setIssuer(options.iss ?? EHR_ISSUER);
    const omit = new Set(options.omit ?? []);
    if (!omit.has('aud')) jwt.setAudience(options.aud ?? `${PUBLIC_URL}/cds-services/${SERVICE.patientView}`);
    if (!omit.has('iat')) jwt.setIssuedAt(options.iatSeconds ?? now);
    if (!omit.has('exp')) jwt.setExpirationTime(options.expSeconds ?? now + 300);
    if (!omit.has('jti')) jwt.setJti(options.jti ?? randomUUID());
    return jwt.sign(options.foreignKey ? this.#foreign : this.#privateKey);
  }

  /** Authorization header for a call to a service (aud = that service's URL). */
  async authFor(serviceId: string, options: TokenOptions = {}): Promise<{ authorization: string }> {
    return { authorization: `Bearer ${await this.token({ aud: `${PUBLIC_URL}/cds-services/${serviceId}`, ...options })}` };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

// --- the app --------------------------------------------------------------------------------

export interface CdsTestApp {
  app: FastifyInstance;
  settings: CdsSettings;
}

export function testSettings(ehr: TestEhr, overrides: Partial<CdsSettings> = {}): CdsSettings {
  return {
    ...DEFAULT_CDS_SETTINGS,
    publicUrl: PUBLIC_URL,
    trustedIssuers: new Map([[EHR_ISSUER, ehr.jwksUrl]]),
    // Only the stand-ins on loopback may be queried: a spec example's fhirServer on the internet is refused.
    fhirAllowedHosts: ['127.0.0.1'],
    fhirTimeoutMs: 1500,
    ...overrides,
  };
}

/** The ImmunoGuide app with the CDS Hooks service configured for a test EHR; its clock is fixed at AT. */
export async function buildCdsTestApp(
  db: Database,
  ehr: TestEhr,
  options: { settings?: Partial<CdsSettings>; sofaDays?: (at: string) => SofaDaySummary[]; rateLimitPerMinute?: number | false } = {},
): Promise<CdsTestApp> {
  const settings = testSettings(ehr, options.settings);
  const sofaDays = options.sofaDays;
  const { app } = await buildTestApp(db, {
    rateLimitPerMinute: options.rateLimitPerMinute ?? false,
    cds: { settings, now: () => AT_MS, ...(sofaDays ? { sofaDays: (_measurements: unknown, at: string) => sofaDays(at) } : {}) },
  });
  await app.ready();
  return { app, settings };
}

export async function callService(
  app: FastifyInstance,
  ehr: TestEhr,
  serviceId: string,
  body: unknown,
  tokenOptions: TokenOptions = {},
): Promise<{ status: number; json: () => { cards: Array<Record<string, unknown>> } & Record<string, unknown>; body: string; headers: Record<string, unknown> }> {
  const response = await app.inject({ method: 'POST', url: `/cds-services/${serviceId}`, headers: await ehr.authFor(serviceId, tokenOptions), payload: body as object });
  return { status: response.statusCode, json: () => response.json(), body: response.body, headers: response.headers };
}

// --- a synthetic patient as FHIR resources ---------------------------------------------------

export interface LabValue {
  value: number;
  unit?: string;
  hoursAgo: number;
}

export interface SyntheticPatient {
  id?: string;
  birthDate?: string;
  gender?: 'male' | 'female';
  ferritin?: LabValue;
  hlaDr?: LabValue;
  hlaDrPercent?: LabValue;
  neutrophils?: LabValue;
  creatinine?: LabValue;
  platelets?: LabValue;
  hemoglobin?: LabValue;
  weightKg?: LabValue;
  map?: LabValue;
}

const CODES = {
  ferritin: { system: LOINC, code: '2276-4', unit: 'ng/mL' },
  hlaDr: { system: IMMUNOGUIDE_CONCEPT, code: 'mhla-dr-molecules', unit: '{molecules}/{cell}' },
  hlaDrPercent: { system: IMMUNOGUIDE_CONCEPT, code: 'mhla-dr-percent', unit: '%' },
  neutrophils: { system: LOINC, code: '751-8', unit: '10*3/uL' },
  creatinine: { system: LOINC, code: '2160-0', unit: 'mg/dL' },
  platelets: { system: LOINC, code: '777-3', unit: '10*3/uL' },
  hemoglobin: { system: LOINC, code: '718-7', unit: 'g/dL' },
  weightKg: { system: LOINC, code: '29463-7', unit: 'kg' },
  map: { system: LOINC, code: '8478-0', unit: 'mm[Hg]' },
} as const;

export function observation(id: string, patientId: string, code: { system: string; code: string }, value: number, unit: string, time: string): Observation {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [{ system: code.system, code: code.code }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: time,
    valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
  };
}

export function syntheticPatient(spec: SyntheticPatient): FhirResource[] {
  const id = spec.id ?? PATIENT_ID;
  const resources: FhirResource[] = [
    { resourceType: 'Patient', id, gender: spec.gender ?? 'male', birthDate: spec.birthDate ?? '1958-04-02' },
  ];
  for (const [name, code] of Object.entries(CODES) as Array<[keyof typeof CODES, (typeof CODES)[keyof typeof CODES]]>) {
    const lab = spec[name];
    if (lab === undefined) continue;
    resources.push(observation(`${id}-${name}`, id, code, lab.value, lab.unit ?? code.unit, hoursBefore(lab.hoursAgo)));
  }
  return resources;
}

/** A MALS patient with normal safety labs: ferritin 6200 ng/mL 5 h ago. */
export function malsPatient(overrides: Partial<SyntheticPatient> = {}): FhirResource[] {
  return syntheticPatient({
    ferritin: { value: 6200, hoursAgo: 5 },
    hlaDr: { value: 4000, hoursAgo: 6 },
    neutrophils: { value: 6.1, hoursAgo: 4 },
    creatinine: { value: 1.1, hoursAgo: 4 },
    platelets: { value: 180, hoursAgo: 4 },
    hemoglobin: { value: 11.2, hoursAgo: 4 },
    weightKg: { value: 80, hoursAgo: 30 },
    ...overrides,
  });
}

/** An immunoparalysis patient: ferritin 900 ng/mL, HLA-DR 3000 molecules/monocyte. */
export function immunoparalysisPatient(overrides: Partial<SyntheticPatient> = {}): FhirResource[] {
  return malsPatient({ ferritin: { value: 900, hoursAgo: 5 }, hlaDr: { value: 3000, hoursAgo: 5 }, ...overrides });
}

// --- the FHIR server stand-in ----------------------------------------------------------------

export interface StandInOptions {
  /** Milliseconds before each answer. */
  delayMs?: number;
  /** Answer every request with this HTTP status (and an OperationOutcome). */
  failWith?: number;
  /** Answer searches of these resource types with this status. */
  failTypes?: Record<string, number>;
  /** Largest page; later pages are linked with `next`. */
  pageSize?: number;
  /** Bearer token required (401 otherwise). */
  requireToken?: string;
  /** Put this origin in `next` links (to test that the token is not sent elsewhere). */
  nextOrigin?: string;
}

export class FhirStandIn {
  readonly requests: Array<{ url: string; authorization: string | undefined }> = [];
  base = '';
  #server: http.Server | undefined;
  resources: FhirResource[];
  options: StandInOptions;

  constructor(resources: FhirResource[], options: StandInOptions = {}) {
    this.resources = resources;
    this.options = options;
  }

  async start(): Promise<string> {
    this.#server = http.createServer((request, response) => {
      this.requests.push({ url: request.url ?? '', authorization: request.headers.authorization });
      const send = (status: number, body: unknown) => {
        const write = () => {
          response.writeHead(status, { 'content-type': 'application/fhir+json' });
          response.end(JSON.stringify(body));
        };
        if (this.options.delayMs) setTimeout(write, this.options.delayMs);
        else write();
      };
      if (this.options.requireToken !== undefined && request.headers.authorization !== `Bearer ${this.options.requireToken}`) {
        send(401, outcome('login', 'invalid or missing token'));
        return;
      }
      if (this.options.failWith !== undefined) {
        send(this.options.failWith, outcome('exception', 'the stand-in was told to fail'));
        return;
      }
      const relative = (request.url ?? '/').replace(/^\/fhir\/?/, '');
      const type = relative.split(/[/?]/)[0] ?? '';
      const failType = this.options.failTypes?.[type];
      if (failType !== undefined) {
        send(failType, outcome('exception', `${type} searches fail in this test`));
        return;
      }
      const result = this.query(relative);
      if (result === null) send(404, outcome('not-found', 'no such resource'));
      else send(200, result);
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/fhir`;
    return this.base;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  /** A read ("Patient/1") or search ("Observation?patient=1&code=...") over the resources, as a FHIR server answers it. */
  query(relative: string): FhirResource | Bundle | null {
    const [path = '', queryString = ''] = relative.split('?', 2);
    const [type = '', id] = path.split('/');
    if (id !== undefined && id !== '') return this.resources.find((r) => r.resourceType === type && r.id === decodeURIComponent(id)) ?? null;
    const params = new URLSearchParams(queryString);
    let matches = this.resources.filter((r) => r.resourceType === type);
    const patient = params.get('patient');
    if (patient !== null) matches = matches.filter((r) => referenceOf(r) === `Patient/${patient}`);
    const code = params.get('code');
    if (code !== null) {
      const tokens = code.split(',');
      matches = matches.filter((r) =>
        codingsOf(r).some((c) => tokens.some((t) => (t.includes('|') ? t === `${c.system}|${c.code}` : t === c.code))),
      );
    }
    const status = params.get('status');
    if (status !== null) matches = matches.filter((r) => (r as { status?: string }).status === status);
    const sort = params.get('_sort');
    if (sort === '-date' || sort === '-effective-time') matches = [...matches].sort((a, b) => (timeOf(b) ?? '').localeCompare(timeOf(a) ?? ''));
    const count = Math.min(Number(params.get('_count') ?? '1000'), this.options.pageSize ?? Number.POSITIVE_INFINITY);
    const offset = Number(params.get('_offset') ?? '0');
    const page = matches.slice(offset, offset + count);
    const links: Bundle['link'] = [{ relation: 'self', url: `${this.base}/${relative}` }];
    if (offset + count < matches.length) {
      params.set('_offset', String(offset + count));
      const origin = this.options.nextOrigin ?? this.base;
      links.push({ relation: 'next', url: `${origin}/${type}?${params.toString()}` });
    }
    return {
      resourceType: 'Bundle',
      type: 'searchset',
      total: matches.length,
      link: links,
      entry: page.map((resource) => ({ fullUrl: `${this.base}/${resource.resourceType}/${resource.id}`, resource, search: { mode: 'match' } })),
    };
  }

  /** The prefetch an EHR would send for these templates: each filled template, answered as the FHIR server would. */
  prefetchFor(service: CdsServiceDefinition, context: CdsRequest['context']): Record<string, unknown> {
    const prefetch: Record<string, unknown> = {};
    for (const [key, template] of Object.entries(service.prefetch)) {
      const url = fillTemplate(template, context);
      if (url === null) continue;
      const answer = this.query(url);
      // "If the CDS Client has no data to populate a template prefetch key, the prefetch template key MUST have a value of null."
      prefetch[key] = answer === null || (answer.resourceType === 'Bundle' && (answer.entry ?? []).length === 0) ? null : answer;
    }
    return prefetch;
  }
}

function outcome(code: string, diagnostics: string) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] };
}

function referenceOf(resource: FhirResource): string | undefined {
  return (resource as { subject?: { reference?: string } }).subject?.reference ?? (resource as { patient?: { reference?: string } }).patient?.reference;
}

function codingsOf(resource: FhirResource): Array<{ system?: string; code?: string }> {
  const r = resource as { code?: { coding?: Array<{ system?: string; code?: string }> }; medicationCodeableConcept?: { coding?: Array<{ system?: string; code?: string }> } };
  return [...(r.code?.coding ?? []), ...(r.medicationCodeableConcept?.coding ?? [])];
}

function timeOf(resource: FhirResource): string | undefined {
  const r = resource as { effectiveDateTime?: string; effectivePeriod?: { start?: string } };
  return r.effectiveDateTime ?? r.effectivePeriod?.start;
}

// --- requests and cards ----------------------------------------------------------------------

export function hookRequest(hook: string, extra: Partial<CdsRequest> = {}, context: Partial<CdsRequest['context']> = {}): CdsRequest {
  return {
    hook,
    hookInstance: randomUUID(),
    context: { userId: 'Practitioner/dr-1', patientId: PATIENT_ID, ...context },
    ...extra,
  };
}

/** A draft MedicationRequest as an EHR's order entry would send it. */
export function draftMedicationRequest(id: string, medication: { text?: string; coding?: Array<{ system: string; code: string; display?: string }> }, extra: Record<string, unknown> = {}) {
  return {
    resourceType: 'MedicationRequest',
    id,
    status: 'draft',
    intent: 'order',
    subject: { reference: `Patient/${PATIENT_ID}` },
    medicationCodeableConcept: medication,
    ...extra,
  } as unknown as FhirResource;
}

export function draftOrders(...resources: FhirResource[]): CdsRequest['context']['draftOrders'] {
  return { resourceType: 'Bundle', entry: resources.map((resource) => ({ resource })) };
}

/** Cards with their uuids replaced and the data-provenance section removed (it says where the data came from). */
export function comparable(cards: unknown): unknown {
  return JSON.parse(
    JSON.stringify(cards, (key, value: unknown) => {
      if (key === 'uuid' && typeof value === 'string') return '<uuid>';
      if (key === 'detail' && typeof value === 'string') return value.replace(/\*\*Data used\*\*[\s\S]*$/, '').trimEnd();
      return value;
    }),
  );
}
