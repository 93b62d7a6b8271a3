/**
 * measurement.patient_id must name a stored patient. Since migration 0007 this is kept by
 * statement-level triggers instead of a per-row foreign key (see 0007_measurement_bulk.sql);
 * these tests pin the guarantee itself: SQLSTATE 23503, nothing of a failing statement stored,
 * referenced patients not deletable, and the same under concurrent transactions (PostgreSQL).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SourceMeasurement } from '../../src/sources/import-format.ts';
import { DatabaseError, type Database } from '../../src/store/db.ts';
import { insertMeasurementColumns } from '../../src/store/import-sink.ts';
import { DEFAULT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../src/store/migrate.ts';
import { type NewMeasurement, countMeasurements, insertMeasurements, upsertPatient, upsertSite } from '../../src/store/repository.ts';
import { type TestDatabase, openTestDatabase, testBackends } from '../support/backends.ts';

const FOREIGN_KEY_VIOLATION = '23503';

function platelets(recordId: string, patientId: string): NewMeasurement {
  return {
    patientId,
    concept: 'platelets',
    value: 150,
    unit: '10*3/uL',
    effectiveStart: '2026-01-05T08:00:00Z',
    source: 'integrity-test',
    recordId,
    originalValue: '150',
    originalUnit: '10*3/uL',
  };
}

function sourcePlatelets(recordId: string, patientId: string): SourceMeasurement {
  return {
    patientId,
    concept: 'platelets',
    value: 150,
    unit: '10*3/uL',
    time: '2026-01-05T08:00:00.000Z',
    provenance: { source: 'integrity-test', recordId },
  };
}

/** Asserts a foreign-key violation whose message matches `message`. */
function isForeignKeyViolation(message: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof DatabaseError, `expected a DatabaseError, got ${String(error)}`);
    assert.equal(error.code, FOREIGN_KEY_VIOLATION, error.message);
    assert.match(error.message, message);
    return true;
  };
}

async function patientIds(db: Database): Promise<string[]> {
  return (await db.query<{ id: string }>('SELECT id FROM patient ORDER BY id')).rows.map((r) => r.id);
}

async function count(db: Database, sql: string, params: unknown[] = []): Promise<number> {
  return Number((await db.query<{ n: number }>(sql, params)).rows[0]!.n);
}

