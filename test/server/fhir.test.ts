import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dateBounds } from '../../src/server/fhir/routes.ts';
import { insertMeasurements, upsertPatient, upsertSite } from '../../src/store/repository.ts';
import { type TestApp, buildTestApp } from '../support/app.ts';
import { type TestDatabase, openTestDatabase, testBackends } from '../support/backends.ts';
import { fhirSchemaErrors } from '../support/fhir-schema.ts';

function assertValidFhir(resource: unknown): void {
  assert.deepEqual(fhirSchemaErrors(resource), [], JSON.stringify(resource).slice(0, 400));
}

test('FHIR date search values become [from, to) bounds at their precision', () => {
  assert.deepEqual(dateBounds(['2026-01-05']), { from: '2026-01-05T00:00:00.000Z', to: '2026-01-06T00:00:00.000Z' });
  assert.deepEqual(dateBounds(['ge2026-01', 'lt2026-03']), { from: '2026-01-01T00:00:00.000Z', to: '2026-03-01T00:00:00.000Z' });
  assert.deepEqual(dateBounds(['gt2026-01-05']), { from: '2026-01-06T00:00:00.000Z' });
  assert.deepEqual(dateBounds(['le2026']), { to: '2027-01-01T00:00:00.000Z' });
  assert.deepEqual(dateBounds(['ge2026-01-05T08:00:00Z']), { from: '2026-01-05T08:00:00.000Z' });
  assert.throws(() => dateBounds(['2026-02-30']), /Invalid date/);
  assert.throws(() => dateBounds(['yesterday']), /Invalid date/);
});

