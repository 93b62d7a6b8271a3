/**
 * bench/sofa/reference.ts: mimic-code's own hourly SOFA on PostgreSQL, as the reference.
 *
 *   MIMIC_CODE_DIR=/tmp/mimic-code node --import tsx bench/sofa/reference.ts DIR --out reference.csv
 *
 * DIR is a MIMIC-IV layout directory (DIR/hosp, DIR/icu with .csv or .csv.gz): the synthetic
 * cohort of generate.ts, or a real MIMIC-IV / MIMIC-IV demo download. Nothing from mimic-code is
 * copied into this repository: its SQL is read from MIMIC_CODE_DIR (a checkout of
 * https://github.com/MIT-LCP/mimic-code).
 *
 * Steps, as mimic-code's buildmimic/postgres/build_mimic.sh does them, limited to the tables
 * and concepts the `sofa` concept needs:
 *  1. (re)create the database (default mimic_bench) through an admin connection;
 *  2. buildmimic/postgres/create.sql (all MIMIC-IV tables, empty);
 *  3. COPY the seven tables sofa reads (patients, admissions, labevents, icustays, chartevents,
 *     inputevents, outputevents) through psql, columns named from each CSV header;
 *  4. constraint.sql: its statements on those tables only (primary keys, and foreign keys between
 *     loaded tables; the others reference dictionaries that are not loaded), then index.sql;
 *     ANALYZE of the loaded tables (what autovacuum would do after a bulk load);
 *  5. the concept SQL of concepts_postgres in the order of postgres-make-concepts.sql, restricted
 *     to sofa and its dependencies, including postgres-concept-index.sql before sofa, each timed;
 *  6. mimiciv_derived.sofa (hr >= 0) exported with the header of `immunoguide sofa --hourly --out`
 *     and ISO 8601 times.
 * The database is kept afterwards so the intermediate concepts (ventilation, bg, ...) can be
 * queried when a stay disagrees; the next run recreates it.
 *
 * Environment: MIMIC_CODE_DIR (default /tmp/mimic-code), MIMIC_BENCH_ADMIN_URL (default
 * TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test), MIMIC_BENCH_DB (mimic_bench).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';
import pg from 'pg';
import { SOFA_HOURLY_HEADER, findTableFile } from './csv.ts';

export interface ReferenceOptions {
  /** MIMIC-IV layout directory. */
  dir: string;
  /** Output CSV. */
  out: string;
  mimicCodeDir: string;
  adminUrl: string;
  database: string;
}

export interface Timing {
  step: string;
  ms: number;
}

export interface ReferenceResult {
  /** create, load, constraints, indexes, analyze. */
  setup: Timing[];
  /** Each concept file, in the order run. */
  concepts: Timing[];
  conceptsMs: number;
  exportMs: number;
  rows: number;
  loadedRows: Record<string, number>;
  settings: Record<string, string>;
}

/** The tables mimic-code's sofa and its dependencies read. */
const TABLES = [
  ['hosp', 'patients'],
  ['hosp', 'admissions'],
  ['hosp', 'labevents'],
  ['icu', 'icustays'],
  ['icu', 'chartevents'],
  ['icu', 'inputevents'],
  ['icu', 'outputevents'],
] as const;

/** sofa.sql and the concepts it depends on (directly or through ventilation / urine_output_rate). */
const SOFA_CONCEPTS = new Set([
  'demographics/icustay_times.sql',
  'demographics/icustay_hourly.sql',
  'demographics/weight_durations.sql',
  'measurement/urine_output.sql',
  'measurement/bg.sql',
  'measurement/chemistry.sql',
  'measurement/complete_blood_count.sql',
  'measurement/enzyme.sql',
  'measurement/gcs.sql',
  'measurement/oxygen_delivery.sql',
  'measurement/urine_output_rate.sql',
  'measurement/ventilator_setting.sql',
  'measurement/vitalsign.sql',
  'medication/dobutamine.sql',
  'medication/dopamine.sql',
  'medication/epinephrine.sql',
  'medication/norepinephrine.sql',
  'treatment/ventilation.sql',
  'postgres-concept-index.sql',
  'score/sofa.sql',
]);

export const MIMIC_CODE_HELP = [
  'mimic-code not found. Get it with either of:',
  '  git clone https://github.com/MIT-LCP/mimic-code /tmp/mimic-code',
  '  mkdir -p /tmp/mimic-code && git --git-dir=PATH/TO/mimic-code.git archive HEAD mimic-iv | tar -x -C /tmp/mimic-code',
  'and point MIMIC_CODE_DIR at it (default /tmp/mimic-code).',
].join('\n');

export function defaultReferenceEnv(): Pick<ReferenceOptions, 'mimicCodeDir' | 'adminUrl' | 'database'> {
  return {
    mimicCodeDir: process.env.MIMIC_CODE_DIR ?? '/tmp/mimic-code',
    adminUrl: process.env.MIMIC_BENCH_ADMIN_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    database: process.env.MIMIC_BENCH_DB ?? 'mimic_bench',
  };
}

