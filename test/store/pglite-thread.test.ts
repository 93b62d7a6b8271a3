/**
 * The embedded database in a worker thread (src/store/pglite-thread.ts) keeps the store's
 * contract: the same rows and values as in-process PGlite for the same statements, the same
 * DatabaseError and SQLSTATE, transactions that commit, roll back and serialise as in-process,
 * migrations and the store's own functions through it; a dead thread fails every call instead of
 * hanging; close() is idempotent, releases the directory lock and lets the process exit; and a
 * data directory written in one mode opens in the other.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createCdsCallRecorder } from '../../src/server/cds/recorder.ts';
import { type CdsCallEntry, listCdsCalls, recordCdsCall, recordCdsCalls } from '../../src/store/cds.ts';
import { type Database, DatabaseError } from '../../src/store/db.ts';
import { MigrationError, loadMigrations, migrate } from '../../src/store/migrate.ts';
import { openPGlite } from '../../src/store/pglite.ts';
import { databaseThreadOf } from '../../src/store/pglite-thread.ts';
import { countMeasurements, getPatient, insertMeasurements, listMeasurements, listPatients, upsertPatient, upsertSite } from '../../src/store/repository.ts';

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '../..');
/** A hang is a failure here, not a stuck test run. */
const LIMIT = { timeout: 120_000 };

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ig-pglite-thread-'));
}

/** What a failed call rejected with, for comparing the two backends. */
async function failure(call: () => Promise<unknown>): Promise<{ name: string; message: string; code: string | undefined; isDatabaseError: boolean }> {
  try {
    await call();
  } catch (error) {
    const e = error as Error & { code?: string };
    return { name: e.name, message: e.message, code: e.code, isDatabaseError: error instanceof DatabaseError };
  }
  throw new Error('expected the call to fail');
}

/** Whether `promise` has settled so far: lets a test look without waiting on a clock. */
function settledYet(promise: Promise<unknown>): { done: () => boolean } {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  return { done: () => done };
}

/** A value whose text and JSON differ from a plain copy of it: PGlite must see the instance's toString/toJSON. */
class Dose {
  mg: number;
  constructor(mg: number) {
    this.mg = mg;
  }
  toString(): string {
    return `${this.mg} mg`;
  }
  toJSON(): unknown {
    return { dose: `${this.mg} mg` };
  }
}

