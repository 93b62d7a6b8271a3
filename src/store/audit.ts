/**
 * The audit chain in the database (tables audit_entry and audit_head, migration 0003); the
 * hash and the verification rules are pure and live in src/trial/audit.ts.
 *
 * Appending is serialised by a row lock on the single audit_head row, held until the
 * transaction ends. To keep that critical section short - two statements and the commit -
 * call appendAuditEntry as the LAST statement of a transaction, after all other work, and
 * never lock anything else after it (that order also rules out deadlocks: every transaction
 * takes its other locks first and the head last).
 */
import { type AuditDraft, type AuditEntry, type ChainHead, type ChainVerification, appendEntry, verifyChain } from '../trial/audit.ts';
import type { Database, Queryable } from './db.ts';

/** Appends one entry inside the caller's transaction `tx` (see the file comment). */
export async function appendAuditEntry(tx: Queryable, draft: AuditDraft): Promise<AuditEntry> {
  const head = await tx.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_head FOR UPDATE');
  const row = head.rows[0];
  if (row === undefined) throw new Error('audit_head row is missing: the audit chain cannot be appended to');
  const entry = appendEntry({ seq: Number(row.seq), hash: row.hash }, draft);
  if (!entry.ok) throw new Error(`audit entry refused: ${entry.error}`);
  const e = entry.value;
  await tx.query(
    `WITH appended AS (
       INSERT INTO audit_entry (seq, at, actor, action, subject, payload, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8) RETURNING seq, hash
     )
     UPDATE audit_head SET seq = appended.seq, hash = appended.hash FROM appended`,
    [e.seq, e.at, e.actor, e.action, e.subject, JSON.stringify(e.payload), e.prevHash, e.hash],
  );
  return e;
}

/** Appends one entry in a transaction of its own. */
export function appendAudit(db: Database, draft: AuditDraft): Promise<AuditEntry> {
  return db.transaction((tx) => appendAuditEntry(tx, draft));
}

interface AuditRow {
  seq: number;
  at: Date | string;
  actor: string;
  action: string;
  subject: string;
  payload: AuditEntry['payload'];
  prev_hash: string;
  hash: string;
}

/** The stored chain in seq order (optionally from a seq on), exactly as stored. */
export async function readAuditChain(db: Queryable, options: { fromSeq?: number; limit?: number } = {}): Promise<AuditEntry[]> {
  const result = await db.query<AuditRow>(
    `SELECT seq, at, actor, action, subject, payload, prev_hash, hash FROM audit_entry
     WHERE seq >= $1 ORDER BY seq LIMIT $2`,
    [options.fromSeq ?? 1, options.limit ?? null],
  );
  return result.rows.map((row) => ({
    seq: Number(row.seq),
    at: new Date(row.at).toISOString(),
    actor: row.actor,
    action: row.action,
    subject: row.subject,
    payload: row.payload,
    prevHash: row.prev_hash,
    hash: row.hash,
  }));
}

export async function readAuditHead(db: Queryable): Promise<ChainHead | undefined> {
  const result = await db.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_head');
  const row = result.rows[0];
  return row && { seq: Number(row.seq), hash: row.hash };
}

/**
 * Verifies the whole stored chain against its recorded head. Read in one REPEATABLE READ
 * snapshot so that appends running meanwhile cannot make a sound chain look truncated.
 */
export async function verifyAuditChain(db: Database): Promise<ChainVerification & { recordedHead: ChainHead | undefined }> {
  return db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const recordedHead = await readAuditHead(tx);
    const entries = await readAuditChain(tx);
    const verification = verifyChain(entries, recordedHead);
    if (verification.ok && recordedHead === undefined) {
      const seq = verification.head.seq + 1;
      const message = 'the recorded chain head (audit_head) is missing: entries at the end may have been deleted';
      return { ok: false, count: entries.length, problem: { seq, index: entries.length, kind: 'truncated', message }, recordedHead };
    }
    return { ...verification, recordedHead };
  });
}
