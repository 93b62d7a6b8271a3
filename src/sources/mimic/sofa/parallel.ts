/**
 * Reads a MIMIC-IV directory for SOFA on several threads: each large plain CSV file (chartevents
 * above all) is cut into byte ranges at line boundaries, every range and every other file is a
 * job, jobs go to worker threads (worker.ts) balanced by size, and the tables each worker
 * collected are merged (every aggregate is a MIN, MAX, SUM or list, so parts merge exactly).
 * The result equals the single-threaded readMimicSofaTables, issues included (line numbers are
 * made absolute from each range's line count).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { splitCsvRecord } from '../../csv-record.ts';
import { firstLine } from '../../ingest/files.ts';
import { isGzipFile } from '../../ingest/lines.ts';
import { startTsWorker } from '../../ingest/ts-worker.ts';
import {
  type MimicReadIssue,
  type MimicReadOptions,
  type MimicReadResult,
  ORDER,
  REQUIRED,
  type SofaTable,
  findSofaTables,
  readMimicSofaTables,
} from './read.ts';
import { MimicSofaTables, type MimicSofaTablesState } from './tables.ts';

export interface ReadJob {
  index: number;
  table: SofaTable;
  path: string;
  header: string;
  /** Byte range of a plain file, or null for the whole file. */
  range: { start: number; end: number } | null;
  bytes: number;
}

interface JobResult {
  index: number;
  lines: number;
  rows: number;
  kept: number;
  rejected: number;
  issues: Array<{ line: number; message: string }>;
}

export type WorkerMessage =
  | { kind: 'progress'; index: number; bytes: number }
  | { kind: 'job'; result: JobResult }
  | { kind: 'done'; state: MimicSofaTablesState }
  | { kind: 'error'; message: string };

/** Files above this size (plain CSV) are split into one range per worker. */
const SPLIT_BYTES = 16 * 1024 * 1024;

export interface ParallelReadOptions extends MimicReadOptions {
  /** Worker threads (default: the CPUs available, at most 8); 1 reads on this thread. */
  workers?: number;
  /** Plain files above this many bytes are split into one range per worker (default 16 MiB). */
  splitBytes?: number;
}

export async function readMimicSofaTablesParallel(dir: string, options: ParallelReadOptions = {}): Promise<MimicReadResult> {
  const workers = Math.max(1, Math.min(options.workers ?? Math.min(os.availableParallelism(), 8), 16));
  if (workers === 1) return readMimicSofaTables(dir, options);
  const files = findSofaTables(dir);
  const result: MimicReadResult = { tables: new MimicSofaTables(), files: [], issues: [], issuesDropped: 0 };
  const maxIssues = options.maxIssues ?? 1000;
  const report = (issue: MimicReadIssue) => {
    if (result.issues.length < maxIssues) result.issues.push(issue);
    else result.issuesDropped++;
  };

  const jobs: ReadJob[] = [];
  const headerProblems = new Map<SofaTable, string>();
  for (const table of ORDER) {
    const file = files.get(table);
    if (file === undefined) {
      report({ severity: 'warning', file: path.join(dir, `${table}.csv`), line: null, message: `no ${table} table: the SOFA inputs it holds count as missing` });
      continue;
    }
    const header = firstLine(file);
    const split = splitCsvRecord(header);
    const names = new Set(split.ok ? split.fields.map((f) => f.trim().toLowerCase()) : []);
    const missing = REQUIRED[table].filter((c) => !names.has(c));
    if (!split.ok || missing.length > 0) {
      headerProblems.set(table, file);
      report({ severity: 'error', file, line: 1, message: `not a MIMIC-IV ${table} table: missing column(s) ${missing.join(', ')}` });
      continue;
    }
    const size = fs.statSync(file).size;
    if (size > (options.splitBytes ?? SPLIT_BYTES) && !isGzipFile(file)) {
      const step = Math.ceil(size / workers);
      for (let start = 0; start < size; start += step) {
        jobs.push({ index: jobs.length, table, path: file, header, range: { start, end: Math.min(size, start + step) }, bytes: Math.min(size, start + step) - start });
      }
    } else jobs.push({ index: jobs.length, table, path: file, header, range: null, bytes: size });
  }

  // Largest jobs first, each to the least-loaded worker.
  const plan: ReadJob[][] = Array.from({ length: workers }, () => []);
  const load = new Array<number>(workers).fill(0);
  for (const job of [...jobs].sort((a, b) => b.bytes - a.bytes)) {
    const target = load.indexOf(Math.min(...load));
    plan[target]!.push(job);
    load[target]! += job.bytes;
  }

  const totalBytes = jobs.reduce((n, j) => n + j.bytes, 0);
  const done = new Map<number, number>();
  const results = new Map<number, JobResult>();
  const states = await Promise.all(
    plan
      .filter((list) => list.length > 0)
      .map(
        (list) =>
          new Promise<MimicSofaTablesState>((resolve, reject) => {
            const worker = startTsWorker(new URL('./worker.ts', import.meta.url), { workerData: { jobs: list } });
            worker.on('message', (message: WorkerMessage) => {
              if (message.kind === 'progress') {
                done.set(message.index, message.bytes);
                const job = jobs[message.index]!;
                let bytesRead = 0;
                for (const b of done.values()) bytesRead += b;
                options.onProgress?.({ table: job.table, bytesRead, totalBytes, rows: 0 });
              } else if (message.kind === 'job') results.set(message.result.index, message.result);
              else if (message.kind === 'done') {
                resolve(message.state);
                void worker.terminate();
              } else reject(new Error(`SOFA reader thread failed: ${message.message}`));
            });
            worker.on('error', reject);
            worker.on('exit', (code) => {
              if (code !== 0) reject(new Error(`SOFA reader thread stopped with exit code ${code}`));
            });
          }),
      ),
  );
  for (const state of states) result.tables.merge(state);

  // Per file: counts, and issues with absolute line numbers (ranges in file order).
  for (const table of ORDER) {
    const file = files.get(table);
    if (file === undefined) continue;
    const summary = { table, path: file, rows: 0, kept: 0, rejected: 0 };
    let linesBefore = 0;
    for (const job of jobs.filter((j) => j.table === table)) {
      const r = results.get(job.index);
      if (r === undefined) throw new Error(`SOFA reader: no result for part ${job.index} of ${file}`);
      summary.rows += r.rows;
      summary.kept += r.kept;
      summary.rejected += r.rejected;
      for (const issue of r.issues) report({ severity: 'error', file, line: job.range === null ? issue.line : linesBefore + issue.line, message: issue.message });
      result.issuesDropped += r.rejected - r.issues.length;
      linesBefore += r.lines;
    }
    result.files.push(summary);
  }
  for (const [table, file] of headerProblems) result.files.push({ table, path: file, rows: 0, kept: 0, rejected: 0 });
  // Issues in file order, then line order, as one reader would have listed them.
  const order = new Map(ORDER.map((t, i) => [files.get(t) ?? t, i]));
  result.issues.sort((a, b) => (order.get(a.file) ?? -1) - (order.get(b.file) ?? -1) || (a.line ?? 0) - (b.line ?? 0));
  return result;
}
