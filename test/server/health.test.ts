import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadMigrations } from '../../src/store/migrate.ts';
import { VERSION } from '../../src/version.ts';
import { buildTestApp } from '../support/app.ts';
import { type TestDatabase, openTestDatabase, testBackends } from '../support/backends.ts';

for (const { backend, skip } of await testBackends()) {
  describe(`HTTP server on ${backend}`, { skip }, () => {
    let t: TestDatabase;
    let app: FastifyInstance;
    before(async () => {
      t = await openTestDatabase(backend);
      app = (await buildTestApp(t.db)).app;
    });
    after(async () => {
      await app?.close();
      await t?.dispose();
    });

    test('GET /health reports the backend and schema version', async () => {
      const response = await app.inject({ method: 'GET', url: '/health' });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), {
        status: 'ok',
        version: VERSION,
        database: { backend, schemaVersion: loadMigrations().length },
      });
    });

    test('an unknown route is a problem document, not an HTML page', async () => {
      const response = await app.inject({ method: 'GET', url: '/no/such/thing?x=1' });
      assert.equal(response.statusCode, 404);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
      const problem = response.json();
      assert.equal(problem.status, 404);
      assert.equal(problem.title, 'Not Found');
      assert.match(problem.detail, /GET \/no\/such\/thing/);
    });
  });
}

test('GET /health answers 503 with a problem document when the database is gone', async () => {
  const t = await openTestDatabase('pglite');
  const app = (await buildTestApp(t.db)).app;
  try {
    await t.db.close();
    const response = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(response.statusCode, 503);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    assert.equal(response.json().detail, 'The database is not reachable.');
  } finally {
    await app.close();
  }
});
