/**
 * New measurements reach the PostgreSQL server through COPY FROM STDIN (Queryable.copyFrom, a
 * protocol exchange of our own over node-postgres) and everything else through INSERT ... SELECT
 * unnest(arrays); migration 0008 reordered the provenance key. These tests pin that the two paths
 * store the very same rows, that a COPY refused midway (duplicate, missing patient) leaves the
 * connection and the transaction usable with nothing of it stored, and that 0008 keeps both the
 * stored rows and the provenance semantics.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SourceMeasurement } from '../../src/sources/import-format.ts';
import { DatabaseError, type Queryable } from '../../src/store/db.ts';
import { copyField, insertMeasurementColumns } from '../../src/store/import-sink.ts';
import { DEFAULT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../src/store/migrate.ts';
import { countMeasurements, insertMeasurements, upsertPatient, upsertSite } from '../../src/store/repository.ts';
import { type TestDatabase, openTestDatabase, testBackends } from '../support/backends.ts';

const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';

const PATIENTS = ['P1', 'P\ttab', 'P\nline', 'P\\N', '\\.', 'Pé 中 🙂'];

function m(patientId: string, recordId: string, extra: Partial<SourceMeasurement> = {}): SourceMeasurement {
  return { patientId, concept: 'platelets', value: 150, unit: '10*3/uL', time: '2026-01-05T08:00:00.000Z', provenance: { source: 'copy-test', recordId }, ...extra };
}

/** The same database without copyFrom: insertMeasurementColumns then takes the INSERT path. */
function withoutCopy(db: Queryable): Queryable {
  return { backend: db.backend, query: (sql, params) => db.query(sql, params), exec: (sql) => db.exec(sql) };
}

