/**
 * Where `immunoguide import` (and the HTTP import jobs) store what the parsers produce: each
 * batch of patients and measurements is written in ONE transaction together with the
 * checkpoint of its file, so a crash or kill -9 loses at most the batch in flight, and a rerun
 * resumes after the last committed line. Measurements are idempotent by provenance
 * (source, record id, concept): whatever a rerun repeats is skipped by the database.
 *
 * Measurements go in with one INSERT ... SELECT FROM unnest(array per column): ten bound
 * parameters per batch whatever its size, which is what makes 100k rows/s possible on
 * PostgreSQL (a VALUES list needs ten parameters per row and a bigger statement to parse).
 */
import type { ImportIssue, PatientRecord, SourceMeasurement } from '../sources/import-format.ts';
import { DEFAULT_IMPORT_SITE, type ImportBatch, type ImportSink, type SinkCheckpoint, type SinkWriteResult } from '../sources/ingest/run.ts';
import { type Database, DatabaseError, type Queryable } from './db.ts';

/** Rows per INSERT statement (bounded statement size; a batch may be split). */
const ROWS_PER_STATEMENT = 50_000;

export class StoreImportSink implements ImportSink {
  readonly #db: Database;
  /** Patient id -> site, for patients known to exist (bounded: cleared when large). */
  readonly #known = new Map<string, string>();
  /** Patients this sink created as stubs (may still move to the site a Patient record names). */
  readonly #stubs = new Set<string>();
  /** Patients whose records contradict the stored site: their measurements are refused. */
  readonly #conflicts = new Map<string, string>();
  readonly #sites = new Set<string>();
  #expectDuplicates = false;

  constructor(db: Database) {
    this.#db = db;
  }

  async checkpoint(fileKey: string): Promise<SinkCheckpoint | undefined> {
    const result = await this.#db.query<{ line_number: number | string; complete: boolean }>(
      'SELECT line_number, complete FROM import_checkpoint WHERE file_key = $1',
      [fileKey],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : { line: Number(row.line_number), complete: row.complete };
  }

  async write(batch: ImportBatch): Promise<SinkWriteResult> {
    return this.#db.transaction(async (tx) => {
      const issues = await this.#ensurePatients(tx, batch);
      const accepted = this.#conflicts.size === 0 ? batch.measurements : batch.measurements.filter((m) => !this.#conflicts.has(m.patientId));
      // New data (a first import) goes in with a plain INSERT; once a batch met rows already
      // stored (a re-import), the next ones go straight to ON CONFLICT DO NOTHING.
      const { inserted, duplicates } = await insertMeasurementColumns(tx, accepted, this.#expectDuplicates ? 'skip-stored' : 'try-plain');
      this.#expectDuplicates = duplicates;
      await tx.query(
        `INSERT INTO import_checkpoint (file_key, path, line_number, records, measurements, complete)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (file_key) DO UPDATE SET
           path = EXCLUDED.path,
           line_number = GREATEST(import_checkpoint.line_number, EXCLUDED.line_number),
           records = import_checkpoint.records + EXCLUDED.records,
           measurements = import_checkpoint.measurements + EXCLUDED.measurements,
           complete = import_checkpoint.complete OR EXCLUDED.complete,
           updated_at = now()`,
        [batch.fileKey, batch.file, batch.throughLine, batch.records, inserted, batch.complete],
      );
      return { inserted, dropped: batch.measurements.length - accepted.length, issues };
    });
  }

  /**
   * Makes every patient of the batch exist: Patient records are inserted or their demographics
   * filled in; patients known only from a measurement get a stub at the batch's default site.
   * A record naming another site than the stored one is a conflict (two hospitals using the
   * same id is not something to merge silently).
   */
  async #ensurePatients(tx: Queryable, batch: ImportBatch): Promise<ImportIssue[]> {
    const issues: ImportIssue[] = [];
    const records = new Map<string, PatientRecord>();
    for (const record of batch.patients) records.set(record.id, { ...records.get(record.id), ...record });
    const wanted = new Set<string>(records.keys());
    for (const m of batch.measurements) if (!this.#known.has(m.patientId)) wanted.add(m.patientId);
    const unknown = [...wanted].filter((id) => !this.#known.has(id));
    if (unknown.length > 0) {
      const existing = await tx.query<{ id: string; site_id: string }>('SELECT id, site_id FROM patient WHERE id = ANY($1)', [unknown]);
      for (const row of existing.rows) this.#remember(row.id, row.site_id);
    }
    if (this.#known.size > 1_000_000) this.#known.clear(); // re-read from the database when needed

    const toInsert: Array<{ id: string; site: string; record: PatientRecord | undefined }> = [];
    const toUpdate: PatientRecord[] = [];
    for (const id of wanted) {
      const record = records.get(id);
      const site = record?.siteId ?? batch.defaultSiteId;
      const stored = this.#known.get(id);
      if (stored === undefined) {
        toInsert.push({ id, site, record });
        continue;
      }
      if (record === undefined) continue;
      if (record.siteId !== undefined && record.siteId !== stored) {
        if (this.#stubs.has(id) || stored === DEFAULT_IMPORT_SITE) {
          // Created from a measurement before its Patient record (by this import, or earlier
          // into the holding site "default"): move it to the site its record names.
          await this.#ensureSites(tx, [record.siteId]);
          await tx.query('UPDATE patient SET site_id = $2 WHERE id = $1', [id, record.siteId]);
          this.#known.set(id, record.siteId);
          this.#stubs.delete(id);
        } else {
          if (!this.#conflicts.has(id)) {
            issues.push({
              severity: 'error',
              code: 'conflict',
              diagnostics: `patient ${id} belongs to site ${stored}, but the source assigns it to ${record.siteId} (batch ending at line ${batch.throughLine}): its records are not imported`,
              location: [`line ${batch.throughLine}`],
              file: batch.file,
            });
          }
          this.#conflicts.set(id, stored);
          continue;
        }
      }
      if (record.birthDate !== undefined || record.sex !== undefined || record.deceasedAt !== undefined) toUpdate.push(record);
    }
    if (toInsert.length > 0) {
      await this.#ensureSites(tx, [...new Set(toInsert.map((p) => p.site))]);
      await tx.query(
        `INSERT INTO patient (id, site_id, birth_date, sex, deceased_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::timestamptz[])
         ON CONFLICT (id) DO NOTHING`,
        [
          toInsert.map((p) => p.id),
          toInsert.map((p) => p.site),
          toInsert.map((p) => p.record?.birthDate ?? null),
          toInsert.map((p) => p.record?.sex ?? null),
          toInsert.map((p) => p.record?.deceasedAt ?? null),
        ],
      );
      for (const p of toInsert) {
        this.#remember(p.id, p.site);
        if (p.record?.siteId === undefined) this.#stubs.add(p.id);
      }
    }
    for (const record of toUpdate) {
      await tx.query(
        `UPDATE patient SET birth_date = COALESCE($2, birth_date), sex = COALESCE($3, sex), deceased_at = COALESCE($4, deceased_at)
         WHERE id = $1`,
        [record.id, record.birthDate ?? null, record.sex ?? null, record.deceasedAt ?? null],
      );
    }
    return issues;
  }

  async #ensureSites(tx: Queryable, sites: string[]): Promise<void> {
    const missing = sites.filter((s) => !this.#sites.has(s));
    if (missing.length === 0) return;
    // A site first seen in an import is created with its id as its name; `upsertSite` renames it.
    await tx.query('INSERT INTO site (id, name) SELECT s, s FROM unnest($1::text[]) AS s ON CONFLICT (id) DO NOTHING', [missing]);
    for (const s of missing) this.#sites.add(s);
  }

  #remember(id: string, site: string): void {
    this.#known.set(id, site);
  }
}

