/** Opens the configured database (PGlite unless DATABASE_URL is set) and brings its schema up to date. */
import type { Config } from '../config.ts';
import type { Database } from './db.ts';
import { type MigrationReport, migrate } from './migrate.ts';
import { openPGlite } from './pglite.ts';
import { openPostgres } from './postgres.ts';

export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'databaseSchema' | 'dataDir'>): Promise<Database> {
  if (config.databaseUrl !== undefined) {
    return openPostgres({ url: config.databaseUrl, schema: config.databaseSchema });
  }
  return openPGlite({ dataDir: config.dataDir });
}

export async function openMigratedDatabase(
  config: Pick<Config, 'databaseUrl' | 'databaseSchema' | 'dataDir'>,
): Promise<{ db: Database; migrations: MigrationReport }> {
  const db = await openDatabase(config);
  try {
    return { db, migrations: await migrate(db) };
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
}
