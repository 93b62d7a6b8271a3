/**
 * The embedded database thread (see pglite-thread.ts for why, and for the protocol): owns the
 * PGlite instance and runs the statements the main thread sends, one answer per request.
 *
 * Transactions: a `begin` enters `pg.transaction(tx => ...)`. Its callback registers `tx` under
 * the request's id, answers the begin, and waits for the main thread's decision; statements
 * tagged with the id run on `tx` meanwhile. `commit` lets the callback return, so PGlite commits;
 * `rollback` makes it throw a private value, so PGlite rolls back. The commit or rollback is
 * answered once PGlite has done it. Everything else waits on PGlite's own mutex, as in-process.
 *
 * This file only makes sense as a thread's entry (startTsWorker in pglite-thread.ts): imported in
 * the main thread it would take the process's port and open a database nobody closes, so it
 * refuses to load there.
 */
import { Buffer } from 'node:buffer';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import {
  type DatabaseThreadData,
  ERROR_FIELDS,
  type FromDatabaseThread,
  type MarkedParam,
  PARAM_MARK,
  type ThreadError,
  type ToDatabaseThread,
} from './pglite-thread.ts';

if (isMainThread || parentPort === null) {
  throw new Error('src/store/pglite-thread-worker.ts is the entry of the embedded database thread; open the database with openPGlite({ thread: true }) instead of importing it');
}
const port = parentPort;
const { dataPath } = workerData as DatabaseThreadData;

/** Thrown inside pg.transaction's callback to make PGlite roll back; never leaves this thread. */
const ROLLBACK = Symbol('rollback');

interface OpenTransaction {
  tx: Transaction;
  /** Ends the callback: commit (true) or roll back (false), answering request `id` when done. */
  finish: (decision: { commit: boolean; id: number }) => void;
}
const transactions = new Map<number, OpenTransaction>();

function answer(message: FromDatabaseThread): void {
  try {
    port.postMessage(message);
  } catch (error) {
    // A row value structured clone cannot carry: the caller gets an error instead of no answer.
    port.postMessage({ id: message.id, ok: false, error: threadError(error) } satisfies FromDatabaseThread);
  }
}
const succeed = (id: number, value: unknown = undefined): void => answer({ id, ok: true, value });
const fail = (id: number, error: unknown): void => answer({ id, ok: false, error: threadError(error) });

/** PGlite's error with its PostgreSQL fields; structured clone would keep the message only. */
function threadError(error: unknown): ThreadError {
  if (typeof error !== 'object' || error === null) return { name: 'Error', message: String(error), fields: {} };
  const e = error as Record<string, unknown>;
  const fields: Record<string, string | number> = {};
  for (const key of ERROR_FIELDS) {
    const value = e[key];
    if (typeof value === 'string' || typeof value === 'number') fields[key] = value;
  }
  return { name: typeof e.name === 'string' ? e.name : 'Error', message: typeof e.message === 'string' ? e.message : String(error), fields };
}

/** Same message as PGlite's own for a statement on a finished transaction. */
const closedTransaction = (): Error => new Error('Transaction is closed');

let pg: PGlite | undefined;
try {
  pg = await PGlite.create(dataPath);
} catch (error) {
  // The main thread reports it and terminates the thread; no request is served.
  fail(0, error);
}
if (pg !== undefined) {
  const db = pg;
  port.on('message', (message: ToDatabaseThread) => void handle(db, message));
  succeed(0);
}

async function handle(pg: PGlite, message: ToDatabaseThread): Promise<void> {
  const { id } = message;
  try {
    switch (message.op) {
      case 'query': {
        const target = message.tx === undefined ? pg : transactions.get(message.tx)?.tx;
        if (target === undefined) throw closedTransaction();
        const params = message.revive ? (message.params.map(reviveParam) as unknown[]) : (message.params as unknown[]);
        const result = await target.query(message.sql, params);
        succeed(id, { rows: result.rows, affectedRows: result.affectedRows ?? 0 });
        return;
      }
      case 'exec': {
        const target = message.tx === undefined ? pg : transactions.get(message.tx)?.tx;
        if (target === undefined) throw closedTransaction();
        await target.exec(message.sql);
        succeed(id);
        return;
      }
      case 'begin':
        begin(pg, id);
        return;
      case 'commit':
      case 'rollback': {
        const open = transactions.get(message.tx);
        if (open === undefined) throw closedTransaction();
        // From here on a statement tagged with this transaction is refused, as PGlite refuses one
        // on a closed transaction; those sent before the decision were already handed to `tx`
        // and run before the COMMIT or ROLLBACK (PGlite's query mutex).
        transactions.delete(message.tx);
        open.finish({ commit: message.op === 'commit', id });
        return;
      }
      case 'close':
        await pg.close();
        succeed(id);
        return;
      default:
        throw new Error(`unknown request ${JSON.stringify((message as { op?: unknown }).op)}`);
    }
  } catch (error) {
    fail(id, error);
  }
}

function begin(pg: PGlite, id: number): void {
  let decide!: (decision: { commit: boolean; id: number }) => void;
  const decided = new Promise<{ commit: boolean; id: number }>((resolve) => (decide = resolve));
  let decision: { commit: boolean; id: number } | undefined;
  let begun = false;
  pg.transaction(async (tx) => {
    // BEGIN has run: the transaction is the main thread's until it decides.
    begun = true;
    transactions.set(id, { tx, finish: decide });
    succeed(id, id);
    decision = await decided;
    if (!decision.commit) throw ROLLBACK;
  }).then(
    () => succeed(decision!.id),
    (error: unknown) => {
      transactions.delete(id);
      if (!begun) fail(id, error);
      else if (error === ROLLBACK) succeed(decision!.id);
      // COMMIT (or the ROLLBACK itself) failed: the caller of commit/rollback hears of it.
      else if (decision !== undefined) fail(decision.id, error);
    },
  );
}

/** A parameter as the main thread had it, for PGlite to serialise (cloneableParams in pglite-thread.ts). */
function reviveParam(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || value instanceof Date) return value;
  if (Array.isArray(value)) return value.map(reviveParam);
  const record = value as Record<string, unknown>;
  const mark = record[PARAM_MARK];
  if (mark === 'buffer') {
    const { bytes } = value as Extract<MarkedParam, { bytes: Uint8Array }>;
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  if (mark === 'opaque') {
    const marked = value as Extract<MarkedParam, { text: string | undefined }>;
    // PGlite turns a parameter into text with toString(), or into JSON with JSON.stringify
    // (which calls toJSON): both give what they gave for the original value in the main thread.
    return {
      toString(): string {
        if (marked.text === undefined) throw new TypeError(marked.textError ?? 'the value cannot be converted to text');
        return marked.text;
      },
      toJSON(): unknown {
        if (marked.jsonError !== undefined) throw new TypeError(marked.jsonError);
        return marked.json === undefined ? undefined : JSON.parse(marked.json);
      },
    };
  }
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(record)) out[key] = reviveParam(item);
  return out;
}
