/**
 * Streams a text file (plain or gzip, detected by its magic bytes) as chunks of records with
 * bounded memory: at most one chunk of records and one read buffer are held at a time.
 *
 * A record is a line, or with `csvQuotes` a CSV record whose quoted field spans several
 * lines. Chunk boundaries depend only on the content (a fixed number of records, or of
 * characters), never on read sizes, so a rerun cuts a file into the same chunks: that is
 * what lets an interrupted import resume after the last committed chunk.
 */
import fs from 'node:fs';
import { constants, createGunzip, gunzipSync } from 'node:zlib';

export interface LineChunk {
  /** Records with line endings removed (a CSV record spanning lines keeps its inner newlines). */
  lines: string[];
  /** 1-based physical line number of each record's first line. */
  lineNumbers: number[];
  /** Physical line number of the last line of the chunk. */
  lastLineNumber: number;
  /** Bytes of the file (compressed, for .gz) read so far: a progress position, not a record boundary. */
  bytesRead: number;
  /** Lines dropped for exceeding maxLineBytes, with their number and size. */
  oversized: Array<{ lineNumber: number; bytes: number }>;
}

export interface LineReaderOptions {
  /** Records per chunk (default 5,000). */
  chunkRecords?: number;
  /** Characters per chunk (default 8 Mi): large records make smaller chunks. */
  chunkChars?: number;
  /** A line longer than this is dropped and reported (default 64 MiB). */
  maxLineBytes?: number;
  /** Join physical lines while a double-quoted CSV field is open. */
  csvQuotes?: boolean;
  /**
   * Most physical lines one CSV record may span (default 100): a stray quote must not swallow
   * the rest of the file. Beyond it the record's first line is passed on alone (and fails to
   * parse, with its line number) and the following lines are read again as records.
   */
  maxRecordLines?: number;
  /** Read buffer size (default 1 MiB). */
  highWaterMark?: number;
}

const NEWLINE = 10;

/** Whether the file starts with the gzip magic bytes. */
export function isGzipFile(path: string): boolean {
  const fd = fs.openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const read = fs.readSync(fd, head, 0, 2, 0);
    return read === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    fs.closeSync(fd);
  }
}

