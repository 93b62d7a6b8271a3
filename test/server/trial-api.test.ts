/**
 * The trial desk over HTTP: randomise as investigator (evidence frozen), dispense as pharmacist,
 * emergency unblinding, audit verification — and the blinding sweep: for every trial route, a
 * blinded role's response (errors included) carries no arm, byte for byte the same whether the
 * patient is on the active drug or on placebo.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IMMUNOSEP_CRITERIA } from '../../src/clinical/eligibility.ts';
import type { Role } from '../../src/server/auth/principal.ts';
import { type NewMeasurement, insertMeasurements, upsertPatient, upsertSite } from '../../src/store/repository.ts';
import { type TestApp, buildTestApp } from '../support/app.ts';
import { type TestDatabase, openTestDatabase } from '../support/backends.ts';

const HOUR = 3_600_000;
const SITE = 'athens';
/** Answers to every site-completed criterion: inclusions present, exclusions absent. */
const SITE_ANSWERS = Object.fromEntries(
  IMMUNOSEP_CRITERIA.criteria.filter((c) => c.evaluation.mode === 'site').map((c) => [c.id, { present: c.kind === 'inclusion' }]),
);

/** A MALS patient meeting Sepsis-3 in the last hours: culture + antibiotic, SOFA >= 2, ferritin 9000. */
function malsPatient(id: string, now: number): NewMeasurement[] {
  const t = (hoursAgo: number) => new Date(now - hoursAgo * HOUR).toISOString();
  const rows: Array<[string, number, string, number]> = [
    ['culture', 1, '1', 20],
    ['antibiotic', 1, '1', 19],
    ['platelets', 40, '10*3/uL', 10],
    ['map', 62, 'mm[Hg]', 10],
    ['neutrophils', 8, '10*3/uL', 10],
    ['weight', 75, 'kg', 10],
    ['creatinine', 1.0, 'mg/dL', 10],
    ['ferritin', 9000, 'ng/mL', 6],
    ['hla_dr', 12000, '{molecules}/{cell}', 6],
  ];
  return rows.map(([concept, value, unit, hoursAgo], i) => ({ patientId: id, concept, value, unit, effectiveStart: t(hoursAgo), source: 'test', recordId: `${id}-${i}` }));
}

const ARM_WORDS = /anakinra|placebo|interferon|saline|"active"|"arm"|kitContents|allocation":\s*"(active|placebo)/i;

