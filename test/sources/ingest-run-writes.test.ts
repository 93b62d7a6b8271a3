/**
 * runImport hands batches to the sink one at a time, in file order, while it parses the next
 * batch: at most one write in flight, checkpoints (throughLine) never going back, and a
 * failed write stops the import before any later batch is written.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultConceptDictionary } from '../../src/sources/concepts/dictionary.ts';
import { type ImportBatch, type ImportSink, runImport } from '../../src/sources/ingest/run.ts';

const ROWS = 12_000;
const BATCH = 1000;

/** A sink whose writes take `delayMs` each; it records what overlapped what. */
function slowSink(delayMs: number, failAt?: number) {
  const writes: ImportBatch[] = [];
  let started = 0;
  let pending = 0;
  let maxPending = 0;
  let writing = false;
  const sink: ImportSink = {
    checkpoint: async () => undefined,
    async write(batch) {
      started++;
      pending++;
      maxPending = Math.max(maxPending, pending);
      writing = true;
      try {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (writes.length === failAt) throw new Error(`write ${failAt} failed`);
        writes.push(batch);
        return { inserted: batch.measurements.length, dropped: 0, issues: [] };
      } finally {
        pending--;
        writing = false;
      }
    },
  };
  return { sink, writes, started: () => started, maxPending: () => maxPending, writing: () => writing };
}

describe('runImport writes', () => {
  let dir: string;
  let file: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-run-writes-'));
    file = path.join(dir, 'm.csv');
    const lines = ['patient_id,time,concept,value,unit'];
    for (let i = 0; i < ROWS; i++) lines.push(`W-${i % 50},${new Date(Date.UTC(2026, 0, 5) + i * 60_000).toISOString()},platelets,${100 + (i % 300)},10*3/uL`);
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('one write in flight, in order, with the next batch parsed meanwhile', async () => {
    const { sink, writes, maxPending, writing } = slowSink(30);
    let parsedDuringWrite = 0;
    const summary = await runImport([file], {
      dictionary: defaultConceptDictionary(),
      sink,
      batchMeasurements: BATCH,
      chunkRecords: 250,
      onProgress: () => {
        if (writing()) parsedDuringWrite++;
      },
    });
    assert.equal(summary.inserted, ROWS);
    assert.equal(maxPending(), 1);
    assert.ok(parsedDuringWrite > 0, 'chunks are parsed while a write is in flight');
    const lines = writes.map((w) => w.throughLine);
    assert.deepEqual(
      lines,
      [...lines].sort((a, b) => a - b),
    );
    assert.equal(writes.at(-1)!.throughLine, ROWS + 1);
    assert.equal(writes.at(-1)!.complete, true);
    assert.ok(writes.slice(0, -1).every((w) => !w.complete));
    assert.equal(
      writes.reduce((sum, w) => sum + w.measurements.length, 0),
      ROWS,
    );
  });

  test('a failed write fails the import and no later batch is written', async () => {
    const { sink, writes, started } = slowSink(5, 3);
    await assert.rejects(runImport([file], { dictionary: defaultConceptDictionary(), sink, batchMeasurements: BATCH, chunkRecords: 250 }), /write 3 failed/);
    assert.equal(started(), 4, 'nothing is written after the failed write');
    // The first batch (lines 2-1250, a chunk past the batch size) is written in two slices, the
    // first without advancing the checkpoint.
    assert.deepEqual(
      writes.map((w) => w.throughLine),
      [0, 1250, 2250],
    );
  });
});
