import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { describe, it } from 'node:test';
import { type SyncEntry, TrackedState, checkLog } from '../../src/sources/ingest/screen-state.ts';

/** What crosses between threads: a structured clone. */
const overTheWire = <T>(value: T): T => v8.deserialize(v8.serialize(value)) as T;

describe('TrackedState (parser state replicas of the parallel screen)', () => {
  it('logs first reads with the version seen and changes with the chunk that made them', () => {
    const exact = new TrackedState();
    exact.begin();
    exact.memory.set('weight|P1', [1, 70]);
    const first = exact.end(0, false);
    assert.deepEqual(first.changes, [['mweight|P1', { value: [1, 70] }]]);
    assert.equal(exact.version('mweight|P1'), 0);
    assert.equal(exact.version('mweight|P2'), -1);

    exact.begin();
    assert.deepEqual(exact.memory.get('weight|P1'), [1, 70]);
    exact.memory.get('weight|P2');
    exact.memory.set('weight|P1', [1, 70, 2, 71]);
    const second = exact.end(1, false);
    assert.deepEqual(second.ops, [
      [0, 'mweight|P1', 0, false],
      [0, 'mweight|P2', -1, false],
      [1, 'mweight|P1', true],
    ]);
    assert.deepEqual(second.changes, [['mweight|P1', { value: [1, 70, 2, 71] }]]);
    assert.equal(exact.version('mweight|P1'), 1);
  });

  it('keeps every value readable, under one key string, after a key is stamped', () => {
    const state = new TrackedState();
    const ids = Array.from({ length: 50 }, (_, i) => `a-patient-identifier-${i}`);
    state.begin();
    // Keys built from parts, as a parser builds them (views into longer strings).
    for (const [i, id] of ids.entries()) state.memory.set(`weight|${`Patient/${id}`.slice(8)}`, [i, 60 + i]);
    state.memory.set('Medication/m1', { code: 'x' });
    state.memory.delete('Medication/m1');
    const log = state.end(4, true);
    assert.equal(log.changes.length, 50, 'a key set and removed in the same chunk is no change');
    assert.equal(state.size('m'), 50);
    for (const [i, id] of ids.entries()) {
      assert.deepEqual(state.memory.get(`weight|${id}`), [i, 60 + i]);
      assert.equal(state.version(`mweight|${id}`), 4);
    }
    // A later chunk reads the speculative version and sees it flagged.
    state.begin();
    state.memory.get(`weight|${ids[0]}`);
    assert.deepEqual(state.end(5, true).ops, [[0, `mweight|${ids[0]}`, 4, true]]);
  });

  it('accepts a chunk whose reads match the exact state and refuses one that read a value changed since', () => {
    const exact = new TrackedState();
    const replica = new TrackedState();
    // Chunk 0 (on the replica's thread) charts a weight; chunk 1 (on another) reads it before it
    // has been told of it.
    replica.begin();
    replica.memory.set('weight|P1', [1, 70]);
    const chunk0 = overTheWire(replica.end(0, true));
    const other = new TrackedState();
    other.begin();
    other.memory.get('weight|P1');
    const chunk1 = overTheWire(other.end(1, true));

    assert.equal(checkLog(chunk0, exact, new Set()), true);
    for (const [key, value] of chunk0.changes) exact.put(key, value, 0);
    assert.equal(checkLog(chunk1, exact, new Set()), false, 'chunk 1 saw no weight where chunk 0 had charted one');

    // Told of chunk 0, the other thread's next read checks out.
    other.sync(overTheWire(chunk0.changes.map(([key, value]): SyncEntry => [key, value, 0, 0])));
    other.begin();
    assert.deepEqual(other.memory.get('weight|P1'), [1, 70]);
    assert.equal(checkLog(overTheWire(other.end(2, true)), exact, new Set()), true);
    // A read of a speculative value of a chunk parsed again on the main thread never checks out.
    assert.equal(checkLog({ ops: [[0, 'mweight|P1', 0, true]], changes: [] }, exact, new Set([0])), false);
  });

  it('syncs: takes later checked values, keeps its own later speculative ones, undoes those it is told to', () => {
    const replica = new TrackedState();
    replica.begin();
    replica.memory.set('weight|P1', [5, 75]);
    replica.end(5, true);
    // A checked change of an earlier chunk does not replace the speculative change of chunk 5.
    replica.sync([['mweight|P1', { value: [3, 73] }, 3, 3]]);
    assert.deepEqual(replica.memory.get('weight|P1'), [5, 75]);
    // The main thread parsed chunk 5 again and found no such change: undone.
    replica.sync([['mweight|P1', null, 3, 5]]);
    assert.equal(replica.memory.get('weight|P1'), undefined);
    assert.equal(replica.version('mweight|P1'), 3);
    // A later checked change is taken, and the key can come back.
    replica.sync([['mweight|P1', { value: [9, 79] }, 9, 9]]);
    assert.deepEqual(replica.memory.get('weight|P1'), [9, 79]);
    assert.equal(replica.size('m'), 1);
    replica.begin();
    replica.memory.get('weight|P1');
    assert.deepEqual(replica.end(10, true).ops, [[0, 'mweight|P1', 9, false]]);
  });
});