describe('trial desk API', () => {
  let t: TestDatabase;
  let ctx: TestApp;
  const as = (roles: Role[], id = roles.join('-')) => ctx.bearer(roles, [SITE], id);
  const patients = ['T-1', 'T-2', 'T-3', 'T-4', 'T-5', 'T-6'];
  let armOf: Map<string, string>;

  before(async () => {
    t = await openTestDatabase('pglite');
    await upsertSite(t.db, { id: SITE, name: 'Athens' });
    const now = Date.now();
    for (const id of patients) {
      await upsertPatient(t.db, { id, siteId: SITE, birthDate: '1960-02-02', sex: 'male', deceasedAt: null });
      await insertMeasurements(t.db, malsPatient(id, now));
    }
    await upsertPatient(t.db, { id: 'T-young', siteId: SITE, birthDate: new Date(now - 10 * 365 * 24 * HOUR).toISOString().slice(0, 10), sex: 'female', deceasedAt: null });
    await insertMeasurements(t.db, malsPatient('T-young', now));
    ctx = await buildTestApp(t.db);
    const created = await ctx.app.inject({ method: 'POST', url: '/api/trials', headers: await as(['admin']), payload: {} });
    assert.equal(created.statusCode, 201, created.body);
    assert.doesNotMatch(created.body, /seed"/, 'the seed itself is never in the create response');
  });
  after(async () => {
    await ctx?.app.close();
    await t?.dispose();
  });

  test('an investigator randomises eligible MALS patients; the blinded answer has a kit number and no arm', async () => {
    const investigator = await as(['investigator'], 'dr-i');
    for (const id of patients) {
      const response = await ctx.app.inject({ method: 'POST', url: `/api/trials/immunosep/patients/${id}/randomise`, headers: investigator, payload: { siteAnswers: SITE_ANSWERS } });
      assert.equal(response.statusCode, 201, response.body);
      const allocation = response.json();
      assert.equal(allocation.view, 'blinded');
      assert.equal(allocation.immuneClass, 'MALS');
      assert.match(allocation.kitNumber, /^[0-9A-Z-]+$/);
      assert.doesNotMatch(response.body, ARM_WORDS);
    }
    const again = await ctx.app.inject({ method: 'POST', url: '/api/trials/immunosep/patients/T-1/randomise', headers: investigator, payload: { siteAnswers: SITE_ANSWERS } });
    assert.equal(again.statusCode, 409);
  });

  test('randomisation is refused with the reason when eligibility says no', async () => {
    const investigator = await as(['investigator']);
    const young = await ctx.app.inject({ method: 'POST', url: '/api/trials/immunosep/patients/T-young/randomise', headers: investigator, payload: { siteAnswers: SITE_ANSWERS } });
    assert.equal(young.statusCode, 422);
    assert.deepEqual(young.json().failing, ['age-18']);
    const noConsent = await ctx.app.inject({ method: 'POST', url: '/api/trials/immunosep/patients/T-young/randomise', headers: investigator, payload: {} });
    assert.equal(noConsent.statusCode, 422);
    assert.ok(noConsent.json().unknown.includes('informed-consent'));
  });

  test('the pharmacist sees arms and kit contents, and dispenses the right kit only', async () => {
    const pharmacist = await as(['pharmacist'], 'ph-1');
    const list = (await ctx.app.inject({ method: 'GET', url: '/api/trials/immunosep/allocations', headers: pharmacist })).json();
    assert.equal(list.view, 'unblinded');
    armOf = new Map(list.allocations.map((a: { patientId: string; arm: { allocation: string } }) => [a.patientId, a.arm.allocation]));
    assert.deepEqual(new Set(armOf.values()), new Set(['active', 'placebo']), 'six MALS patients at one site span both arms');
    const one = list.allocations[0];
    const wrong = await ctx.app.inject({ method: 'POST', url: `/api/trials/immunosep/patients/${one.patientId}/dispense`, headers: pharmacist, payload: { kitNumber: 'NOT-THE-KIT' } });
    assert.equal(wrong.statusCode, 422);
    const right = await ctx.app.inject({ method: 'POST', url: `/api/trials/immunosep/patients/${one.patientId}/dispense`, headers: pharmacist, payload: { kitNumber: one.kitNumber } });
    assert.equal(right.statusCode, 201, right.body);
    const investigatorTries = await ctx.app.inject({ method: 'POST', url: `/api/trials/immunosep/patients/${one.patientId}/dispense`, headers: await as(['investigator']), payload: { kitNumber: one.kitNumber } });
    assert.equal(investigatorTries.statusCode, 403);
  });

  test('blinding sweep: every trial route answers blinded roles identically for active and placebo patients', async () => {
    const active = [...armOf].find(([, arm]) => arm === 'active')![0];
    const placebo = [...armOf].find(([, arm]) => arm === 'placebo')![0];
    const routes = ctx.app.routeTable.filter((r) => r.url.startsWith('/api/trials') && r.method !== 'HEAD');
    assert.ok(routes.length >= 10);
    const kits = new Map<string, string>();
    const pharmacistList = (await ctx.app.inject({ method: 'GET', url: '/api/trials/immunosep/allocations', headers: await as(['pharmacist']) })).json();
    for (const a of pharmacistList.allocations) kits.set(a.patientId, a.kitNumber);
    const normalise = (body: string, patientId: string) =>
      body
        .replaceAll(patientId, 'PATIENT')
        .replaceAll(kits.get(patientId)!, 'KIT')
        .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, 'TIME')
        .replace(/"(evidenceSha256|hash|prevHash)":"[0-9a-f]+"/g, '"$1":"H"');
    for (const roles of [['investigator'], ['clinician'], ['monitor']] as Role[][]) {
      const headers = await as(roles, `sweep-${roles[0]}`);
      for (const route of routes) {
        if (route.url.endsWith('/unblind')) continue; // the deliberate exception, tested below
        const bodies = [];
        for (const patientId of [active, placebo]) {
          const url = route.url.replace(':trialId', 'immunosep').replace(':patientId', patientId);
          const payload = route.method === 'POST' ? { kitNumber: kits.get(patientId), reason: 'sweep', kind: 'sweep', outcome: 'screened' } : undefined;
          const response = await ctx.app.inject({ method: route.method as 'GET', url, headers, ...(payload ? { payload } : {}) });
          const protocolOnly = route.url === '/api/trials' || route.url === '/api/trials/:trialId'; // the public protocol names its arms
          if (!route.url.includes(':patientId') && !protocolOnly) {
            // Lists: the whole answer must be arm-free.
            assert.doesNotMatch(response.body, ARM_WORDS, `${roles[0]} ${route.method} ${route.url}`);
          }
          bodies.push([response.statusCode, normalise(response.body, patientId)]);
        }
        if (route.url.includes(':patientId')) {
          assert.deepEqual(bodies[0], bodies[1], `${roles[0]} ${route.method} ${route.url}: same answer for active and placebo`);
          assert.doesNotMatch(String(bodies[0]![1]), ARM_WORDS, `${roles[0]} ${route.method} ${route.url}`);
        }
      }
    }
  });

  test('CRF changes keep old value, new value, who, when and why; protocol deviations are recorded', async () => {
    const investigator = await as(['investigator'], 'dr-crf');
    const url = '/api/trials/immunosep/patients/T-3/crf-changes';
    const first = await ctx.app.inject({ method: 'POST', url, headers: investigator, payload: { form: 'baseline', field: 'weight', oldValue: null, newValue: 75, reason: 'first entry from the chart' } });
    assert.equal(first.statusCode, 201, first.body);
    const stale = await ctx.app.inject({ method: 'POST', url, headers: investigator, payload: { form: 'baseline', field: 'weight', oldValue: 80, newValue: 76, reason: 'weighed again on the bed scale' } });
    assert.ok([409, 422].includes(stale.statusCode), 'an edit based on a stale old value is refused');
    const second = await ctx.app.inject({ method: 'POST', url, headers: investigator, payload: { form: 'baseline', field: 'weight', oldValue: 75, newValue: 76, reason: 'weighed again on the bed scale' } });
    assert.equal(second.statusCode, 201, second.body);
    const history = (await ctx.app.inject({ method: 'GET', url, headers: investigator })).json().changes;
    assert.equal(history.length, 2);
    assert.equal(history[1].oldValue, 75);
    assert.equal(history[1].newValue, 76);
    assert.equal(history[1].reason, 'weighed again on the bed scale');
    const deviation = await ctx.app.inject({
      method: 'POST',
      url: '/api/trials/immunosep/patients/T-3/deviations',
      headers: investigator,
      payload: { category: 'visit window', severity: 'minor', description: 'day 3 biomarker sample drawn on day 4' },
    });
    assert.equal(deviation.statusCode, 201, deviation.body);
  });

  test('emergency unblinding: reason recorded, sponsor notified, arm returned to the requester only, audit intact', async () => {
    const investigator = await as(['investigator'], 'dr-emergency');
    const tooShort = await ctx.app.inject({ method: 'POST', url: '/api/trials/immunosep/patients/T-2/unblind', headers: investigator, payload: { reason: 'x' } });
    assert.equal(tooShort.statusCode, 400);
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/api/trials/immunosep/patients/T-2/unblind',
      headers: investigator,
      payload: { reason: 'anaphylaxis after the IV infusion; treating physician needs the arm' },
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().allocation.arm.allocation, armOf.get('T-2'));
    const outbox = await t.db.query<{ topic: string; payload: Record<string, unknown> }>('SELECT topic, payload FROM outbox_event');
    assert.equal(outbox.rows.length, 1);
    assert.doesNotMatch(JSON.stringify(outbox.rows[0]!.payload), ARM_WORDS);
    const blinded = (await ctx.app.inject({ method: 'GET', url: '/api/trials/immunosep/patients/T-2/allocation', headers: investigator })).json();
    assert.equal(blinded.unblinded, true);
    const verify = await ctx.app.inject({ method: 'GET', url: '/api/trials/immunosep/audit/verify', headers: await as(['monitor']) });
    assert.equal(verify.json().ok, true);
    assert.ok(verify.json().entries >= 8);
    const sequence = await ctx.app.inject({ method: 'GET', url: '/api/trials/immunosep/sequence/verify', headers: await as(['statistician']) });
    assert.equal(sequence.json().ok, true, sequence.body);
  });
});
