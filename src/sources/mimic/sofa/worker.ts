/**
 * Worker thread of the parallel MIMIC-IV reader (parallel.ts): reads the jobs it is given (a
 * whole file, or a byte range of a large plain CSV file) into one MimicSofaTables, then sends
 * the tables and each job's counts and issues back. Line numbers of a range are relative to the
 * range; the main thread makes them absolute once it knows every range's line count.
 */
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { splitCsvRecord } from '../../csv-record.ts';
import { readLineChunks } from '../../ingest/lines.ts';
import type { ReadJob, WorkerMessage } from './parallel.ts';
import { type Columns, readRow, wantedItems } from './read.ts';
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
      result.lines = readRange(job, take, columns, () => result.rows++);
    }
    post({ kind: 'job', result });
  }
  post({ kind: 'done', state: tables.exportState() });
}

/**
 * The lines whose first byte lies in [start, end): a range after the first skips the line it
 * starts inside of (the previous range owns it) and finishes the line that crosses its end.
 * A quoted field spanning lines is joined as long as it lies within one range. Returns the
 * number of physical lines owned (the header included for the first range).
 */
function readRange(job: ReadJob, take: (line: string, lineNumber: number) => void, columns: Columns, onSkip: () => void): number {
  // Rows of other items are recognised on the bytes, before any text is decoded (most rows of
  // chartevents): the item id is read from its field when no quote comes before it.
  const wanted = wantedItems(job.table);
  const itemField = columns.get('itemid') ?? -1;
  const skip = (data: Buffer, from: number, to: number): boolean => {
    if (wanted === null || itemField < 0) return false;
    let i = from;
    for (let field = 0; field < itemField; field++) {
      const comma = data.indexOf(44, i);
      if (comma === -1 || comma >= to) return false;
      i = comma + 1;
    }
    let id = 0;
    let digits = 0;
    for (; i < to; i++) {
      const c = data[i]!;
      if (c === 44 || c === 13) break;
      if (c < 48 || c > 57) return false; // a quote or anything else: let the text reader decide
      id = id * 10 + (c - 48);
      digits++;
    }
    if (digits === 0 || wanted.has(id)) return false;
    // A quote before the item id would shift the fields: only skip lines without one there.
    const quote = data.indexOf(34, from);
    return quote === -1 || quote >= i;
  };
  const { start, end } = job.range!;
  const fd = fs.openSync(job.path, 'r');
  const block = Buffer.allocUnsafe(1 << 20);
  let physical = 0;
  let pending = '';
  let pendingFrom = 0;
  let lastReport = 0;
  try {
    let position = start;
    if (start > 0) {
      // Does a line begin exactly at start? Only if the byte before is a newline.
      const before = Buffer.alloc(1);
      fs.readSync(fd, before, 0, 1, start - 1);
      if (before[0] !== 10) {
        for (;;) {
          const n = fs.readSync(fd, block, 0, block.length, position);
          if (n === 0) return 0;
          const nl = block.indexOf(10);
          if (nl !== -1 && nl < n) {
            position += nl + 1;
            break;
          }
          position += n;
        }
      }
    }
    let carry: Buffer = Buffer.alloc(0);
    let lineStart = position; // file offset of the next line's first byte
    const skipped = () => {
      physical++;
      onSkip();
    };
    const emit = (text: string) => {
      physical++;
      const line = text.charCodeAt(text.length - 1) === 13 ? text.slice(0, -1) : text;
      if (physical === 1 && start === 0) return; // header
      if (pending !== '') {
        pending += `\n${line}`;
      } else {
        pending = line;
        pendingFrom = physical;
      }
      if (quoteCount(pending) % 2 === 0) {
        take(pending, pendingFrom);
        pending = '';
      }
    };
    for (;;) {
      if (lineStart >= end && carry.length === 0) break;
      const n = fs.readSync(fd, block, 0, block.length, position);
      if (n === 0) {
        if (carry.length > 0 && lineStart < end) emit(carry.toString('utf8'));
        break;
      }
      position += n;
      const data = carry.length === 0 ? block.subarray(0, n) : Buffer.concat([carry, block.subarray(0, n)]);
      let i = 0;
      let stop = false;
      for (;;) {
        const nl = data.indexOf(10, i);
        if (nl === -1) break;
        if (lineStart >= end) {
          stop = true;
          break;
        }
        if (pending === '' && skip(data, i, nl)) skipped();
        else emit(data.toString('utf8', i, nl));
        lineStart += nl + 1 - i;
        i = nl + 1;
      }
      if (stop || lineStart >= end) {
        carry = Buffer.alloc(0);
        break;
      }
      carry = Buffer.from(data.subarray(i));
      if (position - lastReport > 8 << 20) {
        post({ kind: 'progress', index: job.index, bytes: Math.min(position, end) - start });
        lastReport = position;
      }
    }
    if (pending !== '') take(pending, pendingFrom);
    post({ kind: 'progress', index: job.index, bytes: end - start });
  } finally {
    fs.closeSync(fd);
  }
  return physical;
}

function quoteCount(text: string): number {
  let count = 0;
  for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) count++;
  return count;
}

run().catch((error: unknown) => post({ kind: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