/**
 * Inserts measurements with one statement per 50,000 rows (arrays per column); rows whose
 * provenance is already stored are skipped. Returns the number inserted and whether any row was
 * already stored.
 *
 * 'try-plain' first runs a plain INSERT in a savepoint, about 30% cheaper for PostgreSQL than
 * INSERT ... ON CONFLICT DO NOTHING; when a row is already stored (unique violation) it rolls
 * back to the savepoint and inserts with ON CONFLICT DO NOTHING. Must run in a transaction.
 */
export async function insertMeasurementColumns(
  db: Queryable,
  measurements: readonly SourceMeasurement[],
  mode: 'try-plain' | 'skip-stored' = 'skip-stored',
): Promise<{ inserted: number; duplicates: boolean }> {
  let inserted = 0;
  let duplicates = false;
  for (let start = 0; start < measurements.length; start += ROWS_PER_STATEMENT) {
    const columns = measurementColumns(measurements.slice(start, start + ROWS_PER_STATEMENT));
    if (mode === 'try-plain' && !duplicates) {
      await db.exec('SAVEPOINT immunoguide_import');
      try {
        const result = await db.query(INSERT_MEASUREMENTS, columns);
        await db.exec('RELEASE SAVEPOINT immunoguide_import');
        inserted += result.affectedRows;
        continue;
      } catch (error) {
        await db.exec('ROLLBACK TO SAVEPOINT immunoguide_import');
        if (!(error instanceof DatabaseError) || error.code !== UNIQUE_VIOLATION) throw error;
        duplicates = true;
      }
    }
    const result = await db.query(`${INSERT_MEASUREMENTS} ON CONFLICT ON CONSTRAINT measurement_provenance_key DO NOTHING`, columns);
    inserted += result.affectedRows;
    if (result.affectedRows < columns[0]!.length) duplicates = true;
  }
  return { inserted, duplicates };
}

const UNIQUE_VIOLATION = '23505';
const INSERT_MEASUREMENTS = `INSERT INTO measurement (patient_id, concept, value, unit, effective_start, effective_end, source, record_id, original_value, original_unit)
  SELECT * FROM unnest($1::text[], $2::text[], $3::float8[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::text[], $9::text[], $10::text[])`;

/** The ten column arrays of the INSERT. */
function measurementColumns(rows: readonly SourceMeasurement[]): [string[], ...unknown[][]] {
  const n = rows.length;
  const patient = new Array<string>(n);
  const concept = new Array<string>(n);
  const value = new Array<number>(n);
  const unit = new Array<string>(n);
  const startTime = new Array<string>(n);
  const endTime = new Array<string | null>(n);
  const source = new Array<string>(n);
  const recordId = new Array<string>(n);
  const originalValue = new Array<string>(n);
  const originalUnit = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const m = rows[i]!;
    patient[i] = m.patientId;
    concept[i] = m.concept;
    value[i] = m.value;
    unit[i] = m.unit;
    startTime[i] = m.time;
    endTime[i] = m.endTime ?? null;
    source[i] = m.provenance.source;
    recordId[i] = m.provenance.recordId;
    originalValue[i] = String(m.reported?.value ?? m.value);
    originalUnit[i] = m.reported?.unit ?? m.unit;
  }
  return [patient, concept, value, unit, startTime, endTime, source, recordId, originalValue, originalUnit];
}