describe('PGlite in a worker thread: same values as in-process', () => {
  let threaded: Database;
  let inProcess: Database;
  before(async () => {
    [threaded, inProcess] = await Promise.all([openPGlite({ thread: true }), openPGlite()]);
  });
  after(async () => {
    await Promise.all([threaded?.close(), inProcess?.close()]);
  });

  test('the database says it is PGlite, in memory, and runs in a thread', () => {
    assert.equal(threaded.backend, 'pglite');
    assert.equal(threaded.location, 'memory');
    assert.ok(databaseThreadOf(threaded), 'a worker behind the threaded database');
    assert.equal(databaseThreadOf(inProcess), undefined);
  });

  test('rows of many column types are identical (Date, bigint, numeric, jsonb, bytea, arrays, NULL)', LIMIT, async () => {
    const sql = `SELECT 1::int2 AS int2, 2::int4 AS int4, 42::int8 AS int8_small, 9007199254740993::int8 AS int8_big,
      12.50::numeric AS numeric, 1.5::float4 AS float4, 'NaN'::float8 AS nan, -0.0::float8 AS minus_zero, true AS bool,
      'x'::text AS text, 'v'::varchar(3) AS varchar, 'c'::char(2) AS bpchar,
      '2026-03-01T12:00:00.123Z'::timestamptz AS timestamptz, '2026-03-01 12:00'::timestamp AS timestamp,
      '2026-03-01'::date AS date, 'infinity'::timestamptz AS infinity, '12:30'::time AS time, '1 day 2 hours'::interval AS interval,
      '{"a": [1, {"b": null}], "c": "d", "e": 1.5}'::jsonb AS jsonb, '[1, 2]'::json AS json, '\\x00ff10'::bytea AS bytea,
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS uuid, ARRAY[1, 2, NULL]::int4[] AS int4s, ARRAY['a', 'b c']::text[] AS texts,
      ARRAY['2026-01-01T00:00:00Z'::timestamptz] AS timestamps, NULL::text AS null_text, '127.0.0.1'::inet AS inet`;
    const [fromThread, fromProcess] = await Promise.all([threaded.query(sql), inProcess.query(sql)]);
    assert.deepStrictEqual(fromThread, fromProcess);
    // The comparison above is only worth something if the values are the rich ones.
    const row = fromThread.rows[0]!;
    assert.ok(row.timestamptz instanceof Date && row.timestamptz.toISOString() === '2026-03-01T12:00:00.123Z');
    assert.equal(row.int8_big, 9007199254740993n);
    assert.equal(row.int8_small, 42);
    assert.ok(row.bytea instanceof Uint8Array);
    assert.deepEqual([...(row.bytea as Uint8Array)], [0, 255, 16]);
    assert.deepEqual(row.jsonb, { a: [1, { b: null }], c: 'd', e: 1.5 });
    assert.deepEqual(row.int4s, [1, 2, null]);
    assert.equal(row.infinity, Infinity);
    assert.ok(Object.is(row.minus_zero, -0));
  });

  test('parameters arrive as in-process: Date, object, bigint, Uint8Array, Buffer, arrays, class instances', LIMIT, async () => {
    const sql = `SELECT $1::timestamptz AS ts, $2::jsonb AS doc, $3::bytea AS bytes, $4::int8 AS big, $5::text AS url,
      $6::text[] AS list, $7::bytea AS buffer, $8::text AS buffer_text, $9::numeric AS num, $10::text AS dose_text,
      $11::jsonb AS dose_json, $12::jsonb AS nested, $13::text AS nothing, $14::boolean AS flag`;
    const params = () => [
      new Date('2026-03-01T12:00:00Z'),
      { when: new Date(0), list: [1, 'two', null], big: 5n },
      new Uint8Array([0, 1, 255]),
      9007199254740993n,
      new URL('https://example.org/x?y=1'),
      ['a', null, 'c'],
      Buffer.from('hé'),
      Buffer.from('hi'),
      '12.50',
      new Dose(5),
      new Dose(7),
      { doses: [new Dose(1), { inner: new Dose(2) }] },
      undefined,
      1,
    ];
    const [fromThread, fromProcess] = await Promise.all([threaded.query(sql, params()), inProcess.query(sql, params())]);
    assert.deepStrictEqual(fromThread, fromProcess);
    const row = fromThread.rows[0]!;
    assert.equal(row.url, 'https://example.org/x?y=1');
    assert.equal(row.buffer_text, 'hi');
    assert.equal(row.dose_text, '5 mg');
    assert.deepEqual(row.dose_json, { dose: '7 mg' });
    assert.deepEqual(row.nested, { doses: [{ dose: '1 mg' }, { inner: { dose: '2 mg' } }] });
    assert.deepEqual(row.doc, { when: '1970-01-01T00:00:00.000Z', list: [1, 'two', null], big: '5' });
  });

  test('exec runs several statements; affectedRows counts as in-process', LIMIT, async () => {
    const script = `CREATE TABLE counted (id int PRIMARY KEY, note text); INSERT INTO counted VALUES (1, 'a'), (2, 'b'), (3, 'c');`;
    await Promise.all([threaded.exec(script), inProcess.exec(script)]);
    for (const [sql, params] of [
      ['UPDATE counted SET note = $1 WHERE id > $2', ['z', 1]],
      ['DELETE FROM counted WHERE id = $1', [3]],
      ['INSERT INTO counted VALUES ($1, $2) RETURNING *', [4, 'd']],
      ['SELECT * FROM counted ORDER BY id', []],
    ] as const) {
      const [fromThread, fromProcess] = await Promise.all([threaded.query(sql, params), inProcess.query(sql, params)]);
      assert.deepStrictEqual(fromThread, fromProcess, sql);
    }
    assert.deepEqual((await threaded.query('SELECT id, note FROM counted ORDER BY id')).rows, [
      { id: 1, note: 'a' },
      { id: 2, note: 'z' },
      { id: 4, note: 'd' },
    ]);
  });

  test('errors are the same DatabaseError with the same SQLSTATE (unique, 40001, syntax, missing table, division by zero)', LIMIT, async () => {
    await Promise.all([threaded.exec('CREATE TABLE uniq (id int PRIMARY KEY)'), inProcess.exec('CREATE TABLE uniq (id int PRIMARY KEY)')]);
    await Promise.all([threaded.query('INSERT INTO uniq VALUES (1)'), inProcess.query('INSERT INTO uniq VALUES (1)')]);
    const cases: Array<[string, (db: Database) => Promise<unknown>, string]> = [
      ['unique violation', (db) => db.query('INSERT INTO uniq VALUES ($1)', [1]), '23505'],
      ['serialization failure raised', (db) => db.exec(`DO $$ BEGIN RAISE EXCEPTION 'try again' USING ERRCODE = 'serialization_failure'; END $$`), '40001'],
      ['syntax error', (db) => db.query('SELEC 1'), '42601'],
      ['missing table', (db) => db.exec('SELECT * FROM no_such_table'), '42P01'],
      ['division by zero', (db) => db.query('SELECT 1 / $1::int AS x', [0]), '22012'],
      ['unique violation in a transaction', (db) => db.transaction((tx) => tx.query('INSERT INTO uniq VALUES (1)')), '23505'],
    ];
    for (const [name, call, code] of cases) {
      const [fromThread, fromProcess] = await Promise.all([failure(() => call(threaded)), failure(() => call(inProcess))]);
      assert.deepEqual(fromThread, fromProcess, name);
      assert.equal(fromThread.code, code, name);
      assert.equal(fromThread.isDatabaseError, true, name);
    }
    // The PostgreSQL fields travel as the error's cause, as PGlite's own error is in-process.
    const error = await threaded.query('INSERT INTO uniq VALUES (1)').catch((e: unknown) => e);
    assert.ok(error instanceof DatabaseError);
    assert.equal((error.cause as { constraint?: string }).constraint, 'uniq_pkey');
    assert.match((error.cause as { detail?: string }).detail ?? '', /Key \(id\)=\(1\) already exists/);
  });

  test('a statement on a transaction that has ended is refused, as in-process', LIMIT, async () => {
    for (const db of [threaded, inProcess]) {
      let leaked: { query: Database['query'] } | undefined;
      await db.transaction(async (tx) => {
        leaked = tx;
      });
      const failed = await failure(() => leaked!.query('SELECT 1'));
      assert.equal(failed.isDatabaseError, true);
      assert.match(failed.message, /Transaction is closed/);
    }
  });
});

