/**
 * runImport hands batches to the sink in file order while it parses the next batch: one write
 * in flight (or as many as the sink's writesInFlight), checkpoints (throughLine) never going
 * back, and a failed write stops the import before any later batch is written (with two in
 * flight, the one already handed over is the last).
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
function slowSink(delayMs: number, failAt?: number, writesInFlight?: number) {
  const writes: ImportBatch[] = [];
  let started = 0;
  let pending = 0;
  let maxPending = 0;
  let writing = false;
  const calls: ImportBatch[] = [];
  const sink: ImportSink = {
    ...(writesInFlight === undefined ? {} : { writesInFlight }),
    checkpoint: async () => undefined,
    async write(batch) {
      calls.push(batch);
      started++;
      pending++;
      maxPending = Math.max(maxPending, pending);
      writing = true;
      try {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (calls.indexOf(batch) === failAt) throw new Error(`write ${failAt} failed`);
        writes.push(batch);
        return { inserted: batch.measurements.length, dropped: 0, issues: [] };
      } finally {
        pending--;
        writing = false;
      }
    },
  };
  return { sink, writes, calls, started: () => started, maxPending: () => maxPending, writing: () => writing };
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
    // Batches end at the first chunk past the batch size (lines 2-1250, 1251-2250, ...), each
    // in one write.
    assert.deepEqual(
      writes.map((w) => w.throughLine),
      [1250, 2250, 3250],
    );
  });

  test('a batch of more than twice the batch size is written in slices; only the last advances the checkpoint', async () => {
    const { sink, writes } = slowSink(0);
    const summary = await runImport([file], { dictionary: defaultConceptDictionary(), sink, batchMeasurements: 400, chunkRecords: 1000 });
    assert.equal(summary.inserted, ROWS);
    // Chunks of 1000 lines: the first holds the header and 999 measurements (two slices of 500),
    // the others 1000 (two of 500).
    assert.deepEqual(
      writes.slice(0, 4).map((w) => [w.throughLine, w.measurements.length, w.records]),
      [
        [0, 500, 0],
        [1000, 499, 999],
        [0, 500, 0],
        [2000, 500, 1000],
      ],
    );
    // The final flush at the end of the file holds what is left: line 12,001, alone in the last chunk.
    assert.ok(writes.slice(0, -1).every((w) => w.measurements.length >= 400 && w.measurements.length < 800));
    assert.deepEqual([writes.at(-1)!.throughLine, writes.at(-1)!.measurements.length, writes.at(-1)!.complete], [ROWS + 1, 1, true]);
  });

  test('a sink taking two writes at once gets two, called in file order, and the import still stops at a failed write', async () => {
    // Writes slow enough (200 ms) that the next batch is parsed before the one in flight ends, even on a loaded machine.
    const { sink, writes, calls, maxPending } = slowSink(200, undefined, 2);
    const summary = await runImport([file], { dictionary: defaultConceptDictionary(), sink, batchMeasurements: BATCH, chunkRecords: 250 });
    assert.equal(summary.inserted, ROWS);
    assert.equal(maxPending(), 2);
    const lines = calls.map((w) => w.throughLine);
    assert.deepEqual(
      lines,
      [...lines].sort((a, b) => a - b),
    );
    assert.equal(writes.reduce((sum, w) => sum + w.measurements.length, 0), ROWS);
    assert.equal(calls.at(-1)!.complete, true);

    const failing = slowSink(5, 3, 2);
    await assert.rejects(runImport([file], { dictionary: defaultConceptDictionary(), sink: failing.sink, batchMeasurements: BATCH, chunkRecords: 250 }), /write 3 failed/);
    assert.ok(failing.started() <= 5, `at most the write after the failed one was handed over (${failing.started()} started)`);
  });
});