interface MimicCodePaths {
  build: string;
  concepts: string;
}

export function mimicCodePaths(root: string): MimicCodePaths | undefined {
  const build = path.join(root, 'mimic-iv/buildmimic/postgres');
  const concepts = path.join(root, 'mimic-iv/concepts_postgres');
  const needed = [path.join(build, 'create.sql'), path.join(build, 'index.sql'), path.join(concepts, 'postgres-make-concepts.sql')];
  return needed.every((file) => fs.existsSync(file)) ? { build, concepts } : undefined;
}

/** The concept files of postgres-make-concepts.sql (`\i` lines) that sofa needs, in its order. */
export function sofaConceptOrder(conceptsDir: string): string[] {
  const make = fs.readFileSync(path.join(conceptsDir, 'postgres-make-concepts.sql'), 'utf8');
  const order = [...make.matchAll(/^\\i\s+(\S+)/gm)].map((m) => m[1] ?? '').filter((file) => SOFA_CONCEPTS.has(file));
  const missing = [...SOFA_CONCEPTS].filter((file) => !order.includes(file));
  if (missing.length > 0) throw new Error(`postgres-make-concepts.sql no longer includes ${missing.join(', ')}`);
  return order;
}

/** Statements of a plain SQL file (no dollar quoting in mimic-code's build scripts), comments dropped. */
function sqlStatements(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .split(/;\s*\n/)
    .map((s) => s.trim().replace(/;$/, ''))
    .filter((s) => s.length > 0);
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

function requirePsql(): void {
  const found = spawnSync('psql', ['--version'], { encoding: 'utf8' });
  if (found.status !== 0) throw new Error('psql is needed to load and export the tables (Debian: postgresql-client)');
}

/** Runs psql with ON_ERROR_STOP; stdin from a stream (COPY FROM STDIN) and stdout to a file if given. */
async function psql(url: string, args: string[], input?: NodeJS.ReadableStream, outFile?: string): Promise<void> {
  const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, ...args], {
    stdio: [input ? 'pipe' : 'ignore', outFile ? 'pipe' : 'ignore', 'pipe'],
    env: { ...process.env, PGCLIENTENCODING: 'UTF8' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  const streams: Promise<void>[] = [];
  if (input && child.stdin) streams.push(pipeline(input, child.stdin));
  if (outFile && child.stdout) streams.push(pipeline(child.stdout, fs.createWriteStream(outFile)));
  const [code] = await Promise.all([exited, ...streams]);
  const notices = stderr
    .split('\n')
    .filter((line) => line.trim() !== '' && !/NOTICE:|does not exist, skipping/.test(line));
  if (code !== 0) throw new Error(`psql ${args.join(' ')} failed (exit ${code}):\n${stderr.trim()}`);
  if (notices.length > 0) process.stderr.write(`${notices.join('\n')}\n`);
}

async function timed<T>(list: Timing[], step: string, run: () => Promise<T>, log: (line: string) => void): Promise<T> {
  const started = performance.now();
  const value = await run();
  const ms = performance.now() - started;
  list.push({ step, ms });
  log(`  ${step.padEnd(44)} ${(ms / 1000).toFixed(2).padStart(9)} s`);
  return value;
}

async function firstLine(file: string): Promise<string> {
  const raw = fs.createReadStream(file);
  const input = file.endsWith('.gz') ? raw.pipe(zlib.createGunzip()) : raw;
  let text = '';
  for await (const chunk of input) {
    text += (chunk as Buffer).toString();
    const end = text.indexOf('\n');
    if (end !== -1) {
      raw.destroy();
      return text.slice(0, end).replace(/\r$/, '');
    }
  }
  return text;
}

export async function runReference(options: ReferenceOptions, log: (line: string) => void = console.log): Promise<ReferenceResult> {
  const code = mimicCodePaths(options.mimicCodeDir);
  if (!code) throw new Error(`${MIMIC_CODE_HELP}\n(looked in ${options.mimicCodeDir})`);
  requirePsql();
  if (!/^[a-z_][a-z0-9_]*$/.test(options.database)) throw new Error(`invalid database name ${options.database}`);
  const files = TABLES.map(([module, table]) => {
    const file = findTableFile(options.dir, module, table);
    if (!file) throw new Error(`${options.dir}/${module}/${table}.csv[.gz] not found`);
    return { module, table, file };
  });
  const concepts = sofaConceptOrder(code.concepts);
  const benchUrl = withDatabase(options.adminUrl, options.database);
  const setup: Timing[] = [];
  const conceptTimes: Timing[] = [];

  log(`reference: mimic-code SQL from ${options.mimicCodeDir} on ${benchUrl.replace(/:[^:@/]*@/, ':***@')}`);
  const admin = new pg.Client({ connectionString: options.adminUrl });
  await admin.connect();
  try {
    await timed(setup, 'create database', async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${options.database} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${options.database}`);
    }, log);
  } finally {
    await admin.end();
  }
  await timed(setup, 'create.sql', () => psql(benchUrl, ['-f', path.join(code.build, 'create.sql')]), log);

  const loadedRows: Record<string, number> = {};
  const client = new pg.Client({ connectionString: benchUrl });
  await client.connect();
  client.on('notice', () => undefined);
  try {
    const settings: Record<string, string> = {};
    for (const name of ['server_version', 'shared_buffers', 'work_mem', 'max_parallel_workers_per_gather', 'jit']) {
      const row = (await client.query<{ setting: string }>(`SELECT current_setting('${name}') AS setting`)).rows[0];
      settings[name] = row?.setting ?? '?';
    }
    log(`  PostgreSQL ${Object.entries(settings).map(([k, v]) => `${k}=${v}`).join(' ')}`);

    await timed(setup, 'load (COPY, 7 tables)', async () => {
      for (const { module, table, file } of files) {
        const columns = (await firstLine(file)).split(',').map((c) => c.trim().toLowerCase());
        if (!columns.every((c) => /^[a-z_][a-z0-9_]*$/.test(c))) throw new Error(`unexpected header in ${file}`);
        const raw = fs.createReadStream(file);
        const input = file.endsWith('.gz') ? raw.pipe(zlib.createGunzip()) : raw;
        const copy = `COPY mimiciv_${module}.${table} (${columns.join(', ')}) FROM STDIN WITH (FORMAT csv, HEADER true, NULL '')`;
        await psql(benchUrl, ['-c', copy], input);
        const count = (await client.query<{ n: string }>(`SELECT count(*) AS n FROM mimiciv_${module}.${table}`)).rows[0];
        loadedRows[table] = Number(count?.n ?? 0);
      }
    }, log);

    const loaded = new Set(TABLES.map(([module, table]) => `mimiciv_${module}.${table}`));
    const constraints = sqlStatements(fs.readFileSync(path.join(code.build, 'constraint.sql'), 'utf8')).filter((statement) => {
      const table = /ALTER TABLE\s+(\S+)/i.exec(statement)?.[1]?.toLowerCase();
      const target = /REFERENCES\s+([\w.]+)/i.exec(statement)?.[1]?.toLowerCase();
      return table !== undefined && loaded.has(table) && (target === undefined || loaded.has(target));
    });
    await timed(setup, `constraint.sql (${constraints.length} statements)`, async () => {
      for (const statement of constraints) await client.query(statement);
    }, log);
    await timed(setup, 'index.sql', () => psql(benchUrl, ['-f', path.join(code.build, 'index.sql')]), log);
    await timed(setup, 'analyze loaded tables', async () => {
      for (const table of loaded) await client.query(`ANALYZE ${table}`);
    }, log);

    // postgres-make-concepts.sql sets this search path before the first \i.
    await client.query('SET search_path TO mimiciv_derived, mimiciv_hosp, mimiciv_icu, mimiciv_ed');
    const conceptsStarted = performance.now();
    for (const file of concepts) {
      const sql = fs.readFileSync(path.join(code.concepts, file), 'utf8');
      await timed(conceptTimes, file, () => client.query(sql), log);
    }
    const conceptsMs = performance.now() - conceptsStarted;
    const sofaMs = conceptTimes.find((t) => t.step === 'score/sofa.sql')?.ms ?? 0;
    log(`  ${'concepts total'.padEnd(44)} ${(conceptsMs / 1000).toFixed(2).padStart(9)} s (dependencies ${((conceptsMs - sofaMs) / 1000).toFixed(2)} s + sofa.sql ${(sofaMs / 1000).toFixed(2)} s)`);

    const iso = (column: string): string => `to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS') AS ${column}`;
    const columns = SOFA_HOURLY_HEADER.map((c) => (c === 'starttime' || c === 'endtime' ? iso(c) : c));
    const exportSql = `COPY (SELECT ${columns.join(', ')} FROM mimiciv_derived.sofa ORDER BY stay_id, hr) TO STDOUT WITH (FORMAT csv, HEADER true)`;
    fs.mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
    const exportStarted = performance.now();
    await psql(benchUrl, ['-c', exportSql], undefined, options.out);
    const exportMs = performance.now() - exportStarted;
    const rows = Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM mimiciv_derived.sofa')).rows[0]?.n ?? 0);
    log(`  ${'export sofa'.padEnd(44)} ${(exportMs / 1000).toFixed(2).padStart(9)} s (${rows.toLocaleString('en-US')} rows -> ${options.out})`);
    return { setup, concepts: conceptTimes, conceptsMs, exportMs, rows, loadedRows, settings };
  } finally {
    await client.end();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const dir = args.find((arg, i) => !arg.startsWith('--') && (outIndex === -1 || i !== outIndex + 1));
  if (dir === undefined) {
    console.error('usage: node --import tsx bench/sofa/reference.ts DIR [--out reference.csv]');
    process.exit(2);
  }
  const out = outIndex === -1 ? path.join(dir, 'reference.csv') : (args[outIndex + 1] ?? 'reference.csv');
  try {
    await runReference({ dir: path.resolve(dir), out: path.resolve(out), ...defaultReferenceEnv() });
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
