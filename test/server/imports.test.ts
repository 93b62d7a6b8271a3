/**
 * HTTP imports as queued jobs: an upload is split into parts that any instance's worker
 * stores; status and progress come from the database; bad lines are reported, good ones kept;
 * re-uploading stores nothing new; another site's patients are never written to.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { importPartHandler } from '../../src/server/imports.ts';
import { JobWorker } from '../../src/server/jobs/worker.ts';
import { defaultConceptDictionary } from '../../src/sources/concepts/dictionary.ts';
import type { Database } from '../../src/store/db.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { countMeasurements, upsertPatient, upsertSite } from '../../src/store/repository.ts';
import { type TestApp, buildTestApp } from '../support/app.ts';
import { TEST_DATABASE_URL, type TestDatabase, openTestDatabase, testBackends } from '../support/backends.ts';

function csv(lines: number, options: { bad?: number[]; patientPrefix?: string } = {}): string {
  const rows = ['patient_id,time,concept,value,unit'];
  for (let i = 0; i < lines; i++) {
    const time = new Date(Date.UTC(2026, 0, 5) + i * 60_000).toISOString();
    rows.push(options.bad?.includes(i) ? `P-${i % 50},${time},platelets,lots,10*3/uL` : `${options.patientPrefix ?? 'P-'}${i % 50},${time},platelets,${100 + (i % 200)},10*3/uL`);
  }
  return `${rows.join('\n')}\n`;
}

async function waitForImport(ctx: TestApp, headers: Record<string, string>, jobId: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = (await ctx.app.inject({ method: 'GET', url: `/api/jobs/${jobId}`, headers })).json();
    if (status.status === 'succeeded' || status.status === 'failed') return status;
    if (Date.now() > deadline) throw new Error(`import ${jobId} still ${status.status}`);
    await sleep(50);
  }
}

const handlers = { 'import-part': importPartHandler(defaultConceptDictionary()) };

describe('imports over HTTP (embedded database)', () => {
  let t: TestDatabase;
  let ctx: TestApp;
  let worker: JobWorker;
  before(async () => {
    t = await openTestDatabase('pglite');
    await upsertSite(t.db, { id: 'site-a', name: 'A' });
    await upsertSite(t.db, { id: 'site-b', name: 'B' });
    await upsertPatient(t.db, { id: 'B-1', siteId: 'site-b', birthDate: null, sex: null, deceasedAt: null });
    ctx = await buildTestApp(t.db);
    worker = new JobWorker(t.db, { handlers, pollMs: 20 });
    worker.start();
  });
  after(async () => {
    await worker?.stop();
    await ctx?.app.close();
    await t?.dispose();
  });

  test('an upload becomes a job: bad lines reported with their numbers, good lines stored, re-upload stores nothing', async () => {
    const headers = await ctx.bearer(['clinician'], ['site-a']);
    const body = csv(4500, { bad: [10, 2500, 4499] });
    const upload = (payload: string) =>
      ctx.app.inject({ method: 'POST', url: '/api/imports?site=site-a&format=csv&filename=labs.csv', headers: { ...headers, 'content-type': 'text/csv' }, payload });
    const created = await upload(body);
    assert.equal(created.statusCode, 202, created.body);
    assert.equal(created.json().parts, 3);
    const status = await waitForImport(ctx, headers, created.json().jobId);
    assert.equal(status.status, 'succeeded');
    assert.deepEqual(status.progress, { parts: 3, partsDone: 3, partsFailed: 0, records: 4500, stored: 4497, rejected: 3, done: 3, total: 3 });
    assert.equal(status.result.inserted, 4497);
    assert.deepEqual(
      status.issues.map((i: { location: string[] }) => i.location[0]),
      ['line 12', 'line 2502', 'line 4501'],
    );
    assert.equal(await countMeasurements(t.db), 4497);
    const again = await waitForImport(ctx, headers, (await upload(body)).json().jobId);
    assert.equal(again.progress.stored, 0, 'idempotent by provenance');
    assert.equal(await countMeasurements(t.db), 4497);
  });

  test('records about another site’s patient are refused, and jobs of other sites are not visible', async () => {
    const headers = await ctx.bearer(['clinician'], ['site-a']);
    const created = await ctx.app.inject({
      method: 'POST',
      url: '/api/imports?site=site-a&format=csv',
      headers: { ...headers, 'content-type': 'text/csv' },
      payload: 'patient_id,time,concept,value,unit\nB-1,2026-01-05T00:00:00Z,ferritin,9000,ng/mL\n',
    });
    const status = await waitForImport(ctx, headers, created.json().jobId);
    assert.equal(status.progress.stored, 0);
    assert.match(status.issues[0].diagnostics, /B-1 is not a patient of site site-a/);
    const otherSite = await ctx.app.inject({ method: 'GET', url: `/api/jobs/${created.json().jobId}`, headers: await ctx.bearer(['clinician'], ['site-b']) });
    assert.equal(otherSite.statusCode, 404);
    const wrongSite = await ctx.app.inject({ method: 'POST', url: '/api/imports?site=site-b&format=csv', headers: { ...headers, 'content-type': 'text/csv' }, payload: 'x' });
    assert.equal(wrongSite.statusCode, 403);
    const empty = await ctx.app.inject({ method: 'POST', url: '/api/imports?site=site-a&format=csv', headers: { ...headers, 'content-type': 'text/csv' }, payload: '' });
    assert.equal(empty.statusCode, 400);
    const unknown = await ctx.app.inject({ method: 'POST', url: '/api/imports?site=site-a', headers: { ...headers, 'content-type': 'text/plain' }, payload: 'hello,world\n' });
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.json().detail, /Cannot tell the format/);
    const detected = await ctx.app.inject({
      method: 'POST',
      url: '/api/imports?site=site-a',
      headers: { ...headers, 'content-type': 'application/x-ndjson' },
      payload: `${JSON.stringify({ resourceType: 'Patient', id: 'A-9', gender: 'female' })}\n`,
    });
    assert.equal(detected.statusCode, 202, detected.body);
    assert.equal((await waitForImport(ctx, headers, detected.json().jobId)).status, 'succeeded');
  });
});

const postgres = (await testBackends()).find((b) => b.backend === 'postgres')!;
describe('two server instances on one PostgreSQL database', { skip: postgres.skip }, () => {
  let t: TestDatabase;
  let secondDb: Database;
  let first: TestApp;
  let second: TestApp;
  let workers: JobWorker[];
  before(async () => {
    t = await openTestDatabase('postgres');
    await upsertSite(t.db, { id: 'site-a', name: 'A' });
    secondDb = await openPostgres({ url: TEST_DATABASE_URL, schema: t.schema });
    first = await buildTestApp(t.db);
    second = await buildTestApp(secondDb);
    workers = [
      new JobWorker(t.db, { handlers, pollMs: 10, workerId: 'instance-1' }),
      new JobWorker(secondDb, { handlers, pollMs: 10, workerId: 'instance-2' }),
    ];
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await first?.app.close();
    await second?.app.close();
    await secondDb?.close();
    await t?.dispose();
  });

  test('an import started on one instance is finished by workers on both, nothing lost or doubled', async () => {
    const headers = await first.bearer(['clinician'], ['site-a']);
    const lines = 40_000;
    const created = await first.app.inject({
      method: 'POST',
      url: '/api/imports?site=site-a&format=csv&filename=big.csv',
      headers: { ...headers, 'content-type': 'text/csv' },
      payload: csv(lines),
    });
    assert.equal(created.statusCode, 202, created.body);
    const { jobId, parts } = created.json();
    assert.equal(parts, 20);
    for (const worker of workers) worker.start();
    // Progress is readable from either instance: nothing lives in one process's memory.
    const status = await waitForImport(second, await second.bearer(['clinician'], ['site-a']), jobId, 120_000);
    assert.equal(status.progress.stored, lines);
    assert.equal(await countMeasurements(t.db), lines);
    const byWorker = await t.db.query<{ locked_by: string; n: number }>(
      `SELECT locked_by, count(*)::int AS n FROM job WHERE parent_id = $1 GROUP BY locked_by ORDER BY locked_by`,
      [jobId],
    );
    assert.deepEqual(byWorker.rows.map((r) => r.locked_by), ['instance-1', 'instance-2'], JSON.stringify(byWorker.rows));
    const attempts = await t.db.query<{ max: number }>('SELECT max(attempts)::int AS max FROM job WHERE parent_id = $1', [jobId]);
    assert.equal(attempts.rows[0]?.max, 1, 'no part ran twice');
  });
});
