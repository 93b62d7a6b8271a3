/**
 * Schema migrations: numbered SQL files in src/store/migrations (NNNN_description.sql),
 * the same files for PGlite and PostgreSQL.
 *
 * All pending migrations are applied in ONE transaction under an advisory lock: either every
 * one of them is applied and recorded, or - when any statement fails - nothing is, and the
 * database is left exactly as it was. Two server instances starting together serialise on the
 * lock; the second finds nothing left to do. A migration that was edited after it was applied
 * (checksum mismatch) or a database newer than the code stops start-up with a clear error.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database, Queryable } from './db.ts';

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface Migration {
  version: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
  appliedAt: string;
}

export interface MigrationReport {
  /** Migrations applied by this call, in order. */
  applied: Array<Pick<Migration, 'version' | 'name'>>;
  /** Schema version after the call (0 for an empty database). */
  version: number;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export function loadMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Migration[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (error) {
    throw new MigrationError(`cannot read migrations directory ${dir}: ${(error as Error).message}`);
  }
  const migrations: Migration[] = [];
  for (const file of entries.sort()) {
    if (!file.endsWith('.sql')) continue;
    const match = FILE_PATTERN.exec(file);
    if (!match) {
      throw new MigrationError(`migration file name "${file}" does not match NNNN_lower_case_name.sql`);
    }
    const sql = fs.readFileSync(path.join(dir, file), 'utf8');
    migrations.push({
      version: Number(match[1]),
      name: match[2]!,
      file,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new MigrationError(
        `migrations must be numbered 0001, 0002, ... without gaps or duplicates; found ${migration.file} at position ${index + 1}`,
      );
    }
  });
  return migrations;
}

const CREATE_TABLE = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;

export async function appliedMigrations(db: Queryable): Promise<AppliedMigration[]> {
  const exists = await db.query<{ present: boolean }>(
    `SELECT to_regclass('schema_migrations') IS NOT NULL AS present`,
  );
  if (!exists.rows[0]?.present) return [];
  const result = await db.query<{ version: number; name: string; checksum: string; applied_at: Date | string }>(
    'SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version',
  );
  return result.rows.map((row) => ({
    version: Number(row.version),
    name: row.name,
    checksum: row.checksum,
    appliedAt: new Date(row.applied_at).toISOString(),
  }));
}

export async function migrate(db: Database, dir: string = DEFAULT_MIGRATIONS_DIR): Promise<MigrationReport> {
  const migrations = loadMigrations(dir);
  return db.transaction(async (tx) => {
    // Serialise concurrent migrators on the same schema (transaction-scoped: released at COMMIT/ROLLBACK).
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('immunoguide.migrations.' || current_schema()))`);
    await tx.exec(CREATE_TABLE);
    const applied = await appliedMigrations(tx);
    checkHistory(applied, migrations);
    const pending = migrations.slice(applied.length);
    for (const migration of pending) {
      try {
        await tx.exec(migration.sql);
      } catch (error) {
        const err = error as { message?: string; code?: string };
        throw new MigrationError(
          `migration ${migration.file} failed: ${err.message ?? String(error)}` +
            (err.code ? ` (SQLSTATE ${err.code})` : '') +
            `. Nothing was applied: the database is still at version ${applied.length}.`,
        );
      }
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
    }
    return {
      applied: pending.map(({ version, name }) => ({ version, name })),
      version: migrations.length,
    };
  });
}

function checkHistory(applied: AppliedMigration[], migrations: Migration[]): void {
  if (applied.length > migrations.length) {
    const newest = applied[applied.length - 1]!;
    throw new MigrationError(
      `the database is at schema version ${newest.version} (${newest.name}) but this ImmunoGuide knows only ` +
        `${migrations.length} migration(s); upgrade ImmunoGuide instead of running an older version against it`,
    );
  }
  applied.forEach((row, index) => {
    const expected = migrations[index]!;
    if (row.version !== expected.version || row.checksum !== expected.checksum) {
      throw new MigrationError(
        `migration ${expected.file} differs from the one applied on ${row.appliedAt} ` +
          `(checksum ${row.checksum.slice(0, 12)} in the database, ${expected.checksum.slice(0, 12)} on disk); ` +
          'applied migrations must never be edited: add a new migration instead',
      );
    }
  });
}
