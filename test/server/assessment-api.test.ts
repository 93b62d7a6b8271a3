import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { syntheticCohort } from '../../src/sources/synthetic/cohort.ts';
import { DEMO_SITES, seedDemoCohort } from '../../src/sources/synthetic/seed.ts';
import { type TestApp, buildTestApp } from '../support/app.ts';
import { type TestDatabase, openTestDatabase, testBackends } from '../support/backends.ts';

const COHORT = { patients: 12, seed: 42, start: '2026-01-05T00:00:00Z', admissionSpacingHours: 2 };
const AT = '2026-01-09T12:00:00Z';

for (const { backend, skip } of await testBackends()) {
  describe(`census and assessment on ${backend}`, { skip }, () => {
    let t: TestDatabase;
    let ctx: TestApp;
    before(async () => {
      t = await openTestDatabase(backend);
      await seedDemoCohort(t.db, COHORT);
      ctx = await buildTestApp(t.db);
    });
    after(async () => {
      await ctx?.app.close();
      await t?.dispose();
    });

    test('the census has one assessed row per patient of the caller’s sites, and agrees with the patient page', async () => {
      const headers = await ctx.bearer(['clinician'], ['athens']);
      const response = await ctx.app.inject({ method: 'GET', url: `/api/census?at=${AT}`, headers });
      assert.equal(response.statusCode, 200, response.body);
      const { rows } = response.json();
      const expected = [...syntheticCohort({ ...COHORT, sites: DEMO_SITES.map((s) => s.id) })].filter((r) => r.patient.siteId === 'athens');
      assert.deepEqual(rows.map((r: { patientId: string }) => r.patientId), expected.map((r) => r.patient.id));
      for (const row of rows) {
        assert.equal(row.siteId, 'athens');
        assert.ok(['MALS', 'immunoparalysis', 'unclassified', 'indeterminate'].includes(row.immuneClass));
        assert.deepEqual(row.ruleSet, { id: 'immunosep', version: '1.0.0' });
        assert.ok(row.sofaTrend.length >= 1 && row.sofaTrend.length <= 7);
        assert.ok(row.sofaToday === null || (row.sofaToday >= 0 && row.sofaToday <= 24));
        if (row.immuneClass === 'MALS') assert.equal(row.therapy.drug, 'anakinra');
        if (row.immuneClass === 'immunoparalysis') assert.equal(row.therapy.drug, 'interferon-gamma-1b');
        if (row.immuneClass === 'unclassified') assert.equal(row.therapy, null);
        const page = (await ctx.app.inject({ method: 'GET', url: `/api/patients/${row.patientId}/assessment?at=${AT}`, headers })).json();
        assert.equal(page.assessment.classification.class, row.immuneClass);
        assert.equal(page.assessment.sofa.today?.total ?? null, row.sofaToday);
      }
    });

    test('a patient assessment explains itself: SOFA days with missing components, Sepsis-3, eligibility per criterion', async () => {
      const headers = await ctx.bearer(['clinician'], ['athens', 'nijmegen', 'milan']);
      const { assessment } = (await ctx.app.inject({ method: 'GET', url: `/api/patients/SYN-000001/assessment?at=${AT}`, headers })).json();
      assert.equal(assessment.sofa.preset, 'mimic-iv');
      assert.ok(assessment.sofa.days.length >= 4);
      for (const day of assessment.sofa.days) {
        const sum = Object.values(day.components as Record<string, number | null>).reduce<number>((a, b) => a + (b ?? 0), 0);
        assert.equal(day.total, sum);
      }
      assert.ok(assessment.sepsis3, 'antibiotic + culture + SOFA: Sepsis-3 assessable');
      assert.equal(typeof assessment.sepsis3.met, 'boolean');
      assert.ok(assessment.eligibility.results.length > 5);
      assert.ok(Array.isArray(assessment.dataGaps));
    });

    test('the census needs a reading role and only shows the caller’s sites', async () => {
      const statistician = await ctx.app.inject({ method: 'GET', url: '/api/census', headers: await ctx.bearer(['statistician'], ['athens']) });
      assert.equal(statistician.statusCode, 403);
      const none = await ctx.app.inject({ method: 'GET', url: '/api/census', headers: await ctx.bearer(['clinician'], ['elsewhere']) });
      assert.deepEqual(none.json().rows, []);
    });
  });
}
