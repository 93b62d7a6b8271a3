/**
 * Runs data-layer tests against both backends: PGlite (in memory) always, and the PostgreSQL
 * server at TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) in a fresh
 * schema per test file, dropped afterwards, so runs never collide.
 *
 * Under CI (CI=true) the PostgreSQL tests are mandatory: an unreachable server fails the run.
 * Outside CI they are skipped with a visible reason when no server answers.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Backend, Database } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPGlite } from '../../src/store/pglite.ts';
import { openPostgres } from '../../src/store/postgres.ts';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const POSTGRES_REQUIRED = process.env.CI === 'true' || process.env.REQUIRE_POSTGRES === 'true';

let reachable: Promise<string | undefined> | undefined;

/** Undefined when the server answers, else the reason it does not. */
export function postgresUnavailable(): Promise<string | undefined> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return undefined;
    } catch (error) {
      return `PostgreSQL at ${TEST_DATABASE_URL} unavailable: ${(error as Error).message}`;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return reachable;
}

export interface TestDatabase {
  db: Database;
  /** The schema on the PostgreSQL server (undefined for PGlite). */
  schema: string | undefined;
  /** Closes the database and drops the PostgreSQL schema. */
  dispose(): Promise<void>;
}

export function uniqueSchemaName(prefix = 'ig_test'): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export async function openTestDatabase(backend: Backend, options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  let testDb: TestDatabase;
  if (backend === 'pglite') {
    const db = await openPGlite();
    testDb = { db, schema: undefined, dispose: () => db.close() };
  } else {
    const schema = uniqueSchemaName();
    const db = await openPostgres({ url: TEST_DATABASE_URL, schema, maxConnections: 20 });
    testDb = {
      db,
      schema,
      async dispose() {
        try {
          await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        } finally {
          await db.close();
        }
      },
    };
  }
  if (options.migrated !== false) await migrate(testDb.db);
  return testDb;
}

/**
 * The backends a data-layer test should run on, each with a skip reason when it cannot
 * (never for PostgreSQL under CI: there the test fails instead).
 */
export async function testBackends(): Promise<Array<{ backend: Backend; skip: string | false }>> {
  const reason = await postgresUnavailable();
  if (reason !== undefined && POSTGRES_REQUIRED) {
    throw new Error(`${reason} (CI=true: PostgreSQL-backed tests are mandatory)`);
  }
  return [
    { backend: 'pglite', skip: false },
    { backend: 'postgres', skip: reason ?? false },
  ];
}
