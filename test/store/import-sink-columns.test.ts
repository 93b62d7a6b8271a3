/**
 * insertMeasurementColumns writes its own PostgreSQL array literals (instead of node-postgres'
 * serialiser) and stores rows grouped by patient and concept: every text must come back exactly
 * as given, on both backends, and the grouping must keep the input order within a group.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SourceMeasurement } from '../../src/sources/import-format.ts';
import { inIndexOrder, insertMeasurementColumns } from '../../src/store/import-sink.ts';
import { upsertPatient, upsertSite } from '../../src/store/repository.ts';
import { type TestDatabase, openTestDatabase, testBackends } from '../support/backends.ts';

function m(patientId: string, concept: string, recordId: string, extra: Partial<SourceMeasurement> = {}): SourceMeasurement {
  return { patientId, concept: concept as SourceMeasurement['concept'], value: 1, unit: '1', time: '2026-01-05T08:00:00.000Z', provenance: { source: 'columns-test', recordId }, ...extra };
}

describe('inIndexOrder', () => {
  test('groups by patient, then concept, in code-unit order, keeping the input order inside a group', () => {
    const rows = [m('P2', 'map', 'a'), m('P1', 'map', 'b'), m('P2', 'gcs', 'c'), m('P1', 'map', 'd'), m('P10', 'gcs', 'e'), m('P2', 'map', 'f'), m('P1', 'gcs', 'g')];
    assert.deepEqual(
      inIndexOrder(rows).map((r) => r.provenance.recordId),
      ['g', 'b', 'd', 'e', 'c', 'a', 'f'],
    );
  });

  test('returns every row exactly once', () => {
    const rows = Array.from({ length: 5000 }, (_, i) => m(`P${(i * 7919) % 97}`, ['map', 'gcs', 'platelets'][i % 3]!, `r${i}`));
    const ordered = inIndexOrder(rows);
    assert.equal(ordered.length, rows.length);
    assert.deepEqual(new Set(ordered), new Set(rows));
    for (let i = 1; i < ordered.length; i++) {
      const [a, b] = [ordered[i - 1]!, ordered[i]!];
      const order = a.patientId < b.patientId ? -1 : a.patientId > b.patientId ? 1 : a.concept < b.concept ? -1 : a.concept > b.concept ? 1 : 0;
      assert.ok(order < 0 || (order === 0 && Number(a.provenance.recordId.slice(1)) < Number(b.provenance.recordId.slice(1))), `rows ${i - 1} and ${i} out of order`);
    }
  });
});

for (const { backend, skip } of await testBackends()) {
  describe(`insertMeasurementColumns on ${backend}`, { skip }, () => {
    let t: TestDatabase;
    const patients = ['P "quoted"', 'P\\back', 'NULL', 'P{1},2', ' spaced ', 'Pé 中'];
    before(async () => {
      t = await openTestDatabase(backend);
      await upsertSite(t.db, { id: 'athens', name: 'Athens ICU' });
      for (const id of patients) await upsertPatient(t.db, { id, siteId: 'athens', birthDate: null, sex: null, deceasedAt: null });
    });
    after(async () => t?.dispose());

    test('texts with quotes, backslashes, braces, commas, "NULL" and non-ASCII, and special floats, round-trip exactly', async () => {
      const rows: SourceMeasurement[] = patients.map((patientId, i) =>
        m(patientId, 'platelets', `id ${i} "x" \\ {y}, NULL`, {
          value: [1.5, -3.75, 1e21, 5e-324, Number.NaN, 0.1 + 0.2][i]!,
          unit: i % 2 === 0 ? '10*3/uL' : 'NULL',
          time: `2026-01-05T0${i}:00:00.000Z`,
          ...(i === 1 ? { endTime: '2026-01-05T02:00:00.000Z' } : {}),
          ...(i === 2 ? { reported: { value: 42.25, unit: 'a"b\\c' } } : {}),
        }),
      );
      const result = await t.db.transaction((tx) => insertMeasurementColumns(tx, rows, 'try-plain'));
      assert.deepEqual(result, { inserted: rows.length, duplicates: false });
      const stored = await t.db.query<{
        patient_id: string;
        value: number;
        unit: string;
        effective_start: Date | string;
        effective_end: Date | string | null;
        record_id: string;
        original_value: string;
        original_unit: string;
      }>(`SELECT patient_id, value, unit, effective_start, effective_end, record_id, original_value, original_unit FROM measurement WHERE source = 'columns-test'`);
      const byPatient = new Map(stored.rows.map((r) => [r.patient_id, r]));
      assert.equal(byPatient.size, rows.length);
      for (const row of rows) {
        const got = byPatient.get(row.patientId);
        assert.ok(got !== undefined, `patient ${row.patientId} stored`);
        if (Number.isNaN(row.value)) assert.ok(Number.isNaN(got.value));
        else assert.equal(got.value, row.value);
        assert.equal(got.unit, row.unit);
        assert.equal(new Date(got.effective_start).toISOString(), row.time);
        assert.equal(got.effective_end === null ? undefined : new Date(got.effective_end).toISOString(), row.endTime);
        assert.equal(got.record_id, row.provenance.recordId);
        assert.equal(got.original_value, String(row.reported?.value ?? row.value));
        assert.equal(got.original_unit, row.reported?.unit ?? row.unit);
      }
      // A second run stores nothing and reports the duplicates.
      assert.deepEqual(await t.db.transaction((tx) => insertMeasurementColumns(tx, rows, 'try-plain')), { inserted: 0, duplicates: true });
    });

    test('rows are stored grouped by patient and concept, in input order within a group', async () => {
      const rows = [m('NULL', 'map', 'g1'), m(' spaced ', 'map', 'g2'), m('NULL', 'gcs', 'g3'), m('NULL', 'map', 'g4'), m(' spaced ', 'gcs', 'g5')];
      await t.db.transaction((tx) => insertMeasurementColumns(tx, rows, 'skip-stored'));
      const stored = await t.db.query<{ record_id: string }>(`SELECT record_id FROM measurement WHERE record_id LIKE 'g_' ORDER BY id`);
      assert.deepEqual(
        stored.rows.map((r) => r.record_id),
        ['g5', 'g2', 'g3', 'g1', 'g4'],
      );
    });
  });
}
