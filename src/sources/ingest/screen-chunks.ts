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
import fs from 'node:fs';

/** readLineChunks's default largest chunk, in characters (lines.ts). */
export const CHUNK_CHARS = 8 * 1024 * 1024;
/** The read buffer: room for a chunk of up to CHUNK_CHARS bytes and as much again to read into. */
const BUFFER_BYTES = 2 * CHUNK_CHARS;
const NEWLINE = 10;

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
        if (start > 0) {
          // Keep what is not in a chunk yet at the front, and read behind it.
          data.copy(data, 0, start, stop);
          scanned -= start;
          stop -= start;
          start = 0;
        }
        const { bytesRead } = await handle.read(data, stop, BUFFER_BYTES - stop, offset + stop);
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

/** A chunk's lines as readLineChunks gives them (see the file comment). */
export function chunkLines(bytes: ArrayBuffer, length: number, first: boolean): string[] {
  const text = Buffer.from(bytes, 0, length).toString('utf8');
  const lines: string[] = [];
  let from = 0;
  while (from < text.length) {
    const nl = text.indexOf('\n', from);
    const raw = nl === -1 ? text.slice(from) : text.slice(from, nl);
    lines.push(raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw);
    if (nl === -1) break;
    from = nl + 1;
  }
  if (first && lines.length > 0 && lines[0]!.charCodeAt(0) === 0xfeff) lines[0] = lines[0]!.slice(1);
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
  let lineNumbers = Array.from({ length: lines.length }, (_, i) => chunk.firstLine + i);
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
