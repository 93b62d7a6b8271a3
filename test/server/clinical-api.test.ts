import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { insertMeasurements, upsertPatient, upsertSite } from '../../src/store/repository.ts';
import { type TestApp, buildTestApp } from '../support/app.ts';
import { type TestDatabase, openTestDatabase } from '../support/backends.ts';

describe('clinical engine over the API', () => {
  let t: TestDatabase;
  let ctx: TestApp;
  let headers: { authorization: string };
  before(async () => {
    t = await openTestDatabase('pglite');
    await upsertSite(t.db, { id: 'a', name: 'A' });
    await upsertPatient(t.db, { id: 'MALS-1', siteId: 'a', birthDate: '1950-01-01', sex: 'female', deceasedAt: null });
    await upsertPatient(t.db, { id: 'NOHLA-1', siteId: 'a', birthDate: null, sex: null, deceasedAt: null });
    const m = (patientId: string, concept: string, value: number, unit: string, time: string, recordId: string) => ({
      patientId, concept, value, unit, effectiveStart: time, source: 'test', recordId,
    });
    await insertMeasurements(t.db, [
      m('MALS-1', 'ferritin', 3000, 'ng/mL', '2026-01-04T08:00:00Z', 'f0'),
      m('MALS-1', 'hla_dr', 12000, '{molecules}/{cell}', '2026-01-04T08:00:00Z', 'h0'),
      m('MALS-1', 'ferritin', 4420.5, 'ng/mL', '2026-01-05T08:00:00Z', 'f1'),
      m('MALS-1', 'hla_dr', 6000, '{molecules}/{cell}', '2026-01-05T08:00:00Z', 'h1'),
      m('MALS-1', 'creatinine', 3.1, 'mg/dL', '2026-01-05T06:00:00Z', 'c1'),
      m('MALS-1', 'weight', 60, 'kg', '2026-01-05T06:00:00Z', 'w1'),
      m('NOHLA-1', 'ferritin', 900, 'ng/mL', '2026-01-05T08:00:00Z', 'n1'),
    ]);
    ctx = await buildTestApp(t.db);
    headers = await ctx.bearer(['clinician'], ['a']);
  });
  after(async () => {
    await ctx?.app.close();
    await t?.dispose();
  });
  const get = (url: string) => ctx.app.inject({ method: 'GET', url, headers });

  test('classification names the rule set, inputs and the comparison that fired', async () => {
    const response = await get('/api/patients/MALS-1/classification?at=2026-01-05T12:00:00Z');
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.class, 'MALS');
    assert.deepEqual(body.ruleSet, { id: 'immunosep', version: '1.0.0' });
    assert.match(body.summary, /4420\.5 ng\/mL > 4420 ng\/mL/);
    const before = (await get('/api/patients/MALS-1/classification?at=2026-01-04T12:00:00Z')).json();
    assert.equal(before.class, 'unclassified', 'evaluated at the time asked, not now');
    const timeline = (await get('/api/patients/MALS-1/classification?timeline=true&at=2026-01-06T00:00:00Z')).json().timeline;
    assert.deepEqual(timeline.map((e: { classification: { class: string } }) => e.classification.class), ['unclassified', 'MALS']);
  });

  test('missing HLA-DR is indeterminate, never silently unclassified', async () => {
    const body = (await get('/api/patients/NOHLA-1/classification?at=2026-01-05T12:00:00Z')).json();
    assert.equal(body.class, 'indeterminate');
    assert.deepEqual(body.missing, ['hla_dr']);
  });

  test('therapy plan: anakinra calendar with the renal warning, dose unchanged', async () => {
    const response = await get('/api/patients/MALS-1/therapy-plan?start=2026-01-05T14:00:00Z');
    assert.equal(response.statusCode, 200, response.body);
    const { plan } = response.json();
    assert.equal(plan.regimen.drug, 'anakinra');
    assert.equal(plan.doseCount, 45);
    assert.equal(Date.parse(plan.administrations[0].time), Date.parse('2026-01-05T14:00:00Z'));
    assert.equal(plan.doseAdjusted, false);
    // Cockcroft-Gault: (140-76) x 60 x 0.85 / (72 x 3.1) = 14.6 mL/min < 30.
    assert.ok(plan.safety.warnings.some((w: { code: string }) => /renal|crcl|creatinine/i.test(w.code)), JSON.stringify(plan.safety.warnings));
    const none = await get('/api/patients/NOHLA-1/therapy-plan?start=2026-01-05T14:00:00Z');
    assert.equal(none.statusCode, 422);
    assert.match(none.json().detail, /no targeted therapy/);
  });

  test('bad parameters are clear 400 problems', async () => {
    const badTime = await get('/api/patients/MALS-1/classification?at=tomorrow');
    assert.equal(badTime.statusCode, 400);
    assert.match(badTime.json().detail, /ISO 8601/);
    const noZone = await get('/api/patients/MALS-1/classification?at=2026-01-05T12:00:00');
    assert.equal(noZone.statusCode, 400);
    const badRule = await get('/api/patients/MALS-1/classification?ruleSet=astrology');
    assert.equal(badRule.statusCode, 400);
    assert.match(badRule.json().detail, /Unknown rule set "astrology". Known: immunosep/);
  });
});
