import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { syntheticCohort } from '../../src/sources/synthetic/cohort.ts';
import { seededRandom } from '../../src/sources/synthetic/random.ts';
import { seedDemoCohort } from '../../src/sources/synthetic/seed.ts';
import { countMeasurements, listPatients } from '../../src/store/repository.ts';
import { type TestDatabase, openTestDatabase, testBackends } from '../support/backends.ts';

test('the generator is reproducible from its seed and differs across seeds', () => {
  const a = [...syntheticCohort({ patients: 5, seed: 7 })];
  const b = [...syntheticCohort({ patients: 5, seed: 7 })];
  const c = [...syntheticCohort({ patients: 5, seed: 8 })];
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('seeded random numbers stay in their ranges', () => {
  const random = seededRandom(1);
  for (let i = 0; i < 10_000; i++) {
    const u = random.next();
    assert.ok(u >= 0 && u < 1);
    const k = random.integer(3, 5);
    assert.ok(k >= 3 && k <= 5 && Number.isInteger(k));
  }
});

test('a cohort covers the three strata, deaths, and never measures after death', () => {
  const cohort = [...syntheticCohort({ patients: 300, seed: 11 })];
  const strata = new Set(cohort.map((r) => r.patient.intendedStratum));
  assert.deepEqual([...strata].sort(), ['MALS', 'immunoparalysis', 'unclassified']);
  const dead = cohort.filter((r) => r.patient.deceasedAt !== null);
  assert.ok(dead.length > 20 && dead.length < 250, `${dead.length} deaths`);
  for (const { patient, measurements } of cohort) {
    assert.ok(measurements.length > 0);
    for (const m of measurements) {
      assert.equal(m.patientId, patient.id);
      assert.ok(Number.isFinite(m.value) && m.value >= 0, `${m.concept} ${m.value}`);
      if (patient.deceasedAt) assert.ok(m.time < patient.deceasedAt, 'no measurement after death');
      if (m.endTime) assert.ok(m.endTime > m.time);
    }
    const times = measurements.map((m) => m.time);
    assert.deepEqual(times, [...times].sort(), 'ordered by time');
    // Biomarkers match the intended stratum on the first sample.
    const ferritin = measurements.find((m) => m.concept === 'ferritin')!.value;
    const hlaDr = measurements.find((m) => m.concept === 'hla_dr')!.value;
    if (patient.intendedStratum === 'MALS') assert.ok(ferritin > 4420);
    else assert.ok(ferritin <= 4420);
    if (patient.intendedStratum === 'immunoparalysis') assert.ok(hlaDr < 5000);
    if (patient.intendedStratum === 'unclassified') assert.ok(hlaDr >= 5000);
  }
});

test('record ids are unique across the cohort (provenance is the idempotency key)', () => {
  const ids = new Set<string>();
  for (const { measurements } of syntheticCohort({ patients: 50, seed: 3 })) {
    for (const m of measurements) {
      const key = `${m.provenance!.recordId}|${m.concept}`;
      assert.ok(!ids.has(key), key);
      ids.add(key);
    }
  }
});

for (const { backend, skip } of await testBackends()) {
  describe(`demo cohort seeding on ${backend}`, { skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await openTestDatabase(backend);
    });
    after(async () => t?.dispose());

    test('seeds an empty database once', async () => {
      const first = await seedDemoCohort(t.db, { patients: 6 });
      assert.equal(first.seeded, true);
      assert.equal(first.patients, 6);
      assert.equal(await countMeasurements(t.db), first.measurements);
      assert.equal((await listPatients(t.db)).length, 6);
      const second = await seedDemoCohort(t.db, { patients: 6 });
      assert.equal(second.seeded, false);
      assert.equal(await countMeasurements(t.db), first.measurements);
    });
  });
}

test('a cohort "as of" an instant has nothing at or after it, and no death after it', () => {
  const until = '2026-01-08T00:00:00.000Z';
  for (const { patient, measurements } of syntheticCohort({ patients: 40, seed: 5, start: '2026-01-01T00:00:00Z', admissionSpacingHours: 3, until })) {
    for (const m of measurements) assert.ok(m.time < until, `${m.concept} at ${m.time}`);
    if (patient.deceasedAt !== null) assert.ok(patient.deceasedAt < until);
  }
});
