/**
 * Worker thread of the parallel MIMIC-IV reader (parallel.ts): reads the jobs it is given (a
 * whole file, or a byte range of a large plain CSV file) into one MimicSofaTables, then sends
 * the tables and each job's counts and issues back. Line numbers of a range are relative to the
 * range; the main thread makes them absolute once it knows every range's line count.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { splitCsvRecord } from '../../csv-record.ts';
import { readLineChunks } from '../../ingest/lines.ts';
import type { ReadJob, WorkerMessage } from './parallel.ts';
import { readRange } from './range-reader.ts';
import { type Columns, bytesReader, readRow } from './read.ts';
import { MimicSofaTables } from './tables.ts';

const { jobs } = workerData as { jobs: ReadJob[] };
const tables = new MimicSofaTables();
const post = (message: WorkerMessage) => parentPort!.postMessage(message);

function columnsOf(header: string): Columns {
  const columns: Columns = new Map();
  const split = splitCsvRecord(header);
  if (split.ok) split.fields.forEach((name, index) => columns.set(name.trim().toLowerCase(), index));
  return columns;
}

async function run(): Promise<void> {
  for (const job of jobs) {
    const columns = columnsOf(job.header);
    const result = { index: job.index, lines: 0, rows: 0, kept: 0, rejected: 0, issues: [] as Array<{ line: number; message: string }> };
    const take = (line: string, lineNumber: number) => {
      if (line === '') return;
      result.rows++;
      const outcome = readRow(job.table, line, columns, tables);
      if (outcome === true) result.kept++;
      else if (typeof outcome === 'string') {
        result.rejected++;
        if (result.issues.length < 1000) result.issues.push({ line: lineNumber, message: outcome });
      }
    };
    if (job.range === null) {
      let first = true;
      for await (const chunk of readLineChunks(job.path, { csvQuotes: true, chunkRecords: 20_000 })) {
        for (let k = 0; k < chunk.lines.length; k++) {
          if (first) {
            first = false; // the header
            continue;
          }
          take(chunk.lines[k]!, chunk.lineNumbers[k]!);
        }
        result.lines = chunk.lastLineNumber;
        post({ kind: 'progress', index: job.index, bytes: chunk.bytesRead });
      }
    } else {
      const onBytes = bytesReader(job.table, columns, tables, result);
      result.lines = readRange(job, take, (bytes) => post({ kind: 'progress', index: job.index, bytes }), onBytes);
    }
    post({ kind: 'job', result });
  }
  post({ kind: 'done', state: tables.exportState() });
}

run().catch((error: unknown) => post({ kind: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
