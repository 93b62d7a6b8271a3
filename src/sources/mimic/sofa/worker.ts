/**
 * Worker thread of the parallel MIMIC-IV SOFA scorer (parallel.ts): reads every table of the
 * directory keeping only its part of the patients (read.ts, `part`), scores its stays and sends
 * them back in stay order, in batches, as CSV text or as stay objects. Then it says it is done.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type MimicSofaOptions, type MimicSofaStay, hourCsvLine, mimicCodeSofaStays } from './hourly.ts';
import type { PartWork, WorkerMessage } from './parallel.ts';
import { readMimicSofaTables } from './read.ts';

const work = workerData as PartWork;
const post = (message: WorkerMessage) => parentPort!.postMessage(message);
/** Stays per message: few messages, and the main thread can write while this part scores on. */
const BATCH = 200;

async function run(): Promise<void> {
  const { index, count } = work.part;
  const read = await readMimicSofaTables(work.dir, {
    part: work.part,
    maxIssues: work.maxIssues,
    onProgress: (p) => post({ kind: 'progress', table: p.table, bytesRead: p.bytesRead, totalBytes: p.totalBytes }),
  });
  post({ kind: 'read', files: read.files, issues: read.issues, issuesDropped: read.issuesDropped });

  const mine = new Set<number>();
  for (const stay of read.tables.stays.values()) if (stay.subjectId % count === index) mine.add(stay.stayId);
  const options: MimicSofaOptions = { ...work.scoring, stayIds: mine };
  let batch: Array<MimicSofaStay | { stayId: number; rows: number; csv: string }> = [];
  for (const stay of mimicCodeSofaStays(read.tables, options)) {
    batch.push(work.format === 'csv' ? { stayId: stay.stayId, rows: stay.hours.length, csv: stay.hours.map(hourCsvLine).join('\n') } : stay);
    if (batch.length >= BATCH) {
      post({ kind: 'stays', stays: batch });
      batch = [];
    }
  }
  post({ kind: 'stays', stays: batch });
  post({ kind: 'done' });
}

run().catch((error: unknown) => post({ kind: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
