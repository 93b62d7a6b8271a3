import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type NewMeasurement,
  countMeasurements,
  getPatient,
  insertMeasurements,
  listMeasurements,
  listPatients,
  listSites,
  upsertPatient,
  upsertSite,
} from '../../src/store/repository.ts';
import { type TestDatabase, openTestDatabase, testBackends } from '../support/backends.ts';

function ferritin(recordId: string, value: number, time: string, patientId = 'P1'): NewMeasurement {
  return {
    patientId,
    concept: 'ferritin',
    value,
    unit: 'ng/mL',
    effectiveStart: time,
    source: 'test',
    recordId,
    originalValue: String(value),
    originalUnit: 'ng/mL',
  };
}

for (const { backend, skip } of await testBackends()) {
  describe(`repository on ${backend}`, { skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await openTestDatabase(backend);
      await upsertSite(t.db, { id: 'athens', name: 'Athens ICU' });
      await upsertSite(t.db, { id: 'nijmegen', name: 'Nijmegen ICU' });
      await upsertPatient(t.db, { id: 'P1', siteId: 'athens', birthDate: '1950-03-02', sex: 'female', deceasedAt: null });
      await upsertPatient(t.db, { id: 'P2', siteId: 'nijmegen', birthDate: null, sex: null, deceasedAt: null });
    });
    after(async () => t?.dispose());

    test('sites and patients round-trip, filtered by site', async () => {
      assert.deepEqual(
        (await listSites(t.db)).map((s) => s.id),
        ['athens', 'nijmegen'],
      );
      assert.deepEqual(await getPatient(t.db, 'P1'), {
        id: 'P1',
        siteId: 'athens',
        birthDate: '1950-03-02',
        sex: 'female',
        deceasedAt: null,
      });
      assert.equal(await getPatient(t.db, 'nobody'), undefined);
      assert.deepEqual(
        (await listPatients(t.db, ['nijmegen'])).map((p) => p.id),
        ['P2'],
      );
    });

    test('a patient cannot be moved to another site by an upsert', async () => {
      await assert.rejects(
        upsertPatient(t.db, { id: 'P1', siteId: 'nijmegen', birthDate: null, sex: null, deceasedAt: null }),
        /belongs to another site/,
      );
      assert.equal((await getPatient(t.db, 'P1'))?.siteId, 'athens');
    });

    test('measurements are idempotent by provenance', async () => {
      const batch = [
        ferritin('r1', 4420, '2026-01-05T08:00:00.000Z'),
        ferritin('r2', 4420.5, '2026-01-06T08:00:00.000Z'),
      ];
      assert.equal(await insertMeasurements(t.db, batch), 2);
      assert.equal(await insertMeasurements(t.db, batch), 0, 'same records again store nothing');
      assert.equal(await insertMeasurements(t.db, [...batch, ferritin('r3', 100, '2026-01-07T08:00:00.000Z')]), 1);
      const stored = await listMeasurements(t.db, { patientId: 'P1', concepts: ['ferritin'] });
      assert.deepEqual(
        stored.map((m) => [m.recordId, m.value, m.effectiveStart]),
        [
          ['r1', 4420, '2026-01-05T08:00:00.000Z'],
          ['r2', 4420.5, '2026-01-06T08:00:00.000Z'],
          ['r3', 100, '2026-01-07T08:00:00.000Z'],
        ],
      );
      const window = await listMeasurements(t.db, {
        patientId: 'P1',
        from: '2026-01-06T00:00:00Z',
        to: '2026-01-07T08:00:00Z',
      });
      assert.deepEqual(
        window.map((m) => m.recordId),
        ['r2'],
        'from is inclusive, to exclusive',
      );
    });

    test('values survive exactly (no rounding of a threshold decision)', async () => {
      const value = 4420.000000001;
      await insertMeasurements(t.db, [ferritin('exact', value, '2026-02-01T00:00:00Z')]);
      const [stored] = await listMeasurements(t.db, { patientId: 'P1', from: '2026-02-01T00:00:00Z' });
      assert.equal(stored?.value, value);
    });

    test('large batches are split below the parameter limit', async () => {
      const many = Array.from({ length: 12_345 }, (_, i) =>
        ferritin(`bulk-${i}`, i, new Date(Date.UTC(2026, 2, 1) + i * 60_000).toISOString(), 'P2'),
      );
      const before = await countMeasurements(t.db);
      assert.equal(await insertMeasurements(t.db, many), many.length);
      assert.equal(await countMeasurements(t.db), before + many.length);
    });

    test('a failing batch inside a transaction leaves nothing behind', async () => {
      const before = await countMeasurements(t.db);
      await assert.rejects(
        t.db.transaction(async (tx) => {
          await insertMeasurements(tx, [ferritin('tx-1', 1, '2026-04-01T00:00:00Z')]);
          // Unknown patient: violates the foreign key.
          await insertMeasurements(tx, [ferritin('tx-2', 1, '2026-04-01T00:00:00Z', 'no-such-patient')]);
        }),
        /foreign key/,
      );
      assert.equal(await countMeasurements(t.db), before);
    });

    test('an interval ending before it starts is refused by the schema', async () => {
      await assert.rejects(
        insertMeasurements(t.db, [
          { ...ferritin('bad-interval', 1, '2026-05-02T00:00:00Z'), effectiveEnd: '2026-05-01T00:00:00Z' },
        ]),
        /measurement_interval_check/,
      );
    });
  });
}