for (const { backend, skip } of await testBackends()) {
  describe(`measurement -> patient integrity on ${backend}`, { skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await openTestDatabase(backend);
      await upsertSite(t.db, { id: 'athens', name: 'Athens ICU' });
      for (const id of ['P1', 'P2', 'LONELY', 'RENAME-ME']) {
        await upsertPatient(t.db, { id, siteId: 'athens', birthDate: null, sex: null, deceasedAt: null });
      }
      assert.equal(await insertMeasurements(t.db, [platelets('p1-a', 'P1'), platelets('p2-a', 'P2')]), 2);
    });
    after(async () => t?.dispose());

    test('the per-row foreign key is gone and the statement triggers are in place', async () => {
      const fks = await count(t.db, `SELECT count(*) AS n FROM pg_constraint WHERE conrelid = 'measurement'::regclass AND contype = 'f'`);
      assert.equal(fks, 0);
      const triggers = await t.db.query<{ tgname: string }>(
        `SELECT tgname FROM pg_trigger WHERE tgrelid IN ('measurement'::regclass, 'patient'::regclass) AND NOT tgisinternal ORDER BY tgname`,
      );
      assert.deepEqual(
        triggers.rows.map((r) => r.tgname),
        [
          'measurement_patient_exists_insert',
          'measurement_patient_exists_update',
          'patient_delete_unreferenced',
          'patient_rename_unreferenced',
          'patient_truncate_unreferenced',
        ],
      );
    });

    test('a measurement of a missing patient is refused with 23503 naming the patient', async () => {
      const before = await countMeasurements(t.db);
      await assert.rejects(insertMeasurements(t.db, [platelets('ghost-a', 'GHOST')]), isForeignKeyViolation(/patient 'GHOST', which does not exist/));
      assert.equal(await countMeasurements(t.db), before);
    });

    test('one bad row in a multi-row insert stores nothing of the statement', async () => {
      const before = await countMeasurements(t.db);
      const rows = [platelets('multi-1', 'P1'), platelets('multi-2', 'NOBODY'), platelets('multi-3', 'P2')];
      await assert.rejects(insertMeasurements(t.db, rows), isForeignKeyViolation(/patient 'NOBODY'/));
      assert.equal(await countMeasurements(t.db), before);
      assert.equal(await count(t.db, `SELECT count(*) AS n FROM measurement WHERE record_id LIKE 'multi-%'`), 0);
    });

    test('several missing patients: the message names the first and counts the others', async () => {
      const rows = [platelets('many-1', 'ZED'), platelets('many-2', 'ABSENT'), platelets('many-3', 'P1'), platelets('many-4', 'ABSENT')];
      await assert.rejects(insertMeasurements(t.db, rows), isForeignKeyViolation(/patient 'ABSENT', which does not exist \(nor do 1 other patients/));
    });

    test('the import path (COPY on the server, unnest INSERT on PGlite, in a savepoint) refuses the whole batch and the transaction rolls back', async () => {
      const before = await countMeasurements(t.db);
      const rows = [sourcePlatelets('bulk-1', 'P1'), sourcePlatelets('bulk-2', 'MISSING'), sourcePlatelets('bulk-3', 'P2')];
      await assert.rejects(
        t.db.transaction((tx) => insertMeasurementColumns(tx, rows, 'try-plain')),
        isForeignKeyViolation(/patient 'MISSING'/),
      );
      await assert.rejects(
        t.db.transaction((tx) => insertMeasurementColumns(tx, rows, 'skip-stored')),
        isForeignKeyViolation(/patient 'MISSING'/),
      );
      assert.equal(await countMeasurements(t.db), before);
      // The same rows without the bad one go in: the check is per statement, not a stuck state.
      const good = await t.db.transaction((tx) => insertMeasurementColumns(tx, [rows[0]!, rows[2]!], 'try-plain'));
      assert.equal(good.inserted, 2);
      assert.equal(await countMeasurements(t.db), before + 2);
    });

    test('moving a measurement to a missing patient is refused; to a stored one works', async () => {
      await assert.rejects(
        t.db.query(`UPDATE measurement SET patient_id = 'NOWHERE' WHERE record_id = 'p1-a'`),
        isForeignKeyViolation(/patient 'NOWHERE'/),
      );
      assert.equal(await count(t.db, `SELECT count(*) AS n FROM measurement WHERE record_id = 'p1-a' AND patient_id = 'P1'`), 1);
      const moved = await t.db.query(`UPDATE measurement SET patient_id = 'P2' WHERE record_id = 'p1-a'`);
      assert.equal(moved.affectedRows, 1);
      await t.db.query(`UPDATE measurement SET patient_id = 'P1' WHERE record_id = 'p1-a'`);
    });

    test('deleting a referenced patient fails with 23503; an unreferenced one is deleted', async () => {
      await assert.rejects(t.db.query(`DELETE FROM patient WHERE id = 'P1'`), isForeignKeyViolation(/cannot delete patient 'P1': measurements refer to it/));
      // A statement deleting a referenced and an unreferenced patient deletes neither.
      await assert.rejects(t.db.query(`DELETE FROM patient WHERE id IN ('P2', 'LONELY')`), isForeignKeyViolation(/patient 'P2'/));
      assert.deepEqual(await patientIds(t.db), ['LONELY', 'P1', 'P2', 'RENAME-ME']);
      const deleted = await t.db.query(`DELETE FROM patient WHERE id = 'LONELY'`);
      assert.equal(deleted.affectedRows, 1);
      assert.deepEqual(await patientIds(t.db), ['P1', 'P2', 'RENAME-ME']);
    });

    test("changing a referenced patient's id fails with 23503; other updates of it work", async () => {
      await assert.rejects(t.db.query(`UPDATE patient SET id = 'P1-NEW' WHERE id = 'P1'`), isForeignKeyViolation(/cannot change the id of patient 'P1'/));
      assert.deepEqual(await patientIds(t.db), ['P1', 'P2', 'RENAME-ME']);
      await t.db.query(`UPDATE patient SET sex = 'female' WHERE id = 'P1'`);
      const renamed = await t.db.query(`UPDATE patient SET id = 'RENAMED' WHERE id = 'RENAME-ME'`);
      assert.equal(renamed.affectedRows, 1);
      assert.deepEqual(await patientIds(t.db), ['P1', 'P2', 'RENAMED']);
    });
  });

  describe(`migration 0007 on a ${backend} database holding data`, { skip }, () => {
    let t: TestDatabase;
    let dir: string;
    before(async () => {
      t = await openTestDatabase(backend, { migrated: false });
      // The migrations before 0007, byte for byte (same checksums as the shipped ones).
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-migrations-0006-'));
      for (const m of loadMigrations().filter((m) => m.version < 7)) fs.copyFileSync(path.join(DEFAULT_MIGRATIONS_DIR, m.file), path.join(dir, m.file));
    });
    after(async () => {
      fs.rmSync(dir, { recursive: true, force: true });
      await t?.dispose();
    });

    test('applies over stored measurements, keeps them and then enforces the rule', async () => {
      assert.equal((await migrate(t.db, dir)).version, 6);
      await upsertSite(t.db, { id: 'athens', name: 'Athens ICU' });
      await upsertPatient(t.db, { id: 'OLD', siteId: 'athens', birthDate: null, sex: null, deceasedAt: null });
      assert.equal(await insertMeasurements(t.db, [platelets('old-1', 'OLD'), platelets('old-2', 'OLD')]), 2);

      const report = await migrate(t.db);
      assert.deepEqual(
        report.applied.map((m) => m.version),
        loadMigrations()
          .filter((m) => m.version >= 7)
          .map((m) => m.version),
      );
      assert.equal(await countMeasurements(t.db), 2);
      await assert.rejects(t.db.query(`DELETE FROM patient WHERE id = 'OLD'`), isForeignKeyViolation(/patient 'OLD'/));
      await assert.rejects(insertMeasurements(t.db, [platelets('new-1', 'NEW')]), isForeignKeyViolation(/patient 'NEW'/));
    });
  });

  if (backend === 'postgres') {
    describe('measurement -> patient integrity under concurrent transactions on postgres', { skip }, () => {
      let t: TestDatabase;
      before(async () => {
        t = await openTestDatabase(backend);
        await upsertSite(t.db, { id: 'athens', name: 'Athens ICU' });
        for (const id of ['RACE-1', 'RACE-2']) await upsertPatient(t.db, { id, siteId: 'athens', birthDate: null, sex: null, deceasedAt: null });
      });
      after(async () => t?.dispose());

      /** Waits until a statement carrying `tag` is blocked on a lock held by another transaction. */
      async function blocked(tag: string): Promise<void> {
        for (let i = 0; i < 500; i++) {
          const n = await count(t.db, `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`, [`%${tag}%`]);
          if (n > 0) return;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        assert.fail(`the statement tagged ${tag} never waited for a lock`);
      }

      test('a delete waiting for an uncommitted insert of the patient\'s measurement is refused once it commits', async () => {
        let inserted!: () => void;
        const insertedNow = new Promise<void>((resolve) => (inserted = resolve));
        let commit!: () => void;
        const commitNow = new Promise<void>((resolve) => (commit = resolve));
        const writer = t.db.transaction(async (tx) => {
          await insertMeasurements(tx, [platelets('race-1', 'RACE-1')]);
          inserted();
          await commitNow;
        });
        await insertedNow;
        const deleter = t.db.query(`DELETE FROM patient /* race-delete */ WHERE id = 'RACE-1'`);
        deleter.catch(() => {});
        await blocked('race-delete');
        commit();
        await writer;
        await assert.rejects(deleter, isForeignKeyViolation(/patient 'RACE-1'/));
        assert.equal(await count(t.db, `SELECT count(*) AS n FROM measurement m JOIN patient p ON p.id = m.patient_id WHERE m.record_id = 'race-1'`), 1);
      });

      test('an insert waiting for an uncommitted delete of its patient is refused once the delete commits', async () => {
        let deleted!: () => void;
        const deletedNow = new Promise<void>((resolve) => (deleted = resolve));
        let commit!: () => void;
        const commitNow = new Promise<void>((resolve) => (commit = resolve));
        const deleter = t.db.transaction(async (tx) => {
          assert.equal((await tx.query(`DELETE FROM patient WHERE id = 'RACE-2'`)).affectedRows, 1);
          deleted();
          await commitNow;
        });
        await deletedNow;
        const writer = t.db.query(
          `INSERT INTO measurement /* race-insert */ (patient_id, concept, value, unit, effective_start, source, record_id)
           VALUES ('RACE-2', 'platelets', 150, '10*3/uL', '2026-01-05T08:00:00Z', 'integrity-test', 'race-2')`,
        );
        writer.catch(() => {});
        await blocked('race-insert');
        commit();
        await deleter;
        await assert.rejects(writer, isForeignKeyViolation(/patient 'RACE-2', which does not exist/));
        assert.equal(await count(t.db, `SELECT count(*) AS n FROM measurement WHERE patient_id = 'RACE-2'`), 0);
      });
    });
  }
}
