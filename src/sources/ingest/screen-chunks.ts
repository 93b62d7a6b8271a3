/**
 * Chunks of a plain NDJSON or CSV file as bytes, for worker threads to decode and split
 * themselves (screen-parallel.ts): the main thread then only finds line ends, instead of
 * decoding every line and copying it to a thread.
 *
 * The chunks are the ones readLineChunks (lines.ts) makes, line for line: `chunkRecords` lines
 * each, the same line texts (split at "\n", a trailing "\r" removed, a byte order mark removed
 * from the first line of the file, the text after the last newline a line when not empty), the
 * same numbers. readLineChunks also ends a chunk at 8 Mi characters and drops lines over 64 MiB;
 * a chunk of fewer bytes than that many characters never meets either rule (a character takes at
 * least one byte in UTF-8), so byteChunks stops at the first chunk of 8 MiB or more and says how
 * many chunks it gave: readLineChunks takes over from there. Decoding chunk by chunk gives the
 * text of decoding the whole file, since every chunk ends at a newline, which is one byte in
 * UTF-8 and ends any unfinished sequence.
 */
import { isAscii } from 'node:buffer';
import fs from 'node:fs';

/** readLineChunks's default largest chunk, in characters (lines.ts). */
export const CHUNK_CHARS = 8 * 1024 * 1024;
/** Bytes read from the file at a time. */
const READ_BYTES = 1024 * 1024;
/** The read buffer: room for a chunk of up to CHUNK_CHARS bytes and a read behind it. */
const BUFFER_BYTES = CHUNK_CHARS + READ_BYTES;
const NEWLINE = 10;
/** Bytes decoded at a time by ChunkLineReader: well below V8's large object size. */
const PIECE_BYTES = 32 * 1024;

export interface ByteChunk {
  /**
   * The chunk's bytes (whole lines) at the start of a buffer of its own, to be moved to a
   * thread; `length` of them are the chunk's.
   */
  bytes: ArrayBuffer;
  length: number;
  /** Number of the chunk's first physical line. */
  firstLine: number;
  /** Lines in the chunk. */
  lines: number;
  /** The chunk starts the file: its first line loses a byte order mark. */
  first: boolean;
  /** Bytes of the file up to the end of this chunk. */
  end: number;
}

/**
 * Yields the file's chunks; returns how many it yielded when it stopped before the end of the
 * file (a chunk of CHUNK_CHARS bytes or more), undefined when it reached the end. Each chunk is
 * copied into a buffer from `buffer(size)`: callers reuse the buffers threads send back, since
 * allocating a gigabyte of them makes the garbage collector run for the memory outside its heap.
 */
export async function* byteChunks(path: string, chunkRecords: number, buffer: (size: number) => ArrayBuffer): AsyncGenerator<ByteChunk, number | undefined> {
  const handle = await fs.promises.open(path, 'r');
  try {
    const data = Buffer.allocUnsafeSlow(BUFFER_BYTES);
    /** Bytes read and not yet in a chunk: data[start, stop), from file offset `offset`. */
    let start = 0;
    let stop = 0;
    let offset = 0;
    let eof = false;
    let line = 1;
    let count = 0;
    for (;;) {
      // The end of the next chunk: after its chunkRecords-th newline, or the end of the file.
      let newlines = 0;
      let scanned = start;
      let end = -1;
      for (;;) {
        const read = data.subarray(0, stop);
        while (newlines < chunkRecords) {
          const nl = read.indexOf(NEWLINE, scanned);
          if (nl === -1 || nl - start >= CHUNK_CHARS) break;
          newlines++;
          scanned = nl + 1;
        }
        if (newlines === chunkRecords) {
          end = scanned;
          break;
        }
        if (stop - start >= CHUNK_CHARS) return count;
        if (eof) {
          end = stop;
          break;
        }
        if (start > 0 && BUFFER_BYTES - stop < READ_BYTES) {
          // Keep what is not in a chunk yet at the front, and read behind it.
          data.copy(data, 0, start, stop);
          scanned -= start;
          stop -= start;
          start = 0;
        }
        const { bytesRead } = await handle.read(data, stop, Math.min(READ_BYTES, BUFFER_BYTES - stop), offset + (stop - start));
        if (bytesRead === 0) eof = true;
        stop += bytesRead;
      }
      const length = end - start;
      if (length === 0) return undefined;
      const lines = newlines + (end > scanned ? 1 : 0);
      const bytes = buffer(length);
      data.copy(new Uint8Array(bytes), 0, start, end);
      yield { bytes, length, firstLine: line, lines, first: offset === 0, end: offset + length };
      count++;
      line += lines;
      offset += length;
      start = end;
    }
  } finally {
    await handle.close();
  }
}

