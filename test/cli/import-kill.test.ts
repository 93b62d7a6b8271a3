/**
 * kill -9 during an import, then a rerun: exactly the expected rows, no duplicates, and the
 * rerun resumes after the last committed batch. The import runs as a real child process
 * (`node bin/immunoguide.mjs import`), killed with SIGKILL once some batches are committed.
 * bench/ingest-kill.ts runs the same with 1,000,000 measurements.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ImportSummary } from '../../src/sources/ingest/run.ts';
import { testBackends } from '../support/backends.ts';
import { runCli } from '../support/cli.ts';
import { type CliDatabase, cliDatabase, withDatabase } from '../support/import.ts';
import { BIN } from '../support/process.ts';

/** Fewer rows on the embedded database, which writes about ten times slower. */
const SIZES = { pglite: { measurements: 60_000, killAfter: 15_000 }, postgres: { measurements: 120_000, killAfter: 30_000 } } as const;

/** The simple CSV with `n` distinct measurements. */
function writeKillCsv(file: string, n: number): void {
  const fd = fs.openSync(file, 'w');
  try {
    let lines = ['patient_id,time,concept,value,unit'];
    for (let i = 0; i < n; i++) {
      lines.push(`K-${i % 1000},${new Date(Date.UTC(2026, 0, 5) + i * 60_000).toISOString()},platelets,${100 + (i % 300)},10*3/uL`);
      if (lines.length >= 10_000) {
        fs.writeSync(fd, `${lines.join('\n')}\n`);
        lines = [];
      }
    }
    if (lines.length > 0) fs.writeSync(fd, `${lines.join('\n')}\n`);
  } finally {
    fs.closeSync(fd);
  }
}

/** Starts the import; SIGKILLs it once `killAfter` measurements are committed. Resolves with what it had committed. */
function importAndKill(file: string, env: NodeJS.ProcessEnv, killAfter: number, timeoutMs = 180_000): Promise<{ committed: number; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'import', file, '--progress', 'ndjson', '--batch-size', '5000', '--json'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let committed = 0;
    let buffer = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no progress past ${killAfter} within ${timeoutMs} ms: ${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.stderr.on('data', (data: Buffer) => {
      const text = data.toString();
      stderr += text;
      buffer += text;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.startsWith('{"progress"')) continue;
        committed = (JSON.parse(line) as { progress: { inserted: number } }).progress.inserted;
        if (committed >= killAfter && child.exitCode === null) child.kill('SIGKILL');
      }
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`the import ended before it was killed (${_code}): ${stderr.slice(-2000)}`));
      else resolve({ committed, signal });
    });
  });
}

for (const { backend, skip } of await testBackends()) {
  describe(`kill -9 during an import on ${backend}`, { skip, timeout: 300_000 }, () => {
    const { measurements: MEASUREMENTS, killAfter: KILL_AFTER } = SIZES[backend];
    let database: CliDatabase;
    let file: string;
    before(() => {
      database = cliDatabase(backend);
      file = path.join(database.dir, 'measurements.csv');
      writeKillCsv(file, MEASUREMENTS);
    });
    after(async () => database?.dispose());

    it('a rerun resumes after the last committed batch and ends with exactly the expected rows', async () => {
      const killed = await importAndKill(file, database.env, KILL_AFTER);
      assert.equal(killed.signal, 'SIGKILL');
      const stored = await withDatabase(database, async (db) => Number((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM measurement')).rows[0]?.n));
      assert.ok(stored >= killed.committed && stored < MEASUREMENTS, `partial import: ${stored} rows (${killed.committed} reported committed)`);

      const rerun = await runCli(['import', file, '--json'], database.env);
      assert.equal(rerun.exitCode, 0, rerun.stderr);
      const summary = rerun.json<ImportSummary>();
      assert.ok(summary.files[0]!.resumedAfterLine > 0, 'the rerun starts after the checkpoint');
      assert.equal(summary.inserted, MEASUREMENTS - stored);
      const counts = await withDatabase(database, async (db) =>
        (await db.query<{ n: number; distinct: number }>('SELECT count(*)::int AS n, count(DISTINCT (source, record_id, concept))::int AS distinct FROM measurement')).rows[0],
      );
      assert.deepEqual(counts, { n: MEASUREMENTS, distinct: MEASUREMENTS });
    });
  });
}
