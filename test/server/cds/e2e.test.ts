/**
 * End to end against a FHIR server stand-in on 127.0.0.1 seeded with a synthetic patient: the
 * service fetching everything itself (no prefetch) and the service given prefetch only must
 * produce the same card. Then the ways the FHIR server can fail, each answered with an honest
 * card, never an error page.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FhirResource } from 'fhir/r4.js';
import { listCdsCalls } from '../../../src/store/cds.ts';
import { type TestDatabase, openTestDatabase } from '../../support/backends.ts';
import { schemaErrors } from './card-schema.ts';
import {
  type CdsTestApp,
  FhirStandIn,
  SERVICE,
  TestEhr,
  buildCdsTestApp,
  callService,
  comparable,
  draftMedicationRequest,
  draftOrders,
  hookRequest,
  hoursBefore,
  immunoparalysisPatient,
  malsPatient,
  observation,
  PATIENT_ID,
  LOINC,
} from './support.ts';

const FHIR_TOKEN = 'fhir-access-token-1';
const fhirAuthorization = { access_token: FHIR_TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'user/Patient.read user/Observation.read user/MedicationRequest.read', subject: 'immunoguide' };

/** A MALS patient with a day of SOFA inputs, an antibiotic order and a condition. */
function seededPatient(): FhirResource[] {
  return [
    ...malsPatient(),
    observation('syn-1-pao2', PATIENT_ID, { system: LOINC, code: '2703-7' }, 75, 'mm[Hg]', hoursBefore(3)),
    observation('syn-1-fio2', PATIENT_ID, { system: LOINC, code: '3150-0' }, 0.5, '1', hoursBefore(3)),
    observation('syn-1-bili', PATIENT_ID, { system: LOINC, code: '1975-2' }, 2.4, 'mg/dL', hoursBefore(4)),
    observation('syn-1-gcs', PATIENT_ID, { system: LOINC, code: '9269-2' }, 13, '{score}', hoursBefore(2)),
    observation('syn-1-map', PATIENT_ID, { system: LOINC, code: '8478-0' }, 64, 'mm[Hg]', hoursBefore(2)),
    {
      resourceType: 'Condition',
      id: 'syn-1-pneumonia',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      code: { coding: [{ system: 'http://snomed.info/sct', code: '233604007', display: 'Pneumonia' }] },
      subject: { reference: `Patient/${PATIENT_ID}` },
    },
  ];
}

