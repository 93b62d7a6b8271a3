/**
 * The embedded database (PGlite) in a worker thread, behind the same `Database` interface as
 * the in-process backend (pglite.ts): `openPGlite({ thread: true })` returns it.
 *
 * Why a thread: PGlite is PostgreSQL compiled to WebAssembly, and in-process every statement runs
 * synchronously on the server's event loop. Under the CDS Hooks load a quarter of the main
 * thread's time went to it, and a batch of call records held the loop for milliseconds while
 * requests queued behind it (p99 two to three times the target, which the same server met on an
 * external PostgreSQL). Here the thread owns the PGlite instance and the main thread only sends
 * SQL and receives rows, so the loop stays free while the database works - as it does with a
 * PostgreSQL server, and on the machine's other core.
 *
 * Protocol (messages over the worker's own port, structured clone both ways):
 * - main -> thread: `{ id, op, ... }` with `op` one of query (sql, params), exec (sql), begin,
 *   commit, rollback, close. query and exec carry `tx`: the transaction they belong to, or
 *   undefined for a statement on the database itself.
 * - thread -> main: `{ id, ok: true, value }` or `{ id, ok: false, error }`, one answer per
 *   request. Id 0 is the start-up answer: PGlite is open (or could not be opened).
 * - Rows travel as PGlite parsed them, so a Date, bigint, Uint8Array or jsonb object arrives as
 *   the same value the in-process backend returns. Errors travel as their fields (message,
 *   SQLSTATE code, detail, ...) and become the same `DatabaseError` here (toDatabaseError).
 *
 * Transactions keep the in-process semantics. `begin` makes the thread enter
 * `pg.transaction(tx => ...)`, whose callback answers the begin request (its id becomes the
 * transaction's id) and then waits for the main thread's decision; statements tagged with that
 * id run on `tx`. `commit` lets the callback return (PGlite commits), `rollback` makes it throw
 * (PGlite rolls back). Meanwhile PGlite's own mutex makes every other statement and transaction
 * wait in the thread exactly as in-process, in the order the main thread issued them.
 *
 * If the thread dies (uncaught error, out of memory, terminate()), every pending and later call
 * rejects with a DatabaseError naming the cause; nothing waits for an answer that cannot come.
 * The directory lock stays with the main thread (pglite.ts): `onClosed` releases it.
 *
 * The thread keeps the process alive only while a request is pending: an idle open database no
 * more holds the process open than the in-process one does, and close() terminates the thread.
 */
import { Buffer } from 'node:buffer';
import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../sources/ingest/ts-worker.ts';
import { type Database, DatabaseError, type QueryResult, type Queryable, toDatabaseError } from './db.ts';

/** What the thread is started with. */
export interface DatabaseThreadData {
  /** PGlite's data directory (`<dataDir>/pgdata`), or undefined for an in-memory database. */
  dataPath: string | undefined;
}

/** A request from the main thread. `id` is unique per database; a `begin`'s id names its transaction. */
export type ToDatabaseThread =
  | { id: number; op: 'query'; sql: string; params: readonly unknown[]; revive: boolean; tx: number | undefined }
  | { id: number; op: 'exec'; sql: string; tx: number | undefined }
  | { id: number; op: 'begin' }
  | { id: number; op: 'commit'; tx: number }
  | { id: number; op: 'rollback'; tx: number }
  | { id: number; op: 'close' };

/** A request without its id (request() adds it). */
type RequestBody = ToDatabaseThread extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/** The answer to request `id` (0: start-up). */
export type FromDatabaseThread = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: ThreadError };

/** An error as it crosses the thread boundary: structured clone keeps an Error's message but not PGlite's fields. */
export interface ThreadError {
  name: string;
  message: string;
  /** PostgreSQL's error fields that were present (code, detail, hint, constraint, ...). */
  fields: Record<string, string | number>;
}

/** Fields of PGlite's error (pg-protocol's DatabaseError, plus the query PGlite adds) worth carrying over. */
export const ERROR_FIELDS = [
  'code',
  'severity',
  'detail',
  'hint',
  'position',
  'internalPosition',
  'internalQuery',
  'where',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'file',
  'line',
  'routine',
  'query',
] as const;

/**
 * Key of a parameter value that structured clone would not carry faithfully (see
 * `cloneableParam`). The thread turns it back into a value that PGlite serialises the same way.
 */
export const PARAM_MARK = '\u0000immunoguide:pglite-thread-param';

/** A parameter value as it crosses the thread boundary when plain structured clone would change it. */
export type MarkedParam =
  | { [PARAM_MARK]: 'buffer'; bytes: Uint8Array }
  | { [PARAM_MARK]: 'opaque'; text: string | undefined; textError: string | undefined; json: string | undefined; jsonError: string | undefined };