function isCode(code: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof DatabaseError, `expected a DatabaseError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

const copyColumns = 'patient_id, concept, value, unit, effective_start, effective_end, source, record_id, original_value, original_unit';

describe('copyField', () => {
  test('escapes exactly backslash, newline, carriage return and tab', () => {
    assert.equal(copyField('plain text, "quoted" {1,2} NULL'), 'plain text, "quoted" {1,2} NULL');
    assert.equal(copyField('a\tb\\c\nd\re'), 'a\\tb\\\\c\\nd\\re');
    assert.equal(copyField('\\N'), '\\\\N');
    assert.equal(copyField('\\.'), '\\\\.');
    assert.equal(copyField(''), '');
  });
});

for (const { backend, skip } of await testBackends()) {
  describe(`measurements through COPY and through INSERT on ${backend}`, { skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await openTestDatabase(backend);
      await upsertSite(t.db, { id: 'athens', name: 'Athens ICU' });
      for (const id of PATIENTS) await upsertPatient(t.db, { id, siteId: 'athens', birthDate: null, sex: null, deceasedAt: null });
    });
    after(async () => t?.dispose());

    test('COPY is what the PostgreSQL server backend offers, in and out of transactions; PGlite has none', async () => {
      const expected = backend === 'postgres' ? 'function' : 'undefined';
      assert.equal(typeof t.db.copyFrom, expected);
      await t.db.transaction(async (tx) => assert.equal(typeof tx.copyFrom, expected));
    });

    test('both paths store the same rows, texts, numbers and times, exactly', async () => {
      const texts = ['plain', 'tab\there', 'new\nline', 'cr\rhere', 'back\\slash', '\\N', '\\.', '', 'NULL', '"quoted" {a,b}', 'é 中 🙂'];
      const rows: SourceMeasurement[] = texts.map((text, i) =>
        m(PATIENTS[i % PATIENTS.length]!, `rid ${i} ${text}`, {
          concept: ['platelets', 'map', 'gcs'][i % 3] as SourceMeasurement['concept'],
          value: [0, -0, 1.5, -3.75, 1e21, 5e-324, 1e-300, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.1 + 0.2][i]!,
          unit: text,
          // Sub-millisecond and offset times: the server parses them in both paths.
          time: ['2026-01-05T08:00:00.000Z', '2026-01-05T08:00:00.123456Z', '2026-01-05T10:00:00+02:00', '2026-01-05T08:00:00.5-03:30'][i % 4]!,
          ...(i % 2 === 1 ? { endTime: '2026-01-06T08:00:00.000001Z' } : {}),
          ...(i % 3 === 2 ? { reported: { value: 1 / 3, unit: `reported ${text}` } } : {}),
        }),
      );
      const viaCopy = rows.map((r) => ({ ...r, provenance: { source: 'via-copy', recordId: r.provenance.recordId } }));
      const viaInsert = rows.map((r) => ({ ...r, provenance: { source: 'via-insert', recordId: r.provenance.recordId } }));
      assert.deepEqual(await t.db.transaction((tx) => insertMeasurementColumns(tx, viaCopy, 'try-plain')), { inserted: rows.length, duplicates: false });
      assert.deepEqual(await t.db.transaction((tx) => insertMeasurementColumns(withoutCopy(tx), viaInsert, 'try-plain')), { inserted: rows.length, duplicates: false });

      // Column by column, as text (float8 and timestamptz output are exact), in id order.
      const stored = async (source: string): Promise<string[][]> =>
        (
          await t.db.query<{ row: string[] }>(
            `SELECT ARRAY[patient_id, concept, value::text, unit, effective_start::text, coalesce(effective_end::text, '<null>'), record_id,
                          coalesce(original_value, '<null>'), coalesce(original_unit, '<null>')] AS row
               FROM measurement WHERE source = $1 ORDER BY id`,
            [source],
          )
        ).rows.map((r) => r.row);
      const copied = await stored('via-copy');
      assert.equal(copied.length, rows.length);
      assert.deepEqual(copied, await stored('via-insert'));
      // And what was given comes back (texts verbatim, values and times as JavaScript reads them).
      const back = await t.db.query<{ patient_id: string; unit: string; record_id: string; value: number; effective_start: Date | string; original_unit: string }>(
        `SELECT patient_id, unit, record_id, value, effective_start, original_unit FROM measurement WHERE source = 'via-copy'`,
      );
      const byRecord = new Map(back.rows.map((r) => [r.record_id, r]));
      for (const row of rows) {
        const got = byRecord.get(row.provenance.recordId);
        assert.ok(got !== undefined, `record ${JSON.stringify(row.provenance.recordId)} stored`);
        assert.equal(got.patient_id, row.patientId);
        assert.equal(got.unit, row.unit);
        assert.equal(got.original_unit, row.reported?.unit ?? row.unit);
        if (Number.isNaN(row.value)) assert.ok(Number.isNaN(got.value));
        else assert.equal(got.value, row.value === 0 ? 0 : row.value);
        assert.equal(new Date(got.effective_start).getTime(), Date.parse(row.time));
      }
    });

    test('rows partly stored already: the new ones go in, the stored ones are skipped and reported', async () => {
      const first = Array.from({ length: 40 }, (_, i) => m(PATIENTS[i % PATIENTS.length]!, `partly-${i}`));
      assert.deepEqual(await t.db.transaction((tx) => insertMeasurementColumns(tx, first.slice(0, 25), 'try-plain')), { inserted: 25, duplicates: false });
      const before = await countMeasurements(t.db);
      assert.deepEqual(await t.db.transaction((tx) => insertMeasurementColumns(tx, first, 'try-plain')), { inserted: 15, duplicates: true });
      assert.equal(await countMeasurements(t.db), before + 15);
      assert.deepEqual(await t.db.transaction((tx) => insertMeasurementColumns(tx, first, 'try-plain')), { inserted: 0, duplicates: true });
      assert.equal(await countMeasurements(t.db), before + 15);
    });

    test('a missing patient refuses the whole batch with 23503 on both paths, and the transaction can go on', async () => {
      const before = await countMeasurements(t.db);
      const rows = [m('P1', 'missing-1'), m('NOBODY', 'missing-2'), m('P1', 'missing-3')];
      for (const wrap of [(tx: Queryable) => tx, withoutCopy]) {
        await assert.rejects(
          t.db.transaction((tx) => insertMeasurementColumns(wrap(tx), rows, 'try-plain')),
          (error: unknown) => isCode(FOREIGN_KEY_VIOLATION)(error) && /patient 'NOBODY'/.test((error as Error).message),
        );
      }
      assert.equal(await countMeasurements(t.db), before);
      // In a savepoint of a longer transaction: rolled back to it, the transaction still commits.
      await t.db.transaction(async (tx) => {
        await tx.exec('SAVEPOINT caller');
        await assert.rejects(insertMeasurementColumns(tx, rows, 'try-plain'), isCode(FOREIGN_KEY_VIOLATION));
        await tx.exec('ROLLBACK TO SAVEPOINT caller');
        assert.equal((await insertMeasurementColumns(tx, [rows[0]!, rows[2]!], 'try-plain')).inserted, 2);
      });
      assert.equal(await countMeasurements(t.db), before + 2);
    });

    if (backend === 'postgres') {
      test('a COPY refused at its first row while megabytes are still being sent leaves the connection usable', async () => {
        // 60,000 rows (more than one statement's 50,000, about 6 MB), of which the first to be
        // sent is stored already: rows go grouped by patient, and 'P\ttab' sorts before 'P1'.
        const rows = Array.from({ length: 60_000 }, (_, i) => m(PATIENTS[i % 2]!, `big-${String(i).padStart(6, '0')}`, { time: new Date(Date.UTC(2026, 0, 5) + i * 1000).toISOString() }));
        assert.deepEqual(await t.db.transaction((tx) => insertMeasurementColumns(tx, [rows[1]!], 'try-plain')), { inserted: 1, duplicates: false });
        const before = await countMeasurements(t.db);
        assert.deepEqual(await t.db.transaction((tx) => insertMeasurementColumns(tx, rows, 'try-plain')), { inserted: 59_999, duplicates: true });
        assert.equal(await countMeasurements(t.db), before + 59_999);
        assert.equal(Number((await t.db.query<{ n: number }>(`SELECT count(DISTINCT record_id)::int AS n FROM measurement WHERE record_id LIKE 'big-%'`)).rows[0]!.n), 60_000);
      });

      test('copyFrom outside a transaction: a refused COPY stores nothing and the pool stays usable', async () => {
        const copyFrom = t.db.copyFrom!.bind(t.db);
        const before = await countMeasurements(t.db);
        const line = (patient: string, recordId: string) => `${patient}\tplatelets\t150\t10*3/uL\t2026-01-05T08:00:00Z\t\\N\tcopy-test\t${recordId}\t150\t10*3/uL\n`;
        const sql = `COPY measurement (${copyColumns}) FROM STDIN`;
        await assert.rejects(copyFrom(sql, Buffer.from(line('P1', 'pool-1') + line('GHOST', 'pool-2'))), isCode(FOREIGN_KEY_VIOLATION));
        await assert.rejects(copyFrom(sql, Buffer.from('not\ta\tmeasurement\n')), isCode('22P02')); // "measurement" is no float8
        await assert.rejects(copyFrom('COPY no_such_table FROM STDIN', Buffer.from('')), isCode('42P01'));
        assert.equal(await countMeasurements(t.db), before);
        assert.equal(await copyFrom(sql, Buffer.from(line('P1', 'pool-1') + line('P\\\\N', 'pool-2'))), 2);
        await assert.rejects(copyFrom(sql, Buffer.from(line('P1', 'pool-1'))), isCode(UNIQUE_VIOLATION));
        assert.equal(await countMeasurements(t.db), before + 2);
        const stored = await t.db.query<{ patient_id: string }>(`SELECT patient_id FROM measurement WHERE record_id = 'pool-2'`);
        assert.deepEqual(stored.rows, [{ patient_id: 'P\\N' }]);
      });
    }
  });

  describe(`migration 0008 on a ${backend} database holding data`, { skip }, () => {
    let t: TestDatabase;
    let dir: string;
    before(async () => {
      t = await openTestDatabase(backend, { migrated: false });
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-migrations-0007-'));
      for (const file of loadMigrations().filter((m) => m.version < 8)) fs.copyFileSync(path.join(DEFAULT_MIGRATIONS_DIR, file.file), path.join(dir, file.file));
    });
    after(async () => {
      fs.rmSync(dir, { recursive: true, force: true });
      await t?.dispose();
    });

    test('keeps the stored measurements; the provenance key refuses and skips exactly as before', async () => {
      assert.equal((await migrate(t.db, dir)).version, 7);
      await upsertSite(t.db, { id: 'athens', name: 'Athens ICU' });
      await upsertPatient(t.db, { id: 'OLD', siteId: 'athens', birthDate: null, sex: null, deceasedAt: null });
      const platelets = (recordId: string, source = 'migration-test', concept = 'platelets') => ({
        patientId: 'OLD',
        concept,
        value: 150,
        unit: '10*3/uL',
        effectiveStart: '2026-01-05T08:00:00Z',
        source,
        recordId,
      });
      assert.equal(await insertMeasurements(t.db, [platelets('b'), platelets('a'), platelets('B'), platelets('é')]), 4);
      const rows = async () => (await t.db.query(`SELECT id, patient_id, source, record_id, concept, value FROM measurement ORDER BY id`)).rows;
      const kept = await rows();

      const report = await migrate(t.db);
      assert.deepEqual(
        report.applied.map((m) => m.version),
        loadMigrations()
          .filter((m) => m.version >= 8)
          .map((m) => m.version),
      );
      assert.deepEqual(await rows(), kept);
      const key = await t.db.query<{ definition: string }>(
        `SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conrelid = 'measurement'::regclass AND conname = 'measurement_provenance_key'`,
      );
      assert.deepEqual(key.rows, [{ definition: 'UNIQUE (record_id, source, concept)' }]);
      const collation = await t.db.query<{ collation: string }>(
        `SELECT c.collname AS collation FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation WHERE a.attrelid = 'measurement'::regclass AND a.attname = 'record_id'`,
      );
      assert.deepEqual(collation.rows, [{ collation: 'C' }]);

      // Same (source, record id, concept): skipped by ON CONFLICT, refused by a plain INSERT.
      assert.equal(await insertMeasurements(t.db, [platelets('a'), platelets('é')]), 0);
      await assert.rejects(
        t.db.query(`INSERT INTO measurement (patient_id, concept, value, unit, effective_start, source, record_id) VALUES ('OLD', 'platelets', 1, '1', now(), 'migration-test', 'a')`),
        isCode(UNIQUE_VIOLATION),
      );
      // Any one of the three differing is another measurement (case and accents included).
      assert.equal(await insertMeasurements(t.db, [platelets('a', 'other-source'), platelets('a', 'migration-test', 'map'), platelets('A'), platelets('e')]), 4);
      assert.equal(await countMeasurements(t.db), 8);
    });
  });
}
