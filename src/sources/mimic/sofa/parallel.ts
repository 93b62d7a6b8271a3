/**
 * Hourly SOFA of a MIMIC-IV directory on several threads. The patients are cut into parts by
 * subject_id (subject_id % parts): every thread (worker.ts) reads every table but keeps only the
 * rows of its part (read.ts skips the others on their first bytes), scores its own stays, and
 * sends them back in stay order. This thread merges the parts' streams into one stream ordered by
 * stay_id, which is the order of the single-threaded scorer.
 *
 * A part holds everything its patients' scores need (a stay, its admission's labs and its
 * patient's blood gases all belong to one subject), so nothing is merged and the scoring itself
 * runs in parallel; the price is that each thread scans every file's bytes, which costs little
 * next to parsing the rows it keeps. Counts and issues are those of the single-threaded reader:
 * each row is counted and reported by exactly one part (parallel.test.ts compares all of it).
 *
 * The result is the single-threaded one as long as each row's subject_id is that of its stay
 * and admission, as in MIMIC-IV (a table without subject_id is routed by its stay through
 * icustays).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBundledWorker } from '../../ingest/ts-worker.ts';
import { type MimicSofaOptions, type MimicSofaStay, hourCsvLine, mimicCodeSofaStays } from './hourly.ts';
import { type MimicReadIssue, type MimicReadOptions, type MimicReadResult, ORDER, type SofaTable, findSofaTables, readMimicSofaTables } from './read.ts';

/** One stay's hourly rows as CSV lines (mimic-code's columns, no header, no final newline). */
export interface StayCsv {
  stayId: number;
  rows: number;
  csv: string;
}

/** What a thread is given. */
export interface PartWork {
  dir: string;
  part: { index: number; count: number };
  scoring: Omit<MimicSofaOptions, 'stayIds'>;
  format: 'csv' | 'stays';
  maxIssues: number;
}

export type WorkerMessage =
  | { kind: 'progress'; table: SofaTable; bytesRead: number; totalBytes: number }
  | { kind: 'read'; files: MimicReadResult['files']; issues: MimicReadIssue[]; issuesDropped: number }
  | { kind: 'stays'; stays: Array<MimicSofaStay | StayCsv> }
  | { kind: 'done' }
  | { kind: 'error'; message: string };

export interface ParallelScoreOptions extends MimicReadOptions {
  /** Threads (default: the CPUs available, at most 8); 1 reads and scores on this thread. */
  workers?: number;
  scoring?: Omit<MimicSofaOptions, 'stayIds'>;
}

/** The reading's account: files with their counts, and the issues (no tables: they stay in the threads). */
export type MimicReadSummary = Omit<MimicReadResult, 'tables'>;

/** Every stay's hourly SOFA as CSV text, in stay_id order, to `onStay`. */
export function scoreMimicSofaCsv(dir: string, options: ParallelScoreOptions, onStay: (stay: StayCsv) => void): Promise<MimicReadSummary> {
  return scoreParallel(dir, options, 'csv', onStay as (stay: MimicSofaStay | StayCsv) => void);
}

/** Every stay's hourly SOFA, in stay_id order, to `onStay`. */
export function scoreMimicSofaStays(dir: string, options: ParallelScoreOptions, onStay: (stay: MimicSofaStay) => void): Promise<MimicReadSummary> {
  return scoreParallel(dir, options, 'stays', onStay as (stay: MimicSofaStay | StayCsv) => void);
}

const toCsv = (stay: MimicSofaStay): StayCsv => ({ stayId: stay.stayId, rows: stay.hours.length, csv: stay.hours.map(hourCsvLine).join('\n') });

