import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { JobWorker, PermanentJobError } from '../../src/server/jobs/worker.ts';
import type { Database } from '../../src/store/db.ts';
import { claimJob, enqueueJob, getJob } from '../../src/store/jobs.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { TEST_DATABASE_URL, type TestDatabase, openTestDatabase, testBackends } from '../support/backends.ts';

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(25);
  }
}

for (const { backend, skip } of await testBackends()) {
  describe(`job queue on ${backend}`, { skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await openTestDatabase(backend);
      await t.db.exec('CREATE TABLE job_effect (job_id text PRIMARY KEY, worker text NOT NULL)');
    });
    after(async () => t?.dispose());

    test('a failing handler is retried until max attempts; a permanent failure is final', async () => {
      let calls = 0;
      const worker = new JobWorker(t.db, {
        pollMs: 10,
        handlers: {
          flaky: async () => {
            calls++;
            throw new Error('database hiccup');
          },
          bad: async () => {
            throw new PermanentJobError('line 3: not a number');
          },
        },
      });
      const flaky = await enqueueJob(t.db, { kind: 'flaky', maxAttempts: 3 });
      const bad = await enqueueJob(t.db, { kind: 'bad' });
      worker.start();
      await waitFor(async () => (await getJob(t.db, flaky))?.status === 'failed' && (await getJob(t.db, bad))?.status === 'failed');
      await worker.stop();
      assert.equal(calls, 3);
      assert.equal((await getJob(t.db, flaky))?.attempts, 3);
      const badJob = await getJob(t.db, bad);
      assert.equal(badJob?.attempts, 1, 'no retry of a permanent failure');
      assert.equal(badJob?.error, 'line 3: not a number');
    });

    test('a job whose worker died (lease expired) is claimed again and finished once', async () => {
      const id = await enqueueJob(t.db, { kind: 'effect' });
      const crashed = await claimJob(t.db, 'dead-worker', ['effect'], 1);
      assert.equal(crashed?.id, id);
      assert.equal(await claimJob(t.db, 'other', ['effect'], 1), undefined, 'leased: nobody else gets it');
      await sleep(1100);
      const worker = new JobWorker(t.db, {
        pollMs: 10,
        workerId: 'rescuer',
        handlers: {
          effect: async (job, ctx) => {
            await ctx.db.query('INSERT INTO job_effect (job_id, worker) VALUES ($1, $2) ON CONFLICT DO NOTHING', [job.id, ctx.workerId]);
            return { ok: true };
          },
        },
      });
      worker.start();
      await waitFor(async () => (await getJob(t.db, id))?.status === 'succeeded');
      await worker.stop();
      const job = await getJob(t.db, id);
      assert.equal(job?.attempts, 2);
      assert.equal(job?.lockedBy, 'rescuer');
    });
  });
}

const postgres = (await testBackends()).find((b) => b.backend === 'postgres')!;
describe('two workers on one PostgreSQL database', { skip: postgres.skip }, () => {
  let t: TestDatabase;
  let second: Database;
  before(async () => {
    t = await openTestDatabase('postgres');
    await t.db.exec('CREATE TABLE job_effect (job_id text PRIMARY KEY, worker text NOT NULL)');
    // A separate pool, as a second server instance would have.
    second = await openPostgres({ url: TEST_DATABASE_URL, schema: t.schema });
  });
  after(async () => {
    await second?.close();
    await t?.dispose();
  });

  test('share the jobs: each runs exactly once, both workers take part', async () => {
    const ids = await Promise.all(Array.from({ length: 40 }, () => enqueueJob(t.db, { kind: 'effect' })));
    const handler = (delayMs: number) => async (job: { id: string }, ctx: { db: Database; workerId: string }) => {
      await sleep(delayMs);
      // A plain INSERT: running a job twice would violate the primary key and fail the job.
      await ctx.db.query('INSERT INTO job_effect (job_id, worker) VALUES ($1, $2)', [job.id, ctx.workerId]);
      return {};
    };
    const a = new JobWorker(t.db, { workerId: 'instance-a', pollMs: 5, concurrency: 2, handlers: { effect: handler(15) } });
    const b = new JobWorker(second, { workerId: 'instance-b', pollMs: 5, concurrency: 2, handlers: { effect: handler(15) } });
    a.start();
    b.start();
    await waitFor(async () => {
      const done = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM job WHERE status = 'succeeded' AND id = ANY($1)`, [ids]);
      return done.rows[0]?.n === ids.length;
    });
    await Promise.all([a.stop(), b.stop()]);
    const effects = await t.db.query<{ worker: string; n: number }>('SELECT worker, count(*)::int AS n FROM job_effect GROUP BY worker ORDER BY worker');
    assert.equal(effects.rows.reduce((sum, row) => sum + row.n, 0), ids.length, 'nothing lost or doubled');
    assert.deepEqual(effects.rows.map((row) => row.worker), ['instance-a', 'instance-b']);
    const attempts = await t.db.query<{ max: number }>('SELECT max(attempts)::int AS max FROM job WHERE id = ANY($1)', [ids]);
    assert.equal(attempts.rows[0]?.max, 1, 'no job was claimed twice');
  });
});
