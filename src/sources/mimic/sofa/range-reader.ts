/**
 * Lines of a byte range of a plain CSV file, for the SOFA reader (read.ts: one range = the whole
 * file) and its threads (worker.ts: one range each). Blocks are decoded in one go and split at
 * newlines (decoding line by line costs more than decoding everything).
 */
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { ReadJob } from './parallel.ts';

/**
 * The lines whose first byte lies in [start, end): a range after the first skips the line it
 * starts inside of (the previous range owns it) and finishes the line that crosses its end.
 * A quoted field spanning lines is joined as long as it lies within one range. Returns the
 * number of physical lines owned (the header included for the first range, not passed on).
 */
export function readRange(
  job: Pick<ReadJob, 'path' | 'range'>,
  take: (line: string, lineNumber: number) => void,
  onProgress: (bytes: number) => void,
): number {
  const { start, end } = job.range!;
  const fd = fs.openSync(job.path, 'r');
  const block = Buffer.allocUnsafe(1 << 20);
  const decoder = new StringDecoder('utf8');
  let physical = 0;
  let pending = '';
  let pendingFrom = 0;
  const emit = (raw: string) => {
    physical++;
    const line = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (physical === 1 && start === 0) return; // the header
    if (pending === '' && line.indexOf('"') === -1) {
      take(line, physical);
      return;
    }
    if (pending === '') {
      pending = line;
      pendingFrom = physical;
    } else pending += `\n${line}`;
    if (quoteCount(pending) % 2 === 0) {
      take(pending, pendingFrom);
      pending = '';
    }
  };
  try {
    let position = start;
    if (start > 0) {
      // A line begins exactly at start only if the byte before is a newline.
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
    if (position >= end) return 0;
    let carry = '';
    for (;;) {
      const n = fs.readSync(fd, block, 0, block.length, position);
      if (n === 0) {
        const rest = carry + decoder.end();
        if (rest !== '') emit(rest);
        break;
      }
      const blockStart = position;
      position += n;
      let cut = n;
      let last = false;
      if (position >= end) {
        // The line holding byte end - 1 is this range's last: cut after its newline.
        const nl = block.indexOf(10, Math.max(end - 1 - blockStart, 0));
        if (nl !== -1 && nl < n) {
          cut = nl + 1;
          last = true;
        }
      }
      const lines = (carry + decoder.write(block.subarray(0, cut))).split('\n');
      carry = lines.pop()!;
      for (const line of lines) emit(line);
      onProgress(Math.min(position, end) - start);
      if (last) break;
    }
    if (pending !== '') take(pending, pendingFrom);
    onProgress(end - start);
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