async function scoreParallel(
  dir: string,
  options: ParallelScoreOptions,
  format: 'csv' | 'stays',
  onStay: (stay: MimicSofaStay | StayCsv) => void,
): Promise<MimicReadSummary> {
  const workers = Math.max(1, Math.min(options.workers ?? Math.min(os.availableParallelism(), 8), 16));
  const maxIssues = options.maxIssues ?? 1000;
  const scoring = options.scoring ?? {};
  if (workers === 1) {
    const read = await readMimicSofaTables(dir, options);
    for (const stay of mimicCodeSofaStays(read.tables, scoring)) onStay(format === 'csv' ? toCsv(stay) : stay);
    return { files: read.files, issues: read.issues, issuesDropped: read.issuesDropped };
  }
  const files = findSofaTables(dir); // a directory problem is reported here, before any thread starts
  const sizes = new Map([...files].map(([table, file]) => [table, fs.statSync(file).size]));
  const totalBytes = [...sizes.values()].reduce((a, b) => a + b, 0);

  const reads: Array<Extract<WorkerMessage, { kind: 'read' }> | undefined> = new Array(workers).fill(undefined);
  const queues = Array.from({ length: workers }, () => ({ items: [] as Array<MimicSofaStay | StayCsv>, head: 0, done: false }));
  /** Per thread and table, the bytes read so far (each thread reads every file). */
  const progress = Array.from({ length: workers }, () => new Map<SofaTable, number>());

  // Emits stays while every part that may still send one has its next stay queued.
  const drain = () => {
    for (;;) {
      let best = -1;
      for (let k = 0; k < workers; k++) {
        const q = queues[k]!;
        if (q.head === q.items.length) {
          if (!q.done) return;
          continue;
        }
        if (best === -1 || q.items[q.head]!.stayId < queues[best]!.items[queues[best]!.head]!.stayId) best = k;
      }
      if (best === -1) return;
      const q = queues[best]!;
      onStay(q.items[q.head]!);
      q.items[q.head++] = undefined as unknown as StayCsv; // let it go
      if (q.head > 4096) {
        q.items = q.items.slice(q.head);
        q.head = 0;
      }
    }
  };

  const started = Array.from({ length: workers }, (_, index) =>
    startBundledWorker(new URL('./worker.ts', import.meta.url), {
      workerData: { dir, part: { index, count: workers }, scoring, format, maxIssues } satisfies PartWork,
    }),
  );
  try {
    await Promise.all(
      started.map(
        (worker, k) =>
          new Promise<void>((resolve, reject) => {
            worker.on('message', (message: WorkerMessage) => {
              try {
                if (message.kind === 'progress') {
                  progress[k]!.set(message.table, message.bytesRead);
                  if (options.onProgress !== undefined) {
                    let sum = 0;
                    for (const p of progress) for (const b of p.values()) sum += b;
                    options.onProgress({ table: message.table, bytesRead: Math.round(sum / workers), totalBytes, rows: 0 });
                  }
                } else if (message.kind === 'read') reads[k] = message;
                else if (message.kind === 'stays') {
                  for (const stay of message.stays) queues[k]!.items.push(stay);
                  drain();
                } else if (message.kind === 'done') {
                  queues[k]!.done = true;
                  drain();
                  resolve();
                } else reject(new Error(`SOFA thread failed: ${message.message}`));
              } catch (error) {
                reject(error);
              }
            });
            worker.on('error', reject);
            worker.on('exit', (code) => {
              if (!queues[k]!.done) reject(new Error(`SOFA thread stopped with exit code ${code}`));
            });
          }),
      ),
    );
  } finally {
    await Promise.all(started.map((w) => w.terminate()));
  }

  // Per file: the parts' counts added up; issues in file order then line order, as one reader lists them.
  const summary: MimicReadSummary = { files: [], issues: [], issuesDropped: 0 };
  for (const entry of reads[0]!.files) {
    const total = { ...entry };
    for (const other of reads.slice(1)) {
      const same = other!.files.find((f) => f.table === entry.table)!;
      total.rows += same.rows;
      total.kept += same.kept;
      total.rejected += same.rejected;
    }
    summary.files.push(total);
  }
  const order = new Map(ORDER.map((table, i) => [files.get(table) ?? path.join(dir, `${table}.csv`), i]));
  const issues = reads.flatMap((r) => r!.issues).sort((a, b) => (order.get(a.file) ?? -1) - (order.get(b.file) ?? -1) || (a.line ?? 0) - (b.line ?? 0));
  summary.issues = issues.slice(0, maxIssues);
  summary.issuesDropped = reads.reduce((n, r) => n + r!.issuesDropped, 0) + issues.length - summary.issues.length;
  return summary;
}
