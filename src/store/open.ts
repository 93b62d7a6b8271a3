/** Opens the configured database (PGlite unless DATABASE_URL is set, in a worker thread unless IMMUNOGUIDE_PGLITE_THREAD=false) and brings its schema up to date. */
import type { Config } from '../config.ts';
import type { Database } from './db.ts';
import { type MigrationReport, migrate } from './migrate.ts';
import { openPGlite } from './pglite.ts';
import { openPostgres } from './postgres.ts';

/** What opening the database needs of the configuration. */
export type DatabaseConfig = Pick<Config, 'databaseUrl' | 'databaseSchema' | 'dataDir' | 'pgliteThread'>;

export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  if (config.databaseUrl !== undefined) {
    return openPostgres({ url: config.databaseUrl, schema: config.databaseSchema });
  }
  // IMMUNOGUIDE_PGLITE_THREAD: the embedded database in a worker thread (pglite-thread.ts).
  return openPGlite({ dataDir: config.dataDir, thread: config.pgliteThread });
}

export async function openMigratedDatabase(
  config: DatabaseConfig,
): Promise<{ db: Database; migrations: MigrationReport }> {
  const db = await openDatabase(config);
  try {
    return { db, migrations: await migrate(db) };
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
}
