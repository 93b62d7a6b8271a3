/**
 * bench/ingest: how fast ImmunoGuide reads data, against what Node itself can do.
 *
 *   node --import tsx bench/ingest.ts [--gb 1] [--dir DIR] [--keep] [--skip-screen] [--skip-import]
 *                                     [--workers auto|N[,N...]] [--import-measurements 1000000]
 *                                     [--pg-url postgres://...] [--default-heap-growth]
 *
 * (a) Screening throughput: a synthetic FHIR Bulk Data extract of at least --gb GB (NDJSON,
 *     generated into DIR, removed afterwards unless --keep) is screened as `immunoguide screen`
 *     does it (runScreen: the import readers without a store, then every patient assessed), and
 *     compared with the floor of reading the same lines and JSON.parse-ing them in one thread,
 *     in the same run. --workers lists the thread counts to screen with (default auto: what
 *     `immunoguide screen` uses, os.availableParallelism() for an extract this large); the
 *     ratio to the floor is that of the last. Each phase runs in a child process of its own so
 *     its peak RSS is its own (worker threads included); the screen (last thread count) also
 *     runs on an extract 1/8 the size, to show how the peak RSS grows with the input. The
 *     screen bounds V8's heap growth as the command does (boundHeapGrowth);
 *     --default-heap-growth leaves V8's default, for comparison.
 * (b) PostgreSQL import: --import-measurements measurements of the simple CSV through
 *     `runImport` + StoreImportSink (parse, batch, commit with checkpoints; two batches written
 *     at once, the sink's default on the server) into a fresh schema, the same with one write at
 *     a time, and the store alone (insertMeasurementColumns on ready measurements, one
 *     transaction at a time) for comparison.
 *
 * Results are printed as Markdown and written to bench/out/ingest.json.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultConceptDictionary } from '../src/sources/concepts/dictionary.ts';
import { type SourceMeasurement, createParserState } from '../src/sources/import-format.ts';
import { parseMeasurementCsvChunk } from '../src/sources/measurement-csv.ts';
import { readLineChunks } from '../src/sources/ingest/lines.ts';
import { runImport } from '../src/sources/ingest/run.ts';
import { AUTO_WORKERS_MIN_BYTES, boundHeapGrowth, runScreen } from '../src/sources/ingest/screen.ts';
import { syntheticCohort } from '../src/sources/synthetic/cohort.ts';
import { exportFhirNdjson, fhirResources } from '../src/sources/synthetic/export-fhir.ts';
import { StoreImportSink, insertMeasurementColumns } from '../src/store/import-sink.ts';
import type { Queryable } from '../src/store/db.ts';
import { migrate } from '../src/store/migrate.ts';
import { openPostgres } from '../src/store/postgres.ts';

const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(`--${name}`);
const option = (name: string, fallback: string): string => {
  const index = args.indexOf(`--${name}`);
  return index === -1 ? fallback : (args[index + 1] ?? fallback);
};

const SELF = path.resolve(import.meta.dirname, 'ingest.ts');
const GB = 1024 ** 3;
const DAYS = 28;

interface PhaseResult {
  phase: string;
  /** Threads of the screen (runScreen's `workers`). */
  workers?: number;
  records: number;
  measurements: number;
  bytes: number;
  wallMs: number;
  cpuMs: number;
  maxRssMb: number;
}

// ---------------------------------------------------------------------------------------------
// Child phases: one measurement each, printed as JSON on stdout.

