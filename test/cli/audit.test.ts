import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Database } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPGlite } from '../../src/store/pglite.ts';
import { upsertPatient, upsertSite } from '../../src/store/repository.ts';
import { createTrial, randomise } from '../../src/store/trial.ts';
import { IMMUNOSEP_TRIAL } from '../../src/trial/definition.ts';
import { TEST_DATABASE_URL, openTestDatabase, testBackends } from '../support/backends.ts';
import { runCli } from '../support/cli.ts';
import { evidenceFor } from '../support/trial.ts';

async function populate(db: Database): Promise<void> {
  await upsertSite(db, { id: 'athens', name: 'Athens' });
  assert.ok((await createTrial(db, { definition: IMMUNOSEP_TRIAL, actor: 'user:admin' })).ok);
  for (const id of ['P1', 'P2', 'P3']) {
    await upsertPatient(db, { id, siteId: 'athens', birthDate: null, sex: null, deceasedAt: null });
    assert.ok((await randomise(db, { trialId: IMMUNOSEP_TRIAL.id, patientId: id, evidence: evidenceFor('MALS'), actor: 'user:inv' })).ok);
  }
}

async function editEntry(db: Database, seq: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    await tx.query(`UPDATE audit_entry SET subject = 'patient:someone-else' WHERE seq = $1`, [seq]);
  });
}

interface Report {
  valid: boolean;
  count: number;
  head?: { seq: number; hash: string };
  firstBad?: { seq: number; kind: string; message: string };
}

for (const { backend, skip } of await testBackends()) {
  test(`audit verify on ${backend}: exit 0 when intact, 1 naming the first bad entry`, { skip }, async () => {
    let env: NodeJS.ProcessEnv;
    let db: Database;
    let cleanup: () => Promise<void>;
    // The CLI opens the configured database itself: a data directory for PGlite, a schema on the server.
    const reopen = async () => (backend === 'pglite' ? openPGlite({ dataDir: env.IMMUNOGUIDE_DATA_DIR }) : db);
    if (backend === 'pglite') {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-audit-'));
      env = { IMMUNOGUIDE_DATA_DIR: dir };
      db = await openPGlite({ dataDir: dir });
      await migrate(db);
      cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
    } else {
      const t = await openTestDatabase('postgres');
      db = t.db;
      env = { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: t.schema };
      cleanup = () => t.dispose();
    }
    try {
      await populate(db);
      if (backend === 'pglite') await db.close();

      const intact = await runCli(['audit', 'verify', '--json'], env);
      assert.equal(intact.exitCode, 0, intact.stderr);
      const report = intact.json<Report>();
      assert.equal(report.valid, true);
      assert.equal(report.count, 4);
      assert.equal(report.head?.seq, 4);
      assert.match((await runCli(['audit', 'verify'], env)).stdout, /^audit chain valid: 4 entries; head 4 [0-9a-f]{64}$/m);

      const tampered = await reopen();
      await editEntry(tampered, 3);
      if (backend === 'pglite') await tampered.close();
      const broken = await runCli(['audit', 'verify', '--json'], env);
      assert.equal(broken.exitCode, 1);
      assert.deepEqual(broken.json<Report>().firstBad, { seq: 3, index: 2, kind: 'edited', message: 'entry 3 was altered: its content does not match its hash' });
      const human = await runCli(['audit', 'verify'], env);
      assert.equal(human.exitCode, 1);
      assert.match(human.stdout, /audit chain BROKEN at entry 3 \(edited\)/);
    } finally {
      await cleanup();
    }
  });
}

test('audit verify on a database without the trial schema fails with a clear message', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-audit-empty-'));
  try {
    const run = await runCli(['audit', 'verify', '--json'], { IMMUNOGUIDE_DATA_DIR: dir });
    assert.equal(run.exitCode, 1);
    assert.match(run.json<{ error: { message: string } }>().error.message, /run `immunoguide migrate` first/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
