/** Request limits, rate limiting, OpenAPI document and graceful shutdown. */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { upsertSite } from '../../src/store/repository.ts';
import { buildTestApp } from '../support/app.ts';
import { type TestDatabase, openTestDatabase } from '../support/backends.ts';

describe('robustness', () => {
  let t: TestDatabase;
  before(async () => {
    t = await openTestDatabase('pglite');
    await upsertSite(t.db, { id: 'site-a', name: 'A' });
  });
  after(async () => t?.dispose());

  test('an oversized body is refused with a problem document and nothing is stored', async () => {
    const ctx = await buildTestApp(t.db);
    try {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/patients',
        headers: { ...(await ctx.bearer(['clinician'], ['site-a'])), 'content-type': 'application/json' },
        payload: JSON.stringify({ id: 'P-big', siteId: 'site-a', sex: 'x'.repeat(2 * 1024 * 1024) }),
      });
      assert.equal(response.statusCode, 413);
      assert.match(String(response.headers['content-type']), /problem\+json/);
      const count = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM patient WHERE id = 'P-big'`);
      assert.equal(count.rows[0]?.n, 0);
    } finally {
      await ctx.app.close();
    }
  });

  test('an invalid body is a 400 problem naming the field', async () => {
    const ctx = await buildTestApp(t.db);
    try {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/patients',
        headers: await ctx.bearer(['clinician'], ['site-a']),
        payload: { id: 'P-1', siteId: 'site-a', sex: 'robot' },
      });
      assert.equal(response.statusCode, 400);
      assert.match(response.json().detail, /sex/);
    } finally {
      await ctx.app.close();
    }
  });

  test('each client is rate limited separately, with a 429 problem and Retry-After', async () => {
    const ctx = await buildTestApp(t.db, { rateLimitPerMinute: 5 });
    try {
      const alice = await ctx.bearer(['clinician'], ['site-a'], 'alice');
      const bob = await ctx.bearer(['clinician'], ['site-a'], 'bob');
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await ctx.app.inject({ method: 'GET', url: '/api/me', headers: alice })).statusCode);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
      const limited = await ctx.app.inject({ method: 'GET', url: '/api/me', headers: alice });
      assert.match(String(limited.headers['content-type']), /problem\+json/);
      assert.ok(Number(limited.headers['retry-after']) > 0);
      assert.equal((await ctx.app.inject({ method: 'GET', url: '/api/me', headers: bob })).statusCode, 200, 'another client is unaffected');
    } finally {
      await ctx.app.close();
    }
  });

  test('the OpenAPI document is generated from the route schemas', async () => {
    const ctx = await buildTestApp(t.db);
    try {
      const response = await ctx.app.inject({ method: 'GET', url: '/api/docs/json' });
      assert.equal(response.statusCode, 200);
      const doc = response.json();
      assert.match(doc.openapi, /^3\./);
      for (const path of ['/api/patients', '/api/patients/{patientId}', '/api/patients/{patientId}/measurements', '/auth/token']) {
        assert.ok(doc.paths[path], `${path} documented`);
      }
      assert.ok(doc.components.schemas.Patient, 'shared schemas are components');
      const ui = await ctx.app.inject({ method: 'GET', url: '/api/docs' });
      assert.ok([200, 302].includes(ui.statusCode));
    } finally {
      await ctx.app.close();
    }
  });

  test('graceful shutdown finishes the request in flight and refuses new ones', async () => {
    const ctx = await buildTestApp(t.db);
    ctx.app.get('/slow', { config: { public: true } }, async () => {
      await sleep(300);
      return { finished: true };
    });
    await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`;
    const inFlight = fetch(`${url}/slow`).then(async (r) => [r.status, await r.json()] as const);
    await sleep(50);
    const closing = ctx.app.close();
    const [status, body] = await inFlight;
    assert.equal(status, 200);
    assert.deepEqual(body, { finished: true });
    await closing;
    await assert.rejects(fetch(`${url}/health`), 'no new connections after close');
  });
});
