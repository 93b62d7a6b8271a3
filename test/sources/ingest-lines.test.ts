import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { type LineChunk, readLineChunks } from '../../src/sources/ingest/lines.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-lines-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

async function collect(file: string, options: Parameters<typeof readLineChunks>[1] = {}): Promise<LineChunk[]> {
  const chunks: LineChunk[] = [];
  for await (const chunk of readLineChunks(file, options)) chunks.push(chunk);
  return chunks;
}

function write(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

describe('readLineChunks', () => {
  it('strips a BOM and CR, numbers lines, keeps a last line without newline', async () => {
    const file = write('a.txt', '\uFEFFone\r\ntwo\n\nfour');
    const [chunk] = await collect(file);
    assert.deepEqual(chunk?.lines, ['one', 'two', '', 'four']);
    assert.deepEqual(chunk?.lineNumbers, [1, 2, 3, 4]);
    assert.equal(chunk?.lastLineNumber, 4);
  });

  it('reads gzip files (by their magic bytes, whatever the name)', async () => {
    const file = write('data.bin', gzipSync('x\ny\n'));
    const [chunk] = await collect(file);
    assert.deepEqual(chunk?.lines, ['x', 'y']);
  });

  it('cuts the same chunks whatever the read size (the condition for resuming)', async () => {
    const lines = Array.from({ length: 2500 }, (_, i) => `line ${i} ${'é'.repeat(i % 7)}`);
    const file = write('many.txt', `${lines.join('\n')}\n`);
    const shape = (chunks: LineChunk[]) => chunks.map((c) => [c.lineNumbers[0], c.lastLineNumber, c.lines.length]);
    const small = await collect(file, { chunkRecords: 1000, highWaterMark: 17 });
    const large = await collect(file, { chunkRecords: 1000, highWaterMark: 1 << 20 });
    assert.deepEqual(shape(small), [
      [1, 1000, 1000],
      [1001, 2000, 1000],
      [2001, 2500, 500],
    ]);
    assert.deepEqual(shape(large), shape(small));
    assert.deepEqual(small.flatMap((c) => c.lines), lines);
  });

  it('joins a quoted CSV field that spans lines into one record numbered by its first line', async () => {
    const file = write('q.csv', 'a,b\n1,"two\nlines"\n3,x\n');
    const [chunk] = await collect(file, { csvQuotes: true });
    assert.deepEqual(chunk?.lines, ['a,b', '1,"two\nlines"', '3,x']);
    assert.deepEqual(chunk?.lineNumbers, [1, 2, 4]);
  });

  it('does not let a stray quote swallow the file: past the record line limit, lines are read again', async () => {
    const file = write('stray.csv', 'a,b\n1,"oops\n2,x\n3,y\n4,"ok\nstill"\n');
    const [chunk] = await collect(file, { csvQuotes: true, maxRecordLines: 3 });
    assert.deepEqual(chunk?.lines, ['a,b', '1,"oops', '2,x', '3,y', '4,"ok\nstill"']);
    assert.deepEqual(chunk?.lineNumbers, [1, 2, 3, 4, 5]);
  });

  it('drops a line above the size limit and reports it, keeping the lines around it', async () => {
    const file = write('long.txt', `short\n${'x'.repeat(5000)}\nafter\n`);
    const chunks = await collect(file, { maxLineBytes: 1000, highWaterMark: 256 });
    assert.deepEqual(chunks.flatMap((c) => c.lines), ['short', 'after']);
    assert.deepEqual(chunks.flatMap((c) => c.oversized), [{ lineNumber: 2, bytes: 5000 }]);
    assert.deepEqual(chunks.flatMap((c) => c.lineNumbers), [1, 3]);
  });
});
