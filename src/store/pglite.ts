/** Embedded PostgreSQL (PGlite): the default backend, nothing to install. */
import fs from 'node:fs';
import path from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { type Database, type QueryResult, type Queryable, toDatabaseError } from './db.ts';
import { openPGliteThread } from './pglite-thread.ts';

type PGliteLike = Pick<PGlite, 'query' | 'exec'> | Transaction;

function wrap(client: PGliteLike): Queryable {
  return {
    backend: 'pglite',
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
      try {
        const result = await client.query<Row>(sql, params as unknown[]);
        return { rows: result.rows, affectedRows: result.affectedRows ?? 0 };
      } catch (error) {
        throw toDatabaseError(error);
      }
    },
    async exec(sql: string): Promise<void> {
      try {
        await client.exec(sql);
      } catch (error) {
        throw toDatabaseError(error);
      }
    },
  };
}

export interface PGliteOptions {
  /** Directory for the database files; undefined keeps the database in memory (tests). */
  dataDir?: string | undefined;
  /**
   * Run PGlite in a worker thread (pglite-thread.ts) instead of on the caller's event loop, behind
   * the same interface. Default false: in-process, as before.
   */
  thread?: boolean | undefined;
}

export async function openPGlite(options: PGliteOptions = {}): Promise<Database> {
  let releaseLock = (): void => {};
  if (options.dataDir !== undefined) {
    fs.mkdirSync(options.dataDir, { recursive: true });
    releaseLock = acquireDirectoryLock(options.dataDir);
  }
  // The same data path either way, so a directory written by one mode opens in the other.
  const dataPath = options.dataDir === undefined ? undefined : path.join(options.dataDir, 'pgdata');
  if (options.thread === true) {
    try {
      // The lock stays with this thread: it guards the directory for the whole process.
      return await openPGliteThread({ dataPath, location: options.dataDir ?? 'memory', onClosed: releaseLock });
    } catch (error) {
      releaseLock();
      throw error;
    }
  }
  let pg: PGlite;
  try {
    pg = await PGlite.create(dataPath);
  } catch (error) {
    releaseLock();
    throw toDatabaseError(error, `could not open the embedded database in ${options.dataDir ?? 'memory'}`);
  }
  const base = wrap(pg);
  return {
    ...base,
    location: options.dataDir ?? 'memory',
    async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
      return pg.transaction((tx) => work(wrap(tx)));
    },
    async close(): Promise<void> {
      try {
        if (!pg.closed) await pg.close();
      } finally {
        releaseLock();
      }
    },
  };
}

/**
 * PGlite is a single-process database: two processes writing the same directory would corrupt
 * it. A lock file holding the owner's pid makes a second `npm start` fail with a clear message
 * instead. A lock left by a process that no longer exists (kill -9) is taken over.
 */
function acquireDirectoryLock(dataDir: string): () => void {
  const lockPath = path.join(dataDir, 'immunoguide.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(fs.readFileSync(lockPath, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw toDatabaseError(
          new Error(
            `the embedded database in ${dataDir} is in use by process ${owner}; stop it first, ` +
              'or set IMMUNOGUIDE_DATA_DIR to another directory',
          ),
        );
      }
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw toDatabaseError(new Error(`could not lock ${lockPath}`));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
