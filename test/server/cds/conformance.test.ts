/**
 * CDS Hooks 2.0 conformance: the specification's own JSON examples (test/fixtures/cds-hooks) are
 * accepted, and every response validates against a card schema written from the specification
 * (card-schema.ts). The schema itself is checked both ways: it accepts the spec's example
 * responses and rejects cards that break each rule.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { listCdsFeedback } from '../../../src/store/cds.ts';
import { type TestDatabase, openTestDatabase } from '../../support/backends.ts';
import { schemaErrors } from './card-schema.ts';
import { type CdsTestApp, PUBLIC_URL, SERVICE, TestEhr, buildCdsTestApp, callService, malsPatient } from './support.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/cds-hooks');
const fixture = (name: string): Record<string, unknown> => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as Record<string, unknown>;

describe('CDS Hooks 2.0 conformance', () => {
  let t: TestDatabase;
  let ehr: TestEhr;
  let ctx: CdsTestApp;
  before(async () => {
    t = await openTestDatabase('pglite');
    ehr = await TestEhr.start();
    ctx = await buildCdsTestApp(t.db, ehr);
  });
  after(async () => {
    await ctx?.app.close();
    await ehr?.close();
    await t?.dispose();
  });

  describe('the card schema written from the specification', () => {
    test('accepts the specification example responses', () => {
      for (const name of ['response-example.json', 'response-example-empty.json']) {
        assert.deepEqual(schemaErrors('spec', fixture(name)), [], name);
      }
      assert.deepEqual(schemaErrors('discovery', fixture('discovery-example.json')), []);
      // The spec's autolaunchable example omits `indicator`, which its own card table marks REQUIRED:
      // the schema must say exactly that and nothing else.
      assert.deepEqual(schemaErrors('spec', fixture('response-example-autolaunchable.json')), [
        `/cards/0 must have required property 'indicator' {"missingProperty":"indicator"}`,
      ]);
    });

    test('rejects cards that break a rule of the specification', () => {
      const good = { uuid: '4e0a3a1e-3283-4575-ab82-028d55fe2719', summary: 'ok', indicator: 'info', source: { label: 'x' } };
      const bad: Array<[string, Record<string, unknown>]> = [
        ['summary of 140 characters', { ...good, summary: 'x'.repeat(140) }],
        ['empty summary', { ...good, summary: '' }],
        ['unknown indicator', { ...good, indicator: 'urgent' }],
        ['no source', { uuid: good.uuid, summary: 'ok', indicator: 'info' }],
        ['source without label', { ...good, source: { url: 'https://example.org' } }],
        ['suggestions without selectionBehavior', { ...good, suggestions: [{ label: 'do', actions: [{ type: 'create', description: 'd', resource: { resourceType: 'X' } }] }] }],
        ['create action without resource', { ...good, selectionBehavior: 'any', suggestions: [{ label: 'do', actions: [{ type: 'create', description: 'd' }] }] }],
        ['action without description', { ...good, selectionBehavior: 'any', suggestions: [{ label: 'do', actions: [{ type: 'delete', resourceId: 'X/1' }] }] }],
        ['unknown action type', { ...good, selectionBehavior: 'any', suggestions: [{ label: 'do', actions: [{ type: 'patch', description: 'd', resourceId: 'X/1' }] }] }],
        ['override reason without display', { ...good, overrideReasons: [{ system: 's', code: 'c' }] }],
        ['appContext on an absolute link', { ...good, links: [{ label: 'l', url: 'https://example.org', type: 'absolute', appContext: '{}' }] }],
        [
          'two recommended suggestions with at-most-one',
          {
            ...good,
            selectionBehavior: 'at-most-one',
            suggestions: [
              { label: 'a', isRecommended: true },
              { label: 'b', isRecommended: true },
            ],
          },
        ],
      ];
      assert.deepEqual(schemaErrors('spec', { cards: [good] }), []);
      for (const [why, card] of bad) assert.notDeepEqual(schemaErrors('spec', { cards: [card] }), [], `should be rejected: ${why}`);
      assert.notDeepEqual(schemaErrors('immunoguide', { cards: [{ summary: 'ok', indicator: 'info', source: { label: 'x' } }] }), [], 'ImmunoGuide cards need a uuid');
    });
  });

  test('discovery lists patient-view, order-select and order-sign with prefetch templates', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/cds-services' });
    assert.equal(response.statusCode, 200);
    const body = response.json() as { services: Array<{ id: string; hook: string; prefetch: Record<string, string> }> };
    assert.deepEqual(schemaErrors('discovery', body), []);
    assert.deepEqual(
      body.services.map((s) => [s.id, s.hook]),
      [
        [SERVICE.patientView, 'patient-view'],
        [SERVICE.orderSelect, 'order-select'],
        [SERVICE.orderSign, 'order-sign'],
      ],
    );
    const prefetch = body.services[0]!.prefetch;
    assert.equal(prefetch.patient, 'Patient/{{context.patientId}}');
    assert.match(prefetch.biomarkers!, /^Observation\?patient=\{\{context\.patientId\}\}&code=/);
    assert.match(prefetch.biomarkers!, /http:\/\/loinc\.org\|2276-4/, 'ferritin');
    assert.match(prefetch.biomarkers!, /concept\|mhla-dr-molecules/, 'mHLA-DR');
    assert.match(prefetch.safetyLabs!, /751-8/, 'neutrophils');
    assert.match(prefetch.safetyLabs!, /2160-0/, 'creatinine');
    for (const code of ['777-3', '1975-2', '2703-7', '8478-0', '9269-2']) assert.match(prefetch.sofaInputs!, new RegExp(code), `SOFA input ${code}`);
    assert.equal(prefetch.medications, 'MedicationRequest?patient={{context.patientId}}&status=active');
    assert.match(prefetch.conditions!, /^Condition\?patient=\{\{context\.patientId\}\}/);
    // Within the spec's recommended prefetch subset: references, token equality, _sort, _count; no other modifiers.
    for (const template of Object.values(prefetch)) {
      const query = template.split('?')[1] ?? '';
      for (const [name] of new URLSearchParams(query)) assert.ok(['patient', 'code', 'status', 'clinical-status', '_sort', '_count'].includes(name), `${name} in ${template}`);
    }
    assert.equal(body.services.every((s) => JSON.stringify(s.prefetch) === JSON.stringify(prefetch)), true);
  });

  test("the spec's patient-view request is accepted; with no usable data the answer is an honest info card", async () => {
    const request = fixture('patient-view-request.json');
    const response = await callService(ctx.app, ehr, SERVICE.patientView, request);
    assert.equal(response.status, 200, response.body);
    const body = response.json();
    assert.deepEqual(schemaErrors('immunoguide', body), []);
    assert.equal(body.cards.length, 1);
    assert.equal(body.cards[0]!.indicator, 'info');
    assert.match(String(body.cards[0]!.summary), /no patient data/);
    // The example's fhirServer is plain http on the internet: refused, never called.
    assert.match(String(body.cards[0]!.detail), /fhirServer must use https/);
  });

  for (const hook of ['order-select', 'order-sign'] as const) {
    const serviceId = hook === 'order-select' ? SERVICE.orderSelect : SERVICE.orderSign;
    test(`the spec's ${hook} request (R4) is accepted: amoxicillin and a diet draw no card`, async () => {
      const response = await callService(ctx.app, ehr, serviceId, fixture(`${hook}-request.json`));
      assert.equal(response.status, 200, response.body);
      assert.deepEqual(response.json(), { cards: [] });
      assert.deepEqual(schemaErrors('immunoguide', response.json()), []);
    });

    test(`the spec's ${hook} request with the drug changed to anakinra gets a valid warning card`, async () => {
      const request = fixture(`${hook}-request.json`) as { context: { draftOrders: { entry: Array<{ resource: Record<string, unknown> }> } } };
      const medication = request.context.draftOrders.entry.find((e) => e.resource.resourceType === 'MedicationRequest')!.resource;
      medication.medicationCodeableConcept = { text: 'Anakinra 100 MG in 0.67 ML Prefilled Syringe [Kineret]' };
      const response = await callService(ctx.app, ehr, serviceId, request);
      assert.equal(response.status, 200, response.body);
      const body = response.json();
      assert.deepEqual(schemaErrors('immunoguide', body), []);
      assert.equal(body.cards.length, 1);
      assert.equal(body.cards[0]!.indicator, 'warning');
      assert.match(String(body.cards[0]!.summary), /Anakinra order: immune class unverified/);
      assert.ok(Array.isArray(body.cards[0]!.overrideReasons));
    });
  }

  test("the spec's feedback examples are accepted and recorded", async () => {
    for (const name of ['feedback-accepted.json', 'feedback-overridden.json', 'feedback-overridden-with-reason.json']) {
      const response = await ctx.app.inject({
        method: 'POST',
        url: `/cds-services/${SERVICE.patientView}/feedback`,
        headers: await ehr.authFor(`${SERVICE.patientView}/feedback`),
        payload: fixture(name),
      });
      assert.equal(response.statusCode, 200, `${name}: ${response.body}`);
      assert.deepEqual(response.json(), { recorded: 1, knownCards: 0 });
    }
    const rows = await listCdsFeedback(t.db, { serviceId: SERVICE.patientView });
    const withReason = rows.find((r) => r.cardUuid === '9368d37b-283f-44a0-93ea-547cebab93ed');
    assert.ok(withReason);
    assert.equal(withReason.outcome, 'overridden');
    assert.equal(withReason.overrideReasonCode, 'd7ecf885');
    assert.equal(withReason.overrideReasonSystem, 'https://example.com/cds-hooks/override-reason-system');
    assert.equal(withReason.userComment, 'A comment entered by the clinician.');
    assert.equal(withReason.outcomeAt, '2020-12-11T00:00:00.000Z');
    assert.equal(withReason.cardKnown, false, 'the example card was not issued by this service');
    const accepted = rows.find((r) => r.cardUuid === '4e0a3a1e-3283-4575-ab82-028d55fe2719');
    assert.deepEqual(accepted?.acceptedSuggestions, ['e56e1945-20b3-4393-8503-a1a20fd73152']);
  });

  test('feedback on a card we issued is tied to it; malformed feedback is refused', async () => {
    const { FhirStandIn, hookRequest } = await import('./support.ts');
    const standIn = new FhirStandIn(malsPatient());
    const service = (await ctx.app.inject({ method: 'GET', url: '/cds-services' })).json().services[0];
    const request = hookRequest('patient-view');
    request.prefetch = standIn.prefetchFor(service, request.context);
    const card = (await callService(ctx.app, ehr, SERVICE.patientView, request)).json().cards[0] as { uuid: string; suggestions: Array<{ uuid: string }> };
    const post = async (feedback: unknown) =>
      ctx.app.inject({
        method: 'POST',
        url: `/cds-services/${SERVICE.patientView}/feedback`,
        headers: await ehr.authFor(`${SERVICE.patientView}/feedback`),
        payload: { feedback },
      });
    const accepted = await post([{ card: card.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: card.suggestions[0]!.uuid }], outcomeTimestamp: '2026-03-01T12:01:00Z' }]);
    assert.equal(accepted.statusCode, 200, accepted.body);
    assert.deepEqual(accepted.json(), { recorded: 1, knownCards: 1 });
    const rows = await listCdsFeedback(t.db, { cardUuid: card.uuid });
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.cardKnown, true);
    assert.match(String(rows[0]!.cardSummary), /^Immune class MALS/);
    assert.equal(rows[0]!.cardIndicator, 'warning');

    const refused: Array<[string, unknown]> = [
      ['accepted without acceptedSuggestions', [{ card: card.uuid, outcome: 'accepted', outcomeTimestamp: '2026-03-01T12:01:00Z' }]],
      ['unknown outcome', [{ card: card.uuid, outcome: 'ignored', outcomeTimestamp: '2026-03-01T12:01:00Z' }]],
      ['empty overrideReason', [{ card: card.uuid, outcome: 'overridden', overrideReason: {}, outcomeTimestamp: '2026-03-01T12:01:00Z' }]],
      ['timestamp without zone', [{ card: card.uuid, outcome: 'overridden', outcomeTimestamp: '2026-03-01T12:01:00' }]],
      ['no items', []],
    ];
    for (const [why, feedback] of refused) {
      const response = await post(feedback);
      assert.equal(response.statusCode, 400, `${why}: ${response.body}`);
    }
    assert.equal((await listCdsFeedback(t.db, { cardUuid: card.uuid })).length, 1, 'nothing recorded from refused feedback');
  });

  test('requests that break the protocol are refused with a problem document', async () => {
    const cases: Array<[string, string, Record<string, unknown>, number]> = [
      ['wrong hook for the service', SERVICE.patientView, { hook: 'order-sign', hookInstance: 'x', context: { patientId: 'p' } }, 400],
      ['no hookInstance', SERVICE.patientView, { hook: 'patient-view', context: { patientId: 'p' } }, 400],
      ['no patientId', SERVICE.patientView, { hook: 'patient-view', hookInstance: 'x', context: {} }, 400],
      [
        'fhirAuthorization without fhirServer',
        SERVICE.patientView,
        { hook: 'patient-view', hookInstance: 'x', context: { patientId: 'p' }, fhirAuthorization: { access_token: 't', token_type: 'Bearer', expires_in: 300, scope: 's', subject: 'c' } },
        400,
      ],
      ['unknown service', 'no-such-service', { hook: 'patient-view', hookInstance: 'x', context: { patientId: 'p' } }, 404],
    ];
    for (const [why, id, body, status] of cases) {
      const response = await callService(ctx.app, ehr, id, body);
      assert.equal(response.status, status, `${why}: ${response.body}`);
      assert.match(String(response.headers['content-type']), /application\/problem\+json/);
    }
  });

  test('CORS: preflight and responses allow browser-based EHRs, without credentials', async () => {
    const preflight = await ctx.app.inject({
      method: 'OPTIONS',
      url: `/cds-services/${SERVICE.patientView}`,
      headers: { origin: 'https://ehr.example.org', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    assert.equal(preflight.statusCode, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], '*');
    assert.match(String(preflight.headers['access-control-allow-methods']), /POST/);
    assert.match(String(preflight.headers['access-control-allow-headers']), /authorization/);
    assert.equal(preflight.headers['access-control-allow-credentials'], undefined);
    const discovery = await ctx.app.inject({ method: 'GET', url: '/cds-services', headers: { origin: 'https://ehr.example.org' } });
    assert.equal(discovery.headers['access-control-allow-origin'], '*');
    const other = await ctx.app.inject({ method: 'GET', url: '/api/me', headers: { origin: 'https://ehr.example.org' } });
    assert.equal(other.headers['access-control-allow-origin'], undefined, 'CORS is limited to the CDS routes');
  });

  test('CORS with a configured origin list answers only those origins', async () => {
    const t2 = await openTestDatabase('pglite');
    const listed = await buildCdsTestApp(t2.db, ehr, { settings: { corsOrigins: ['https://ehr.example.org'] } });
    try {
      const allowed = await listed.app.inject({ method: 'GET', url: '/cds-services', headers: { origin: 'https://ehr.example.org' } });
      assert.equal(allowed.headers['access-control-allow-origin'], 'https://ehr.example.org');
      assert.match(String(allowed.headers.vary), /Origin/);
      const other = await listed.app.inject({ method: 'GET', url: '/cds-services', headers: { origin: 'https://evil.example' } });
      assert.equal(other.headers['access-control-allow-origin'], undefined);
    } finally {
      await listed.app.close();
      await t2.dispose();
    }
  });

  test('the CDS routes are public for the ImmunoGuide token hook (they verify the EHR JWT themselves)', () => {
    const cds = ctx.app.routeTable.filter((r) => r.url.startsWith('/cds-services')).map((r) => `${r.method} ${r.url} ${r.public}`);
    assert.deepEqual(new Set(cds), new Set([
      'GET /cds-services true',
      'HEAD /cds-services true',
      'POST /cds-services/:id true',
      'POST /cds-services/:id/feedback true',
      'OPTIONS /cds-services true',
      'OPTIONS /cds-services/:id true',
      'OPTIONS /cds-services/:id/feedback true',
    ]));
    assert.equal(PUBLIC_URL.startsWith('https://'), true);
  });
});
