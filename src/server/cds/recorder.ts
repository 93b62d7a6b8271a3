/**
 * Group commit of the CDS call records. Every answered call is recorded with its cards in the
 * statement that claims its JWT id (replay protection shared by every instance), and the card is
 * only sent once that statement has committed. Doing it per call costs one statement and one
 * commit each - the largest share of the service's CPU time on the embedded database, where
 * PostgreSQL runs as WebAssembly inside the server's event loop.
 *
 * Here the calls that reach the database while an earlier write is still running wait for it and
 * are then written together, in one statement (`recordCdsCalls`): at low load a call is written
 * alone, as before; under load the batch grows with the load, and the cost per call falls with
 * it. Nothing changes for correctness: each caller still waits for its own record to be
 * committed, a replayed jti is still refused by the database (on every instance sharing it), and
 * there is no window in which an answered call is not yet recorded.
 */
import { type CdsCallEntry, recordCdsCall, recordCdsCalls } from '../../store/cds.ts';
import type { Queryable } from '../../store/db.ts';

export interface CdsCallRecorder {
  /** Records the call (with its jti claim) and resolves once committed: false when the jti was already used. */
  record(entry: CdsCallEntry): Promise<boolean>;
  /** Resolves once every call queued so far (and any queued meanwhile) is written. */
  flush(): Promise<void>;
}

export interface CdsCallRecorderOptions {
  /** Most calls in one statement (bounds the statement's size). */
  maxBatch?: number;
  /** Called after every batch written with its size and how long its write took in ms, failed or not (tests, metrics). */
  onBatch?: (size: number, ms: number) => void;
}

interface Pending {
  entry: CdsCallEntry;
  resolve: (recorded: boolean) => void;
  reject: (error: unknown) => void;
}

const DEFAULT_MAX_BATCH = 100;

export function createCdsCallRecorder(db: Queryable, options: CdsCallRecorderOptions = {}): CdsCallRecorder {
  const maxBatch = Math.max(1, options.maxBatch ?? DEFAULT_MAX_BATCH);
  let queue: Pending[] = [];
  /** The running write loop, when there is one. */
  let writing: Promise<void> | undefined;

  async function writeBatch(batch: readonly Pending[]): Promise<void> {
    const started = performance.now();
    try {
      const results = await recordCdsCalls(db, batch.map((p) => p.entry));
      options.onBatch?.(batch.length, performance.now() - started);
      batch.forEach((p, i) => p.resolve(results[i] === true));
    } catch (error) {
      options.onBatch?.(batch.length, performance.now() - started);
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // The statement is atomic, so nothing of the batch was written: one bad call (text the
      // database refuses, say) must not fail the others, so each is tried on its own.
      for (const p of batch) {
        try {
          p.resolve(await recordCdsCall(db, p.entry.call, p.entry.cards, p.entry.claim));
        } catch (single) {
          p.reject(single);
        }
      }
    }
  }

  function startWriting(): void {
    if (writing !== undefined) return;
    writing = (async () => {
      // Let the requests already being handled in this turn of the event loop join the first batch.
      await new Promise<void>((resolve) => setImmediate(resolve));
      for (;;) {
        // Checked and cleared in the same synchronous step, so a call queued after the last batch
        // always finds either this loop still running or none (and starts one).
        if (queue.length === 0) {
          writing = undefined;
          return;
        }
        const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
        queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
        try {
          await writeBatch(batch);
        } catch (error) {
          for (const p of batch) p.reject(error);
        }
      }
    })();
  }

  return {
    record(entry) {
      return new Promise<boolean>((resolve, reject) => {
        queue.push({ entry, resolve, reject });
        startWriting();
      });
    },
    async flush() {
      while (writing !== undefined) await writing;
    },
  };
}