for (const { backend, skip } of await testBackends()) {
  describe(`FHIR R4 output on ${backend}`, { skip }, () => {
    let t: TestDatabase;
    let ctx: TestApp;
    let headers: { authorization: string };
    before(async () => {
      t = await openTestDatabase(backend);
      await upsertSite(t.db, { id: 'site-a', name: 'A' });
      await upsertSite(t.db, { id: 'site-b', name: 'B' });
      await upsertPatient(t.db, { id: 'P-1', siteId: 'site-a', birthDate: '1961-07-04', sex: 'male', deceasedAt: null });
      await upsertPatient(t.db, { id: 'P-B', siteId: 'site-b', birthDate: null, sex: null, deceasedAt: '2026-01-09T03:00:00Z' });
      const base = { patientId: 'P-1', source: 'lab', originalValue: null, originalUnit: null };
      await insertMeasurements(t.db, [
        { ...base, concept: 'ferritin', value: 4450.4, unit: 'ng/mL', effectiveStart: '2026-01-05T08:00:00Z', recordId: 'f1', originalValue: '10000', originalUnit: 'pmol/L' },
        { ...base, concept: 'ferritin', value: 3000, unit: 'ng/mL', effectiveStart: '2026-01-07T08:00:00Z', recordId: 'f2' },
        { ...base, concept: 'platelets', value: 95, unit: '10*3/uL', effectiveStart: '2026-01-05T09:00:00Z', recordId: 'p1' },
        { ...base, concept: 'urine_output', value: 300, unit: 'mL', effectiveStart: '2026-01-05T00:00:00Z', effectiveEnd: '2026-01-05T06:00:00Z', recordId: 'u1' },
        { ...base, patientId: 'P-B', concept: 'ferritin', value: 9999, unit: 'ng/mL', effectiveStart: '2026-01-05T08:00:00Z', recordId: 'b1' },
      ]);
      ctx = await buildTestApp(t.db);
      headers = await ctx.bearer(['clinician'], ['site-a']);
    });
    after(async () => {
      await ctx?.app.close();
      await t?.dispose();
    });

    const get = (url: string, h: Record<string, string> = headers) => ctx.app.inject({ method: 'GET', url, headers: h });

    test('CapabilityStatement is public and valid', async () => {
      const response = await ctx.app.inject({ method: 'GET', url: '/fhir/metadata' });
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /application\/fhir\+json/);
      assert.equal(response.json().fhirVersion, '4.0.1');
      assertValidFhir(response.json());
    });

    test('Patient read and search', async () => {
      const patient = (await get('/fhir/Patient/P-1')).json();
      assert.equal(patient.resourceType, 'Patient');
      assert.equal(patient.birthDate, '1961-07-04');
      assertValidFhir(patient);
      const bundle = (await get('/fhir/Patient')).json();
      assert.equal(bundle.type, 'searchset');
      assert.deepEqual(bundle.entry.map((e: { resource: { id: string } }) => e.resource.id), ['P-1'], 'site-isolated');
      assertValidFhir(bundle);
      assert.equal((await get('/fhir/Patient?_id=P-B')).json().total, 0);
      assert.equal((await get('/fhir/Patient?identifier=https://immunoguide.org/fhir/NamingSystem/patient-id|P-1')).json().total, 1);
    });

    test('Observation search by patient, code and date; read by id', async () => {
      const all = (await get('/fhir/Observation?patient=Patient/P-1')).json();
      const ids = all.entry.map((e: { resource: { id: string } }) => e.resource.id);
      assert.equal(ids.filter((id: string) => /^m\d+$/.test(id)).length, 4, 'the four measurements');
      assert.ok(ids.includes('immune-class-P-1'), 'and the derived results: immune class');
      assert.ok(ids.some((id: string) => id.startsWith('sofa-P-1-')), 'and SOFA days');
      assertValidFhir(all);
      for (const entry of all.entry) assertValidFhir(entry.resource);
      const ferritin = (await get('/fhir/Observation?patient=P-1&code=http://loinc.org|2276-4')).json();
      assert.deepEqual(ferritin.entry.map((e: { resource: { valueQuantity: { value: number } } }) => e.resource.valueQuantity.value), [4450.4, 3000]);
      const first = ferritin.entry[0].resource;
      assert.equal(first.valueQuantity.system, 'http://unitsofmeasure.org');
      assert.equal(first.valueQuantity.code, 'ng/mL');
      assert.equal(first.note[0].text, 'As reported: 10000 pmol/L');
      assert.equal(first.meta.source, 'lab#f1');
      const byDate = (await get('/fhir/Observation?patient=P-1&code=2276-4&date=ge2026-01-06')).json();
      assert.equal(byDate.total, 1);
      const urine = (await get('/fhir/Observation?patient=P-1&code=9187-6')).json().entry[0].resource;
      assert.deepEqual(urine.effectivePeriod, { start: '2026-01-05T00:00:00.000Z', end: '2026-01-05T06:00:00.000Z' });
      const read = await get(`/fhir/Observation/${first.id}`);
      assert.equal(read.statusCode, 200);
      assert.deepEqual(read.json(), first);
      assert.equal((await get('/fhir/Observation?patient=P-1&code=unknown-code')).json().total, 0);
    });

    test('errors are OperationOutcome, and another site’s data is not found', async () => {
      for (const url of ['/fhir/Patient/P-B', '/fhir/Observation?patient=P-B', '/fhir/Patient/nobody']) {
        const response = await get(url);
        assert.equal(response.statusCode, 404, url);
        assert.equal(response.json().resourceType, 'OperationOutcome');
        assertValidFhir(response.json());
        assert.doesNotMatch(response.body, /9999/);
      }
      const otherSiteObservation = (await get('/fhir/Observation?patient=P-B', await ctx.bearer(['clinician'], ['site-b']))).json().entry[0].resource.id;
      const crossRead = await get(`/fhir/Observation/${otherSiteObservation}`);
      assert.equal(crossRead.statusCode, 404);
      assert.equal(crossRead.body.replace(otherSiteObservation, 'X'), (await get('/fhir/Observation/m999999999')).body.replace('m999999999', 'X'));
      const unsupported = await get('/fhir/Observation?patient=P-1&category=laboratory');
      assert.equal(unsupported.statusCode, 400);
      assert.match(unsupported.json().issue[0].diagnostics, /Unsupported search parameter\(s\): category/);
      const noPatient = await get('/fhir/Observation?code=2276-4');
      assert.equal(noPatient.statusCode, 400);
      const badDate = await get('/fhir/Observation?patient=P-1&date=soon');
      assert.match(badDate.json().issue[0].diagnostics, /Invalid date search value "soon"/);
      const unauthenticated = await ctx.app.inject({ method: 'GET', url: '/fhir/Patient/P-1' });
      assert.equal(unauthenticated.statusCode, 401);
      assert.equal(unauthenticated.json().issue[0].code, 'login');
    });
  });
}

test('the R4 schema check itself rejects invalid resources', () => {
  assert.notDeepEqual(fhirSchemaErrors({ resourceType: 'Observation', status: 'bogus', code: { text: 'x' } }), []);
  assert.notDeepEqual(fhirSchemaErrors({ resourceType: 'Patient', gender: 'robot' }), []);
  assert.notDeepEqual(fhirSchemaErrors({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: '12' } }), []);
  assert.notDeepEqual(fhirSchemaErrors({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, effectiveDateTime: 'Monday' }), []);
  assert.deepEqual(fhirSchemaErrors({ resourceType: 'Observation', status: 'final', code: { text: 'x' } }), []);
});

