/**
 * Group commit of the CDS call records, on both backends: calls recorded together in one
 * statement keep the per-call rules (a jti is claimed once - across statements, instances, and
 * within one batch; no claim, no record), one bad call does not fail the others of its batch,
 * concurrent calls share statements, and flushing waits for the queued writes. Over HTTP: the same
 * token sent twice at once, to one instance or to two instances on one database, is answered once.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createCdsCallRecorder } from '../../../src/server/cds/recorder.ts';
import { type CdsCallEntry, type CdsCallRecord, listCdsCalls, recordCdsCalls } from '../../../src/store/cds.ts';
import type { Database } from '../../../src/store/db.ts';
import { openPostgres } from '../../../src/store/postgres.ts';
import { TEST_DATABASE_URL, type TestDatabase, openTestDatabase, testBackends } from '../../support/backends.ts';
import { type CdsTestApp, SERVICE, TestEhr, buildCdsTestApp, hookRequest } from './support.ts';

const ISSUER = 'https://ehr.example.org/';
const EXPIRES = new Date('2030-01-01T00:00:00Z');

function entry(patientRef: string, jti: string | null, hookInstance: string = randomUUID()): CdsCallEntry {
  const call: CdsCallRecord = {
    serviceId: SERVICE.patientView,
    hook: 'patient-view',
    hookInstance,
    issuer: jti === null ? null : ISSUER,
    tenant: null,
    userRef: 'Practitioner/1',
    patientRef,
    dataSources: [{ key: 'biomarkers', source: 'prefetch', status: 'ok', count: 2 }],
  };
  const cards = [
    { uuid: randomUUID(), indicator: 'info' as const, summary: `card 1 of ${hookInstance}`, kind: 'immune-class', suggestions: [] },
    { uuid: randomUUID(), indicator: 'warning' as const, summary: `card 2 of ${hookInstance}`, kind: 'safety', suggestions: [{ uuid: randomUUID(), label: 'Order' }] },
  ];
  return { call, cards, claim: jti === null ? null : { issuer: ISSUER, jti, expiresAt: EXPIRES } };
}

for (const { backend, skip } of await testBackends()) {
  describe(`CDS call records in batches on ${backend}`, { skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await openTestDatabase(backend);
    });
    after(async () => {
      await t?.dispose();
    });

    test('a batch records each call with its cards, in order; a jti is claimed once, also within the batch', async () => {
      const batch = [
        entry('B-1', 'batch-a', 'first'),
        entry('B-1', 'batch-b', 'second'),
        entry('B-1', 'batch-a', 'replay-in-batch'),
        entry('B-1', null, 'unauthenticated'),
        entry('B-1', 'batch-c', 'third'),
      ];
      assert.deepEqual(await recordCdsCalls(t.db, batch), [true, true, false, true, true]);
      // Replays in a later batch, and a claim of the same id by another issuer (ids are per issuer).
      const otherIssuer = entry('B-1', 'batch-a', 'other-issuer');
      otherIssuer.claim = { issuer: 'https://other-ehr.example.org/', jti: 'batch-a', expiresAt: EXPIRES };
      assert.deepEqual(await recordCdsCalls(t.db, [entry('B-1', 'batch-b', 'late-replay'), otherIssuer, entry('B-1', 'batch-c', 'late-replay-2')]), [false, true, false]);

      const calls = await listCdsCalls(t.db, 'B-1');
      assert.deepEqual(
        calls.map((c) => c.hookInstance),
        ['first', 'second', 'unauthenticated', 'third', 'other-issuer'],
      );
      assert.deepEqual(calls[0]!.cards, batch[0]!.cards);
      const uuids = await t.db.query<{ uuids: string[] }>('SELECT card_uuids::text[] AS uuids FROM cds_call WHERE hook_instance = $1', ['second']);
      assert.deepEqual(uuids.rows[0]!.uuids, batch[1]!.cards.map((c) => c.uuid), 'card uuids in card order');
    });

    test('concurrent calls share statements, each gets its own answer, and flush waits for the writes', async () => {
      const sizes: number[] = [];
      const recorder = createCdsCallRecorder(t.db, { onBatch: (size) => sizes.push(size) });
      const jtis = Array.from({ length: 30 }, (_, i) => `concurrent-${i}`);
      const pending = [...jtis, 'concurrent-3', 'concurrent-17'].map((jti, i) => recorder.record(entry('C-1', jti, `c-${i}`)));
      await recorder.flush();
      const results = await Promise.all(pending);
      assert.deepEqual(results, [...jtis.map(() => true), false, false]);
      assert.equal(sizes.reduce((a, b) => a + b, 0), 32);
      assert.ok(sizes.length < 32, `calls queued together share a statement (batches ${sizes.join(', ')})`);
      assert.equal((await listCdsCalls(t.db, 'C-1')).length, 30);
    });

    test('a call the database refuses fails alone: the rest of its batch is recorded', async () => {
      const recorder = createCdsCallRecorder(t.db, { maxBatch: 10 });
      const bad = entry('D-1', 'bad-1', 'bad');
      // PostgreSQL text (and jsonb) cannot hold a NUL character.
      bad.call.userRef = 'Practitioner/\u0000';
      const outcomes = await Promise.allSettled([
        recorder.record(entry('D-1', 'good-1', 'good-1')),
        recorder.record(bad),
        recorder.record(entry('D-1', 'good-2', 'good-2')),
      ]);
      await recorder.flush();
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.deepEqual(
        (await listCdsCalls(t.db, 'D-1')).map((c) => c.hookInstance),
        ['good-1', 'good-2'],
      );
      // The refused call claimed nothing: its jti is still free.
      assert.deepEqual(await recordCdsCalls(t.db, [entry('D-1', 'bad-1', 'bad-retried')]), [true]);
    });

    test('the same token sent twice at once is answered once, by one instance or by two sharing the database', async () => {
      const ehr = await TestEhr.start();
      // On PostgreSQL the second instance has its own connection pool, as another server would.
      // (PGlite belongs to one process: two apps in it share the database object.)
      const secondDb: Database = t.schema === undefined ? t.db : await openPostgres({ url: TEST_DATABASE_URL, schema: t.schema });
      let first: CdsTestApp | undefined;
      let second: CdsTestApp | undefined;
      try {
        first = await buildCdsTestApp(t.db, ehr);
        second = await buildCdsTestApp(secondDb, ehr);
        const post = (ctx: CdsTestApp, headers: Record<string, string>) =>
          ctx.app.inject({ method: 'POST', url: `/cds-services/${SERVICE.patientView}`, headers, payload: hookRequest('patient-view') });

        const once = await ehr.authFor(SERVICE.patientView, { jti: `same-instance-${backend}` });
        const sameInstance = await Promise.all([post(first, once), post(first, once)]);
        assert.deepEqual(sameInstance.map((r) => r.statusCode).sort(), [200, 401]);
        assert.match(sameInstance.find((r) => r.statusCode === 401)!.json().detail, /replayed jti/);

        const shared = await ehr.authFor(SERVICE.patientView, { jti: `two-instances-${backend}` });
        const twoInstances = await Promise.all([post(first, shared), post(second, shared), post(first, shared), post(second, shared)]);
        assert.deepEqual(twoInstances.map((r) => r.statusCode).sort(), [200, 401, 401, 401]);
        // And later, on either instance.
        assert.equal((await post(second, shared)).statusCode, 401);
        assert.equal((await post(first, shared)).statusCode, 401);
      } finally {
        await first?.app.close();
        await second?.app.close();
        if (secondDb !== t.db) await secondDb.close();
        await ehr.close();
      }
    });
  });
}
