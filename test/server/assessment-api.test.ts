import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { syntheticCohort } from '../../src/sources/synthetic/cohort.ts';
import { DEMO_SITES, seedDemoCohort } from '../../src/sources/synthetic/seed.ts';
import { CURRENT_DATA_WINDOW_HOURS, type CensusRow, censusRow } from '../../src/server/api/assessment.ts';
import { ENGINE_CONCEPTS, toMeasurements } from '../../src/server/api/store-bridge.ts';
import {
  type MeasurementFacts,
  insertMeasurements,
  measurementFactsByPatient,
  measurementsByPatient,
  upsertPatient,
  upsertSite,
} from '../../src/store/repository.ts';
import { type TestApp, buildTestApp } from '../support/app.ts';
import { type TestDatabase, openTestDatabase, testBackends } from '../support/backends.ts';

const COHORT = { patients: 12, seed: 42, start: '2026-01-05T00:00:00Z', admissionSpacingHours: 2 };
const AT = '2026-01-09T12:00:00Z';
const HOUR_MS = 3_600_000;

/** `at` moved by some hours (fractions allowed), as an ISO instant. */
function shifted(at: string, hours: number): string {
  return new Date(Date.parse(at) + hours * HOUR_MS).toISOString();
}

/** The latest measurement time of each synthetic patient at or before `at`, from the generator itself. */
function expectedLastDataAt(at: string): Map<string, string | null> {
  const latest = new Map<string, string | null>();
  for (const { patient, measurements } of syntheticCohort({ ...COHORT, sites: DEMO_SITES.map((s) => s.id) })) {
    const times = measurements.map((m) => m.time).filter((time) => Date.parse(time) <= Date.parse(at));
    latest.set(patient.id, times.length === 0 ? null : new Date(Math.max(...times.map((time) => Date.parse(time)))).toISOString());
  }
  return latest;
}

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

    test('the deployment SOFA preset (IMMUNOGUIDE_SOFA_PRESET) decides the bedside SOFA; the default is mimic-iv', async () => {
      const headers = await ctx.bearer(['clinician'], ['athens']);
      const id = [...syntheticCohort({ ...COHORT, sites: DEMO_SITES.map((s) => s.id) })].find((r) => r.patient.siteId === 'athens')!.patient.id;
      const byDefault = (await ctx.app.inject({ method: 'GET', url: `/api/patients/${id}/assessment?at=${AT}`, headers })).json();
      assert.equal(byDefault.assessment.sofa.preset, 'mimic-iv');
      const vincent = await buildTestApp(t.db, { sofaPreset: 'vincent1996' });
      try {
        const vheaders = await vincent.bearer(['clinician'], ['athens']);
        const page = (await vincent.app.inject({ method: 'GET', url: `/api/patients/${id}/assessment?at=${AT}`, headers: vheaders })).json();
        assert.equal(page.assessment.sofa.preset, 'vincent1996');
        const census = (await vincent.app.inject({ method: 'GET', url: `/api/census?at=${AT}`, headers: vheaders })).json();
        const row = census.rows.find((r: CensusRow) => r.patientId === id);
        assert.deepEqual(row, censusRow(page.patient, page.assessment, expectedLastDataAt(AT).get(id)!));
      } finally {
        await vincent.app.close();
      }
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

    test('every census row is the patient page’s assessment, field for field (the census reads the store its own, faster way)', async () => {
      const headers = await ctx.bearer(['clinician'], DEMO_SITES.map((s) => s.id));
      // The cohort's second day, two times mid-course, and times when stays (and the cultures
      // drawn before admission) began more than 10 days earlier: the census reads the whole
      // record up to `at`, as the patient page does.
      for (const at of ['2026-01-06T09:30:00Z', AT, '2026-01-12T12:00:00Z', '2026-01-14T23:00:00Z', '2026-01-20T12:00:00Z']) {
        const census = await ctx.app.inject({ method: 'GET', url: `/api/census?at=${at}`, headers });
        assert.equal(census.statusCode, 200, census.body);
        const rows = census.json().rows as CensusRow[];
        assert.equal(rows.length, COHORT.patients);
        const lastDataAt = expectedLastDataAt(at);
        for (const row of rows) {
          const page = (await ctx.app.inject({ method: 'GET', url: `/api/patients/${row.patientId}/assessment?at=${at}`, headers })).json();
          assert.deepEqual(row, censusRow(page.patient, page.assessment, lastDataAt.get(row.patientId)!), `${row.patientId} at ${at}`);
        }
      }
    });

    test('the census query returns what the row query does, in the same order (intervals, sub-millisecond and pre-1970 times, odd text)', async () => {
      await upsertSite(t.db, { id: 'edge', name: 'Edge cases' });
      for (const id of ['EDGE-1', 'EDGE-2']) await upsertPatient(t.db, { id, siteId: 'edge', birthDate: null, sex: null, deceasedAt: null });
      const base = { patientId: 'EDGE-1', unit: '10*3/uL', source: 'edge-test' };
      await insertMeasurements(t.db, [
        { ...base, concept: 'platelets', value: 151.5, effectiveStart: '2026-01-06T10:00:00.123456Z', recordId: 'a' },
        // Same instant, concept and record order decide.
        { ...base, concept: 'neutrophils', value: 0.1 + 0.2, effectiveStart: '2026-01-06T10:00:00.123Z', recordId: 'b "quoted", {braced}' },
        { ...base, concept: 'platelets', value: 0, effectiveStart: '2026-01-06T10:00:00.123Z', recordId: 'c\\back\nslash ü' },
        { ...base, concept: 'norepinephrine', unit: 'ug/kg/min', value: 0.12, effectiveStart: '2026-01-06T11:00:00Z', effectiveEnd: '2026-01-06T13:30:00.000999Z', recordId: 'd' },
        { ...base, concept: 'platelets', value: 1e-7, effectiveStart: '1969-12-31T23:59:59.9995Z', recordId: 'e' },
        { ...base, concept: 'not-a-concept', unit: '1', value: 1, effectiveStart: '2026-01-06T12:00:00Z', recordId: 'f' },
      ]);
      const ids = ['EDGE-1', 'EDGE-2', 'SYN-000001', 'SYN-000002', 'no-such-patient'];
      for (const options of [{}, { concepts: ENGINE_CONCEPTS }, { from: '2026-01-06T00:00:00Z', to: '2026-01-06T11:00:00Z' }]) {
        const rows = await measurementsByPatient(t.db, ids, options);
        const facts = await measurementFactsByPatient(t.db, ids, options);
        assert.deepEqual([...facts.keys()], [...rows.keys()]);
        for (const [id, stored] of rows) {
          const expected: MeasurementFacts[] = stored.map(({ id: _id, originalValue: _v, originalUnit: _u, ...fact }) => fact);
          assert.deepEqual(facts.get(id), expected, `${id} ${JSON.stringify(options)}`);
          assert.deepEqual(toMeasurements(facts.get(id)!), toMeasurements(stored));
        }
      }
      const edge = (await measurementFactsByPatient(t.db, ['EDGE-1'])).get('EDGE-1')!;
      assert.equal(edge[0]!.effectiveStart, '1969-12-31T23:59:59.999Z');
      // Time to the microsecond (a is 456 us after b and c), then concept, then insertion.
      assert.deepEqual(edge.map((m) => m.recordId[0]), ['e', 'b', 'c', 'a', 'd', 'f']);
      assert.equal(edge.find((m) => m.recordId === 'd')!.effectiveEnd, '2026-01-06T13:30:00.000Z');
      assert.deepEqual((await measurementFactsByPatient(t.db, ['EDGE-2'])).get('EDGE-2'), []);
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

    test('who is in the ICU now: alive with a measurement in the last 24 h before `at` (boundary included); scope=current keeps only them', async () => {
      assert.equal(CURRENT_DATA_WINDOW_HOURS, 24);
      await upsertSite(t.db, { id: 'ward', name: 'Boundary ward' });
      const patients: Array<{ id: string; deceasedAt: string | null; hoursBeforeAt: number[] }> = [
        { id: 'WARD-AT', deceasedAt: null, hoursBeforeAt: [30, 0] },
        { id: 'WARD-EDGE', deceasedAt: null, hoursBeforeAt: [48, 24] },
        // One millisecond older than the window.
        { id: 'WARD-OUT', deceasedAt: null, hoursBeforeAt: [48, 24 + 1 / HOUR_MS] },
        // Measured again an hour after `at`: what comes after `at` does not count.
        { id: 'WARD-BACK', deceasedAt: null, hoursBeforeAt: [30, -1] },
        // Measured 2 h before `at`, died 1 h before it.
        { id: 'WARD-DEAD', deceasedAt: shifted(AT, -1), hoursBeforeAt: [2] },
        { id: 'WARD-NONE', deceasedAt: null, hoursBeforeAt: [] },
      ];
      for (const p of patients) {
        await upsertPatient(t.db, { id: p.id, siteId: 'ward', birthDate: '1960-03-01', sex: 'female', deceasedAt: p.deceasedAt });
        await insertMeasurements(
          t.db,
          p.hoursBeforeAt.map((hours, i) => ({
            patientId: p.id,
            concept: 'platelets',
            value: 180,
            unit: '10*3/uL',
            effectiveStart: shifted(AT, -hours),
            source: 'ward-test',
            recordId: `${p.id}-${i}`,
          })),
        );
      }
      const headers = await ctx.bearer(['clinician'], ['ward']);
      const census = async (query: string) => {
        const response = await ctx.app.inject({ method: 'GET', url: `/api/census?${query}`, headers });
        assert.equal(response.statusCode, 200, response.body);
        return response.json() as { at: string; currentWindowHours: number; rows: CensusRow[] };
      };
      const summary = (rows: CensusRow[]) => Object.fromEntries(rows.map((r) => [r.patientId, { lastDataAt: r.lastDataAt, current: r.current, deceased: r.deceased }]));

      const all = await census(`at=${AT}`);
      assert.equal(all.currentWindowHours, 24);
      assert.deepEqual(summary(all.rows), {
        'WARD-AT': { lastDataAt: shifted(AT, 0), current: true, deceased: false },
        'WARD-EDGE': { lastDataAt: shifted(AT, -24), current: true, deceased: false },
        'WARD-OUT': { lastDataAt: '2026-01-08T11:59:59.999Z', current: false, deceased: false },
        'WARD-BACK': { lastDataAt: shifted(AT, -30), current: false, deceased: false },
        'WARD-DEAD': { lastDataAt: shifted(AT, -2), current: false, deceased: true },
        'WARD-NONE': { lastDataAt: null, current: false, deceased: false },
      });
      // Default and scope=all: every row, the same answer.
      assert.deepEqual((await census(`at=${AT}&scope=all`)).rows, all.rows);
      // scope=current: exactly the current rows, unchanged.
      const current = await census(`at=${AT}&scope=current`);
      assert.deepEqual(current.rows, all.rows.filter((r) => r.current));
      assert.deepEqual(current.rows.map((r) => r.patientId).sort(), ['WARD-AT', 'WARD-EDGE']);

      // Half an hour before the death, the same patient was current; an hour after `at`, the
      // returning patient is, and the edge patient (now 25 h without data) no longer is.
      const beforeDeath = summary((await census(`at=${shifted(AT, -1.5)}&scope=current`)).rows);
      assert.deepEqual(beforeDeath['WARD-DEAD'], { lastDataAt: shifted(AT, -2), current: true, deceased: false });
      const later = summary((await census(`at=${shifted(AT, 1)}&scope=current`)).rows);
      assert.deepEqual(Object.keys(later).sort(), ['WARD-AT', 'WARD-BACK']);
      assert.equal(later['WARD-BACK']!.lastDataAt, shifted(AT, 1));
    });

    test('a census scope other than current or all is a 400 problem that names the accepted values', async () => {
      const headers = await ctx.bearer(['clinician'], ['athens']);
      for (const scope of ['now', 'CURRENT', '']) {
        const response = await ctx.app.inject({ method: 'GET', url: `/api/census?scope=${scope}`, headers });
        assert.equal(response.statusCode, 400, `scope=${scope}`);
        assert.match(String(response.headers['content-type']), /application\/problem\+json/);
        assert.equal(response.json().status, 400);
        const problem = response.json();
        assert.match(problem.detail, /querystring\/scope must be equal to one of the allowed values/);
        // The validator's details name the accepted values.
        assert.deepEqual(problem.errors[0].params.allowedValues, ['current', 'all']);
      }
    });

    test('the census needs a reading role and only shows the caller’s sites', async () => {
      const statistician = await ctx.app.inject({ method: 'GET', url: '/api/census', headers: await ctx.bearer(['statistician'], ['athens']) });
      assert.equal(statistician.statusCode, 403);
      const none = await ctx.app.inject({ method: 'GET', url: '/api/census', headers: await ctx.bearer(['clinician'], ['elsewhere']) });
      assert.deepEqual(none.json().rows, []);
    });
  });
}