describe('ImmunoGuide results as FHIR', () => {
  let t: TestDatabase;
  let ctx: TestApp;
  let headers: { authorization: string };
  before(async () => {
    t = await openTestDatabase('pglite');
    await upsertSite(t.db, { id: 'site-a', name: 'A' });
    await upsertPatient(t.db, { id: 'R-1', siteId: 'site-a', birthDate: '1955-05-05', sex: 'female', deceasedAt: null });
    const now = Date.now();
    const at = (hoursAgo: number) => new Date(now - hoursAgo * 3_600_000).toISOString();
    const base = { patientId: 'R-1', source: 'lab' };
    await insertMeasurements(t.db, [
      { ...base, concept: 'ferritin', value: 8000, unit: 'ng/mL', effectiveStart: at(5), recordId: 'f' },
      { ...base, concept: 'hla_dr', value: 9000, unit: '{molecules}/{cell}', effectiveStart: at(5), recordId: 'h' },
      { ...base, concept: 'platelets', value: 90, unit: '10*3/uL', effectiveStart: at(6), recordId: 'p' },
      { ...base, concept: 'weight', value: 70, unit: 'kg', effectiveStart: at(6), recordId: 'w' },
    ]);
    ctx = await buildTestApp(t.db);
    headers = await ctx.bearer(['clinician'], ['site-a']);
  });
  after(async () => {
    await ctx?.app.close();
    await t?.dispose();
  });

  test('SOFA day and immune class Observations, and the proposal MedicationRequest, validate and explain themselves', async () => {
    const sofa = (await ctx.app.inject({ method: 'GET', url: '/fhir/Observation?patient=R-1&code=sofa-total', headers })).json();
    assert.ok(sofa.total >= 1);
    const day = sofa.entry[0].resource;
    assertValidFhir(day);
    assert.equal(day.component.length, 6);
    const coagulation = day.component.find((c: { code: { coding: Array<{ code: string }> } }) => c.code.coding[0]!.code === 'sofa-coagulation');
    assert.equal(coagulation.valueInteger, 2);
    const missing = day.component.find((c: { code: { coding: Array<{ code: string }> } }) => c.code.coding[0]!.code === 'sofa-cns');
    assert.equal(missing.dataAbsentReason.coding[0].code, 'not-performed', 'a missing organ is absent, not 0');
    assert.match(day.method.text, /mimic-iv/);

    const klass = (await ctx.app.inject({ method: 'GET', url: '/fhir/Observation?patient=R-1&code=immune-class', headers })).json().entry[0].resource;
    assertValidFhir(klass);
    assert.equal(klass.valueCodeableConcept.coding[0].code, 'MALS');
    assert.deepEqual(klass.method.coding[0], { system: 'https://immunoguide.org/fhir/CodeSystem/rule-set', code: 'immunosep', version: '1.0.0' });
    assert.equal(klass.derivedFrom.length, 1, 'MALS rests on the ferritin sample');
    const ferritinObservation = await ctx.app.inject({ method: 'GET', url: `/fhir/${klass.derivedFrom[0].reference}`, headers });
    assert.equal(ferritinObservation.json().valueQuantity.value, 8000);
    assert.ok(klass.note.some((n: { text: string }) => /8000 ng\/mL > 4420 ng\/mL/.test(n.text)));
    const reread = await ctx.app.inject({ method: 'GET', url: `/fhir/Observation/${klass.id}`, headers });
    assert.equal(reread.json().valueCodeableConcept.coding[0].code, 'MALS');

    const proposal = (await ctx.app.inject({ method: 'GET', url: '/fhir/MedicationRequest?patient=R-1', headers })).json();
    assertValidFhir(proposal);
    const request = proposal.entry[0].resource;
    assertValidFhir(request);
    assert.equal(request.intent, 'proposal');
    assert.equal(request.dosageInstruction[0].doseAndRate[0].doseQuantity.value, 200);
    assert.equal(request.dosageInstruction[0].timing.repeat.period, 8);
    const other = await ctx.app.inject({ method: 'GET', url: '/fhir/Observation/immune-class-R-1', headers: await ctx.bearer(['clinician'], ['site-b']) });
    assert.equal(other.statusCode, 404);
  });
});