describe('PGlite in a worker thread: migrations, transactions and the store', () => {
  let db: Database;
  before(async () => {
    db = await openPGlite({ thread: true });
  });
  after(async () => {
    await db?.close();
  });

  test('migrations run through the thread, once, to the same schema as in-process', LIMIT, async () => {
    const report = await migrate(db);
    assert.equal(report.applied.length, loadMigrations().length);
    assert.deepEqual((await migrate(db)).applied, [], 'nothing left the second time');
    const reference = await openPGlite();
    try {
      await migrate(reference);
      const tables = `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`;
      assert.deepEqual((await db.query(tables)).rows, (await reference.query(tables)).rows);
    } finally {
      await reference.close();
    }
  });

  test('a failing migration leaves nothing behind (the migration transaction rolls back in the thread)', LIMIT, async () => {
    const dir = tempDir();
    try {
      fs.writeFileSync(path.join(dir, '0001_good.sql'), 'CREATE TABLE thread_good (id int);');
      fs.writeFileSync(path.join(dir, '0002_bad.sql'), 'CREATE TABLE thread_bad (id int); SELECT 1 / 0;');
      const scratch = await openPGlite({ thread: true });
      try {
        await assert.rejects(migrate(scratch, dir), (error: unknown) => error instanceof MigrationError && /0002_bad\.sql failed: division by zero \(SQLSTATE 22012\)/.test(error.message));
        const left = await scratch.query(`SELECT to_regclass('thread_good') AS good, to_regclass('schema_migrations') AS history`);
        assert.deepEqual(left.rows, [{ good: null, history: null }]);
      } finally {
        await scratch.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a transaction commits when its work resolves and returns its value', LIMIT, async () => {
    await db.exec('CREATE TABLE tx_items (id int PRIMARY KEY, label text)');
    const value = await db.transaction(async (tx) => {
      await tx.query('INSERT INTO tx_items VALUES ($1, $2)', [1, 'one']);
      await tx.exec(`INSERT INTO tx_items VALUES (2, 'two')`);
      return (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM tx_items')).rows[0]!.n;
    });
    assert.equal(value, 2);
    assert.deepEqual((await db.query('SELECT id FROM tx_items ORDER BY id')).rows, [{ id: 1 }, { id: 2 }]);
  });

  test('a transaction rolls back when its work throws, and the same error is rethrown', LIMIT, async () => {
    const thrown = new Error('work failed');
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO tx_items VALUES ($1, $2)', [10, 'ten']);
        assert.equal((await tx.query('SELECT 1 FROM tx_items WHERE id = 10')).rows.length, 1, 'visible inside');
        throw thrown;
      }),
      (error: unknown) => error === thrown,
    );
    assert.deepEqual((await db.query('SELECT id FROM tx_items WHERE id = 10')).rows, [], 'nothing visible afterwards');
    // A statement that failed inside, with the error swallowed by the work, still rolls back.
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO tx_items VALUES ($1, $2)', [11, 'eleven']);
        await tx.query('INSERT INTO tx_items VALUES ($1, $2)', [1, 'duplicate']).catch(() => {});
      }),
      DatabaseError,
    );
    assert.deepEqual((await db.query('SELECT id FROM tx_items WHERE id = 11')).rows, []);
  });

  test('statements from outside a running transaction wait for it and see its committed state', LIMIT, async () => {
    let outside: Promise<{ rows: Array<{ n: number }> }> | undefined;
    let watch: { done: () => boolean } | undefined;
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO tx_items VALUES ($1, $2)', [20, 'twenty']);
      outside = db.query<{ n: number }>('SELECT count(*)::int AS n FROM tx_items WHERE id = 20');
      watch = settledYet(outside);
      // Round trips sent after the outside statement: had it not waited, it would have been answered first.
      for (let i = 0; i < 5; i++) await tx.query('SELECT 1');
      assert.equal(watch.done(), false, 'the outside statement waits for the transaction');
      await tx.query('UPDATE tx_items SET label = $1 WHERE id = 20', ['twenty!']);
    });
    assert.deepEqual((await outside!).rows, [{ n: 1 }]);
    assert.deepEqual((await db.query('SELECT label FROM tx_items WHERE id = 20')).rows, [{ label: 'twenty!' }]);
  });

  test('concurrent transactions run one after the other (no lost update)', LIMIT, async () => {
    await db.exec('CREATE TABLE tx_counter (n int NOT NULL); INSERT INTO tx_counter VALUES (0);');
    const log: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        db.transaction(async (tx) => {
          log.push(`start ${i}`);
          const n = (await tx.query<{ n: number }>('SELECT n FROM tx_counter')).rows[0]!.n;
          await new Promise((resolve) => setImmediate(resolve));
          await tx.query('UPDATE tx_counter SET n = $1', [n + 1]);
          log.push(`end ${i}`);
        }),
      ),
    );
    assert.deepEqual((await db.query('SELECT n FROM tx_counter')).rows, [{ n: 8 }]);
    for (let k = 0; k < log.length; k += 2) {
      assert.equal(log[k + 1], log[k]!.replace('start', 'end'), `transactions interleaved: ${log.join(', ')}`);
    }
  });

  test('CDS call records: recordCdsCall(s) and the group-commit recorder through the thread', LIMIT, async () => {
    const entry = (patientRef: string, jti: string | null): CdsCallEntry => ({
      call: { serviceId: 'immunoguide-patient-view', hook: 'patient-view', hookInstance: randomUUID(), issuer: 'https://ehr.example.org/', tenant: null, userRef: 'Practitioner/1', patientRef, dataSources: [{ key: 'biomarkers', status: 'ok' }] },
      cards: [{ uuid: randomUUID(), indicator: 'warning', summary: `card for ${patientRef}`, kind: 'immune-class', suggestions: [] }],
      claim: jti === null ? null : { issuer: 'https://ehr.example.org/', jti, expiresAt: new Date('2030-01-01T00:00:00Z') },
    });
    assert.deepEqual(await recordCdsCalls(db, [entry('T-1', 'j1'), entry('T-1', 'j1'), entry('T-1', 'j2')]), [true, false, true], 'a jti twice in one batch');
    assert.equal(await recordCdsCall(db, entry('T-1', 'j2').call, [], entry('T-1', 'j2').claim), false, 'replay');

    const sizes: number[] = [];
    const recorder = createCdsCallRecorder(db, { onBatch: (size) => sizes.push(size) });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => recorder.record(entry('T-2', i === 39 ? 'r0' : `r${i}`))));
    await recorder.flush();
    assert.equal(results.filter(Boolean).length, 39, 'the replayed jti alone is refused');
    assert.equal(results[39], false);
    assert.ok(sizes.some((size) => size > 1), `calls share writes: ${sizes.join(', ')}`);
    const calls = await listCdsCalls(db, 'T-2');
    assert.equal(calls.length, 39);
    assert.equal(calls[0]!.cardCount, 1);
    assert.equal(calls[0]!.cards[0]!.summary, 'card for T-2');
  });

  test('repository functions read back what they wrote, as on the in-process backend', LIMIT, async () => {
    const reference = await openPGlite();
    try {
      await migrate(reference);
      const results = [];
      for (const target of [db, reference]) {
        await upsertSite(target, { id: 'athens', name: 'Athens ICU' });
        await upsertPatient(target, { id: 'P1', siteId: 'athens', birthDate: '1950-03-02', sex: 'female', deceasedAt: '2026-02-01T10:00:00.000Z' });
        const inserted = await insertMeasurements(target, [
          { patientId: 'P1', concept: 'ferritin', value: 4420.5, unit: 'ng/mL', effectiveStart: '2026-01-05T08:00:00.000Z', source: 'test', recordId: 'r1', originalValue: '4420.5', originalUnit: 'ng/mL' },
          { patientId: 'P1', concept: 'crp', value: 120, unit: 'mg/L', effectiveStart: '2026-01-05T09:00:00.000Z', source: 'test', recordId: 'r2' },
        ]);
        results.push({
          inserted,
          again: await insertMeasurements(target, [{ patientId: 'P1', concept: 'crp', value: 120, unit: 'mg/L', effectiveStart: '2026-01-05T09:00:00.000Z', source: 'test', recordId: 'r2' }]),
          patient: await getPatient(target, 'P1'),
          patients: await listPatients(target, ['athens']),
          measurements: (await listMeasurements(target, { patientId: 'P1' })).map(({ id: _id, ...m }) => m),
          count: await countMeasurements(target),
        });
      }
      assert.deepStrictEqual(results[0], results[1]);
      assert.equal(results[0]!.inserted, 2);
      assert.equal(results[0]!.again, 0);
      assert.equal(results[0]!.patient?.deceasedAt, '2026-02-01T10:00:00.000Z');
    } finally {
      await reference.close();
    }
  });
});

