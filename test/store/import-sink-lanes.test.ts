/**
 * StoreImportSink with two writes in flight (its default on the PostgreSQL server): batches are
 * stored exactly as one at a time stores them, commits stay in batch order (a batch whose
 * predecessor failed is rolled back, so a checkpoint never passes an unstored batch), and the
 * two transactions never wait for each other inside the database (a later batch naming a
 * patient, or a record id, of the batch in flight waits for its commit first). Run on both
 * backends; on PGlite the transactions queue on its one connection, on the server they overlap.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultConceptDictionary } from '../../src/sources/concepts/dictionary.ts';
import type { SourceMeasurement } from '../../src/sources/import-format.ts';
import { type ImportBatch, runImport } from '../../src/sources/ingest/run.ts';
import { DatabaseError } from '../../src/store/db.ts';
import { StoreImportSink } from '../../src/store/import-sink.ts';
import { countMeasurements } from '../../src/store/repository.ts';
import { type TestDatabase, openTestDatabase, testBackends } from '../support/backends.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);

function measurement(patientId: string, i: number, source: string, time?: string): SourceMeasurement {
  return {
    patientId,
    concept: 'platelets',
    value: 100 + (i % 300),
    unit: '10*3/uL',
    time: time ?? new Date(T0 + i * 60_000).toISOString(),
    provenance: { source, recordId: `${source}-${i}` },
  };
}

function batch(fileKey: string, throughLine: number, measurements: SourceMeasurement[], patients: string[] = []): ImportBatch {
  return {
    fileKey,
    file: `${fileKey}.csv`,
    throughLine,
    complete: false,
    records: measurements.length,
    patients: patients.map((id) => ({ id })),
    measurements,
    defaultSiteId: 'default',
  };
}

async function checkpointLine(t: TestDatabase, fileKey: string): Promise<number | undefined> {
  const result = await t.db.query<{ line_number: string | number }>('SELECT line_number FROM import_checkpoint WHERE file_key = $1', [fileKey]);
  return result.rows[0] === undefined ? undefined : Number(result.rows[0].line_number);
}

async function stored(t: TestDatabase, source: string): Promise<string[]> {
  const result = await t.db.query<{ row: string }>(
    `SELECT patient_id || ' ' || concept || ' ' || value || ' ' || to_char(effective_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') AS row
       FROM measurement WHERE source = $1 ORDER BY 1`,
    [source],
  );
  return result.rows.map((r) => r.row);
}

/**
 * A simple CSV of `rows` lines in which new patients keep appearing (one every 700 lines, so
 * at batch boundaries too) and 40 lines are repeated 600 lines later (across batches).
 */
function writeCsv(file: string, rows: number): { lines: number; distinct: number } {
  const lines = ['patient_id,time,concept,value,unit'];
  const body: string[] = [];
  for (let i = 0; i < rows; i++) {
    const patient = `L-${Math.floor(i / 700)}-${i % 3}`;
    body.push(`${patient},${new Date(T0 + (i % 5000) * HOUR).toISOString()},platelets,${100 + (i % 300)},10*3/uL`);
    if (i % 150 === 0 && i >= 600 && body.length < rows + 40) body.push(body[i - 600]!);
  }
  lines.push(...body);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return { lines: lines.length, distinct: new Set(body).size };
}