/** The rebuilt Error behind a thread's error: a plain Error with PGlite's name and fields, the `cause` of the DatabaseError. */
export function errorFromThread(error: ThreadError): Error {
  const rebuilt = Object.assign(new Error(error.message), error.fields);
  rebuilt.name = error.name;
  return rebuilt;
}

// The worker of each threaded database, for tests (simulating a crash) and diagnostics.
const threads = new WeakMap<Database, Worker>();

/** The worker thread behind a database opened with `thread: true` (undefined for any other database). */
export function databaseThreadOf(db: Database): Worker | undefined {
  return threads.get(db);
}

export interface PGliteThreadOptions {
  /** PGlite's data directory (`<dataDir>/pgdata`), or undefined for an in-memory database. */
  dataPath: string | undefined;
  /** For messages and `Database.location`: the data directory or 'memory'. */
  location: string;
  /** Called once the database is closed (pglite.ts releases the directory lock). Not called when opening fails. */
  onClosed: () => void;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Starts the thread, waits until PGlite is open in it, and returns the Database that talks to it. */
export async function openPGliteThread(options: PGliteThreadOptions): Promise<Database> {
  const { location } = options;
  const data: DatabaseThreadData = { dataPath: options.dataPath };
  const worker = startTsWorker(new URL('./pglite-thread-worker.ts', import.meta.url), { workerData: data });

  const pending = new Map<number, Pending>();
  let nextId = 1;
  /** 'open'; 'closing': close() waits for pending work, no new work is accepted; 'closed'. */
  let state: 'open' | 'closing' | 'closed' = 'open';
  /** Transactions begun and not yet committed or rolled back: close() waits for them too. */
  let openTransactions = 0;
  /** Set when the thread stopped without close(): why, for every later call. */
  let stopped: string | undefined;
  /** The thread's uncaught error, when it died of one (reported by 'error' before 'exit'). */
  let crash: unknown;
  /** Set by close() just before it terminates the thread itself. */
  let terminating = false;
  let idleWaiters: Array<() => void> = [];

  const stoppedError = (): DatabaseError =>
    new DatabaseError(`the embedded database thread (${location}) stopped: ${stopped}`, undefined, crash === undefined ? undefined : { cause: crash });
  const closedError = (): DatabaseError => new DatabaseError(`the embedded database (${location}) is closed`, undefined);

  function settled(): void {
    // Keep the process alive only while an answer is awaited (see the header).
    if (pending.size === 0) worker.unref();
    if (pending.size === 0 && openTransactions === 0 && idleWaiters.length > 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  worker.on('message', (message: FromDatabaseThread) => {
    const waiting = pending.get(message.id);
    if (waiting === undefined) return;
    pending.delete(message.id);
    if (message.ok) waiting.resolve(message.value);
    else waiting.reject(errorFromThread(message.error));
    settled();
  });
  worker.on('error', (error) => {
    crash = error;
  });
  worker.on('messageerror', (error) => {
    // An answer that cannot be read leaves its caller waiting forever: stop the thread, which
    // rejects every pending call with this cause.
    crash = error;
    void worker.terminate();
  });
  worker.on('exit', (code) => {
    if (terminating) return;
    const error = crash as { name?: unknown; message?: unknown } | undefined;
    stopped =
      error !== undefined
        ? `${typeof error.name === 'string' ? error.name : 'Error'}: ${typeof error.message === 'string' ? error.message : String(crash)}`
        : `the thread exited unexpectedly with code ${code}`;
    const waiting = [...pending.values()];
    pending.clear();
    for (const call of waiting) call.reject(stoppedError());
    settled();
  });

  /** Sends one request; resolves with the thread's answer, rejects with its error. */
  function request(message: RequestBody, id = nextId++): Promise<unknown> {
    if (stopped !== undefined) return Promise.reject(stoppedError());
    if (state === 'closed') return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      try {
        worker.postMessage({ ...message, id });
      } catch (error) {
        // A value structured clone cannot carry (DataCloneError): nothing was sent.
        reject(error);
        return;
      }
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
    });
  }

  // Start-up: the thread answers id 0 once PGlite is open; an exit or error before that rejects it.
  const started = new Promise<unknown>((resolve, reject) => pending.set(0, { resolve, reject }));
  try {
    await started;
  } catch (error) {
    terminating = true;
    await worker.terminate();
    // As in-process (toDatabaseError with this context), also when the thread died before
    // answering (its error is a DatabaseError already, which toDatabaseError would pass as is).
    const reason = toDatabaseError(error);
    throw new DatabaseError(`could not open the embedded database in ${location}: ${reason.message}`, reason.code, { cause: error });
  }

  /** Statements on the database (tx undefined) or inside transaction `tx`. */
  function queryable(tx: number | undefined): Queryable {
    const check = (): void => {
      // Inside a transaction statements stay allowed while close() waits for the transaction.
      if (tx === undefined && state !== 'open' && stopped === undefined) throw closedError();
    };
    return {
      backend: 'pglite',
      async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
        try {
          check();
          const prepared = cloneableParams(params);
          return (await request({ op: 'query', sql, params: prepared.params, revive: prepared.revive, tx })) as QueryResult<Row>;
        } catch (error) {
          throw toDatabaseError(error);
        }
      },
      async exec(sql: string): Promise<void> {
        try {
          check();
          await request({ op: 'exec', sql, tx });
        } catch (error) {
          throw toDatabaseError(error);
        }
      },
    };
  }