export async function* readLineChunks(path: string, options: LineReaderOptions = {}): AsyncGenerator<LineChunk> {
  const chunkRecords = options.chunkRecords ?? 5000;
  const chunkChars = options.chunkChars ?? 8 * 1024 * 1024;
  const maxLineBytes = options.maxLineBytes ?? 64 * 1024 * 1024;
  const csvQuotes = options.csvQuotes ?? false;
  const maxRecordLines = options.maxRecordLines ?? 100;
  const file = fs.createReadStream(path, { highWaterMark: options.highWaterMark ?? 1024 * 1024 });
  let bytesRead = 0;
  file.on('data', (data) => {
    bytesRead += data.length;
  });
  const stream = isGzipFile(path) ? file.pipe(createGunzip({ chunkSize: 256 * 1024 })) : file;
  // Surface read errors of the file through the gunzip pipe too.
  if (stream !== file) file.on('error', (error) => stream.destroy(error));

  let physicalLine = 0; // number of the last physical line produced
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let dropping = false; // inside an oversized line: discard until the next newline
  let droppingFrom = 0;
  let droppedBytes = 0;
  let first = true;

  // The chunk being filled.
  let lines: string[] = [];
  let lineNumbers: number[] = [];
  let chars = 0;
  let oversized: Array<{ lineNumber: number; bytes: number }> = [];
  // A CSV record still open across lines: its lines and their numbers.
  let open: { lines: string[]; numbers: number[]; chars: number } | undefined;

  const take = (): LineChunk => {
    const chunk = { lines, lineNumbers, lastLineNumber: physicalLine, bytesRead, oversized };
    lines = [];
    lineNumbers = [];
    chars = 0;
    oversized = [];
    return chunk;
  };
  const full = (): boolean => lines.length >= chunkRecords || chars >= chunkChars;

  const addRecord = (text: string, lineNumber: number): void => {
    lines.push(text);
    lineNumbers.push(lineNumber);
    chars += text.length;
  };

  /** One physical line (without its newline). */
  const addLine = (raw: string): void => {
    physicalLine++;
    let text = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (first) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (csvQuotes) feed(text, physicalLine);
    else addRecord(text, physicalLine);
  };

  /** A line into the CSV record being assembled (or a record of its own). */
  const feed = (text: string, lineNumber: number): void => {
    if (open === undefined) {
      if (text.indexOf('"') === -1 || quotesBalanced(text)) addRecord(text, lineNumber);
      else open = { lines: [text], numbers: [lineNumber], chars: text.length };
      return;
    }
    open.lines.push(text);
    open.numbers.push(lineNumber);
    open.chars += text.length + 1;
    const joined = open.lines.join('\n');
    if (quotesBalanced(joined)) {
      addRecord(joined, open.numbers[0]!);
      open = undefined;
    } else if (open.lines.length >= maxRecordLines || open.chars > maxLineBytes) {
      giveUp();
    }
  };

  /** The open record never closed: its first line goes alone, the others are read again. */
  const giveUp = (): void => {
    if (open === undefined) return;
    const { lines: pendingLines, numbers } = open;
    open = undefined;
    addRecord(pendingLines[0]!, numbers[0]!);
    for (let i = 1; i < pendingLines.length; i++) feed(pendingLines[i]!, numbers[i]!);
  };

  for await (const data of stream as AsyncIterable<Buffer>) {
    let start = 0;
    if (dropping) {
      const nl = data.indexOf(NEWLINE);
      if (nl === -1) {
        droppedBytes += data.length;
        continue;
      }
      droppedBytes += nl;
      physicalLine++;
      oversized.push({ lineNumber: droppingFrom, bytes: droppedBytes });
      dropping = false;
      start = nl + 1;
    }
    const last = data.lastIndexOf(NEWLINE);
    if (last < start) {
      // No newline in this buffer: keep it, unless the line grows too long.
      pending.push(start === 0 ? data : data.subarray(start));
      pendingBytes += data.length - start;
      if (pendingBytes > maxLineBytes) {
        dropping = true;
        droppingFrom = physicalLine + 1;
        droppedBytes = pendingBytes;
        pending = [];
        pendingBytes = 0;
      }
      continue;
    }
    const segment = pending.length === 0 ? data.subarray(start, last) : Buffer.concat([...pending, data.subarray(start, last)]);
    pending = [];
    pendingBytes = 0;
    const text = segment.toString('utf8');
    let from = 0;
    for (;;) {
      const nl = text.indexOf('\n', from);
      if (nl === -1) {
        addLine(text.slice(from));
        break;
      }
      addLine(text.slice(from, nl));
      from = nl + 1;
      if (full()) yield take();
    }
    if (full()) yield take();
    if (last + 1 < data.length) {
      pending.push(data.subarray(last + 1));
      pendingBytes = data.length - last - 1;
    }
  }
  if (dropping) {
    physicalLine++;
    oversized.push({ lineNumber: droppingFrom, bytes: droppedBytes });
  } else if (pendingBytes > 0) {
    addLine(Buffer.concat(pending).toString('utf8'));
  }
  while (open !== undefined) giveUp();
  if (lines.length > 0 || oversized.length > 0) yield take();
}

/** Even number of double quotes: every quoted field that opened has closed. */
function quotesBalanced(text: string): boolean {
  let count = 0;
  for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) count++;
  return count % 2 === 0;
}

/** The first line of a (possibly gzipped) file, at most 64 KiB of it. */
export function firstLine(file: string): string {
  const fd = fs.openSync(file, 'r');
  let raw: Buffer;
  try {
    raw = Buffer.alloc(64 * 1024);
    raw = raw.subarray(0, fs.readSync(fd, raw, 0, raw.length, 0));
  } finally {
    fs.closeSync(fd);
  }
  const text = isGzipFile(file) ? gunzipPrefix(raw) : raw.toString('utf8');
  const nl = text.indexOf('\n');
  return (nl === -1 ? text : text.slice(0, nl)).replace(/^\uFEFF/, '').replace(/\r$/, '');
}

/** What the first bytes of a gzip stream decompress to (a truncated stream is expected here). */
function gunzipPrefix(raw: Buffer): string {
  try {
    return gunzipSync(raw, { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8');
  } catch {
    return '';
  }
}
