/**
 * kill -9 during a 1,000,000-measurement import, then a rerun: the exact expected row count.
 * (test/cli/import-kill.test.ts runs the same with 120,000 measurements in the suite.)
 *
 *   node --import tsx bench/ingest-kill.ts [--measurements 1000000] [--kill-after 300000]
 *                                          [--backend postgres|pglite] [--pg-url postgres://...]
 *
 * Spawns `node bin/immunoguide.mjs import FILE --progress ndjson` on a fresh PostgreSQL schema
 * (or a temporary PGlite directory), SIGKILLs it once --kill-after measurements are committed,
 * counts the rows, reruns the import in a second child process, and counts again.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Database } from '../src/store/db.ts';
import { openPGlite } from '../src/store/pglite.ts';
import { openPostgres } from '../src/store/postgres.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const index = args.indexOf(`--${name}`);
  return index === -1 ? fallback : (args[index + 1] ?? fallback);
};
const BIN = path.resolve(import.meta.dirname, '../bin/immunoguide.mjs');
const total = Number(option('measurements', '1000000'));
const killAfter = Number(option('kill-after', '300000'));
const backend = option('backend', 'postgres');
const url = option('pg-url', process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-kill-'));
const file = path.join(dir, 'measurements.csv');
const schema = `ig_kill_${process.pid}`;
const env: NodeJS.ProcessEnv =
  backend === 'pglite' ? { ...process.env, IMMUNOGUIDE_DATA_DIR: path.join(dir, 'data') } : { ...process.env, DATABASE_URL: url, DATABASE_SCHEMA: schema };
const open = (): Promise<Database> => (backend === 'pglite' ? openPGlite({ dataDir: path.join(dir, 'data') }) : openPostgres({ url, schema }));

async function count(): Promise<{ rows: number; distinct: number; checkpoint: number }> {
  const db = await open();
  try {
    const rows = await db.query<{ n: number; d: number }>('SELECT count(*)::int AS n, count(DISTINCT (source, record_id, concept))::int AS d FROM measurement');
    const checkpoint = await db.query<{ line: number }>('SELECT COALESCE(max(line_number), 0)::int AS line FROM import_checkpoint');
    return { rows: rows.rows[0]!.n, distinct: rows.rows[0]!.d, checkpoint: checkpoint.rows[0]!.line };
  } finally {
    await db.close();
  }
}

function writeCsv(): void {
  const fd = fs.openSync(file, 'w');
  let lines = ['patient_id,time,concept,value,unit'];
  for (let i = 0; i < total; i++) {
    lines.push(`K-${i % 5000},${new Date(Date.UTC(2026, 0, 5) + i * 60_000).toISOString()},platelets,${100 + (i % 300)},10*3/uL`);
    if (lines.length >= 20_000) {
      fs.writeSync(fd, `${lines.join('\n')}\n`);
      lines = [];
    }
  }
  if (lines.length > 0) fs.writeSync(fd, `${lines.join('\n')}\n`);
  fs.closeSync(fd);
}

function importUntilKilled(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'import', file, '--progress', 'ndjson', '--json'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let committed = 0;
    let buffer = '';
    child.stderr.on('data', (data: Buffer) => {
      buffer += data.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.startsWith('{"progress"')) continue;
        committed = (JSON.parse(line) as { progress: { inserted: number } }).progress.inserted;
        if (committed >= killAfter && child.exitCode === null) child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(committed) : reject(new Error(`import ended (${code}) before the kill`))));
  });
}

try {
  writeCsv();
  console.log(`${total.toLocaleString('en-US')} measurements in ${file} (${(fs.statSync(file).size / 1024 ** 2).toFixed(0)} MB), backend ${backend}`);
  const t0 = performance.now();
  const committed = await importUntilKilled();
  const afterKill = await count();
  console.log(`killed (SIGKILL) after ${((performance.now() - t0) / 1000).toFixed(1)} s: ${committed.toLocaleString('en-US')} reported committed, ${afterKill.rows.toLocaleString('en-US')} rows stored, checkpoint at line ${afterKill.checkpoint}`);
  const t1 = performance.now();
  const rerun = spawnSync(process.execPath, [BIN, 'import', file, '--json'], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const summary = JSON.parse(rerun.stdout) as { inserted: number; files: Array<{ resumedAfterLine: number }> };
  const final = await count();
  console.log(
    `rerun (exit ${rerun.status}, ${((performance.now() - t1) / 1000).toFixed(1)} s): resumed after line ${summary.files[0]?.resumedAfterLine}, inserted ${summary.inserted.toLocaleString('en-US')}`,
  );
  console.log(`final: ${final.rows.toLocaleString('en-US')} rows, ${final.distinct.toLocaleString('en-US')} distinct provenance keys, expected ${total.toLocaleString('en-US')}: ${final.rows === total && final.distinct === total ? 'OK' : 'MISMATCH'}`);
  if (final.rows !== total || final.distinct !== total) process.exitCode = 1;
} finally {
  if (backend === 'postgres') {
    const db = await openPostgres({ url, schema });
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.close();
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
