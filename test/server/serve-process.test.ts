/**
 * `immunoguide serve` as a user runs it (`npm start` calls it): a real process on a free port,
 * on the embedded database in a directory, then on the PostgreSQL server.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import pg from 'pg';
import { loadMigrations } from '../../src/store/migrate.ts';
import { openPGlite } from '../../src/store/pglite.ts';
import { TEST_DATABASE_URL, testBackends, uniqueSchemaName } from '../support/backends.ts';
import { startServerProcess } from '../support/process.ts';

const migrationCount = loadMigrations().length;

describe('serve on the embedded database', () => {
  test('starts, answers /health, stops on SIGTERM, and keeps its data across restarts', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-serve-'));
    const first = await startServerProcess({ IMMUNOGUIDE_DATA_DIR: dataDir });
    try {
      assert.match(first.summary.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(first.summary.migrationsApplied.length, migrationCount);
      assert.equal(first.summary.demoCohort.seeded, true, 'an empty embedded database gets the demo cohort');
      assert.ok(first.summary.demoCohort.patients > 0);
      const health = await fetch(`${first.summary.url}/health`);
      assert.equal(health.status, 200);
      assert.equal(((await health.json()) as { database: { backend: string } }).database.backend, 'pglite');
      // A second server on the same directory is refused instead of corrupting it.
      await assert.rejects(startServerProcess({ IMMUNOGUIDE_DATA_DIR: dataDir }), /in use by process/);
    } finally {
      assert.equal(await first.stop(), 0, first.stderr());
    }

    // Write a row while the server is down, then restart: schema and row are still there.
    const db = await openPGlite({ dataDir });
    await db.query(`INSERT INTO site (id, name) VALUES ('persisted', 'Written between runs')`);
    await db.close();

    const second = await startServerProcess({ IMMUNOGUIDE_DATA_DIR: dataDir });
    try {
      assert.deepEqual(second.summary.migrationsApplied, [], 'no migration is applied twice');
      assert.equal(second.summary.demoCohort.seeded, false, 'the demo cohort is seeded once');
      assert.equal(second.summary.schemaVersion, migrationCount);
      assert.equal((await fetch(`${second.summary.url}/health`)).status, 200);
    } finally {
      assert.equal(await second.stop(), 0, second.stderr());
    }
    const reopened = await openPGlite({ dataDir });
    const rows = await reopened.query<{ name: string }>(`SELECT name FROM site WHERE id = 'persisted'`);
    await reopened.close();
    assert.deepEqual(rows.rows, [{ name: 'Written between runs' }]);
  });
});

const postgres = (await testBackends()).find((b) => b.backend === 'postgres')!;
describe('serve on the PostgreSQL server (DATABASE_URL)', { skip: postgres.skip }, () => {
  test('migrates a fresh schema and answers /health', async () => {
    const schema = uniqueSchemaName('ig_serve');
    const server = await startServerProcess({ DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema });
    try {
      assert.equal(server.summary.database.backend, 'postgres');
      assert.equal(server.summary.demoCohort.seeded, false, 'no demo data on a server database by default');
      assert.equal(server.summary.migrationsApplied.length, migrationCount);
      const health = (await (await fetch(`${server.summary.url}/health`)).json()) as { database: unknown };
      assert.deepEqual(health.database, { backend: 'postgres', schemaVersion: migrationCount });
    } finally {
      assert.equal(await server.stop(), 0, server.stderr());
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  });
});