for (const { backend, skip } of await testBackends()) {
  describe(`StoreImportSink with two writes in flight on ${backend}`, { skip, timeout: 120_000 }, () => {
    let t: TestDatabase;
    let dir: string;
    before(async () => {
      t = await openTestDatabase(backend);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-sink-lanes-'));
    });
    after(async () => {
      await t?.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    test('the default is two on the server and one on PGlite', () => {
      assert.equal(new StoreImportSink(t.db).writesInFlight, backend === 'postgres' ? 2 : 1);
      assert.equal(new StoreImportSink(t.db, { writesInFlight: 1 }).writesInFlight, 1);
    });

    test('an import stores exactly what one write at a time stores: same rows, duplicates across batches, new patients at batch edges', async () => {
      const file = path.join(dir, 'lanes.csv');
      const { lines, distinct } = writeCsv(file, 12_000);
      const summaries = [];
      for (const [source, writesInFlight] of [
        ['one-lane', 1],
        ['two-lanes', 2],
      ] as const) {
        const sink = new StoreImportSink(t.db, { writesInFlight });
        summaries.push(await runImport([file], { dictionary: defaultConceptDictionary(), sink, source, batchMeasurements: 500, chunkRecords: 100 }));
      }
      const [one, two] = summaries;
      assert.equal(one!.errors, 0, JSON.stringify(one!.issues.slice(0, 3)));
      assert.equal(two!.errors, 0, JSON.stringify(two!.issues.slice(0, 3)));
      assert.equal(one!.inserted, distinct);
      assert.equal(two!.inserted, distinct);
      assert.equal(two!.duplicates, one!.duplicates);
      assert.ok(two!.duplicates >= 40, `the repeated lines count as duplicates (${two!.duplicates})`);
      assert.deepEqual(await stored(t, 'two-lanes'), await stored(t, 'one-lane'));
      const checkpoints = await t.db.query<{ line_number: string | number; complete: boolean; measurements: string | number }>(
        'SELECT line_number, complete, measurements FROM import_checkpoint ORDER BY measurements',
      );
      assert.deepEqual(
        checkpoints.rows.map((r) => [Number(r.line_number), r.complete, Number(r.measurements)]),
        [
          [lines, true, distinct],
          [lines, true, distinct],
        ],
      );
      // Importing again stores nothing new.
      const again = await runImport([file], { dictionary: defaultConceptDictionary(), sink: new StoreImportSink(t.db, { writesInFlight: 2 }), source: 'two-lanes', resume: false, batchMeasurements: 500 });
      assert.equal(again.inserted, 0);
    });

    test('a batch after a failed one is not committed, and the checkpoint stays before the failure', async () => {
      const sink = new StoreImportSink(t.db, { writesInFlight: 2 });
      const before = await countMeasurements(t.db);
      const ok1 = batch('fail-middle', 100, [measurement('F-1', 1, 'fail-middle'), measurement('F-1', 2, 'fail-middle')], ['F-1']);
      // An impossible time: the database refuses the whole statement.
      const bad = batch('fail-middle', 200, [measurement('F-1', 3, 'fail-middle'), measurement('F-1', 4, 'fail-middle', '2026-13-45T99:00:00Z')]);
      const ok3 = batch('fail-middle', 300, [measurement('F-1', 5, 'fail-middle')]);
      const results = await Promise.allSettled([sink.write(ok1), sink.write(bad), sink.write(ok3)]);
      assert.equal(results[0].status, 'fulfilled');
      assert.equal(results[1].status, 'rejected');
      assert.ok((results[1] as PromiseRejectedResult).reason instanceof DatabaseError);
      assert.equal(results[2].status, 'rejected');
      assert.match(String((results[2] as PromiseRejectedResult).reason), /batch before this one was not stored/);
      assert.equal(await checkpointLine(t, 'fail-middle'), 100);
      assert.equal((await countMeasurements(t.db)) - before, 2);
    });

    test('commits keep the order of the writes: a small batch after a large failing one is rolled back', async () => {
      const sink = new StoreImportSink(t.db, { writesInFlight: 2 });
      // The patients exist before (so the small batch has no reason to wait for the large one).
      const patients = Array.from({ length: 20 }, (_, i) => `O-${i}`);
      await sink.write(batch('order', 1, patients.map((id, i) => measurement(id, 200_000 + i, 'order')), patients));
      const before = await countMeasurements(t.db);
      const large = Array.from({ length: 20_000 }, (_, i) => measurement(`O-${i % 20}`, i, 'order'));
      large.push(measurement('O-1', 99_999, 'order', 'not a time'));
      const results = await Promise.allSettled([sink.write(batch('order', 20_001, large)), sink.write(batch('order', 20_002, [measurement('O-1', 100_000, 'order')]))]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['rejected', 'rejected'],
      );
      assert.match(String((results[1] as PromiseRejectedResult).reason), /batch before this one was not stored/);
      assert.equal(await checkpointLine(t, 'order'), 1);
      assert.equal(await countMeasurements(t.db), before);
    });

    test('a batch naming a patient that the batch in flight creates is stored after it', async () => {
      const sink = new StoreImportSink(t.db, { writesInFlight: 2 });
      const first = Array.from({ length: 20_000 }, (_, i) => measurement(i % 2 === 0 ? 'NEW-A' : 'NEW-B', i, 'new-patients'));
      // The second batch names NEW-B without a patient record of its own: only the first creates it.
      const second = [measurement('NEW-B', 20_000, 'new-patients'), measurement('NEW-C', 20_001, 'new-patients')];
      const [a, b] = await Promise.all([sink.write(batch('new-patients', 20_000, first, ['NEW-A', 'NEW-B'])), sink.write(batch('new-patients', 20_002, second, ['NEW-C']))]);
      assert.equal(a.inserted, 20_000);
      assert.equal(b.inserted, 2);
      assert.equal(await checkpointLine(t, 'new-patients'), 20_002);
    });
  });
}

for (const { backend, skip } of await testBackends()) {
  if (backend !== 'postgres') continue;
  describe('StoreImportSink with two writes in flight: a lock held elsewhere', { skip, timeout: 60_000 }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await openTestDatabase(backend);
    });
    after(async () => {
      await t?.dispose();
    });

    test('a write waiting too long for rows another transaction holds fails with a clear error, nothing stored, the checkpoint unchanged', async () => {
      const sink = new StoreImportSink(t.db, { writesInFlight: 2, lockTimeoutMs: 300 });
      await sink.write(batch('held', 1, [measurement('H-1', 1, 'held')], ['H-1']));
      const before = await countMeasurements(t.db);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let holding!: () => void;
      const isHolding = new Promise<void>((resolve) => (holding = resolve));
      // Another transaction (another import, say) inserts the same record and stays open.
      const other = t.db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO measurement (patient_id, concept, value, unit, effective_start, source, record_id) VALUES ('H-1', 'platelets', 1, '10*3/uL', now(), 'held', 'held-2')`,
        );
        holding();
        await held;
        throw new Error('rolled back on purpose');
      });
      await isHolding;
      await assert.rejects(sink.write(batch('held', 2, [measurement('H-1', 2, 'held')])), (error: unknown) => {
        assert.ok(error instanceof DatabaseError);
        assert.equal(error.code, '55P03');
        assert.match(error.message, /waited more than 0.3 s for rows another transaction holds .* running the import again resumes/);
        return true;
      });
      release();
      await assert.rejects(other, /rolled back on purpose/);
      assert.equal(await countMeasurements(t.db), before);
      assert.equal(await checkpointLine(t, 'held'), 1);
    });
  });
}