/**
 * The lines of a chunk, one at a time, in order, as readLineChunks gives them (see the file
 * comment). The chunk is decoded a piece of about PIECE_BYTES at a time, cut after a newline
 * (which ends any unfinished UTF-8 sequence, so the text is that of decoding the chunk whole),
 * and the lines are cut from the piece when they are asked for: a chunk decoded whole would be one
 * string of megabytes, which V8 keeps in its large object space until a full collection, with
 * every line a slice of it, all alive until the last one is parsed; a piece is an ordinary young
 * string, gone soon after its lines. A chunk of ASCII only (the rule in FHIR and CSV exports) is
 * read as Latin-1, which for ASCII is the same text, without UTF-8 validation.
 */
export class ChunkLineReader {
  readonly #data: Buffer;
  readonly #encoding: 'latin1' | 'utf8';
  readonly #first: boolean;
  /** The decoded piece, where the next line starts in it, where the next piece starts in the chunk. */
  #piece = '';
  #at = 0;
  #offset = 0;
  #next = 0;

  constructor(bytes: ArrayBuffer, length: number, first: boolean) {
    this.#data = Buffer.from(bytes, 0, length);
    this.#encoding = isAscii(this.#data) ? 'latin1' : 'utf8';
    this.#first = first;
  }

  /** Whether there is a line after the ones read. */
  get more(): boolean {
    return this.#at < this.#piece.length || this.#offset < this.#data.length;
  }

  /** Line `index`, which must be the one after the previous call's. */
  line(index: number): string {
    if (index !== this.#next || !this.more) throw new RangeError(`ChunkLineReader: line ${index} asked for, line ${this.#next} is next of a chunk of ${this.#data.length} bytes`);
    if (this.#at >= this.#piece.length) this.#load();
    const piece = this.#piece;
    const from = this.#at;
    const nl = piece.indexOf('\n', from);
    const end = nl === -1 ? piece.length : nl;
    let text = piece.slice(from, end > from && piece.charCodeAt(end - 1) === 13 ? end - 1 : end);
    if (index === 0 && this.#first && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    this.#at = nl === -1 ? piece.length : nl + 1;
    this.#next++;
    return text;
  }

  /** Decodes the next piece: up to the last newline within PIECE_BYTES, else to the next newline or the end. */
  #load(): void {
    const data = this.#data;
    const start = this.#offset;
    let end = Math.min(data.length, start + PIECE_BYTES);
    if (end < data.length) {
      const last = data.lastIndexOf(NEWLINE, end - 1);
      if (last >= start) end = last + 1;
      else {
        const next = data.indexOf(NEWLINE, end);
        end = next === -1 ? data.length : next + 1;
      }
    }
    this.#piece = data.toString(this.#encoding, start, end);
    this.#at = 0;
    this.#offset = end;
  }
}

/** A chunk's lines as readLineChunks gives them (see the file comment). */
export function chunkLines(bytes: ArrayBuffer, length: number, first: boolean): string[] {
  const reader = new ChunkLineReader(bytes, length, first);
  const lines: string[] = [];
  while (reader.more) lines.push(reader.line(lines.length));
  return lines;
}

/**
 * A byte chunk's records and context as runImport builds them: its lines, their numbers, and
 * for a CSV file the header (the file's first line, taken out of the first chunk).
 */
export function recordsOfChunk(
  chunk: { bytes: ArrayBuffer; length: number; first: boolean; firstLine: number; lines: number },
  withHeader: boolean,
  header: string | undefined,
): { lines: string[]; lineNumbers: number[]; firstLineNumber: number; header: string | undefined } {
  let lines = chunkLines(chunk.bytes, chunk.length, chunk.first);
  let lineNumbers: number[] = [];
  for (let i = 0; i < lines.length; i++) lineNumbers.push(chunk.firstLine + i);
  if (withHeader && header === undefined && lines.length > 0) {
    header = lines[0];
    lines = lines.slice(1);
    lineNumbers = lineNumbers.slice(1);
  }
  return { lines, lineNumbers, firstLineNumber: lineNumbers[0] ?? chunk.firstLine + chunk.lines - 1, header };
}

/** The first line of a file's first chunk, as chunkLines gives it (a CSV file's header). */
export function firstLineOf(chunk: ByteChunk): string {
  const nl = new Uint8Array(chunk.bytes, 0, chunk.length).indexOf(NEWLINE);
  return chunkLines(chunk.bytes, nl === -1 ? chunk.length : nl, true)[0] ?? '';
}