async function phase(name: string, dir: string, workers: number | undefined): Promise<void> {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ndjson'))
    .map((f) => path.join(dir, f));
  const bytes = files.reduce((sum, f) => sum + fs.statSync(f).size, 0);
  const dictionary = defaultConceptDictionary();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let records = 0;
  let measurements = 0;
  if (name === 'floor') {
    // Reading the lines and JSON.parse: the least any NDJSON reader in Node has to do.
    for (const file of files) {
      for await (const chunk of readLineChunks(file)) {
        for (const line of chunk.lines) {
          if (line.length === 0) continue;
          JSON.parse(line);
          records++;
        }
      }
    }
  } else if (name === 'screen') {
    // The pipeline of `immunoguide screen`: read, map, convert units, then assess every patient,
    // with the heap growth the command sets (--default-heap-growth: V8's own, for comparison).
    if (!flag('default-heap-growth')) boundHeapGrowth();
    const summary = await runScreen([dir], { dictionary, format: 'fhir', ...(workers === undefined ? {} : { workers }) });
    records = summary.records;
    measurements = summary.measurements;
    if (summary.errors > 0) throw new Error(`screening reported ${summary.errors} errors: ${JSON.stringify(summary.issues.slice(0, 3))}`);
    if (summary.patients === 0 || summary.notAssessed > 0) throw new Error(`screening assessed ${summary.patients - summary.notAssessed} of ${summary.patients} patients`);
  } else throw new Error(`unknown phase ${name}`);
  const cpu = process.cpuUsage(cpu0);
  const result: PhaseResult = {
    phase: name,
    ...(name === 'screen' ? { workers: workers ?? (bytes >= AUTO_WORKERS_MIN_BYTES ? os.availableParallelism() : 1) } : {}),
    records,
    measurements,
    bytes,
    wallMs: performance.now() - t0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runPhase(name: string, dir: string, workers?: number): PhaseResult {
  const extra = [...(workers === undefined ? [] : ['--phase-workers', String(workers)]), ...(flag('default-heap-growth') ? ['--default-heap-growth'] : [])];
  const child = spawnSync(process.execPath, ['--import', 'tsx', SELF, '--phase', name, '--dir', dir, ...extra], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (child.status !== 0) throw new Error(`phase ${name} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as PhaseResult;
}

// ---------------------------------------------------------------------------------------------
// The extract

/** Writes a synthetic FHIR Bulk Data extract of at least `bytes` (skipped when DIR already has one). */
async function ensureExtract(dir: string, bytes: number): Promise<{ patients: number; bytes: number }> {
  const existing = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.ndjson'))
        .reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0)
    : 0;
  if (existing >= bytes) return { patients: -1, bytes: existing };
  fs.rmSync(dir, { recursive: true, force: true });
  // Size one patient from a sample, then generate enough of them.
  let sample = 0;
  for (const record of syntheticCohort({ patients: 20, seed: 1, days: DAYS })) {
    for (const resource of fhirResources(record)) sample += Buffer.byteLength(JSON.stringify(resource)) + 1;
  }
  const patients = Math.ceil((bytes / (sample / 20)) * 1.1);
  process.stderr.write(`generating ${patients} patients (${(bytes / GB).toFixed(2)} GB of FHIR NDJSON) into ${dir}...\n`);
  const report = await exportFhirNdjson(syntheticCohort({ patients, seed: 2026, days: DAYS }), dir);
  return { patients, bytes: report.files.reduce((sum, f) => sum + f.bytes, 0) };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL import

interface ImportResult {
  measurements: number;
  pipelineMs: number;
  pipelinePerSecond: number;
  /** The same pipeline with one write at a time (as on PGlite, and before two were written at once). */
  pipelineOneWriteMs: number;
  pipelineOneWritePerSecond: number;
  storeOnlyMs: number;
  storeOnlyPerSecond: number;
  serverMs: number;
  serverPerSecond: number;
  /** CPU seconds of this process (the client) and of its PostgreSQL backends, per phase. */
  cpu: Record<'pipeline' | 'pipelineOneWrite' | 'storeOnly' | 'server', { clientS: number; serverS: number | null }>;
}

async function postgresImport(url: string, count: number, dir: string): Promise<ImportResult> {
  const csv = path.join(dir, 'import-bench.csv');
  writeCsv(csv, count);
  const schema = `ig_bench_${process.pid}`;
  // Named connections, so that the CPU time of this run's backends can be told apart.
  const db = await openPostgres({ url: withApplicationName(url, schema), schema });
  const serverCpu = new BackendCpu(db, schema);
  const cpu = {} as ImportResult['cpu'];
  const measure = async <T>(phase: keyof ImportResult['cpu'], work: () => Promise<T>): Promise<{ value: T; ms: number }> => {
    await serverCpu.sample();
    const server0 = serverCpu.total();
    const client0 = process.cpuUsage();
    const t = performance.now();
    const timer = setInterval(() => void serverCpu.sample(), 500);
    try {
      const value = await work();
      const ms = performance.now() - t;
      const client = process.cpuUsage(client0);
      await serverCpu.sample();
      const server = serverCpu.total();
      cpu[phase] = { clientS: round1((client.user + client.system) / 1e6), serverS: server === null || server0 === null ? null : round1(server - server0) };
      return { value, ms };
    } finally {
      clearInterval(timer);
    }
  };
  try {
    await migrate(db);
    const pipeline = await measure('pipeline', () =>
      runImport([csv], { dictionary: defaultConceptDictionary(), sink: new StoreImportSink(db), batchMeasurements: 50_000 }),
    );
    if (pipeline.value.inserted !== count) throw new Error(`stored ${pipeline.value.inserted} of ${count}`);

    // The same with one write at a time (what PGlite does; the server's default is two at once).
    // The 1,000 patients stay (the audit trail makes their table append-only): this run finds them.
    await db.exec('TRUNCATE measurement, import_checkpoint');
    const pipelineOneWrite = await measure('pipelineOneWrite', () =>
      runImport([csv], { dictionary: defaultConceptDictionary(), sink: new StoreImportSink(db, { writesInFlight: 1 }), batchMeasurements: 50_000 }),
    );
    if (pipelineOneWrite.value.inserted !== count) throw new Error(`stored ${pipelineOneWrite.value.inserted} of ${count} with one write at a time`);

    // The store alone: the measurements the pipeline stored (parsed again from the same lines,
    // untimed, so their record ids are the same content hashes), 50,000 per transaction.
    await db.exec('TRUNCATE measurement');
    const batch = 50_000;
    const batches: SourceMeasurement[][] = [];
    for (let start = 0; start < count; start += batch) batches.push(parsedMeasurements(start, Math.min(count, start + batch)));
    const storeOnly = await measure('storeOnly', async () => {
      for (const rows of batches) await db.transaction((tx) => insertMeasurementColumns(tx, rows, 'try-plain'));
    });
    batches.length = 0;

    // The server's own ceiling with this schema: the same kind of rows generated inside
    // PostgreSQL and inserted with INSERT ... SELECT (no client, no parameters), 50,000 per
    // statement, grouped by patient as the store sends them, with record ids as random as the
    // content hashes of the CSV (sequential ids fill the provenance index far more cheaply).
    await db.exec('TRUNCATE measurement');
    const server = await measure('server', async () => {
      for (let start = 0; start < count; start += batch) {
        await db.query(
          `INSERT INTO measurement (patient_id, concept, value, unit, effective_start, source, record_id, original_value, original_unit)
           SELECT 'B-' || (g % 1000), 'platelets', 100 + g % 300, '10*3/uL', timestamptz '2026-01-05T00:00:00Z' + g * interval '1 minute',
                  'csv', md5('bench-' || g), (100 + g % 300)::text, '10*3/uL'
             FROM generate_series($1::int, $2::int) AS g
            ORDER BY 'B-' || (g % 1000), g`,
          [start, Math.min(count, start + batch) - 1],
        );
      }
    });
    return {
      measurements: count,
      pipelineMs: pipeline.ms,
      pipelinePerSecond: Math.round(count / (pipeline.ms / 1000)),
      pipelineOneWriteMs: pipelineOneWrite.ms,
      pipelineOneWritePerSecond: Math.round(count / (pipelineOneWrite.ms / 1000)),
      storeOnlyMs: storeOnly.ms,
      storeOnlyPerSecond: Math.round(count / (storeOnly.ms / 1000)),
      serverMs: server.ms,
      serverPerSecond: Math.round(count / (server.ms / 1000)),
      cpu,
    };
  } finally {
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await db.close();
    fs.rmSync(csv, { force: true });
  }
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

function withApplicationName(url: string, name: string): string {
  try {
    const parsed = new URL(url);
    parsed.searchParams.set('application_name', name);
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * CPU seconds used by the PostgreSQL backends of this run (connections named `name`), read
 * from /proc: only when the server runs on this machine (null otherwise). Sampled while a phase
 * runs too, since the pool closes idle connections.
 */
class BackendCpu {
  readonly #db: Queryable;
  readonly #name: string;
  readonly #seconds = new Map<number, number>();
  #unreadable = false;
  constructor(db: Queryable, name: string) {
    this.#db = db;
    this.#name = name;
  }
  async sample(): Promise<void> {
    if (this.#unreadable) return;
    const result = await this.#db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [this.#name]).catch(() => undefined);
    for (const { pid } of result?.rows ?? []) {
      try {
        // Fields 14 and 15 of /proc/PID/stat (after the parenthesised command): utime, stime in clock ticks.
        const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        this.#seconds.set(pid, (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
      } catch {
        this.#unreadable = true;
        return;
      }
    }
  }
  total(): number | null {
    return this.#unreadable ? null : [...this.#seconds.values()].reduce((sum, s) => sum + s, 0);
  }
}

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

function benchMeasurement(i: number): SourceMeasurement {
  return {
    patientId: `B-${i % 1000}`,
    concept: 'platelets',
    value: 100 + (i % 300),
    unit: '10*3/uL',
    time: new Date(Date.UTC(2026, 0, 5) + i * 60_000).toISOString(),
    provenance: { source: 'csv', recordId: `bench-${i}` },
  };
}

function csvLine(i: number): string {
  const m = benchMeasurement(i);
  return `${m.patientId},${m.time},${m.concept},${m.value},${m.unit}`;
}

/** Measurements [start, end) of the bench CSV as the CSV parser makes them. */
function parsedMeasurements(start: number, end: number): SourceMeasurement[] {
  const lines: string[] = [];
  for (let i = start; i < end; i++) lines.push(csvLine(i));
  const result = parseMeasurementCsvChunk(lines, { firstLineNumber: start + 2, header: CSV_HEADER, fileName: 'import-bench.csv', source: 'csv', dictionary: defaultConceptDictionary(), state: createParserState() });
  if (result.measurements.length !== end - start) throw new Error(`the bench CSV lines ${start}-${end} did not all parse: ${JSON.stringify(result.issues.slice(0, 3))}`);
  return result.measurements;
}

const CSV_HEADER = 'patient_id,time,concept,value,unit';

function writeCsv(file: string, count: number): void {
  const fd = fs.openSync(file, 'w');
  let lines = [CSV_HEADER];
  for (let i = 0; i < count; i++) {
    lines.push(csvLine(i));
    if (lines.length >= 20_000) {
      fs.writeSync(fd, `${lines.join('\n')}\n`);
      lines = [];
    }
  }
  if (lines.length > 0) fs.writeSync(fd, `${lines.join('\n')}\n`);
  fs.closeSync(fd);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const childPhase = option('phase', '');
  if (childPhase !== '') {
    const phaseWorkers = option('phase-workers', '');
    return phase(childPhase, option('dir', ''), phaseWorkers === '' ? undefined : Number(phaseWorkers));
  }

  const gb = Number(option('gb', '1'));
  const dir = option('dir', path.join(os.tmpdir(), 'immunoguide-bench-ingest'));
  const report: Record<string, unknown> = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    loadAverage: os.loadavg(),
  };
  try {
    if (!flag('skip-screen')) {
      const big = await ensureExtract(path.join(dir, 'large'), gb * GB);
      const small = await ensureExtract(path.join(dir, 'small'), (gb * GB) / 8);
      // Thread counts to screen with: "auto" is runScreen's default.
      const workerCounts = option('workers', 'auto')
        .split(',')
        .map((w) => (w === 'auto' ? undefined : Number(w)));
      const floor = runPhase('floor', path.join(dir, 'large'));
      const screens = workerCounts.map((w) => runPhase('screen', path.join(dir, 'large'), w));
      const screen = screens.at(-1)!;
      const screenSmall = runPhase('screen', path.join(dir, 'small'), workerCounts.at(-1));
      report.screen = { extract: big, smallExtract: small, floor, screens, screen, screenSmall };
      const mb = (r: PhaseResult) => r.bytes / 1024 ** 2 / (r.wallMs / 1000);
      console.log(`\n## Screening a ${(floor.bytes / GB).toFixed(2)} GB FHIR NDJSON extract (${floor.records.toLocaleString('en-US')} resources)\n`);
      console.log('| phase | wall s | CPU s | records/s | MB/s | peak RSS MB |');
      console.log('|---|---|---|---|---|---|');
      const threads = (r: PhaseResult) => `${r.workers} thread${r.workers === 1 ? '' : 's'}`;
      for (const r of [floor, ...screens, screenSmall]) {
        const label =
          r === floor
            ? 'floor: read + JSON.parse (1 thread)'
            : r === screenSmall
              ? `screen, 1/8 extract (${(r.bytes / GB).toFixed(2)} GB), ${threads(r)}`
              : `screen (parse + map + units + assessment), ${threads(r)}`;
        console.log(
          `| ${label} | ${(r.wallMs / 1000).toFixed(1)} | ${(r.cpuMs / 1000).toFixed(1)} | ${Math.round(r.records / (r.wallMs / 1000)).toLocaleString('en-US')} | ${mb(r).toFixed(1)} | ${r.maxRssMb.toFixed(0)} |`,
        );
      }
      for (const r of screens) {
        console.log(`\nscreen (${threads(r)}) / floor throughput: ${((floor.wallMs / r.wallMs) * 100).toFixed(0)}% (wall), ${((floor.cpuMs / r.cpuMs) * 100).toFixed(0)}% (CPU)`);
      }
      console.log(`measurements: ${screen.measurements.toLocaleString('en-US')}`);
    }
    if (!flag('skip-import')) {
      const url = option('pg-url', process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
      fs.mkdirSync(dir, { recursive: true });
      const result = await postgresImport(url, Number(option('import-measurements', '1000000')), dir);
      report.import = result;
      console.log(`\n## Import into PostgreSQL (${result.measurements.toLocaleString('en-US')} measurements)\n`);
      console.log('| path | s | measurements/s |');
      console.log('|---|---|---|');
      console.log(`| CSV -> runImport -> StoreImportSink (batches of 50,000 with checkpoints, two written at once) | ${(result.pipelineMs / 1000).toFixed(1)} | ${result.pipelinePerSecond.toLocaleString('en-US')} |`);
      console.log(`| the same, one write at a time (as on PGlite) | ${(result.pipelineOneWriteMs / 1000).toFixed(1)} | ${result.pipelineOneWritePerSecond.toLocaleString('en-US')} |`);
      console.log(`| store only: insertMeasurementColumns on the parsed measurements, 50,000 per transaction | ${(result.storeOnlyMs / 1000).toFixed(1)} | ${result.storeOnlyPerSecond.toLocaleString('en-US')} |`);
      console.log(`| server ceiling: INSERT ... SELECT generate_series inside PostgreSQL (no client, random record ids) | ${(result.serverMs / 1000).toFixed(1)} | ${result.serverPerSecond.toLocaleString('en-US')} |`);
      const cpuCells = (c: { clientS: number; serverS: number | null }): string => `${c.clientS.toFixed(1)} | ${c.serverS === null ? 'n/a' : c.serverS.toFixed(1)}`;
      console.log('\n| path | client CPU s | PostgreSQL backend CPU s |');
      console.log('|---|---|---|');
      console.log(`| pipeline | ${cpuCells(result.cpu.pipeline)} |`);
      console.log(`| pipeline, one write at a time | ${cpuCells(result.cpu.pipelineOneWrite)} |`);
      console.log(`| store only | ${cpuCells(result.cpu.storeOnly)} |`);
      console.log(`| server ceiling | ${cpuCells(result.cpu.server)} |`);
    }
  } finally {
    if (!flag('keep')) fs.rmSync(dir, { recursive: true, force: true });
  }
  const out = path.resolve(import.meta.dirname, 'out');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'ingest.json'), `${JSON.stringify(report, null, 2)}\n`);
}

await main();
