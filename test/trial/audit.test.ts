import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type AuditDraft, type AuditEntry, EMPTY_HEAD, GENESIS_HASH, appendEntry, entryHash, verifyChain } from '../../src/trial/audit.ts';

function draft(i: number): AuditDraft {
  return {
    at: new Date(Date.UTC(2026, 0, 5, 8, i)).toISOString(),
    actor: `user:u${i % 3}`,
    action: i % 2 === 0 ? 'allocation.created' : 'kit.dispensed',
    subject: `patient:P${i}`,
    payload: { trialId: 'immunosep', position: i, nested: { list: [i, 'x'] } },
  };
}

function chain(length: number): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (let i = 1; i <= length; i++) {
    const next = appendEntry(entries.at(-1) ?? EMPTY_HEAD, draft(i));
    assert.ok(next.ok);
    entries.push(next.value);
  }
  return entries;
}

test('entry hash: SHA-256 over the canonical JSON of the entry without its hash (known answer)', () => {
  // Expected values computed independently with Python (json.dumps sort_keys, no separators' spaces, hashlib).
  const first = appendEntry(EMPTY_HEAD, {
    at: '2026-01-05T08:00:00.000Z',
    actor: 'user:alice',
    action: 'trial.created',
    subject: 'trial:immunosep',
    payload: { b: [1, 2.5, true, null], a: 'x"é' },
  });
  assert.ok(first.ok);
  assert.equal(first.value.seq, 1);
  assert.equal(first.value.prevHash, GENESIS_HASH);
  assert.equal(first.value.hash, '7b5d3c6883bef10d6ed3ee503d477349082077cfbb928c4b78ec9455a73dc580');
  const second = appendEntry(first.value, { at: '2026-01-05T08:01:00.000Z', actor: 'user:bob', action: 'allocation.created', subject: 'patient:P1', payload: {} });
  assert.ok(second.ok);
  assert.equal(second.value.prevHash, first.value.hash);
  assert.equal(second.value.hash, '9c255acc3fc9c3e129f3027977d73a8ed0262ece6997ddbeae00c7ebd12266ea');
});

test('appendEntry refuses times that are not canonical UTC instants and non-JSON payloads', () => {
  for (const at of ['2026-01-05T08:00:00Z', '2026-01-05T09:00:00.000+01:00', '2026-02-30T08:00:00.000Z', 'yesterday']) {
    assert.equal(appendEntry(EMPTY_HEAD, { ...draft(1), at }).ok, false, at);
  }
  assert.equal(appendEntry(EMPTY_HEAD, { ...draft(1), actor: '' }).ok, false);
  assert.equal(appendEntry(EMPTY_HEAD, { ...draft(1), payload: { x: Number.NaN } }).ok, false);
  assert.equal(appendEntry(EMPTY_HEAD, { ...draft(1), payload: [] as unknown as AuditDraft['payload'] }).ok, false);
});

test('an intact chain verifies and reports its head', () => {
  const entries = chain(6);
  assert.deepEqual(verifyChain(entries), { ok: true, count: 6, head: { seq: 6, hash: entries[5]!.hash } });
  assert.deepEqual(verifyChain(entries, { seq: 6, hash: entries[5]!.hash }).ok, true);
  assert.deepEqual(verifyChain([]), { ok: true, count: 0, head: EMPTY_HEAD });
});

function problem(entries: AuditEntry[], head?: { seq: number; hash: string }) {
  const result = verifyChain(entries, head);
  assert.equal(result.ok, false, 'verification must fail');
  return result.ok ? undefined : { seq: result.problem.seq, kind: result.problem.kind, message: result.problem.message };
}

test('an edited entry is named (payload, actor, time or hash changed)', () => {
  const entries = chain(6);
  const edits: Array<(e: AuditEntry) => AuditEntry> = [
    (e) => ({ ...e, payload: { ...e.payload, position: 99 } }),
    (e) => ({ ...e, actor: 'user:mallory' }),
    (e) => ({ ...e, at: '2026-01-05T09:00:00.000Z' }),
    (e) => ({ ...e, hash: 'f'.repeat(64) }),
  ];
  for (const edit of edits) {
    const tampered = entries.map((e) => (e.seq === 4 ? edit(e) : e));
    assert.deepEqual(problem(tampered), { seq: 4, kind: 'edited', message: 'entry 4 was altered: its content does not match its hash' });
  }
});

test('the FIRST bad entry is named when several are bad', () => {
  const entries = chain(8).map((e) => (e.seq === 3 || e.seq === 6 ? { ...e, subject: 'patient:X' } : e));
  assert.equal(problem(entries)?.seq, 3);
});

test('a deleted entry is named (middle, first, several)', () => {
  const entries = chain(6);
  assert.deepEqual(problem(entries.filter((e) => e.seq !== 3)), {
    seq: 3,
    kind: 'deleted',
    message: 'entry 3 missing: the chain jumps from 2 to 4',
  });
  assert.deepEqual(problem(entries.filter((e) => e.seq !== 1))?.seq, 1);
  assert.deepEqual(problem(entries.filter((e) => e.seq < 2 || e.seq > 4))?.message, 'entries 2-4 missing: the chain jumps from 1 to 5');
});

test('reordered entries are named: swapped in a list, or seq numbers swapped in storage', () => {
  const entries = chain(6);
  const swapped = [entries[0]!, entries[1]!, entries[3]!, entries[2]!, entries[4]!, entries[5]!];
  assert.deepEqual(problem(swapped), { seq: 4, kind: 'reordered', message: 'entry 4 is out of order: entry 3 should come here' });
  // In a table read ORDER BY seq, a reorder means the seq values of two rows were exchanged.
  const renumbered = [entries[0]!, entries[1]!, { ...entries[3]!, seq: 3 }, { ...entries[2]!, seq: 4 }, entries[4]!, entries[5]!];
  assert.deepEqual(problem(renumbered), { seq: 3, kind: 'reordered', message: 'entry 3 commits to entry 4, not to its predecessor 2' });
});

test('an entry replaced and re-hashed is caught by its successor (unlinked)', () => {
  const entries = chain(5);
  const forged = { ...entries[2]!, payload: { forged: true } };
  forged.hash = entryHash(forged);
  const result = problem(entries.map((e) => (e.seq === 3 ? forged : e)));
  assert.deepEqual(result, { seq: 4, kind: 'unlinked', message: 'entry 4 does not commit to entry 3 as stored: one of them was replaced and re-hashed' });
});

test('entries deleted from the end are caught against the recorded head (truncated)', () => {
  const entries = chain(6);
  const head = { seq: 6, hash: entries[5]!.hash };
  assert.equal(verifyChain(entries.slice(0, 4)).ok, true, 'without a head a shorter chain is self-consistent');
  assert.deepEqual(problem(entries.slice(0, 4), head), {
    seq: 5,
    kind: 'truncated',
    message: 'entries 5-6 missing: the chain ends at 4 but its recorded head is 6',
  });
  assert.equal(problem(entries, { seq: 5, hash: entries[4]!.hash })?.kind, 'truncated');
});
