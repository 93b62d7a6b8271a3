/**
 * Lines of a byte range of a plain CSV file, for the SOFA reader (read.ts reads whole files as
 * one range; any range works, cut at line boundaries as below). Lines are cut at newline bytes, and the
 * caller's `onBytes` sees a line's bytes before anything is decoded: the rows of other items
 * (most of chartevents) cost a scan for the item id, and chartevents rows are read on their bytes
 * altogether. Only the lines it leaves are decoded and passed to `take` as text.
 */
import fs from 'node:fs';

/**
 * Deals with a line on its bytes [start, end) (no newline, no carriage return): true when it did
 * (kept or skipped the row), false to have the line decoded and passed to `take` (anything it
 * cannot judge on bytes, so that errors are reported by the one text path). Called only for a
 * line that holds no quote and is not inside a quoted field: the line is a whole record.
 */
export type LineBytes = (bytes: Buffer, start: number, end: number) => boolean;

/**
 * The lines whose first byte lies in [start, end): a range after the first skips the line it
 * starts inside of (the previous range owns it) and finishes the line that crosses its end.
 * A quoted field spanning lines is joined as long as it lies within one range. Returns the
 * number of physical lines owned (the header included for the first range, not passed on).
 */
export function readRange(
  job: { path: string; range: { start: number; end: number } },
  take: (line: string, lineNumber: number) => void,
  onProgress: (bytes: number) => void,
  onBytes?: LineBytes,
): number {
  const { start, end } = job.range;
  const fd = fs.openSync(job.path, 'r');
  const BLOCK = 1 << 20;
  let block = Buffer.allocUnsafe(BLOCK);
  let physical = 0;
  let pending = '';
  let pendingFrom = 0;
  /** Position of the next quote byte at or after the current line in `data` (-1: none left). */
  let nextQuote = -1;
  const emitBytes = (data: Buffer, from: number, to: number) => {
    let stop = to;
    if (stop > from && data[stop - 1] === 13) stop--;
    if (onBytes !== undefined && pending === '' && !(physical === 0 && start === 0)) {
      if (nextQuote !== -1 && nextQuote < from) nextQuote = data.indexOf(34, from);
      if ((nextQuote === -1 || nextQuote >= stop) && onBytes(data, from, stop)) {
        physical++;
        return;
      }
    }
    emit(data.toString('utf8', from, stop));
  };
  const emit = (line: string) => {
    physical++;
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
    // Bytes of an unfinished line carried from the previous block sit at the front of `block`.
    let carried = 0;
    for (;;) {
      if (carried === block.length) {
        // A line longer than the block: grow it.
        const bigger = Buffer.allocUnsafe(block.length * 2);
        block.copy(bigger, 0, 0, carried);
        block = bigger;
      }
      const n = fs.readSync(fd, block, carried, block.length - carried, position);
      if (n === 0) {
        if (carried > 0) {
          const rest = block.subarray(0, carried);
          nextQuote = rest.indexOf(34);
          emitBytes(rest, 0, carried);
        }
        break;
      }
      const blockStart = position - carried;
      position += n;
      let cut = carried + n;
      let last = false;
      if (position >= end) {
        // The line holding byte end - 1 is this range's last: cut after its newline.
        const nl = block.indexOf(10, Math.max(end - 1 - blockStart, 0));
        if (nl !== -1 && nl < carried + n) {
          cut = nl + 1;
          last = true;
        }
      }
      const data = cut === block.length ? block : block.subarray(0, cut);
      nextQuote = data.indexOf(34);
      let from = 0;
      for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, from)) {
        emitBytes(data, from, nl);
        from = nl + 1;
      }
      if (last) {
        onProgress(end - start);
        break;
      }
      carried = cut - from;
      if (carried > 0) block.copy(block, 0, from, cut);
      onProgress(Math.min(position, end) - start);
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