describe('CDS service end to end with a FHIR server stand-in', () => {
  let t: TestDatabase;
  let ehr: TestEhr;
  let ctx: CdsTestApp;
  let standIn: FhirStandIn;
  let patientView: { id: string; hook: string; prefetch: Record<string, string> };
  let orderSign: typeof patientView;
  before(async () => {
    t = await openTestDatabase('pglite');
    ehr = await TestEhr.start();
    ctx = await buildCdsTestApp(t.db, ehr, { settings: { fhirTimeoutMs: 400 } });
    standIn = new FhirStandIn(seededPatient(), { requireToken: FHIR_TOKEN });
    await standIn.start();
    const services = (await ctx.app.inject({ method: 'GET', url: '/cds-services' })).json().services;
    patientView = services[0];
    orderSign = services[2];
  });
  after(async () => {
    await ctx?.app.close();
    await standIn?.close();
    await ehr?.close();
    await t?.dispose();
  });

  async function cards(serviceId: string, request: unknown) {
    const response = await callService(ctx.app, ehr, serviceId, request);
    assert.equal(response.status, 200, response.body);
    assert.deepEqual(schemaErrors('immunoguide', response.json()), []);
    return response.json().cards as Array<{ summary: string; indicator: string; detail: string }>;
  }

  test('patient-view: fetched from the FHIR server (no prefetch) and prefetch only give the same card', async () => {
    const before = standIn.requests.length;
    const fetched = await cards(SERVICE.patientView, hookRequest('patient-view', { fhirServer: standIn.base, fhirAuthorization }));
    const queries = standIn.requests.slice(before);
    assert.equal(queries.length, Object.keys(patientView.prefetch).length, 'one query per prefetch key');
    assert.ok(queries.every((q) => q.authorization === `Bearer ${FHIR_TOKEN}`), 'the EHR token is presented to its FHIR server');
    assert.ok(queries.some((q) => q.url.startsWith('/fhir/Observation?patient=syn-1&code=')));

    const request = hookRequest('patient-view');
    request.prefetch = standIn.prefetchFor(patientView as never, request.context);
    const countBefore = standIn.requests.length;
    const prefetched = await cards(SERVICE.patientView, request);
    assert.equal(standIn.requests.length, countBefore, 'prefetch only: no FHIR query');

    assert.equal(fetched.length, 1);
    assert.match(fetched[0]!.summary, /^Immune class MALS: ferritin 6200 > 4420 ng\/mL, 5 h ago; SOFA today \d+; ImmunoSep: anakinra$/);
    assert.deepEqual(comparable(fetched), comparable(prefetched));
    assert.match(fetched[0]!.detail, /biomarkers: 2 resource\(s\) read from the EHR's FHIR server/);
    assert.match(prefetched[0]!.detail, /biomarkers: 2 resource\(s\) prefetched by the EHR/);
  });

  test('order-sign: the same card from the FHIR server and from prefetch', async () => {
    const drafts = draftOrders(draftMedicationRequest('mr1', { text: 'Anakinra 100 mg/0.67 mL' }));
    const immuno = new FhirStandIn(immunoparalysisPatient());
    await immuno.start();
    try {
      const fetched = await cards(SERVICE.orderSign, hookRequest('order-sign', { fhirServer: immuno.base }, { draftOrders: drafts }));
      const request = hookRequest('order-sign', {}, { draftOrders: drafts });
      request.prefetch = immuno.prefetchFor(orderSign as never, request.context);
      const prefetched = await cards(SERVICE.orderSign, request);
      assert.equal(fetched[0]!.indicator, 'critical');
      assert.deepEqual(comparable(fetched), comparable(prefetched));
    } finally {
      await immuno.close();
    }
  });

  test('partial prefetch: only the missing keys are fetched, and the card is the same', async () => {
    const full = hookRequest('patient-view');
    full.prefetch = standIn.prefetchFor(patientView as never, full.context);
    const partial = hookRequest('patient-view', { fhirServer: standIn.base, fhirAuthorization });
    partial.prefetch = { patient: full.prefetch.patient, biomarkers: full.prefetch.biomarkers };
    const before = standIn.requests.length;
    const mixed = await cards(SERVICE.patientView, partial);
    const fetchedKeys = standIn.requests.slice(before).map((r) => r.url.split('?')[0]);
    assert.equal(fetchedKeys.length, Object.keys(patientView.prefetch).length - 2);
    assert.ok(!fetchedKeys.includes('/fhir/Patient/syn-1'));
    assert.deepEqual(comparable(mixed), comparable(await cards(SERVICE.patientView, full)));
  });

  test('paginated search results are followed on the same server', async () => {
    const paged = new FhirStandIn(seededPatient(), { pageSize: 2 });
    await paged.start();
    try {
      const fetched = await cards(SERVICE.patientView, hookRequest('patient-view', { fhirServer: paged.base }));
      assert.ok(paged.requests.some((r) => r.url.includes('_offset=2')), 'a next page was read');
      const request = hookRequest('patient-view');
      request.prefetch = standIn.prefetchFor(patientView as never, request.context);
      assert.deepEqual(comparable(fetched), comparable(await cards(SERVICE.patientView, request)));
    } finally {
      await paged.close();
    }
  });

  test('a next link to another origin is not followed: the token never leaves the FHIR server', async () => {
    const elsewhere = new FhirStandIn([]);
    await elsewhere.start();
    const paged = new FhirStandIn(seededPatient(), { pageSize: 2, nextOrigin: elsewhere.base });
    await paged.start();
    try {
      const [card] = await cards(SERVICE.patientView, hookRequest('patient-view', { fhirServer: paged.base, fhirAuthorization }));
      assert.equal(elsewhere.requests.length, 0);
      assert.match(card!.detail, /next link to another origin \(http:\/\/127\.0\.0\.1:\d+\) not followed/);
    } finally {
      await paged.close();
      await elsewhere.close();
    }
  });

  test('a FHIR server that does not answer in time: an honest card, promptly', async () => {
    const slow = new FhirStandIn(seededPatient(), { delayMs: 2000 });
    await slow.start();
    try {
      const started = Date.now();
      const [card] = await cards(SERVICE.patientView, hookRequest('patient-view', { fhirServer: slow.base }));
      assert.ok(Date.now() - started < 1500, `answered after ${Date.now() - started} ms`);
      assert.equal(card!.indicator, 'info');
      assert.equal(card!.summary, "ImmunoGuide could not read the patient's data from the EHR: immune state not assessed");
      assert.match(card!.detail, /biomarkers: \*\*unavailable\*\* - Observation: no answer within 400 ms/);
    } finally {
      await slow.close();
    }
  });

  test('the FHIR server refuses the token: the card says so', async () => {
    const [card] = await cards(SERVICE.patientView, hookRequest('patient-view', { fhirServer: standIn.base, fhirAuthorization: { ...fhirAuthorization, access_token: 'wrong' } }));
    assert.equal(card!.indicator, 'info');
    assert.match(card!.detail, /the FHIR server answered HTTP 401: error login invalid or missing token/);
  });

  test('Observation searches failing while the patient is readable: class not assessed, not "missing"', async () => {
    const failing = new FhirStandIn(seededPatient(), { failTypes: { Observation: 500 } });
    await failing.start();
    try {
      const [card] = await cards(SERVICE.patientView, hookRequest('patient-view', { fhirServer: failing.base }));
      assert.equal(card!.summary, 'Immune class not assessed: ferritin/mHLA-DR results could not be retrieved');
      assert.match(card!.detail, /This does \*\*not\*\* mean they were never measured/);
      assert.equal((card as { suggestions?: unknown }).suggestions, undefined, 'no order suggested for what may exist');
    } finally {
      await failing.close();
    }
  });

  test('an OperationOutcome in the prefetch is an error for that key, with no follow-up query', async () => {
    const request = hookRequest('patient-view', { fhirServer: standIn.base, fhirAuthorization });
    request.prefetch = standIn.prefetchFor(patientView as never, request.context);
    request.prefetch.biomarkers = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout', diagnostics: 'lab system offline [help](https://evil.example)' }] };
    const before = standIn.requests.length;
    const [card] = await cards(SERVICE.patientView, request);
    assert.equal(standIn.requests.length, before);
    assert.match(card!.summary, /^Immune class not assessed/);
    // Text from the EHR is shown, but cannot become a link in the card.
    assert.match(card!.detail, /biomarkers: \*\*unavailable\*\* - the EHR reported an error: error timeout lab system offline \\\[help\\\]\(https:\/\/evil\.example\)/);
  });

  test('a null prefetch value means "no data": the biomarkers are then missing, and ordered', async () => {
    const request = hookRequest('patient-view');
    request.prefetch = standIn.prefetchFor(patientView as never, request.context);
    request.prefetch.biomarkers = null;
    const [card] = await cards(SERVICE.patientView, request);
    assert.match(card!.summary, /^Immune class indeterminate: order ferritin \/ mHLA-DR/);
  });

  test('neither prefetch nor FHIR server: an "insufficient data" information card, never an error', async () => {
    const [card] = await cards(SERVICE.patientView, hookRequest('patient-view'));
    assert.equal(card!.indicator, 'info');
    assert.match(card!.summary, /no patient data/);
    assert.match(card!.detail, /not prefetched, and the EHR sent no fhirServer/);
  });

  test('a FHIR server outside the allowed hosts is never contacted', async () => {
    const t2 = await openTestDatabase('pglite');
    const strict = await buildCdsTestApp(t2.db, ehr, { settings: { fhirAllowedHosts: ['fhir.hospital.example'] } });
    try {
      const before = standIn.requests.length;
      const response = await callService(strict.app, ehr, SERVICE.patientView, hookRequest('patient-view', { fhirServer: standIn.base, fhirAuthorization }));
      assert.equal(response.status, 200);
      assert.equal(standIn.requests.length, before);
      assert.match(String(response.json().cards[0]!.detail), /is not on the allowed list \(CDS_FHIR_ALLOWED_HOSTS\)/);
    } finally {
      await strict.app.close();
      await t2.dispose();
    }
  });

  test('every call is recorded with its cards and data sources', async () => {
    const calls = await listCdsCalls(t.db, PATIENT_ID);
    assert.ok(calls.length >= 5);
    const last = calls.at(-1)!;
    assert.equal(last.issuer, 'https://ehr.example.org/');
    assert.equal(last.cardCount, last.cards.length);
    assert.ok(calls.every((c) => c.cards.every((card) => ['info', 'warning', 'critical'].includes(card.indicator))));
  });
});
