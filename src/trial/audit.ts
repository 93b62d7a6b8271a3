/**
 * The hash-chained audit log: every allocation, kit dispensation, unblinding, withdrawal,
 * deviation and CRF change is an entry that commits to the entry before it, so editing,
 * deleting or reordering any stored entry is detected by recomputing the chain.
 *
 * Entry hash (lower-case hex SHA-256 over UTF-8):
 *   hash = SHA-256( canonicalJson({ seq, at, actor, action, subject, payload, prevHash }) )
 * with canonicalJson as defined in canonical.ts (sorted keys, no whitespace), `seq` counting
 * from 1 without gaps, `at` an ISO 8601 UTC instant with milliseconds
 * ("2026-01-05T08:00:00.000Z"), and prevHash the previous entry's hash (64 zeros for the first).
 *
 * What the chain cannot show by itself: removing entries from the END leaves a valid shorter
 * chain. The database keeps the head (last seq and hash) in a separate row that verification
 * compares against (expectedHead), and an auditor can record the head reported by
 * `immunoguide audit verify` to compare later.
 */
import { type Result, err, ok } from '../clinical/types.ts';
import { type JsonObject, canonicalJson, jsonProblem, sha256Hex } from './canonical.ts';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditDraft {
  /** ISO 8601 UTC instant with milliseconds, e.g. "2026-01-05T08:00:00.000Z". */
  at: string;
  /** Who did it (user or service identity). */
  actor: string;
  /** What happened, e.g. "allocation.created". */
  action: string;
  /** What it happened to, e.g. "patient:P1" or "trial:immunosep". */
  subject: string;
  payload: JsonObject;
}

export interface AuditEntry extends AuditDraft {
  seq: number;
  prevHash: string;
  hash: string;
}

export interface ChainHead {
  seq: number;
  hash: string;
}

export const EMPTY_HEAD: ChainHead = { seq: 0, hash: GENESIS_HASH };

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const HEX64 = /^[0-9a-f]{64}$/;

export function entryHash(entry: Omit<AuditEntry, 'hash'>): string {
  const { seq, at, actor, action, subject, payload, prevHash } = entry;
  return sha256Hex(canonicalJson({ seq, at, actor, action, subject, payload, prevHash }));
}

/** The next entry of a chain whose current head is `head`. */
export function appendEntry(head: ChainHead, draft: AuditDraft): Result<AuditEntry, string> {
  if (!INSTANT.test(draft.at) || new Date(draft.at).toISOString() !== draft.at) {
    return err(`audit time must be an ISO 8601 UTC instant with milliseconds, got "${draft.at}"`);
  }
  for (const field of ['actor', 'action', 'subject'] as const) {
    if (typeof draft[field] !== 'string' || draft[field] === '') return err(`audit ${field} must be a non-empty string`);
  }
  const problem = jsonProblem(draft.payload);
  if (problem !== undefined || typeof draft.payload !== 'object' || draft.payload === null || Array.isArray(draft.payload)) {
    return err(`audit payload must be a JSON object${problem === undefined ? '' : ` (${problem})`}`);
  }
  const unsealed = {
    seq: head.seq + 1,
    at: draft.at,
    actor: draft.actor,
    action: draft.action,
    subject: draft.subject,
    payload: draft.payload,
    prevHash: head.hash,
  };
  return ok({ ...unsealed, hash: entryHash(unsealed) });
}

export type ChainProblemKind =
  /** The entry's content no longer matches its hash. */
  | 'edited'
  /** Sequence numbers jump: the entries in between are missing. */
  | 'deleted'
  /** An entry is out of place: its seq goes backwards, repeats, or it commits to an entry other than its predecessor. */
  | 'reordered'
  /** The entry is intact but does not commit to the entry before it: one of the two was replaced and re-hashed. */
  | 'unlinked'
  /** The chain is intact but ends before / after the recorded head: entries at the end were deleted or added bypassing the head. */
  | 'truncated';

export interface ChainProblem {
  /** seq of the first bad entry (for 'deleted': the first missing seq; for 'truncated': the first seq past the end). */
  seq: number;
  /** Index of the entry in the list where the problem was found. */
  index: number;
  kind: ChainProblemKind;
  message: string;
}

export type ChainVerification = { ok: true; count: number; head: ChainHead } | { ok: false; count: number; problem: ChainProblem };

/**
 * Verifies a chain given in storage order (ascending seq) and reports the FIRST bad entry.
 * `expectedHead`, when given, is the head recorded separately; a chain ending elsewhere is
 * reported as 'truncated'.
 */
export function verifyChain(entries: readonly AuditEntry[], expectedHead?: ChainHead): ChainVerification {
  const seqs = new Set(entries.map((e) => e.seq));
  const hashes = new Map(entries.map((e) => [e.hash, e.seq]));
  let previous: ChainHead = EMPTY_HEAD;
  const fail = (index: number, seq: number, kind: ChainProblemKind, message: string): ChainVerification => ({
    ok: false,
    count: entries.length,
    problem: { seq, index, kind, message },
  });

  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index]!;
    const expectedSeq = previous.seq + 1;
    if (entry.seq !== expectedSeq) {
      if (entry.seq < expectedSeq || seqs.has(expectedSeq)) {
        return fail(index, entry.seq, 'reordered', `entry ${entry.seq} is out of order: entry ${expectedSeq} should come here`);
      }
      const missing = entry.seq - 1 === expectedSeq ? `entry ${expectedSeq}` : `entries ${expectedSeq}-${entry.seq - 1}`;
      return fail(index, expectedSeq, 'deleted', `${missing} missing: the chain jumps from ${previous.seq} to ${entry.seq}`);
    }
    if (entry.prevHash !== previous.hash) {
      const committedTo = hashes.get(entry.prevHash);
      if (committedTo !== undefined && committedTo !== previous.seq) {
        return fail(index, entry.seq, 'reordered', `entry ${entry.seq} commits to entry ${committedTo}, not to its predecessor ${previous.seq}`);
      }
    }
    const recomputed = HEX64.test(entry.hash) && jsonProblem(entry.payload) === undefined ? entryHash(entry) : undefined;
    if (recomputed !== entry.hash) {
      return fail(index, entry.seq, 'edited', `entry ${entry.seq} was altered: its content does not match its hash`);
    }
    if (entry.prevHash !== previous.hash) {
      return fail(
        index,
        entry.seq,
        'unlinked',
        `entry ${entry.seq} does not commit to entry ${previous.seq} as stored: one of them was replaced and re-hashed`,
      );
    }
    previous = { seq: entry.seq, hash: entry.hash };
  }

  if (expectedHead !== undefined && (expectedHead.seq !== previous.seq || expectedHead.hash !== previous.hash)) {
    const message =
      expectedHead.seq > previous.seq
        ? `entries ${previous.seq + 1}-${expectedHead.seq} missing: the chain ends at ${previous.seq} but its recorded head is ${expectedHead.seq}`
        : `the chain ends at entry ${previous.seq} (${previous.hash.slice(0, 12)}) but its recorded head is entry ${expectedHead.seq} (${expectedHead.hash.slice(0, 12)})`;
    return fail(entries.length, Math.min(previous.seq, expectedHead.seq) + 1, 'truncated', message);
  }
  return { ok: true, count: entries.length, head: previous };
}