  let closing: Promise<void> | undefined;
  const db: Database = {
    ...queryable(undefined),
    location,
    async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
      if (stopped !== undefined) throw stoppedError();
      if (state !== 'open') throw closedError();
      openTransactions++;
      try {
        const id = nextId++;
        try {
          await request({ op: 'begin' }, id);
        } catch (error) {
          throw toDatabaseError(error);
        }
        let result: T;
        try {
          result = await work(queryable(id));
        } catch (error) {
          // As in-process: roll back, then rethrow what `work` threw. A failing rollback (the
          // thread died meanwhile) must not hide that error.
          await request({ op: 'rollback', tx: id }).catch(() => {});
          throw error;
        }
        try {
          await request({ op: 'commit', tx: id });
        } catch (error) {
          throw toDatabaseError(error);
        }
        return result;
      } finally {
        openTransactions--;
        settled();
      }
    },
    close(): Promise<void> {
      closing ??= (async () => {
        state = 'closing';
        if (pending.size > 0 || openTransactions > 0) await new Promise<void>((wake) => idleWaiters.push(wake));
        try {
          // After a crash there is nothing left to close; every call has already been told.
          if (stopped === undefined) await request({ op: 'close' });
        } finally {
          state = 'closed';
          terminating = true;
          await worker.terminate();
          options.onClosed();
        }
      })();
      return closing;
    },
  };
  threads.set(db, worker);
  worker.unref();
  return db;
}

/**
 * Parameters as they cross to the thread. Structured clone carries primitives, Dates, typed
 * arrays, arrays and plain objects as they are - the usual parameters, sent untouched. It would
 * change two kinds of values that PGlite serialises differently in-process: a Buffer (it arrives
 * as a plain Uint8Array, whose toString differs) and an instance of a class or a function (it
 * arrives as a plain object or cannot be sent at all). Those are sent marked, with what PGlite
 * would use of them (their text and their JSON), and rebuilt in the thread (`reviveParams`).
 */
export function cloneableParams(params: readonly unknown[]): { params: readonly unknown[]; revive: boolean } {
  let out: unknown[] | undefined;
  for (let i = 0; i < params.length; i++) {
    const value = params[i];
    const sent = typeof value === 'object' || typeof value === 'function' || typeof value === 'symbol' ? cloneableParam(value, new Set()) : value;
    if (sent !== value) (out ??= params.slice())[i] = sent;
  }
  return out === undefined ? { params, revive: false } : { params: out, revive: true };
}

function cloneableParam(value: unknown, seen: Set<object>): unknown {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol')) return value;
  if (value instanceof Date) return value;
  if (Buffer.isBuffer(value)) {
    const marked: MarkedParam = { [PARAM_MARK]: 'buffer', bytes: new Uint8Array(value.buffer, value.byteOffset, value.byteLength) };
    return marked;
  }
  if (typeof value === 'object') {
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
    const proto = Object.getPrototypeOf(value) as unknown;
    const isArray = Array.isArray(value) && proto === Array.prototype;
    if (isArray || proto === Object.prototype || proto === null) {
      // A cycle: structured clone carries it, and PGlite's JSON fails on it as in-process.
      if (seen.has(value)) return value;
      seen.add(value);
      // Copied only when something inside had to be marked (rare): the usual object goes as it is.
      let copy: Record<string, unknown> | undefined;
      for (const [key, item] of Object.entries(value)) {
        const sent = cloneableParam(item, seen);
        if (sent === item) continue;
        copy ??= (isArray ? (value as unknown[]).slice() : { ...value }) as Record<string, unknown>;
        copy[key] = sent;
      }
      seen.delete(value);
      return copy ?? value;
    }
  }
  // A class instance, function or symbol: what PGlite would make of it in-process is its text
  // (toString, for text, uuid, numeric and array parameters) or its JSON (for json parameters).
  const marked: MarkedParam = { [PARAM_MARK]: 'opaque', text: undefined, textError: undefined, json: undefined, jsonError: undefined };
  try {
    marked.text = String(value);
  } catch (error) {
    marked.textError = error instanceof Error ? error.message : String(error);
  }
  try {
    marked.json = JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item));
  } catch (error) {
    marked.jsonError = error instanceof Error ? error.message : String(error);
  }
  return marked;
}