describe('PGlite in a worker thread: failure, close, lock and data directory', () => {
  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });
  const dir = (): string => {
    const made = tempDir();
    dirs.push(made);
    return made;
  };

  /** A second process opening `dataDir` on a thread: {ok, one} or {ok: false, message}; it must exit by itself. */
  async function openInChild(dataDir: string, mode: 'close' | 'leave-open'): Promise<{ ok: boolean; one?: number; message?: string }> {
    const script = path.join(dir(), 'child.mts');
    fs.writeFileSync(
      script,
      `import { openPGlite } from ${JSON.stringify(pathToFileURL(path.join(REPO, 'src/store/pglite.ts')).href)};
       try {
         const db = await openPGlite({ dataDir: process.argv[2], thread: true });
         const { rows } = await db.query('SELECT 1 AS one');
         if (process.argv[3] === 'close') await db.close();
         console.log(JSON.stringify({ ok: true, one: rows[0].one }));
       } catch (error) {
         console.log(JSON.stringify({ ok: false, message: error.message }));
       }
       // No process.exit: the test checks that the database thread does not keep the process alive.`,
    );
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script, dataDir, mode], { cwd: REPO, timeout: 90_000 });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as { ok: boolean; one?: number; message?: string };
  }

  test('the worker module refuses to load in the main thread', async () => {
    await assert.rejects(import('../../src/store/pglite-thread-worker.ts'), /entry of the embedded database thread/);
  });

  test('a killed thread fails pending and later calls with a DatabaseError; close() still releases the lock', LIMIT, async () => {
    const dataDir = dir();
    const db = await openPGlite({ dataDir, thread: true });
    const lock = path.join(dataDir, 'immunoguide.lock');
    assert.equal(fs.readFileSync(lock, 'utf8'), String(process.pid));
    let outside: Promise<unknown> | undefined;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const transaction = db.transaction(async (tx) => {
      await tx.query('SELECT 1');
      outside = db.query('SELECT 2'); // waits in the thread behind the transaction
      await gate;
      await tx.query('SELECT 3');
    });
    while (outside === undefined) await new Promise((resolve) => setImmediate(resolve));
    await databaseThreadOf(db)!.terminate();
    const stopped = (error: unknown) => error instanceof DatabaseError && /embedded database thread \(.+\) stopped: the thread exited unexpectedly with code 1/.test(error.message);
    await assert.rejects(outside, stopped);
    release();
    await assert.rejects(transaction, stopped);
    await assert.rejects(db.query('SELECT 4'), stopped);
    await assert.rejects(db.exec('SELECT 5'), stopped);
    await assert.rejects(
      db.transaction(async () => {}),
      stopped,
    );
    await db.close();
    await db.close();
    assert.equal(fs.existsSync(lock), false, 'lock released');
  });

  test('a data directory PGlite cannot open fails with the in-process message, and leaves no lock', LIMIT, async () => {
    const dataDir = dir();
    fs.writeFileSync(path.join(dataDir, 'pgdata'), 'not a directory');
    const [fromThread, fromProcess] = [await failure(() => openPGlite({ dataDir, thread: true })), await failure(() => openPGlite({ dataDir }))];
    assert.match(fromThread.message, /^could not open the embedded database in /);
    assert.deepEqual(fromThread, fromProcess);
    assert.equal(fs.existsSync(path.join(dataDir, 'immunoguide.lock')), false);
  });

  test('close() waits for pending work, is idempotent, releases the lock, and the process can exit', LIMIT, async () => {
    const dataDir = dir();
    const db = await openPGlite({ dataDir, thread: true });
    await db.exec('CREATE TABLE kept (id int)');
    const busy = await openInChild(dataDir, 'close');
    assert.equal(busy.ok, false);
    assert.match(busy.message!, new RegExp(`the embedded database in .+ is in use by process ${process.pid}; stop it first`));

    const pending = db.query('INSERT INTO kept VALUES (1)');
    const closed = db.close();
    assert.equal(db.close(), closed, 'the same close');
    assert.equal((await pending).affectedRows, 1, 'work sent before close() completes');
    await closed;
    assert.equal(fs.existsSync(path.join(dataDir, 'immunoguide.lock')), false);
    await assert.rejects(db.query('SELECT 1'), (error: unknown) => error instanceof DatabaseError && /is closed/.test(error.message));
    await assert.rejects(db.transaction(async () => {}), /is closed/);

    assert.deepEqual(await openInChild(dataDir, 'close'), { ok: true, one: 1 }, 'another process opens it after close, and exits');
    assert.deepEqual(await openInChild(dataDir, 'leave-open'), { ok: true, one: 1 }, 'an idle open database does not keep a process alive either');
    const again = await openPGlite({ dataDir, thread: true });
    try {
      assert.deepEqual((await again.query('SELECT id FROM kept')).rows, [{ id: 1 }]);
    } finally {
      await again.close();
    }
  });

  test('a data directory written on the thread opens in-process, and the other way round', LIMIT, async () => {
    const dataDir = dir();
    const first = await openPGlite({ dataDir, thread: true });
    await migrate(first);
    await upsertSite(first, { id: 'athens', name: 'from the thread' });
    await first.close();

    const second = await openPGlite({ dataDir });
    assert.deepEqual((await migrate(second)).applied, [], 'schema already there');
    assert.deepEqual((await second.query('SELECT name FROM site')).rows, [{ name: 'from the thread' }]);
    await upsertSite(second, { id: 'nijmegen', name: 'in-process' });
    await second.close();

    const third = await openPGlite({ dataDir, thread: true });
    try {
      assert.deepEqual((await third.query('SELECT id, name FROM site ORDER BY id')).rows, [
        { id: 'athens', name: 'from the thread' },
        { id: 'nijmegen', name: 'in-process' },
      ]);
    } finally {
      await third.close();
    }
  });
});
