/**
 * A database for CLI tests that run `immunoguide import` (in-process or as a child process):
 * a temporary PGlite directory, or a fresh schema on the test PostgreSQL server. `open()`
 * opens it from the test once the CLI has closed it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Backend, Database } from '../../src/store/db.ts';
import { openPGlite } from '../../src/store/pglite.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { TEST_DATABASE_URL, uniqueSchemaName } from './backends.ts';

export interface CliDatabase {
  backend: Backend;
  env: NodeJS.ProcessEnv;
  /** A scratch directory for input files, removed by dispose(). */
  dir: string;
  open(): Promise<Database>;
  dispose(): Promise<void>;
}

export function cliDatabase(backend: Backend): CliDatabase {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-import-'));
  if (backend === 'pglite') {
    const dataDir = path.join(dir, 'data');
    return {
      backend,
      dir,
      // DATABASE_URL emptied: a CLI started with this env must not reach the PostgreSQL server of the outer environment.
      env: { IMMUNOGUIDE_DATA_DIR: dataDir, DATABASE_URL: '', DATABASE_SCHEMA: '' },
      open: () => openPGlite({ dataDir }),
      dispose: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = uniqueSchemaName('ig_import');
  return {
    backend,
    dir,
    env: { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema },
    open: () => openPostgres({ url: TEST_DATABASE_URL, schema }),
    async dispose() {
      const db = await openPostgres({ url: TEST_DATABASE_URL, schema });
      try {
        await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await db.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Runs `work` on the CLI database, closing it afterwards. */
export async function withDatabase<T>(database: CliDatabase, work: (db: Database) => Promise<T>): Promise<T> {
  const db = await database.open();
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}
